"""In-process publish/subscribe of handoff events, feeding the console's server-sent events.

One gateway process delivers every event to every open console. Several gateway workers need a shared
bus instead (Redis pub/sub behind the same `publish`/`subscribe` shape): an event published in one
worker must reach consoles connected to another.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import StrEnum

from bot.storage.models import utcnow


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


class EventBus:
    """Fan-out to every subscriber's bounded queue; a slow subscriber loses its oldest events, never blocks."""

    def __init__(self, *, max_pending: int = 200) -> None:
        self._subscribers: set[asyncio.Queue[CaseEvent]] = set()
        self._max = max_pending

    def publish(self, event: CaseEvent) -> None:
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
