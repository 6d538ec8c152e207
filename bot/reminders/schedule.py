"""Which reminders are due on a day, from what the registries hold about a citizen (pure: no I/O, no clock).

Kinds and periods (at most one reminder per kind and period; the period is part of the key):

- ``licencia``: 90, 30 and 7 days before the licence expires (`RENEWAL_WINDOW_DAYS` opens renewal at 90). Only the
  nearest step is sent: a citizen who subscribes 20 days before gets the 7-day one, not a late 30-day one.
- ``matricula``: once in the plate's month (`legal_calendar.registration`), and once for every month begun
  late, with the surcharge it now carries.
- ``multas``: pending citations cited since the subscription (new), and pending citations past the 50 % prompt
  payment deadline, or past the 10 days' grace before the 2021 reform (overdue); one message each run, one key
  per citation.
- ``documentos``: 30 and 7 days before a document Chasqui issued, or the cédula, expires.

Keys never hold an identifier in clear: plates, citation numbers and document ids go through ``key`` (a keyed
hash, `bot.privacy.encryption.Protector.lookup_hash`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from enum import StrEnum

from bot import legal_calendar
from integrations.registros.records import Citacion, EstadoCitacion


class Kind(StrEnum):
    LICENCIA = "licencia"
    MATRICULA = "matricula"
    MULTAS = "multas"
    DOCUMENTOS = "documentos"


LICENCE_DAYS = (90, 30, 7)
DOCUMENT_DAYS = (30, 7)
# No reminder between 20:00 and 08:00, Ecuador time: what falls due overnight waits for the morning.
QUIET_FROM = time(20, 0)
QUIET_UNTIL = time(8, 0)

# The templates each kind's messages use (dialogs/textos/recordatorios.yml; on WhatsApp outside the 24 hours the
# approved template of the same name, its variables in the order of `Due.valores`).
PLANTILLAS = {
    "licencia": "recordatorio_licencia",
    "matricula_mes": "recordatorio_matricula_mes",
    "matricula_recargo": "recordatorio_matricula_recargo",
    "multas_nuevas": "recordatorio_multas_nuevas",
    "multas_vencidas": "recordatorio_multas_vencidas",
    "documento": "recordatorio_documento",
    "cedula": "recordatorio_cedula",
}


@dataclass(frozen=True)
class Vehicle:
    placa: str
    last_registered: int | None  # the year of its last matrícula (None: never registered)


@dataclass(frozen=True)
class IssuedDocument:
    id: str
    title: str
    expires: date


@dataclass(frozen=True)
class Holdings:
    """What the registries and Chasqui hold about one citizen, as far as the subscribed kinds need."""

    licence_expires: date | None = None
    vehicles: tuple[Vehicle, ...] = ()
    citations: tuple[Citacion, ...] = ()
    documents: tuple[IssuedDocument, ...] = ()
    cedula_expires: date | None = None


@dataclass(frozen=True)
class Due:
    """One message to record: its kind, the keys it spends, its template and values (in template order)."""

    kind: Kind
    keys: tuple[str, ...]
    plantilla: str
    valores: dict[str, str] = field(default_factory=dict)


def in_quiet_hours(now: datetime) -> bool:
    """True between 20:00 and 08:00 of ``now``'s own time zone (pass Ecuador's local time)."""
    moment = now.timetz().replace(tzinfo=None)
    return moment >= QUIET_FROM or moment < QUIET_UNTIL


def _step(days_left: int, steps: Sequence[int]) -> int | None:
    """The nearest step (days before expiry) reached by ``days_left``; None before the first or once expired."""
    reached = [s for s in steps if 0 <= days_left <= s]
    return min(reached) if reached else None


def _day(value: date) -> str:
    return value.strftime("%d/%m/%Y")


def _money(value: Decimal) -> str:
    return f"{value.quantize(legal_calendar.CENTS):.2f}"


def plate_ending(placa: str) -> str:
    """How a message names a vehicle: the plate's last three characters («terminada en 521»), never all of it."""
    return placa.replace("-", "")[-3:]


def _overdue(citation: Citacion, today: date) -> bool:
    deadline = legal_calendar.prompt_payment_deadline(citation.fecha)
    if deadline is None:
        deadline = citation.fecha + timedelta(days=legal_calendar.FINE_GRACE_DAYS)
    return today > deadline


def licence(holdings: Holdings, today: date) -> list[Due]:
    if holdings.licence_expires is None:
        return []
    days_left = (holdings.licence_expires - today).days
    step = _step(days_left, LICENCE_DAYS)
    if step is None:
        return []
    key = f"licencia:{holdings.licence_expires.isoformat()}:{step}"
    valores = {"fecha": _day(holdings.licence_expires)}
    return [Due(Kind.LICENCIA, (key,), PLANTILLAS["licencia"], valores)]


def registration(holdings: Holdings, today: date, key: Callable[[str], str]) -> list[Due]:
    found: list[Due] = []
    for vehicle in holdings.vehicles:
        if vehicle.last_registered is None:
            continue
        state = legal_calendar.registration(vehicle.placa, vehicle.last_registered, today)
        plate = key(vehicle.placa.replace("-", "").upper())
        ending = plate_ending(vehicle.placa)
        if state.status is legal_calendar.RegistrationStatus.DUE and (today.year, today.month) == (
            state.year,
            state.month,
        ):
            found.append(
                Due(
                    Kind.MATRICULA,
                    (f"matricula_mes:{plate}:{state.year}",),
                    PLANTILLAS["matricula_mes"],
                    {"placa": ending, "fecha": _day(state.deadline)},
                )
            )
        elif state.status is legal_calendar.RegistrationStatus.OVERDUE:
            found.append(
                Due(
                    Kind.MATRICULA,
                    (f"matricula_recargo:{plate}:{state.year}:{state.months_late}",),
                    PLANTILLAS["matricula_recargo"],
                    {"placa": ending, "meses": str(state.months_late), "recargo": _money(state.surcharge)},
                )
            )
    return found


def fines(
    holdings: Holdings, today: date, subscribed_on: date, key: Callable[[str], str], sent: AbstractSet[str]
) -> list[Due]:
    """New and overdue citations, each group in one message that counts only those not announced before."""
    pending = [c for c in holdings.citations if c.estado is EstadoCitacion.PENDIENTE and c.fecha <= today]
    groups = (
        ("multa_nueva", "multas_nuevas", [c for c in pending if c.fecha >= subscribed_on and not _overdue(c, today)]),
        ("multa_vencida", "multas_vencidas", [c for c in pending if _overdue(c, today)]),
    )
    found: list[Due] = []
    for prefix, plantilla, citations in groups:
        unsent = [(f"{prefix}:{key(c.numero)}", c) for c in citations]
        unsent = [(k, c) for k, c in unsent if k not in sent]
        if unsent:
            total = sum((c.valor for _, c in unsent), Decimal(0))
            found.append(
                Due(
                    Kind.MULTAS,
                    tuple(k for k, _ in unsent),
                    PLANTILLAS[plantilla],
                    {"cantidad": str(len(unsent)), "total": _money(total)},
                )
            )
    return found


def documents(holdings: Holdings, today: date, key: Callable[[str], str]) -> list[Due]:
    found: list[Due] = []
    for document in holdings.documents:
        days_left = (document.expires - today).days
        step = _step(days_left, DOCUMENT_DAYS)
        if step is not None:
            found.append(
                Due(
                    Kind.DOCUMENTOS,
                    (f"documento:{key(document.id)}:{step}",),
                    PLANTILLAS["documento"],
                    {"documento": document.title, "fecha": _day(document.expires)},
                )
            )
    if holdings.cedula_expires is not None:
        days_left = (holdings.cedula_expires - today).days
        step = _step(days_left, DOCUMENT_DAYS)
        if step is not None:
            found.append(
                Due(
                    Kind.DOCUMENTOS,
                    (f"cedula:{holdings.cedula_expires.isoformat()}:{step}",),
                    PLANTILLAS["cedula"],
                    {"fecha": _day(holdings.cedula_expires)},
                )
            )
    return found


def due(
    holdings: Holdings,
    kinds: Sequence[str],
    *,
    today: date,
    subscribed_on: date,
    key: Callable[[str], str],
    sent: AbstractSet[str] = frozenset(),
) -> list[Due]:
    """Every reminder of the subscribed ``kinds`` due on ``today`` whose keys are not in ``sent`` (the keys this
    chat has recorded already)."""
    found: list[Due] = []
    if Kind.LICENCIA in kinds:
        found += licence(holdings, today)
    if Kind.MATRICULA in kinds:
        found += registration(holdings, today, key)
    if Kind.MULTAS in kinds:
        found += fines(holdings, today, subscribed_on, key, sent)
    if Kind.DOCUMENTOS in kinds:
        found += documents(holdings, today, key)
    return [d for d in found if not set(d.keys) & sent]
