"""A generated month of service (November 2026) with known answers, written as the system records it:
the app's tables (conversations, messages, identity links, applications and their history, payments,
documents, handoff cases, ratings, verifications) and Rasa's tracker store (trámite slots, fallbacks)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from bot.analytics.journeys import Step
from bot.privacy.encryption import Protector
from bot.storage.models import Conversation, Direction, Message, MessageStatus
from bot.storage.models_console import CsatRating, HandoffCase
from bot.storage.models_documents import Document, DocumentVerification
from bot.storage.models_identity import IdentityLink
from bot.storage.models_tramites import Application, ApplicationDocument, ApplicationEvent, Payment
from bot.storage.rasa_tracker import EVENTS

MONTH_START = datetime(2026, 11, 1, tzinfo=UTC)
MONTH_END = datetime(2026, 12, 1, tzinfo=UTC)
NOW = datetime(2026, 12, 5, tzinfo=UTC)  # every journey of the month has ended
ORDER = list(Step)
COST = {"certificado_nacimiento": Decimal("5.00")}
DOCUMENT_KIND = {
    "certificado_nacimiento": "certificado_nacimiento",
    "antecedentes_penales": "certificado_antecedentes_penales",
}
PICHINCHA, GUAYAS = "1712345675", "0923456784"


@dataclass(frozen=True)
class Citizen:
    """One citizen's journey: the last step reached, minutes from the first message to the document."""

    tramite: str
    channel: str
    day: int
    reach: Step
    minutes: int = 0
    cedula: str = PICHINCHA
    handoff: str | None = None
    score: int | None = None

    def reached(self, step: Step) -> bool:
        return ORDER.index(self.reach) >= ORDER.index(step)


def month() -> list[Citizen]:
    """The known population.

    certificado_nacimiento on the web, 30 journeys: 4 stop before identity, 4 before confirming, 2 before paying,
    2 paid but never issued, 18 issued in 10..27 minutes (median 18.5, p90 26). 12 Pichincha citizens issued on
    3 November; the 6 other issued ones and every unfinished one from Guayas, one per day. 3 ask for a person.
    antecedentes_penales on Telegram, 12 journeys, all issued in 5, 10 … 60 minutes (median 32.5, p90 55), on
    7 November, 11 from Pichincha and one from Guayas; one asks for a person (no_entendido) and rates it 4.
    """
    people: list[Citizen] = []
    nacimiento = "certificado_nacimiento"
    for i in range(18):
        cedula, day = (PICHINCHA, 3) if i < 12 else (GUAYAS, 10 + i)
        handoff, score = ("pedido_ciudadano", 5) if i == 0 else ("pedido_ciudadano", 3) if i == 1 else (None, None)
        people.append(Citizen(nacimiento, "web", day, Step.ISSUED, 10 + i, cedula, handoff, score))
    stops = [Step.STARTED] * 4 + [Step.IDENTITY] * 4 + [Step.CONFIRMED] * 2 + [Step.PAID] * 2
    for i, stop in enumerate(stops):
        handoff = "pedido_ciudadano" if i == 0 else None
        people.append(Citizen(nacimiento, "web", 1 + i, stop, cedula=GUAYAS, handoff=handoff))
    for i in range(12):
        handoff, score = ("no_entendido", 4) if i == 0 else (None, None)
        cedula = GUAYAS if i == 11 else PICHINCHA
        people.append(Citizen("antecedentes_penales", "tg", 7, Step.ISSUED, 5 * (i + 1), cedula, handoff, score))
    return people


FALLBACKS = [  # (day, text as stored: the gateway put identifiers in the vault)
    *[(2, "quiero la partida de mi abuelito")] * 6,
    *[(4, "mi cédula es ced_0123456789 y no me sale")] * 4,
    *[(4, "como saco la visa")] * 3,
    (9, "llamar al tel_abcdef0123 porfa"),
    (9, "me llamo Eduvijes Pilacuán y necesito ayuda"),
]
VERIFICATIONS = [("certificado_nacimiento", "codigo", "valido")] * 11 + [
    ("certificado_nacimiento", "pdf", "alterado")
] * 2


def _tracker_row(
    sender: str, type_name: str, at: datetime, data: dict[str, object], intent: str | None = None
) -> dict[str, object]:
    return {
        "sender_id": sender,
        "type_name": type_name,
        "timestamp": at.timestamp(),
        "intent_name": intent,
        "action_name": None,
        "data": json.dumps({"event": type_name, "timestamp": at.timestamp(), **data}),
    }


async def write_month(session: AsyncSession, rasa: AsyncEngine, protector: Protector, people: list[Citizen]) -> None:
    """Write ``people``, the fallbacks and the verifications as the system records them."""
    async with rasa.begin() as connection:
        await connection.run_sync(EVENTS.metadata.create_all)
    tracker: list[dict[str, object]] = []
    for i, person in enumerate(people):
        chat = f"{person.channel}:ciudadano{i}"
        t0 = datetime(2026, 11, person.day, 14, 0, tzinfo=UTC) + timedelta(minutes=i)
        session.add(Conversation(id=chat, channel=person.channel, created_at=t0))
        await session.flush()
        for n, text in enumerate(("hola", "quiero un trámite")):
            session.add(
                Message(
                    conversation_id=chat,
                    direction=Direction.IN,
                    author="citizen",
                    text=text,
                    status=MessageStatus.ANSWERED,
                    created_at=t0 + timedelta(seconds=30 * n),
                )
            )
        tracker.append(
            _tracker_row(chat, "slot", t0 + timedelta(minutes=1), {"name": "tramite_actual", "value": person.tramite})
        )
        cipher = protector.encrypt(person.cedula)
        if person.reached(Step.IDENTITY):
            session.add(
                IdentityLink(
                    conversation_id=chat,
                    cedula_hash=protector.lookup_hash(person.cedula),
                    cedula_cifrada=cipher,
                    nombres_cifrados=protector.encrypt("Nombre"),
                    nivel="dactilar",
                    verified_at=t0 + timedelta(minutes=2),
                    expires_at=t0 + timedelta(hours=1),
                )
            )
        if person.handoff:
            case = HandoffCase(
                conversation_id=chat,
                team="general",
                reason=person.handoff,
                requested_at=t0 + timedelta(minutes=2, seconds=30),
            )
            session.add(case)
            await session.flush()
            if person.score is not None:
                session.add(
                    CsatRating(case_id=case.id, team="general", score=person.score, created_at=t0 + timedelta(hours=1))
                )
        if not person.reached(Step.CONFIRMED):
            continue
        application = Application(
            numero=f"EC-2026-{i:06d}",
            tramite=person.tramite,
            conversation_id=chat,
            titular_hash=protector.lookup_hash(person.cedula),
            titular_cifrado=cipher,
            estado="recibida",
            created_at=t0 + timedelta(minutes=3),
        )
        session.add(application)
        await session.flush()
        session.add(
            ApplicationEvent(application_id=application.id, estado="recibida", created_at=application.created_at)
        )
        if person.tramite in COST:
            paid = t0 + timedelta(minutes=4) if person.reached(Step.PAID) else None
            session.add(
                Payment(
                    id=f"pago{i}",
                    application_id=application.id,
                    concepto="tasa",
                    monto=COST[person.tramite],
                    estado="pagado" if paid else "pendiente",
                    proveedor="sandbox",
                    paid_at=paid,
                    created_at=t0 + timedelta(minutes=3),
                )
            )
        if person.reached(Step.ISSUED):
            issued = t0 + timedelta(minutes=person.minutes)
            session.add(
                Document(
                    id=f"doc{i}",
                    kind=DOCUMENT_KIND[person.tramite],
                    verification_code=f"CODE{i:012d}",
                    holder_cedula_hash=protector.lookup_hash(person.cedula),
                    holder_cedula_masked="17******75",
                    holder_name="Nombre",
                    public_fields={},
                    issued_at=issued,
                    expires_at=issued + timedelta(days=60),
                    pdf_filename="a.pdf",
                    pdf_sha256="0" * 64,
                    pdf_size=1,
                    png_filename="a.png",
                    png_sha256="0" * 64,
                    png_size=1,
                    signer_kid="k",
                    sandbox=True,
                    conversation_id=chat,
                )
            )
            await session.flush()
            session.add(ApplicationDocument(application_id=application.id, document_id=f"doc{i}"))
            session.add(ApplicationEvent(application_id=application.id, estado="emitida", created_at=issued))
            application.estado = "emitida"
    for n, (day, text) in enumerate(FALLBACKS):
        at = datetime(2026, 11, day, 16, 0, tzinfo=UTC) + timedelta(minutes=n)
        tracker.append(_tracker_row(f"web:confundido{n}", "user", at, {"text": text}, intent="nlu_fallback"))
    for n, (kind, via, verdict) in enumerate(VERIFICATIONS):
        session.add(
            DocumentVerification(
                kind=kind, via=via, verdict=verdict, created_at=datetime(2026, 11, 5, 9, n, tzinfo=UTC)
            )
        )
    await session.commit()
    async with rasa.begin() as connection:
        await connection.execute(EVENTS.insert(), tracker)
