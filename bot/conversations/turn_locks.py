"""One turn at a time per conversation: in this process, or across every gateway process through Redis.

A chat's messages may reach different gateway processes (a load balancer, Telegram's retries, the console
answering while the citizen writes); their turns must not interleave, or answers come out of order and the
conversation's state is overwritten. With one process an `asyncio.Lock` per conversation is enough
(`LocalTurnLocks`). With several, `RedisTurnLocks` adds a Redis lock (redis-py's `Lock`: SET NX with a token,
released only by its owner, expiring by itself if the process dies); the local lock is taken first, so turns of
one process queue in memory instead of polling Redis.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
import weakref
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import TYPE_CHECKING, Protocol

import structlog

if TYPE_CHECKING:  # redis-py (with OpenTelemetry's SDK, about 20 MB) only in a process that talks to Redis
    import redis.asyncio
    import redis.asyncio.lock

log = structlog.get_logger(__name__)


MAX_TURN_SECONDS = 90.0  # above Rasa's timeout (30 s), its lock wait and the actions' registry calls


class TurnLocks(Protocol):
    def __call__(self, conversation_id: str) -> AbstractAsyncContextManager[None]: ...


class LocalTurnLocks:
    """A lock per conversation in this process's memory, dropped when no turn holds or waits for it."""

    def __init__(self) -> None:
        self._locks: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()

    @asynccontextmanager
    async def __call__(self, conversation_id: str) -> AsyncIterator[None]:
        lock = self._locks.get(conversation_id)
        if lock is None:
            lock = asyncio.Lock()
            self._locks[conversation_id] = lock
        async with lock:
            yield


class RedisTurnLocks:
    """The local lock, then a Redis lock named after a hash of the (pseudonymous) conversation id.

    The lock expires ``expire`` seconds after it was last renewed; the turn renews it every third of that while
    it runs, so a long turn keeps it and a dead process frees its chats within ``expire``. A turn that waited
    ``wait`` seconds, or finds Redis down, goes on with the local lock only and logs it: a chat answered is worth
    more than strict order across processes in that rare case.
    """

    def __init__(
        self,
        client: redis.asyncio.Redis,
        *,
        prefix: str = "chasqui:turno:",
        expire: float = 15.0,
        wait: float = 60.0,
        poll: float = 0.02,
    ) -> None:
        from redis.exceptions import RedisError

        self._client = client
        self._errors = (RedisError, OSError)
        self._prefix = prefix
        self._expire = expire
        self._wait = wait
        self._poll = poll
        self._local = LocalTurnLocks()

    def key(self, conversation_id: str) -> str:
        return self._prefix + hashlib.sha256(conversation_id.encode("utf-8")).hexdigest()[:32]

    @asynccontextmanager
    async def __call__(self, conversation_id: str) -> AsyncIterator[None]:
        async with self._local(conversation_id):
            lock = self._client.lock(
                self.key(conversation_id), timeout=self._expire, sleep=self._poll, blocking_timeout=self._wait
            )
            try:
                held = await lock.acquire()
            except self._errors as exc:
                log.warning("turno.sin_bloqueo_compartido", reason=type(exc).__name__)
                held = False
            else:
                if not held:
                    log.warning("turno.espera_agotada", seconds=self._wait)
            renewal = asyncio.create_task(self._renew(lock)) if held else None
            try:
                yield
            finally:
                if renewal is not None:
                    renewal.cancel()
                    await asyncio.gather(renewal, return_exceptions=True)
                if held:
                    try:
                        await lock.release()
                    except self._errors as exc:  # expired, or Redis went away
                        log.warning("turno.liberacion_fallida", reason=type(exc).__name__)

    async def _renew(self, lock: redis.asyncio.lock.Lock) -> None:
        """Keep the lock while the turn runs (its whole ``expire`` again every third of it), for `MAX_TURN_SECONDS`
        at most: a turn stuck longer than any real one must not keep its chat waiting."""
        deadline = time.monotonic() + MAX_TURN_SECONDS
        while time.monotonic() < deadline:
            await asyncio.sleep(self._expire / 3)
            try:
                await lock.reacquire()
            except self._errors as exc:
                log.warning("turno.renovacion_fallida", reason=type(exc).__name__)
                return
