"""Publish/subscribe of handoff events, feeding the console's server-sent events.

`EventBus` delivers every event to every console open on this gateway process. `RedisEventBus` has the
same `publish`/`subscribe` shape over Redis pub/sub, for several gateway processes (``REDIS_URL``): an event
published on one gateway reaches consoles connected to any other, its own included, in publication order.
Live updates are a hint, not a record (a console reloads its lists from the database): while Redis is
unreachable events are dropped and logged, and delivery resumes when it answers again.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

import structlog

from bot.storage.models import utcnow

if TYPE_CHECKING:
    import redis.asyncio

log = structlog.get_logger(__name__)


class EventKind(StrEnum):
    NUEVA = "nueva"  # a conversation entered a queue (also after a transfer to a team)
    TOMADA = "tomada"  # an agent claimed it or took it over
    TRANSFERIDA = "transferida"  # moved to another agent
    DEVUELTA = "devuelta"  # handed back to the bot
    CERRADA = "cerrada"  # closed
    MENSAJE = "mensaje"  # a new message in a conversation a person owns


@dataclass(frozen=True)
class CaseEvent:
    """What changed, without personal data: consoles fetch what they are allowed to see."""

    kind: EventKind
    case_id: int
    team: str
    agent_id: int | None = None
    at: str = field(default_factory=lambda: utcnow().isoformat())

    def as_json(self) -> dict[str, object]:
        return {"tipo": self.kind.value, "caso": self.case_id, "equipo": self.team, "agente": self.agent_id}

    def to_wire(self) -> str:
        """The event between gateway processes (`from_wire` reads it back)."""
        return json.dumps({**self.as_json(), "en": self.at}, separators=(",", ":"))

    @classmethod
    def from_wire(cls, raw: str | bytes) -> CaseEvent:
        """Raises:
        ValueError: not an event written by `to_wire`.
        """
        try:
            data: Any = json.loads(raw)
            agent = data["agente"]
            return cls(
                kind=EventKind(data["tipo"]),
                case_id=int(data["caso"]),
                team=str(data["equipo"]),
                agent_id=None if agent is None else int(agent),
                at=str(data["en"]),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError("not a handoff event") from exc


class EventBus:
    """Fan-out to every subscriber's bounded queue; a slow subscriber loses its oldest events, never blocks."""

    def __init__(self, *, max_pending: int = 200) -> None:
        self._subscribers: set[asyncio.Queue[CaseEvent]] = set()
        self._max = max_pending

    def publish(self, event: CaseEvent) -> None:
        self._deliver(event)

    def _deliver(self, event: CaseEvent) -> None:
        """Hand ``event`` to this process's subscribers."""
        for queue in list(self._subscribers):
            if queue.full():
                with contextlib.suppress(asyncio.QueueEmpty):
                    queue.get_nowait()
            queue.put_nowait(event)

    @contextlib.contextmanager
    def subscribe(self) -> Iterator[asyncio.Queue[CaseEvent]]:
        queue: asyncio.Queue[CaseEvent] = asyncio.Queue(maxsize=self._max)
        self._subscribers.add(queue)
        try:
            yield queue
        finally:
            self._subscribers.discard(queue)

    @property
    def subscribers(self) -> int:
        return len(self._subscribers)


class RedisEventBus(EventBus):
    """Several gateway processes: `publish` goes through a Redis channel; this process's subscribers get what
    any process published (its own events too, once they went round Redis).

    Call `start` before the first `subscribe` (it listens before returning) and `close` at shutdown.
    """

    def __init__(
        self,
        redis: redis.asyncio.Redis,
        *,
        channel: str = "chasqui:consola:eventos",
        max_pending: int = 200,
        max_unsent: int = 1000,
        retry_seconds: float = 1.0,
    ) -> None:
        super().__init__(max_pending=max_pending)
        self._redis = redis
        self._channel = channel
        self._retry = retry_seconds
        self._unsent: asyncio.Queue[CaseEvent] = asyncio.Queue(maxsize=max_unsent)
        self._tasks: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        """Subscribe to the channel, then relay in the background: nothing published after this is missed."""
        pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
        await pubsub.subscribe(self._channel)
        self._tasks = [
            asyncio.create_task(self._listen(pubsub), name="consola-eventos-redis"),
            asyncio.create_task(self._send(), name="consola-eventos-publicar"),
        ]

    def publish(self, event: CaseEvent) -> None:
        """Queue ``event`` for Redis (callers are synchronous; one sender keeps the order)."""
        if self._unsent.full():  # Redis has been down for a while: the oldest live update is the least useful
            with contextlib.suppress(asyncio.QueueEmpty):
                self._unsent.get_nowait()
            log.warning("consola.eventos_descartados", canal=self._channel)
        self._unsent.put_nowait(event)

    async def flush(self) -> None:
        """Wait until every published event was handed to Redis (tests, shutdown)."""
        await self._unsent.join()

    async def close(self) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.flush(), timeout=2.0)
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []

    async def _send(self) -> None:
        while True:
            event = await self._unsent.get()
            try:
                while True:
                    try:
                        await self._redis.publish(self._channel, event.to_wire())
                        break
                    except Exception as exc:  # any connection error: live updates wait for Redis, nothing else
                        log.warning("consola.eventos_sin_redis", error=type(exc).__name__)
                        await asyncio.sleep(self._retry)
            finally:
                self._unsent.task_done()

    async def _listen(self, pubsub: redis.asyncio.client.PubSub) -> None:
        try:
            while True:
                try:
                    message = await pubsub.get_message(timeout=None)
                except asyncio.CancelledError:
                    raise
                except Exception as exc:  # reconnects and subscribes again on the next read
                    log.warning("consola.eventos_sin_redis", error=type(exc).__name__)
                    await asyncio.sleep(self._retry)
                    continue
                if message is None or message.get("type") != "message":
                    continue
                try:
                    self._deliver(CaseEvent.from_wire(message["data"]))
                except ValueError:
                    log.warning("consola.evento_ilegible", canal=self._channel)
        finally:
            with contextlib.suppress(Exception):
                await pubsub.aclose()  # type: ignore[no-untyped-call]
