"""A year of the demo population: a clock the test controls goes day by day (07:00, 09:00 and 21:00 in Ecuador)
through the worker's reminder round and the gateway's delivery. Each subscribed citizen gets exactly the reminders
due, none in quiet hours, none after «no más avisos», and WhatsApp outside the 24 hours only by template.

What is due is written here a second time, as the days each reminder falls on (the code walks the days and keeps
keys): the two must agree on every day of the year.
"""

from __future__ import annotations

import calendar
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import select

from bot import legal_calendar
from bot.storage.models_documents import Document
from bot.tramites.antecedentes_penales.actions import ActionSolicitarAntecedentesPenales
from integrations.registros.sandbox.model import CitacionRegistrada
from tests.actions.builders import tracker
from tests.reminders.conftest import ECUADOR, SANDBOX_DAY, WHATSAPP_TEMPLATES, Reminders, demo

START = SANDBOX_DAY
END = START + timedelta(days=365)
NEW_FINE_DAY = START + timedelta(days=60)
REGISTERED_DAY = START + timedelta(days=200)
STOP_DAY = START + timedelta(days=120)

Event = tuple[date, str, dict[str, str]]


@dataclass(frozen=True)
class Subscriber:
    sender: str
    clave: str
    kinds: tuple[str, ...]


SUBSCRIBERS = (
    Subscriber("tg:1001", "licencia_por_vencer", ()),  # «avíseme»: every kind
    Subscriber("wa:p2002", "multas_de_transito", ("multas", "matricula")),  # last wrote 3 days ago
    Subscriber("wa:p3003", "ciudadana_sin_novedades", ()),  # wrote an hour ago (the window runs on the real clock)
    Subscriber("web:cuatro", "licencia_caducada", ("licencia",)),  # expired: no step is ahead
    Subscriber("tg:5005", "multas_de_transito", ()),  # Carlos on Telegram too; says «no más avisos» there on day 120
)


def _day(value: date) -> str:
    return value.strftime("%d/%m/%Y")


def _month_start(year: int, month: int) -> date:
    year, month = year + (month - 1) // 12, (month - 1) % 12 + 1
    return date(year, month, 1)


def steps(expires: date, days: tuple[int, ...], plantilla: str, valores: dict[str, str]) -> list[Event]:
    """A step reminder: the nearest step already reached when subscribing, then each later step on its day."""
    found: list[Event] = []
    left = (expires - START).days
    if any(0 <= left <= t for t in days):
        found.append((START, plantilla, valores))
    found += [(expires - timedelta(days=t), plantilla, valores) for t in days if expires - timedelta(days=t) > START]
    return [e for e in found if e[0] <= END]


def registration(placa: str, last: int, until: date) -> list[Event]:
    """The month's reminder from its first day, then one on the first day of each month begun late."""
    month = legal_calendar.registration_month(placa)
    year = last + 1
    first = date(year, month, 1)
    last_day = date(year, month, calendar.monthrange(year, month)[1])
    ending = placa.replace("-", "")[-3:]
    found: list[Event] = []
    if last_day >= START:
        found.append((max(START, first), "recordatorio_matricula_mes", {"placa": ending, "fecha": _day(last_day)}))
    late = 1
    while (begins := _month_start(year, month + late)) <= until:
        if _month_start(year, month + late + 1) > START:
            valores = {"placa": ending, "meses": str(late), "recargo": f"{25 * late}.00"}
            found.append((max(START, begins), "recordatorio_matricula_recargo", valores))
        late += 1
    return [e for e in found if e[0] < until]


def fines(citations: list[tuple[date, Decimal, date]]) -> list[Event]:
    """(cited, amount, first seen): new on the day seen while discounted, overdue the day after the discount."""
    grouped: dict[tuple[date, str], list[Decimal]] = defaultdict(list)
    for cited, amount, seen in citations:
        deadline = legal_calendar.prompt_payment_deadline(cited) or cited + timedelta(days=10)
        if cited >= START and seen <= deadline:
            grouped[(seen, "recordatorio_multas_nuevas")].append(amount)
        grouped[(max(seen, deadline + timedelta(days=1)), "recordatorio_multas_vencidas")].append(amount)
    return [
        (day, plantilla, {"cantidad": str(len(amounts)), "total": f"{sum(amounts):.2f}"})
        for (day, plantilla), amounts in grouped.items()
        if day <= END
    ]


async def expected(r: Reminders, subscriber: Subscriber, new_fine: CitacionRegistrada) -> list[Event]:
    poblacion = r.world.sandbox.state.poblacion
    cedula, _ = demo(subscriber.clave)
    persona = poblacion.personas[cedula]
    kinds = subscriber.kinds or ("licencia", "matricula", "multas", "documentos")
    found: list[Event] = []
    if "licencia" in kinds and persona.licencia is not None:
        expires = persona.licencia.fecha_vencimiento
        found += steps(expires, (90, 30, 7), "recordatorio_licencia", {"fecha": _day(expires)})
    if "matricula" in kinds:
        for placa in persona.placas:
            until = REGISTERED_DAY if subscriber.clave == "multas_de_transito" else END + timedelta(days=1)
            found += registration(placa, ORIGINAL_LAST[placa], until)
    if "multas" in kinds:
        seen = [(c.fecha, c.valor, START) for c in persona.citaciones if not c.pagada and c is not new_fine]
        if subscriber.clave == "multas_de_transito":
            seen.append((new_fine.fecha, new_fine.valor, NEW_FINE_DAY))
        found += fines(seen)
    if "documentos" in kinds:
        found += steps(
            persona.fecha_expiracion, (30, 7), "recordatorio_cedula", {"fecha": _day(persona.fecha_expiracion)}
        )
        for title, expires in await issued(r, subscriber.sender):
            found += steps(expires, (30, 7), "recordatorio_documento", {"documento": title, "fecha": _day(expires)})
    if subscriber.sender == "tg:5005":
        found = [e for e in found if e[0] < STOP_DAY]
    return sorted(found, key=lambda e: (e[0], e[1], sorted(e[2].items())))


ORIGINAL_LAST: dict[str, int] = {}


async def issued(r: Reminders, sender: str) -> list[tuple[str, date]]:
    titles = {str(k): t.title for k, t in r.world.services.documents.plantillas.documents.items()}
    async with r.sessions() as session:
        found = await session.scalars(select(Document).where(Document.conversation_id == sender))
        return [(titles[d.kind], d.expires_at.astimezone(ECUADOR).date()) for d in found.all()]


async def test_a_year_of_reminders(reminders: Reminders) -> None:
    r = reminders
    poblacion = r.world.sandbox.state.poblacion
    ORIGINAL_LAST.update({placa: v.anio_ultima_matricula for placa, v in poblacion.vehiculos.items()})
    now = datetime.now(UTC)
    for subscriber in SUBSCRIBERS:
        outside = subscriber.sender == "wa:p2002"
        await r.open_chat(subscriber.sender, last_inbound=now - (timedelta(days=3) if outside else timedelta(hours=1)))
        r.clock.set(START, 8, 30)
        messages = await r.subscribe(subscriber.sender, subscriber.clave, *subscriber.kinds)
        assert [m["plantilla"] for m in messages] == ["recordatorios_suscrito"]
    # María José got her criminal-record certificate in this chat: its expiry is a document to remind of.
    slots = {"motivo_consulta": "para un trabajo", "confirmar_antecedentes": True}
    await ActionSolicitarAntecedentesPenales().run(
        CollectingDispatcher(), tracker(slots=slots, sender_id="wa:p3003"), {}
    )
    assert len(await issued(r, "wa:p3003")) == 1

    carlos = poblacion.personas[demo("multas_de_transito")[0]]
    new_fine = CitacionRegistrada(
        numero="C2027NUEVA01", cedula=carlos.cedula, fecha=NEW_FINE_DAY, articulo="389", clase=4,
        descripcion="Estacionar en sitio prohibido", valor=Decimal("72.30"), puntos=Decimal(3), pagada=False,
        placa="GBC-2468",
    )  # fmt: skip

    delivery = r.dispatcher()
    actual: dict[str, list[Event]] = defaultdict(list)
    seen = 0
    for n in range((END - START).days + 1):
        day = START + timedelta(days=n)
        if day == NEW_FINE_DAY:  # the ANT records a new citation in the night
            carlos.citaciones.insert(0, new_fine)
        if day == REGISTERED_DAY:  # Carlos registers his pickup: no more surcharge reminders
            poblacion.vehiculos["GBC-2468"].anio_ultima_matricula = day.year
        if day == STOP_DAY:
            r.clock.set(day, 8, 15)
            assert [m["plantilla"] for m in await r.stop("tg:5005")] == ["recordatorios_cancelados"]
        for hour in (7, 21):  # quiet hours: the round does nothing at all
            r.clock.set(day, hour)
            assert (await r.service.run()).quiet
            assert await r.notifications(after=seen) == []
        r.clock.set(day, 9)
        result = await r.service.run()
        assert result.failed == 0 and not result.quiet
        for notification in await r.notifications(after=seen):
            actual[notification.conversation_id].append((day, notification.plantilla, notification.valores))
            seen = notification.id
        await delivery.deliver_pending()
        r.clock.set(day, 21)

    for subscriber in SUBSCRIBERS:
        got = sorted(actual[subscriber.sender], key=lambda e: (e[0], e[1], sorted(e[2].items())))
        assert got == await expected(r, subscriber, new_fine), subscriber.sender

    # The year had every kind in it, so the comparison above is not about empty lists.
    plantillas = {p for events in actual.values() for _, p, _ in events}
    assert plantillas >= {
        "recordatorio_licencia", "recordatorio_matricula_mes", "recordatorio_matricula_recargo",
        "recordatorio_multas_nuevas", "recordatorio_multas_vencidas", "recordatorio_documento",
    }  # fmt: skip
    assert actual["web:cuatro"] == []
    assert actual["tg:5005"] and max(d for d, _, _ in actual["tg:5005"]) < STOP_DAY

    # Through the outbox: Telegram and WhatsApp within 24 hours as text saying how to stop; WhatsApp outside the
    # 24 hours only as the approved template of the same name; the web chat's history keeps them.
    for sender in ("tg:1001", "tg:5005", "wa:p3003"):
        payloads = await r.outbox(sender)
        assert len(payloads) == len(actual[sender])
        assert all("«no más avisos»" in p["text"] for p in payloads)
    templates = await r.outbox("wa:p2002")
    assert templates == [
        {"custom": {"template": {"content_sid": WHATSAPP_TEMPLATES[p], "variables": {
            str(i): v for i, v in enumerate(valores.values(), start=1)}}}}
        for _, p, valores in actual["wa:p2002"]
    ]  # fmt: skip
    assert all("«no más avisos»" in text for text in await r.stored("wa:p2002"))
