"""Repository functions of the outbox: messages for channel APIs, sent in order per conversation."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

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
    """The first unsent message of each conversation, if it is due (order per chat is kept): pending and due, or
    claimed by a dispatcher whose lease ran out (it crashed, or lost its database, while sending)."""
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
            OutboxMessage.status.in_(OPEN_STATUSES),
            OutboxMessage.next_attempt_at <= now,
        )
        .order_by(OutboxMessage.id)
        .limit(limit)
    )
    return result.all()


async def next_due_at(*, session: AsyncSession) -> datetime | None:
    """When the next message is due: a pending one's attempt, or a claimed one's lease running out."""
    return await session.scalar(
        select(func.min(OutboxMessage.next_attempt_at)).where(OutboxMessage.status.in_(OPEN_STATUSES))
    )


async def claim(*, session: AsyncSession, outbox_id: int, now: datetime, lease: timedelta) -> int | None:
    """Take a due message for sending, in one conditional UPDATE so that of several dispatchers (gateway
    processes) exactly one wins: pending and due, or sending with its lease run out. While sending,
    ``next_attempt_at`` is the lease's end. Returns the attempt number, or None when another one has it."""
    result = await session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.id == outbox_id,
            OutboxMessage.status.in_(OPEN_STATUSES),
            OutboxMessage.next_attempt_at <= now,
        )
        .values(status=OutboxStatus.SENDING, attempts=OutboxMessage.attempts + 1, next_attempt_at=now + lease)
        .returning(OutboxMessage.attempts)
    )
    return result.scalar_one_or_none()


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
