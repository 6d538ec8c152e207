"""What is waiting, read for the metrics on each scrape: the outbox, unanswered inbound messages, the handoff
queue. Each query visits only waiting rows, through an index (see migration 0011)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage.models import Direction, Message, MessageStatus, OutboxMessage, OutboxStatus
from bot.storage.models_console import HandoffCase


@dataclass(frozen=True)
class Waiting:
    """How many rows of one kind wait, and since when the oldest."""

    key: tuple[str, ...]
    count: int
    oldest: datetime | None


async def outbox_backlog(*, session: AsyncSession) -> list[Waiting]:
    """Outbox messages not sent yet, by (channel, status); pending and sending only."""
    rows = await session.execute(
        select(OutboxMessage.channel, OutboxMessage.status, func.count(), func.min(OutboxMessage.created_at))
        .where(OutboxMessage.status.in_((OutboxStatus.PENDING, OutboxStatus.SENDING)))
        .group_by(OutboxMessage.channel, OutboxMessage.status)
    )
    return [Waiting((channel, status), int(count), _aware(oldest)) for channel, status, count, oldest in rows]


async def inbound_backlog(*, session: AsyncSession) -> list[Waiting]:
    """Inbound messages stored but not answered (received, or failed while Rasa was down), by status."""
    rows = await session.execute(
        select(Message.status, func.count(), func.min(Message.created_at))
        .where(
            Message.direction == Direction.IN,
            Message.status.in_((MessageStatus.RECEIVED, MessageStatus.FAILED)),
        )
        .group_by(Message.status)
    )
    return [Waiting((status,), int(count), _aware(oldest)) for status, count, oldest in rows]


async def handoff_queue(*, session: AsyncSession) -> list[Waiting]:
    """Open cases nobody has claimed yet, by team."""
    rows = await session.execute(
        select(HandoffCase.team, func.count(), func.min(HandoffCase.queued_at))
        .where(HandoffCase.ended_at.is_(None), HandoffCase.agent_id.is_(None))
        .group_by(HandoffCase.team)
    )
    return [Waiting((team,), int(count), _aware(oldest)) for team, count, oldest in rows]


def _aware(value: datetime | None) -> datetime | None:
    """``min()`` keeps the column's UTC type; a naive value from any driver is UTC all the same."""
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
