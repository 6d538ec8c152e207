"""The outbox dispatcher: sends queued messages through channel APIs, in order per chat, within limits.

Retries use exponential backoff with jitter (or the channel's `retry_after`); permanent errors (bot
blocked, invalid number, outside the 24-hour window) are recorded and not retried.

Several gateway processes may dispatch: a message is claimed by one conditional UPDATE, and a chat's next
message waits until the one before it is sent. A message caught "sending" by a crash is taken over by any
dispatcher when its lease runs out (`LEASE`, a setting), never reset at start (that would send again what
another gateway process is sending): delivery is at least once, and only a send cut between the channel's
answer and the database's can repeat.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import metrics
from bot.channels.base import ChannelAdapter, ChannelRegistry, DeliveryError
from bot.conversations.messages import BotMessage
from bot.conversations.send_limits import SendLimiter, SendLimits, local_send_limits
from bot.storage import outbox as repo
from bot.storage.models import OutboxMessage, OutboxStatus, utcnow

log = structlog.get_logger(__name__)

# How long a claimed message belongs to its dispatcher (setting ``outbox_lease_seconds``): well over a send's
# worst case (the limiter's wait is before the claim), so that only a dispatcher that died loses it.
LEASE = timedelta(minutes=2)


def backoff_seconds(attempts: int, *, base: float = 1.0, cap: float = 300.0) -> float:
    """Exponential backoff with full jitter: 1, 2, 4… seconds (at most ``cap``), randomised."""
    return float(random.uniform(0.5, 1.0) * min(cap, base * (2 ** max(0, attempts - 1))))


class OutboxDispatcher:
    """Runs in the gateway; `notify()` wakes it when something was queued."""

    def __init__(
        self,
        *,
        sessions: async_sessionmaker[AsyncSession],
        channels: ChannelRegistry,
        max_attempts: int = 8,
        idle_seconds: float = 5.0,
        resolve: Callable[[str], Awaitable[str]] | None = None,
        limits: SendLimits = local_send_limits,
        lease: timedelta = LEASE,
    ) -> None:
        self._lease = lease
        self._limits = limits  # in this process, or shared by every gateway (Redis)
        self._resolve = resolve  # pseudonymous conversation id → the channel's real address
        self._sessions = sessions
        self._channels = channels
        self._max_attempts = max_attempts
        self._idle = idle_seconds
        self._wake = asyncio.Event()
        self._limiters: dict[str, SendLimiter] = {}
        self._in_flight: set[str] = set()
        self._tasks: set[asyncio.Task[None]] = set()

    def notify(self) -> None:
        self._wake.set()

    def _limiter(self, adapter: ChannelAdapter) -> SendLimiter:
        limiter = self._limiters.get(adapter.code)
        if limiter is None:
            limiter = self._limits(adapter.code, adapter.messages_per_second, adapter.seconds_between_messages_per_chat)
            self._limiters[adapter.code] = limiter
        return limiter

    async def run(self) -> None:
        """Dispatch forever (cancel the task to stop)."""
        while True:
            try:
                await self._dispatch_due()
            except Exception:  # a database hiccup must not stop delivery for good
                log.exception("outbox.dispatch_failed")
                await asyncio.sleep(1.0)

    async def _dispatch_due(self) -> None:
        self._wake.clear()
        async with self._sessions() as session:
            due = await repo.next_per_conversation(session=session, now=utcnow())
            next_due = await repo.next_due_at(session=session)
        for row in due:
            if row.conversation_id in self._in_flight:
                continue
            self._in_flight.add(row.conversation_id)
            task = asyncio.create_task(self._deliver(row))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        timeout = self._idle
        if next_due is not None:
            timeout = min(timeout, max(0.05, (next_due - utcnow()).total_seconds()))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), timeout=timeout)

    async def _deliver(self, row: OutboxMessage) -> None:
        try:
            await self._deliver_one(row)
        except Exception:
            log.exception("outbox.unexpected_error", outbox=row.id)
        finally:
            self._in_flight.discard(row.conversation_id)
            self._wake.set()

    async def _deliver_one(self, row: OutboxMessage) -> None:
        adapter = self._channels.find(row.channel)
        if adapter is None:
            await self._finish(row.id, OutboxStatus.FAILED, error=f"no adapter for channel {row.channel}")
            return
        chat_id = await self._resolve(row.conversation_id) if self._resolve else row.conversation_id.split(":", 1)[1]
        await self._limiter(adapter).acquire(row.conversation_id)  # pseudonymous: limits may live in Redis
        async with self._sessions() as session:
            attempts = await repo.claim(session=session, outbox_id=row.id, now=utcnow(), lease=self._lease)
            await session.commit()
        if attempts is None:  # another gateway process took it
            return
        if row.status == OutboxStatus.SENDING:
            log.warning("outbox.lease_taken_over", outbox=row.id, channel=row.channel, attempts=attempts)
        try:
            with metrics.stage("outbox_send"):
                delivery = await adapter.send(chat_id, BotMessage.from_payload(row.payload))
        except DeliveryError as exc:
            if exc.permanent or attempts >= self._max_attempts:
                log.warning("outbox.failed", outbox=row.id, channel=row.channel, reason=exc.reason, attempts=attempts)
                await self._finish(row.id, OutboxStatus.FAILED, error=exc.reason)
                return
            delay = exc.retry_after if exc.retry_after is not None else backoff_seconds(attempts)
            log.info("outbox.retry", outbox=row.id, channel=row.channel, reason=exc.reason, in_seconds=round(delay, 1))
            async with self._sessions() as session:
                current = await session.get(OutboxMessage, row.id)
                if current is not None:
                    current.status = OutboxStatus.PENDING
                    current.last_error = exc.reason[:300]
                    current.next_attempt_at = utcnow() + timedelta(seconds=delay)
                    await session.commit()
            return
        await self._finish(row.id, OutboxStatus.SENT, provider_message_id=delivery.provider_message_id)

    async def _finish(
        self, outbox_id: int, status: OutboxStatus, *, error: str | None = None, provider_message_id: str | None = None
    ) -> None:
        async with self._sessions() as session:
            current = await session.get(OutboxMessage, outbox_id)
            if current is None:
                return
            repo.advance_status(current, status, error=error)
            if provider_message_id and current.provider_message_id is None:
                current.provider_message_id = provider_message_id
            await session.commit()

    async def idle(self, *, within: float = 60.0) -> None:
        """Wait until nothing is pending or sending (tests)."""
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            async with self._sessions() as session:
                due = await repo.next_due_at(session=session)
            if due is None and not self._in_flight:
                return
            await asyncio.sleep(0.05)
        raise TimeoutError("outbox still busy")

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
