"""The service events, defined in one place and derived from the rows Chasqui already records.

No event table: every event is computed from its source, so a past period is backfilled by reading it.

| event | source |
|---|---|
| ``conversation_started`` | a visit's first citizen message (``messages``; a pause over `VISIT_GAP` opens a visit) |
| ``tramite_started`` | Rasa's tracker: the ``tramite_actual`` slot set, or a message read as the trámite's intent |
| ``identity_proven`` | ``identity_links.verified_at`` (the chat's latest proof) |
| ``confirmed`` | an application created (``applications``) after the citizen confirmed its data |
| ``paid`` | ``payments.paid_at`` |
| ``issued`` | a document issued (``documents``, linked to its application or, for look-ups, by kind) |
| ``rejected`` | an application's status history reaching ``rechazada`` |
| ``abandoned`` | derived later (`bot.analytics.journeys`): a trámite left idle before its last step |
| ``handoff`` | a handoff case (``handoff_cases``), with its reason |
| ``rated`` | a CSAT rating (``csat_ratings``) of a person's attention |
| ``not_understood`` | Rasa's tracker: a message read as ``nlu_fallback``, its text masked (`mask_utterance`) |
| ``verified`` | a document verification (``document_verifications``), with its verdict |
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bot.privacy.redaction import find_identifiers, redact_text
from bot.privacy.vault import KINDS, REFERENCE
from bot.storage import analytics as rows
from bot.storage.models_tramites import EstadoSolicitud
from bot.tramites.declaration import Tramite

VISIT_GAP = timedelta(hours=2)  # a citizen who writes again after this pause starts a new visit
FALLBACK_INTENT = "nlu_fallback"
PLACEHOLDERS = {  # what a masked utterance shows instead of an identifier the gateway kept in its vault
    "cedula": "[cédula]",
    "ruc": "[RUC]",
    "codigo_dactilar": "[código dactilar]",
    "telefono": "[teléfono]",
    "correo": "[correo]",
    "nombre": "[nombre]",
    "direccion": "[dirección]",
}


class EventKind(enum.StrEnum):
    CONVERSATION_STARTED = "conversation_started"
    TRAMITE_STARTED = "tramite_started"
    IDENTITY_PROVEN = "identity_proven"
    CONFIRMED = "confirmed"
    PAID = "paid"
    ISSUED = "issued"
    REJECTED = "rejected"
    ABANDONED = "abandoned"
    HANDOFF = "handoff"
    RATED = "rated"
    NOT_UNDERSTOOD = "not_understood"
    VERIFIED = "verified"


@dataclass(frozen=True)
class ServiceEvent:
    """One thing that happened in the service. ``detail`` holds the handoff reason, the masked utterance or the
    verdict; ``province`` the two-digit code of the cédula involved, when one is (never the cédula)."""

    kind: EventKind
    at: datetime
    conversation_id: str
    channel: str
    tramite: str | None = None
    application_id: int | None = None
    case_id: int | None = None
    detail: str | None = None
    score: int | None = None
    province: str | None = None
    payment_due: bool = False


@dataclass(frozen=True)
class Sources:
    """The rows of one period, as `bot.storage.analytics` reads them."""

    inbound: Sequence[rows.InboundRow] = ()
    tracker: Sequence[rows.TrackerRow] = ()
    identities: Sequence[rows.IdentityRow] = ()
    applications: Sequence[rows.ApplicationRow] = ()
    statuses: Sequence[rows.StatusRow] = ()
    payments: Sequence[rows.PaymentRow] = ()
    documents: Sequence[rows.DocumentRow] = ()
    cases: Sequence[rows.CaseRow] = ()
    ratings: Sequence[rows.RatingRow] = ()
    verifications: Sequence[rows.VerificationRow] = ()
    channels: dict[str, str] = field(default_factory=dict)  # conversation id → channel


def mask_utterance(text: str) -> str:
    """A citizen's message as analytics may show it: vault references and any identifier left masked,
    lower case, spaces collapsed (so the same words group together)."""
    text = REFERENCE.sub(lambda m: PLACEHOLDERS[KINDS[m.group(1)]], text)
    for identifier in reversed(find_identifiers(text)):
        text = text[: identifier.start] + PLACEHOLDERS[identifier.kind] + text[identifier.end :]
    return " ".join(redact_text(text).lower().split())


def derive(
    sources: Sources,
    *,
    tramites: Sequence[Tramite],
    province_of: Callable[[str], str | None] = lambda _: None,
) -> list[ServiceEvent]:
    """Every service event of ``sources``, in time order.

    Args:
        sources: the period's rows.
        tramites: the declared trámites (intent, document kind).
        province_of: the province code of an encrypted cédula (decrypts it and keeps two digits), or None.
    """

    def channel(conversation_id: str) -> str:
        return sources.channels.get(conversation_id) or conversation_id.partition(":")[0]

    by_intent = {t.intent: t.clave for t in tramites}
    by_document = {t.documento: t.clave for t in tramites if t.documento}
    claves = {t.clave for t in tramites}
    applications = {a.id: a for a in sources.applications}
    provinces = {a.id: province_of(a.titular_cifrado) for a in sources.applications}
    with_payment = {p.application_id for p in sources.payments}
    events: list[ServiceEvent] = []
    add = events.append

    previous: dict[str, datetime] = {}
    for message in sources.inbound:
        chat = message.conversation_id
        last = previous.get(chat)
        if last is None or message.at - last > VISIT_GAP:
            add(ServiceEvent(EventKind.CONVERSATION_STARTED, message.at, chat, channel(chat)))
        previous[chat] = message.at

    for event in sources.tracker:
        conversation = event.sender_id
        started = event.value if event.type_name == "slot" else by_intent.get(event.intent or "")
        if started in claves:
            add(ServiceEvent(EventKind.TRAMITE_STARTED, event.at, conversation, channel(conversation), tramite=started))
        elif event.type_name == "user" and event.intent == FALLBACK_INTENT and event.text:
            if event.text.startswith("/"):
                continue  # a button payload, not words
            detail = mask_utterance(event.text)
            add(ServiceEvent(EventKind.NOT_UNDERSTOOD, event.at, conversation, channel(conversation), detail=detail))

    for identity in sources.identities:
        add(
            ServiceEvent(
                EventKind.IDENTITY_PROVEN,
                identity.at,
                identity.conversation_id,
                channel(identity.conversation_id),
                province=province_of(identity.cedula_cifrada),
            )
        )

    def about(kind: EventKind, at: datetime, application: rows.ApplicationRow, **extra: object) -> ServiceEvent:
        return ServiceEvent(
            kind,
            at,
            application.conversation_id,
            channel(application.conversation_id),
            tramite=application.tramite,
            application_id=application.id,
            province=provinces.get(application.id),
            **extra,  # type: ignore[arg-type]
        )

    for application in sources.applications:
        add(about(EventKind.CONFIRMED, application.created_at, application, payment_due=application.id in with_payment))
    for payment in sources.payments:
        if payment.paid_at is not None and payment.application_id in applications:
            add(about(EventKind.PAID, payment.paid_at, applications[payment.application_id]))
    documented: set[int] = set()
    for document in sources.documents:
        owner = applications.get(document.application_id) if document.application_id else None
        if owner is not None:
            documented.add(owner.id)
            add(about(EventKind.ISSUED, document.issued_at, owner, detail=document.kind))
        elif document.conversation_id and document.kind in by_document:
            add(
                ServiceEvent(
                    EventKind.ISSUED,
                    document.issued_at,
                    document.conversation_id,
                    channel(document.conversation_id),
                    tramite=by_document[document.kind],
                    detail=document.kind,
                )
            )
    for status in sources.statuses:
        moved = applications.get(status.application_id)
        if moved is None:
            continue
        if status.estado == EstadoSolicitud.EMITIDA and moved.id not in documented:
            documented.add(moved.id)  # issued, its document record gone (deleted at the holder's request)
            add(about(EventKind.ISSUED, status.at, moved))
        elif status.estado == EstadoSolicitud.RECHAZADA:
            add(about(EventKind.REJECTED, status.at, moved))

    cases = {c.id: c for c in sources.cases}
    for case in sources.cases:
        add(
            ServiceEvent(
                EventKind.HANDOFF,
                case.requested_at,
                case.conversation_id,
                channel(case.conversation_id),
                case_id=case.id,
                detail=case.reason,
            )
        )
    for rating in sources.ratings:
        rated = cases.get(rating.case_id)
        if rated is not None:
            add(
                ServiceEvent(
                    EventKind.RATED,
                    rating.at,
                    rated.conversation_id,
                    channel(rated.conversation_id),
                    case_id=rated.id,
                    score=rating.score,
                )
            )

    for verification in sources.verifications:
        add(
            ServiceEvent(
                EventKind.VERIFIED,
                verification.at,
                "",
                verification.via,
                tramite=by_document.get(verification.kind or ""),
                detail=verification.verdict,
            )
        )
    return sorted(events, key=lambda e: (e.at, list(EventKind).index(e.kind)))


def of_kind(events: Iterable[ServiceEvent], kind: EventKind) -> list[ServiceEvent]:
    return [e for e in events if e.kind is kind]
