"""Repository functions of the outbox: messages for channel APIs, sent in order per conversation."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage.models import OutboxMessage, OutboxStatus, utcnow

# Later states win: a "read" callback that arrives before "delivered" is kept.
STATUS_RANK = {
    OutboxStatus.PENDING: 0,
    OutboxStatus.SENDING: 1,
    OutboxStatus.SENT: 2,
    OutboxStatus.DELIVERED: 3,
    OutboxStatus.READ: 4,
    OutboxStatus.FAILED: 5,
}
OPEN_STATUSES = (OutboxStatus.PENDING, OutboxStatus.SENDING)


async def next_per_conversation(*, session: AsyncSession, now: datetime, limit: int = 200) -> Sequence[OutboxMessage]:
    """The first unsent message of each conversation, if it is due (order per chat is kept)."""
    first_open = (
        select(func.min(OutboxMessage.id))
        .where(OutboxMessage.status.in_(OPEN_STATUSES))
        .group_by(OutboxMessage.conversation_id)
        .scalar_subquery()
    )
    result = await session.scalars(
        select(OutboxMessage)
        .where(
            OutboxMessage.id.in_(first_open),
            OutboxMessage.status == OutboxStatus.PENDING,
            OutboxMessage.next_attempt_at <= now,
        )
        .order_by(OutboxMessage.id)
        .limit(limit)
    )
    return result.all()


async def next_due_at(*, session: AsyncSession) -> datetime | None:
    return await session.scalar(
        select(func.min(OutboxMessage.next_attempt_at)).where(OutboxMessage.status == OutboxStatus.PENDING)
    )


async def reset_interrupted(*, session: AsyncSession) -> int:
    """After a crash, messages caught while sending are sent again (at least once)."""
    result = await session.execute(
        update(OutboxMessage).where(OutboxMessage.status == OutboxStatus.SENDING).values(status=OutboxStatus.PENDING)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def by_provider_id(*, session: AsyncSession, provider_message_id: str) -> OutboxMessage | None:
    return await session.scalar(select(OutboxMessage).where(OutboxMessage.provider_message_id == provider_message_id))


def advance_status(message: OutboxMessage, status: OutboxStatus, *, error: str | None = None) -> bool:
    """Move to ``status`` unless the message is already further along; True when it changed."""
    if STATUS_RANK[status] <= STATUS_RANK[OutboxStatus(message.status)]:
        return False
    message.status = status
    if error:
        message.last_error = error[:300]
    if status in (OutboxStatus.SENT, OutboxStatus.DELIVERED, OutboxStatus.READ) and message.sent_at is None:
        message.sent_at = utcnow()
    return True


async def for_conversation(*, session: AsyncSession, conversation_id: str) -> Sequence[OutboxMessage]:
    result = await session.scalars(
        select(OutboxMessage).where(OutboxMessage.conversation_id == conversation_id).order_by(OutboxMessage.id)
    )
    return result.all()
