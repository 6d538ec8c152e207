"""Repository functions of campaigns: the campaigns, their recipients, the segment's subscriptions, the counts."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage.models import Conversation, Direction, Message, OutboxMessage, OutboxStatus
from bot.storage.models_campaigns import Campaign, CampaignRecipient, CampaignState, RecipientState
from bot.storage.models_identity import IdentityLink
from bot.storage.models_reminders import ReminderSubscription

CHUNK = 500  # conversation ids per IN (...) clause


async def add_campaign(*, session: AsyncSession, **fields: Any) -> Campaign:
    campaign = Campaign(**fields)
    session.add(campaign)
    await session.flush()
    return campaign


async def get_campaign(*, session: AsyncSession, campaign_id: int) -> Campaign | None:
    return await session.get(Campaign, campaign_id)


async def latest_campaigns(*, session: AsyncSession, limit: int = 50) -> Sequence[Campaign]:
    return (await session.scalars(select(Campaign).order_by(Campaign.id.desc()).limit(limit))).all()


async def campaign_ids_in_state(*, session: AsyncSession, state: CampaignState) -> Sequence[int]:
    return (await session.scalars(select(Campaign.id).where(Campaign.estado == state).order_by(Campaign.id))).all()


async def subscriptions_on(
    *, session: AsyncSession, channels: Sequence[str]
) -> Sequence[tuple[ReminderSubscription, Conversation | None]]:
    """Every reminder subscription on ``channels``, with its conversation (kinds are filtered by the caller: a
    JSON list has no portable containment test)."""
    result = await session.execute(
        select(ReminderSubscription, Conversation)
        .outerjoin(Conversation, Conversation.id == ReminderSubscription.conversation_id)
        .where(ReminderSubscription.canal.in_(list(channels)))
        .order_by(ReminderSubscription.conversation_id)
    )
    return [(subscription, conversation) for subscription, conversation in result.all()]


async def current_names(*, session: AsyncSession, cedula_hash: str, now: datetime) -> str | None:
    """The encrypted names of this citizen's most recent identity still in force in any chat, if any."""
    return await session.scalar(
        select(IdentityLink.nombres_cifrados)
        .where(IdentityLink.cedula_hash == cedula_hash, IdentityLink.expires_at > now)
        .order_by(IdentityLink.verified_at.desc())
        .limit(1)
    )


async def add_recipients(*, session: AsyncSession, campaign_id: int, rows: Sequence[tuple[str, str, str]]) -> int:
    """Freeze the recipients: ``(conversation_id, canal, cedula_hash)``, one per citizen."""
    session.add_all(
        CampaignRecipient(campaign_id=campaign_id, conversation_id=c, canal=canal, cedula_hash=h)
        for c, canal, h in rows
    )
    await session.flush()
    return len(rows)


async def pending_recipients(*, session: AsyncSession, campaign_id: int, limit: int) -> Sequence[CampaignRecipient]:
    return (
        await session.scalars(
            select(CampaignRecipient)
            .where(CampaignRecipient.campaign_id == campaign_id, CampaignRecipient.estado == RecipientState.PENDIENTE)
            .order_by(CampaignRecipient.id)
            .limit(limit)
        )
    ).all()


async def claim_recipient(
    *, session: AsyncSession, recipient_id: int, state: RecipientState, motivo: str | None = None, now: datetime
) -> bool:
    """Move a pending recipient to ``state`` (compare-and-set: False when another worker took it first)."""
    result = await session.execute(
        update(CampaignRecipient)
        .where(CampaignRecipient.id == recipient_id, CampaignRecipient.estado == RecipientState.PENDIENTE)
        .values(estado=state, motivo=motivo, queued_at=now if state == RecipientState.ENCOLADO else None)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def take_bucket(
    *, session: AsyncSession, campaign_id: int, seen_at: datetime | None, cupo: float, now: datetime
) -> bool:
    """Store the campaign's token bucket if no other worker changed it since ``seen_at`` (compare-and-set)."""
    same = Campaign.cupo_at.is_(None) if seen_at is None else Campaign.cupo_at == seen_at
    result = await session.execute(
        update(Campaign)
        .where(Campaign.id == campaign_id, Campaign.estado == CampaignState.ENVIANDO, same)
        .values(cupo=cupo, cupo_at=now)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def cancel_recipients(*, session: AsyncSession, campaign_id: int) -> int:
    """Cancel the recipients not yet handed to a channel: pending ones, and queued ones the outbox has not sent
    (their outbox rows fail as cancelled)."""
    queued_unsent = (
        await session.scalars(
            select(OutboxMessage.id)
            .join(CampaignRecipient, CampaignRecipient.outbox_id == OutboxMessage.id)
            .where(CampaignRecipient.campaign_id == campaign_id, OutboxMessage.status == OutboxStatus.PENDING)
        )
    ).all()
    if queued_unsent:
        await session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(queued_unsent), OutboxMessage.status == OutboxStatus.PENDING)
            .values(status=OutboxStatus.FAILED, last_error="campaign cancelled")
        )
        await session.execute(
            update(CampaignRecipient)
            .where(CampaignRecipient.outbox_id.in_(queued_unsent))
            .values(estado=RecipientState.CANCELADO)
        )
    result = await session.execute(
        update(CampaignRecipient)
        .where(CampaignRecipient.campaign_id == campaign_id, CampaignRecipient.estado == RecipientState.PENDIENTE)
        .values(estado=RecipientState.CANCELADO)
    )
    return int(result.rowcount or 0) + len(queued_unsent)  # type: ignore[attr-defined]


async def recipient_states(*, session: AsyncSession, campaign_id: int) -> dict[tuple[str, str | None], int]:
    """How many recipients are in each (state, reason)."""
    result = await session.execute(
        select(CampaignRecipient.estado, CampaignRecipient.motivo, func.count())
        .where(CampaignRecipient.campaign_id == campaign_id)
        .group_by(CampaignRecipient.estado, CampaignRecipient.motivo)
    )
    return {(str(state), motivo): int(n) for state, motivo, n in result.all()}


async def delivery_states(*, session: AsyncSession, campaign_id: int) -> dict[str, int]:
    """How many of the queued recipients' outbox messages are in each delivery state."""
    result = await session.execute(
        select(OutboxMessage.status, func.count())
        .join(CampaignRecipient, CampaignRecipient.outbox_id == OutboxMessage.id)
        .where(CampaignRecipient.campaign_id == campaign_id, CampaignRecipient.estado == RecipientState.ENCOLADO)
        .group_by(OutboxMessage.status)
    )
    return {str(status): int(n) for status, n in result.all()}


async def sent_times(*, session: AsyncSession, campaign_id: int) -> dict[str, datetime]:
    """When each queued recipient's message left (the outbox's ``sent_at``), by conversation."""
    result = await session.execute(
        select(CampaignRecipient.conversation_id, OutboxMessage.sent_at)
        .join(OutboxMessage, CampaignRecipient.outbox_id == OutboxMessage.id)
        .where(
            CampaignRecipient.campaign_id == campaign_id,
            CampaignRecipient.estado == RecipientState.ENCOLADO,
            OutboxMessage.sent_at.is_not(None),
        )
    )
    return {conversation_id: sent_at for conversation_id, sent_at in result.all() if sent_at is not None}


async def inbound_since(
    *, session: AsyncSession, conversation_ids: Sequence[str], since: datetime
) -> list[tuple[str, datetime]]:
    """The citizens' messages in these conversations from ``since`` on: (conversation, time)."""
    found: list[tuple[str, datetime]] = []
    ids = list(conversation_ids)
    for start in range(0, len(ids), CHUNK):
        result = await session.execute(
            select(Message.conversation_id, Message.created_at).where(
                Message.conversation_id.in_(ids[start : start + CHUNK]),
                Message.direction == Direction.IN,
                Message.created_at >= since,
            )
        )
        found.extend(result.all())
    return found
