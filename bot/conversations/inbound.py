"""Background processing of Telegram and WhatsApp messages: in order per conversation, recovered at start.

A webhook stores the message and answers at once; `InboundProcessor.schedule` then drains that
conversation's unanswered messages one by one. Messages stored before a crash are found again by
`recover`, and those of a gateway that died for good by any other gateway's `sweep` (every 30 s, for
messages unanswered for `TAKE_OVER_AFTER`). While Rasa is unavailable a conversation retries with a growing
pause.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import timedelta

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import metrics
from bot.conversations.router import ConversationRouter, Outcome
from bot.storage import conversations as repo
from bot.storage.models import utcnow

log = structlog.get_logger(__name__)

# A message stored this long ago and still unanswered is taken over by any gateway: longer than any turn
# (`bot.conversations.turn_locks.MAX_TURN_SECONDS`) and than Rasa's first retries.
TAKE_OVER_AFTER = timedelta(minutes=2)


class InboundProcessor:
    """One drain task per conversation with unanswered messages."""

    def __init__(
        self,
        *,
        router: ConversationRouter,
        sessions: async_sessionmaker[AsyncSession],
        retry_seconds: Sequence[float] = (2, 5, 10, 30, 60),
    ) -> None:
        self._router = router
        self._sessions = sessions
        self._retry = tuple(retry_seconds)
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._again: set[str] = set()
        self._recovered: set[str] = set()  # conversations whose first message may have reached Rasa already

    def schedule(self, conversation_id: str) -> None:
        """Make sure the conversation's unanswered messages get processed."""
        task = self._tasks.get(conversation_id)
        if task is not None and not task.done():
            self._again.add(conversation_id)
            return
        self._tasks[conversation_id] = asyncio.create_task(
            self._drain(conversation_id), name=f"inbound:{conversation_id}"
        )

    async def recover(self, channels: Sequence[str]) -> int:
        """Schedule every conversation that has messages stored but not answered (after a restart)."""
        async with self._sessions() as session:
            pending = await repo.conversations_with_pending_inbound(session=session, channels=channels)
        return self._take_over(pending, event="inbound.recovered")

    async def sweep(self, channels: Sequence[str], *, older_than: timedelta) -> int:
        """Schedule the conversations whose unanswered messages are older than ``older_than`` and not being
        processed here: those of a gateway that died and was not started again (its host is gone). Another live
        gateway still working on one is harmless: turns of a chat take its lock, answered messages are skipped
        and a message that may have reached Rasa is looked up in its tracker first."""
        async with self._sessions() as session:
            stale = await repo.conversations_with_pending_inbound(
                session=session, channels=channels, stored_before=utcnow() - older_than
            )
        idle = [c for c in stale if c not in self._tasks or self._tasks[c].done()]
        return self._take_over(idle, event="inbound.taken_over")

    def _take_over(self, conversations: Sequence[str], *, event: str) -> int:
        """Drain ``conversations`` whose first message may have reached Rasa already (looked up first)."""
        for conversation_id in conversations:
            self._recovered.add(conversation_id)
            self.schedule(conversation_id)
        if conversations:
            log.info(event, conversations=len(conversations))
        return len(conversations)

    async def sweep_forever(
        self, channels: Sequence[str], *, every_seconds: float = 30.0, older_than: timedelta = TAKE_OVER_AFTER
    ) -> None:
        """`sweep` every ``every_seconds``, for as long as the gateway runs."""
        while True:
            await asyncio.sleep(every_seconds)
            try:
                await self.sweep(channels, older_than=older_than)
            except Exception:  # the database away for a moment: the next sweep tries again
                log.exception("inbound.sweep_failed")

    async def _drain(self, conversation_id: str) -> None:
        failures = 0
        while True:
            self._again.discard(conversation_id)
            async with self._sessions() as session:
                pending = [
                    (m.id, m.created_at)
                    for m in await repo.pending_inbound(session=session, conversation_id=conversation_id)
                ]
            if not pending:
                if conversation_id in self._again:
                    continue
                return
            for message_id, stored_at in pending:
                if failures == 0:  # once per message: retries while Rasa is down would count it again
                    lag = (utcnow() - stored_at).total_seconds()
                    metrics.INBOUND_LAG.labels(channel=conversation_id.split(":", 1)[0]).observe(max(0.0, lag))
                # After a crash or an error the message may have reached Rasa: its answer is looked up first.
                retry = failures > 0 or conversation_id in self._recovered
                self._recovered.discard(conversation_id)
                try:
                    result = await self._router.process(message_id, conversation_id=conversation_id, retry=retry)
                except Exception:
                    log.exception("inbound.processing_failed", conversation=conversation_id, message=message_id)
                    result = None
                if result is None or result.outcome is Outcome.UNAVAILABLE:
                    pause = self._retry[min(failures, len(self._retry) - 1)]
                    failures += 1
                    await asyncio.sleep(pause)
                    break  # start again from the oldest unanswered message
                failures = 0

    async def idle(self) -> None:
        """Wait until every scheduled conversation is drained (tests, shutdown)."""
        while any(not t.done() for t in self._tasks.values()):
            await asyncio.gather(*(t for t in self._tasks.values() if not t.done()), return_exceptions=True)

    async def close(self) -> None:
        for task in self._tasks.values():
            task.cancel()
        await asyncio.gather(*self._tasks.values(), return_exceptions=True)
        self._tasks.clear()
