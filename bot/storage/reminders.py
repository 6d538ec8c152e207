"""Repository functions of the reminders: a chat's subscription, and the keys of the reminders recorded."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage.models_reminders import ReminderSent, ReminderSubscription
from bot.storage.models_tramites import Notification


async def subscription(*, session: AsyncSession, conversation_id: str) -> ReminderSubscription | None:
    return await session.get(ReminderSubscription, conversation_id)


async def save_subscription(
    *,
    session: AsyncSession,
    conversation_id: str,
    canal: str,
    cedula_hash: str,
    cedula_cifrada: str,
    tipos: list[str],
    now: datetime,
) -> ReminderSubscription:
    """Create the chat's subscription (at ``now``) or replace its kinds and holder."""
    row = await session.get(ReminderSubscription, conversation_id)
    if row is None:
        row = ReminderSubscription(
            conversation_id=conversation_id,
            canal=canal,
            cedula_hash=cedula_hash,
            cedula_cifrada=cedula_cifrada,
            tipos=tipos,
            created_at=now,
            updated_at=now,
        )
        session.add(row)
    else:
        row.canal, row.cedula_hash, row.cedula_cifrada, row.tipos = canal, cedula_hash, cedula_cifrada, tipos
    await session.flush()
    return row


async def delete_subscription(*, session: AsyncSession, conversation_id: str) -> bool:
    result = await session.execute(
        delete(ReminderSubscription).where(ReminderSubscription.conversation_id == conversation_id)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def subscriptions(*, session: AsyncSession) -> Sequence[ReminderSubscription]:
    """Every subscription, in a stable order (the periodic job's round)."""
    return (await session.scalars(select(ReminderSubscription).order_by(ReminderSubscription.conversation_id))).all()


async def chats_of(*, session: AsyncSession, cedula_hash: str) -> Sequence[str]:
    """The chats where this citizen subscribed (found by the keyed hash of the cédula)."""
    found = await session.scalars(
        select(ReminderSubscription.conversation_id).where(ReminderSubscription.cedula_hash == cedula_hash)
    )
    return found.all()


async def sent_keys(*, session: AsyncSession, conversation_id: str) -> set[str]:
    found = await session.scalars(select(ReminderSent.clave).where(ReminderSent.conversation_id == conversation_id))
    return set(found.all())


async def sent(*, session: AsyncSession, conversation_id: str) -> Sequence[ReminderSent]:
    found = await session.scalars(
        select(ReminderSent).where(ReminderSent.conversation_id == conversation_id).order_by(ReminderSent.id)
    )
    return found.all()


async def record_sent(*, session: AsyncSession, conversation_id: str, tipo: str, clave: str, now: datetime) -> None:
    """Record one reminder's key. Raises IntegrityError when this chat already has it (another run did it)."""
    session.add(ReminderSent(conversation_id=conversation_id, tipo=tipo, clave=clave, created_at=now))
    await session.flush()


async def drop_undelivered(*, session: AsyncSession, conversation_id: str, plantillas: Sequence[str]) -> int:
    """Remove reminders recorded for the chat but not yet handed to its channel (after «no más avisos»)."""
    result = await session.execute(
        delete(Notification).where(
            Notification.conversation_id == conversation_id,
            Notification.delivered_at.is_(None),
            Notification.plantilla.in_(list(plantillas)),
        )
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
