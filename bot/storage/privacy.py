"""Repository functions of data protection: the consent ledger, and removing a citizen's rows everywhere
except what a law obliges to keep (payment receipts; the audit log; an anonymous verification record of
issued documents)."""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage import conversations
from bot.storage.models import (
    Conversation,
    HandoffRequest,
    Message,
    OutboxMessage,
    OwnerEvent,
    utcnow,
)
from bot.storage.models_campaigns import CampaignRecipient
from bot.storage.models_documents import Document
from bot.storage.models_identity import IdentityAttempts, IdentityLink
from bot.storage.models_privacy import ConsentRecord, ContactAddress, PurgeLog
from bot.storage.models_reminders import ReminderSent, ReminderSubscription
from bot.storage.models_tramites import Application, ApplicationDocument, ApplicationEvent, Notification, Payment

ERASED = "[eliminado]"


async def record_consent(
    *, session: AsyncSession, conversation_id: str, proposito: str, otorgado: bool, version_aviso: str, canal: str
) -> ConsentRecord:
    record = ConsentRecord(
        conversation_id=conversation_id,
        proposito=proposito,
        otorgado=otorgado,
        version_aviso=version_aviso,
        canal=canal,
    )
    session.add(record)
    await session.flush()
    return record


async def consents_in_force(*, session: AsyncSession, conversation_id: str) -> dict[str, ConsentRecord]:
    """The latest record per purpose."""
    result = await session.scalars(
        select(ConsentRecord).where(ConsentRecord.conversation_id == conversation_id).order_by(ConsentRecord.id)
    )
    return _latest_per_purpose(result.all())


def _latest_per_purpose(records: Iterable[ConsentRecord | None]) -> dict[str, ConsentRecord]:
    """The last record of each purpose among ``records`` (in the order they were made)."""
    return {record.proposito: record for record in records if record is not None}


async def conversation_and_consents(
    *, session: AsyncSession, conversation_id: str, channel: str
) -> tuple[Conversation, dict[str, ConsentRecord]]:
    """The conversation (created on first contact, owned by the bot) and its latest consent record per purpose,
    read in one statement: a turn needs both before anything else, and each statement is a trip to the database
    (to SQLite's thread, or over the network to PostgreSQL)."""
    rows = (
        await session.execute(
            select(Conversation, ConsentRecord)
            .outerjoin(ConsentRecord, ConsentRecord.conversation_id == Conversation.id)
            .where(Conversation.id == conversation_id)
            .order_by(ConsentRecord.id)
        )
    ).all()
    if not rows:  # first contact: no consent yet
        conversation = await conversations.get_or_create_conversation(
            session=session, conversation_id=conversation_id, channel=channel
        )
        return conversation, {}
    return rows[0][0], _latest_per_purpose(record for _, record in rows)


async def consent_history(*, session: AsyncSession, conversation_id: str) -> Sequence[ConsentRecord]:
    result = await session.scalars(
        select(ConsentRecord).where(ConsentRecord.conversation_id == conversation_id).order_by(ConsentRecord.id)
    )
    return result.all()


async def delete_conversation(*, session: AsyncSession, conversation_id: str) -> dict[str, int]:
    """Remove a conversation, its messages, deliveries, notifications, handoffs, identity link, consents,
    reminders and campaign deliveries."""
    counts: dict[str, int] = {}
    for name, statement in (
        ("campanas", delete(CampaignRecipient).where(CampaignRecipient.conversation_id == conversation_id)),
        ("salidas", delete(OutboxMessage).where(OutboxMessage.conversation_id == conversation_id)),
        ("notificaciones", delete(Notification).where(Notification.conversation_id == conversation_id)),
        ("mensajes", delete(Message).where(Message.conversation_id == conversation_id)),
        ("cambios_de_responsable", delete(OwnerEvent).where(OwnerEvent.conversation_id == conversation_id)),
        ("pedidos_de_persona", delete(HandoffRequest).where(HandoffRequest.conversation_id == conversation_id)),
        ("identidad", delete(IdentityLink).where(IdentityLink.conversation_id == conversation_id)),
        ("intentos_identidad", delete(IdentityAttempts).where(IdentityAttempts.conversation_id == conversation_id)),
        ("consentimientos", delete(ConsentRecord).where(ConsentRecord.conversation_id == conversation_id)),
        ("recordatorios", delete(ReminderSubscription).where(ReminderSubscription.conversation_id == conversation_id)),
        ("recordatorios_enviados", delete(ReminderSent).where(ReminderSent.conversation_id == conversation_id)),
        ("direcciones", delete(ContactAddress).where(ContactAddress.conversation_id == conversation_id)),
        ("conversaciones", delete(Conversation).where(Conversation.id == conversation_id)),
    ):
        result = await session.execute(statement)
        counts[name] = int(result.rowcount or 0)  # type: ignore[attr-defined]
    return counts


async def delete_applications_of(*, session: AsyncSession, titular_hash: str) -> dict[str, int]:
    """Applications of a citizen go; those with a payment stay anonymous, for the receipts the law keeps."""
    applications = (await session.scalars(select(Application).where(Application.titular_hash == titular_hash))).all()
    removed = kept = 0
    for application in applications:
        paid = await session.scalar(
            select(func.count()).select_from(Payment).where(Payment.application_id == application.id)
        )
        if paid:
            application.titular_hash = f"{ERASED}:{secrets.token_hex(8)}"
            application.titular_cifrado = ""
            application.conversation_id = ERASED
            application.datos = {}
            kept += 1
            continue
        await session.execute(delete(ApplicationEvent).where(ApplicationEvent.application_id == application.id))
        await session.execute(delete(ApplicationDocument).where(ApplicationDocument.application_id == application.id))
        await session.execute(delete(Notification).where(Notification.application_id == application.id))
        await session.delete(application)
        removed += 1
    await session.flush()
    return {"solicitudes_borradas": removed, "solicitudes_anonimizadas_por_pagos": kept}


async def anonymize_documents_of(*, session: AsyncSession, holder_hash: str) -> list[tuple[str, str, str]]:
    """Strip the holder from their documents' records (a verifier still learns whether a code was issued).

    Returns the (id, pdf filename, png filename) of each, so the caller removes the files.
    """
    documents = (await session.scalars(select(Document).where(Document.holder_cedula_hash == holder_hash))).all()
    files = []
    for document in documents:
        files.append((document.id, document.pdf_filename, document.png_filename))
        document.holder_cedula_hash = f"{ERASED}:{secrets.token_hex(8)}"
        document.holder_cedula_masked = "**********"
        document.holder_name = ERASED
        document.public_fields = {}
        document.conversation_id = None
    await session.flush()
    return files


async def idle_conversations(*, session: AsyncSession, before: datetime) -> Sequence[Conversation]:
    """Conversations with no message since ``before``."""
    last = (
        select(Message.conversation_id, func.max(Message.created_at).label("ultimo"))
        .group_by(Message.conversation_id)
        .subquery()
    )
    result = await session.scalars(
        select(Conversation)
        .outerjoin(last, last.c.conversation_id == Conversation.id)
        .where(func.coalesce(last.c.ultimo, Conversation.updated_at) < before)
    )
    return result.all()


async def is_identified(*, session: AsyncSession, conversation_id: str) -> bool:
    """Whether this conversation is tied to a person: an identity link, an application or reminders."""
    linked = await session.scalar(
        select(func.count()).select_from(IdentityLink).where(IdentityLink.conversation_id == conversation_id)
    )
    applied = await session.scalar(
        select(func.count()).select_from(Application).where(Application.conversation_id == conversation_id)
    )
    subscribed = await session.scalar(
        select(func.count())
        .select_from(ReminderSubscription)
        .where(ReminderSubscription.conversation_id == conversation_id)
    )
    return bool(linked or applied or subscribed)


async def log_purge(*, session: AsyncSession, motivo: str, conteos: dict[str, Any], started_at: datetime) -> PurgeLog:
    entry = PurgeLog(motivo=motivo, conteos=conteos, started_at=started_at, finished_at=utcnow())
    session.add(entry)
    await session.flush()
    return entry


async def save_address(*, session: AsyncSession, conversation_id: str, address_cifrada: str) -> None:
    row = await session.get(ContactAddress, conversation_id)
    if row is None:
        session.add(ContactAddress(conversation_id=conversation_id, address_cifrada=address_cifrada))
    else:
        row.address_cifrada = address_cifrada
    await session.flush()


async def address_of(*, session: AsyncSession, conversation_id: str) -> str | None:
    row = await session.get(ContactAddress, conversation_id)
    return row.address_cifrada if row is not None else None
