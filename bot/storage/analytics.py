"""Reads for service analytics: the rows a period's service events are derived from (`bot.analytics.events`).

Each read returns plain frozen values, never ORM objects, so the analytics code runs over them without a
session. Rasa's tracker store is read only for what the app's tables do not record: which trámite a chat
started (the ``tramite_actual`` slot, or the trámite's intent) and the messages the NLU did not understand.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import inspect, or_, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from bot.storage.models import Conversation, Direction, Message
from bot.storage.models_console import CsatRating, HandoffCase
from bot.storage.models_documents import Document, DocumentVerification
from bot.storage.models_identity import IdentityLink
from bot.storage.models_tramites import Application, ApplicationDocument, ApplicationEvent, Payment
from bot.storage.rasa_tracker import EVENTS


@dataclass(frozen=True)
class InboundRow:
    conversation_id: str
    at: datetime


@dataclass(frozen=True)
class IdentityRow:
    conversation_id: str
    at: datetime
    cedula_cifrada: str


@dataclass(frozen=True)
class ApplicationRow:
    id: int
    tramite: str
    conversation_id: str
    titular_cifrado: str
    estado: str
    created_at: datetime


@dataclass(frozen=True)
class StatusRow:
    application_id: int
    estado: str
    at: datetime


@dataclass(frozen=True)
class PaymentRow:
    application_id: int
    paid_at: datetime | None  # None: asked for, not paid


@dataclass(frozen=True)
class DocumentRow:
    id: str
    kind: str
    conversation_id: str | None
    application_id: int | None
    issued_at: datetime


@dataclass(frozen=True)
class CaseRow:
    id: int
    conversation_id: str
    reason: str
    team: str
    requested_at: datetime


@dataclass(frozen=True)
class RatingRow:
    case_id: int
    team: str
    score: int
    at: datetime


@dataclass(frozen=True)
class VerificationRow:
    kind: str | None
    via: str
    verdict: str
    at: datetime


@dataclass(frozen=True)
class TrackerRow:
    """A Rasa event: a user message (``intent``, ``text``) or the ``tramite_actual`` slot (``value``)."""

    sender_id: str
    type_name: str
    at: datetime
    intent: str | None = None
    text: str | None = None
    value: str | None = None


async def conversation_channels(*, session: AsyncSession, ids: set[str]) -> dict[str, str]:
    """The channel of each conversation in ``ids`` that still exists."""
    if not ids:
        return {}
    result = await session.execute(select(Conversation.id, Conversation.channel).where(Conversation.id.in_(ids)))
    return {row.id: row.channel for row in result}


async def inbound_between(*, session: AsyncSession, since: datetime, until: datetime) -> list[InboundRow]:
    """Every citizen message of the period (times only: visits and first messages are built from them)."""
    result = await session.execute(
        select(Message.conversation_id, Message.created_at)
        .where(Message.direction == Direction.IN, Message.created_at >= since, Message.created_at < until)
        .order_by(Message.conversation_id, Message.id)
    )
    return [InboundRow(row.conversation_id, row.created_at) for row in result]


async def identities_between(*, session: AsyncSession, since: datetime, until: datetime) -> list[IdentityRow]:
    result = await session.execute(
        select(IdentityLink.conversation_id, IdentityLink.verified_at, IdentityLink.cedula_cifrada).where(
            IdentityLink.verified_at >= since, IdentityLink.verified_at < until
        )
    )
    return [IdentityRow(row.conversation_id, row.verified_at, row.cedula_cifrada) for row in result]


async def applications_between(*, session: AsyncSession, since: datetime, until: datetime) -> list[ApplicationRow]:
    result = await session.scalars(
        select(Application).where(Application.created_at >= since, Application.created_at < until)
    )
    return [
        ApplicationRow(a.id, a.tramite, a.conversation_id, a.titular_cifrado, a.estado, a.created_at) for a in result
    ]


async def statuses_of(*, session: AsyncSession, application_ids: set[int]) -> list[StatusRow]:
    if not application_ids:
        return []
    result = await session.execute(
        select(ApplicationEvent.application_id, ApplicationEvent.estado, ApplicationEvent.created_at)
        .where(ApplicationEvent.application_id.in_(application_ids))
        .order_by(ApplicationEvent.id)
    )
    return [StatusRow(row.application_id, row.estado, row.created_at) for row in result]


async def payments_of(*, session: AsyncSession, application_ids: set[int]) -> list[PaymentRow]:
    if not application_ids:
        return []
    result = await session.execute(
        select(Payment.application_id, Payment.paid_at).where(Payment.application_id.in_(application_ids))
    )
    return [PaymentRow(row.application_id, row.paid_at) for row in result]


async def documents_between(*, session: AsyncSession, since: datetime, until: datetime) -> list[DocumentRow]:
    result = await session.execute(
        select(
            Document.id, Document.kind, Document.conversation_id, ApplicationDocument.application_id, Document.issued_at
        )
        .outerjoin(ApplicationDocument, ApplicationDocument.document_id == Document.id)
        .where(Document.issued_at >= since, Document.issued_at < until)
    )
    return [DocumentRow(row.id, row.kind, row.conversation_id, row.application_id, row.issued_at) for row in result]


async def cases_between(*, session: AsyncSession, since: datetime, until: datetime) -> list[CaseRow]:
    result = await session.scalars(
        select(HandoffCase).where(HandoffCase.requested_at >= since, HandoffCase.requested_at < until)
    )
    return [CaseRow(c.id, c.conversation_id, c.reason, c.team, c.requested_at) for c in result]


async def ratings_between(*, session: AsyncSession, since: datetime, until: datetime) -> list[RatingRow]:
    result = await session.scalars(
        select(CsatRating).where(CsatRating.created_at >= since, CsatRating.created_at < until)
    )
    return [RatingRow(r.case_id, r.team, r.score, r.created_at) for r in result]


async def verifications_between(*, session: AsyncSession, since: datetime, until: datetime) -> list[VerificationRow]:
    result = await session.scalars(
        select(DocumentVerification).where(
            DocumentVerification.created_at >= since, DocumentVerification.created_at < until
        )
    )
    return [VerificationRow(v.kind, v.via, v.verdict, v.created_at) for v in result]


async def add_verification(*, session: AsyncSession, kind: str | None, via: str, verdict: str) -> None:
    """Record one verification's outcome (no code, no document id: only what the open data counts)."""
    session.add(DocumentVerification(kind=kind, via=via, verdict=verdict))


def _json(data: Any) -> dict[str, Any]:
    try:
        parsed = json.loads(data) if isinstance(data, str) else {}
    except ValueError:
        return {}
    return parsed if isinstance(parsed, dict) else {}


async def tracker_between(engine: AsyncEngine | None, *, since: datetime, until: datetime) -> list[TrackerRow]:
    """User messages and ``tramite_actual`` slots from Rasa's tracker store (none when it has no table yet)."""
    if engine is None:
        return []
    async with engine.connect() as connection:
        if not await connection.run_sync(lambda sync: inspect(sync).has_table("events")):
            return []
        rows = await connection.execute(
            select(EVENTS.c.sender_id, EVENTS.c.type_name, EVENTS.c.timestamp, EVENTS.c.intent_name, EVENTS.c.data)
            .where(
                EVENTS.c.timestamp >= since.timestamp(),
                EVENTS.c.timestamp < until.timestamp(),
                or_(
                    EVENTS.c.type_name == "user",
                    (EVENTS.c.type_name == "slot") & EVENTS.c.data.contains('"tramite_actual"'),
                ),
            )
            .order_by(EVENTS.c.id)
        )
        found: list[TrackerRow] = []
        for row in rows:
            data = _json(row.data)
            at = datetime.fromtimestamp(float(row.timestamp), UTC)
            if row.type_name == "user":
                text = data.get("text")
                found.append(
                    TrackerRow(
                        row.sender_id, "user", at, intent=row.intent_name, text=text if isinstance(text, str) else None
                    )
                )
            elif data.get("name") == "tramite_actual" and isinstance(data.get("value"), str):
                found.append(TrackerRow(row.sender_id, "slot", at, value=data["value"]))
        return found
