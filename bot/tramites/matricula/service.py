"""Matrícula vehicular (ANT / SRI): a vehicle the citizen owns, the month set by the plate's last digit, the
amounts due and the status; the signed matrícula when it is up to date."""

from __future__ import annotations

import calendar
import re
from collections.abc import Iterable
from datetime import UTC, date, datetime

from bot import legal_calendar
from bot.documents.service import Holder, IssuedDocument, valid_through
from bot.documents.templates import DocumentKind
from bot.services import Servicios
from bot.tramites.matricula import TRAMITE
from integrations.registros.records import Matricula, Vehiculo

CLAVE = TRAMITE.clave
PROVINCIAS = frozenset("ABCEGHIJKLMNOPQRSTUVWXYZ")  # first letter of a plate (D and F are not used)
NO_CONSTA = "No consta en la ANT"  # only when the ANT's answer lacks the field
_AUTO = re.compile(r"(?<![A-Z0-9_])([A-Z]{3})-?(\d{3,4})(?![A-Z0-9_])")
_MOTO = re.compile(r"(?<![A-Z0-9_])([A-Z]{2})(\d{3})([A-Z])(?![A-Z0-9_])")


def placa_en(texto: str) -> str | None:
    """The first plate written in ``texto``, as ``ABC-1234`` (cars) or ``IS123H`` (motorcycles); None if none."""
    upper = texto.upper()
    auto, moto = _AUTO.search(upper), _MOTO.search(upper)
    if auto is not None and (moto is None or auto.start() <= moto.start()):
        found = f"{auto.group(1)}-{auto.group(2)}"
    elif moto is not None:
        found = "".join(moto.groups())
    else:
        return None
    return found if found[0] in PROVINCIAS else None


def mismo_vehiculo(a: str, b: str) -> bool:
    """``ABC-1234`` and ``abc1234`` are the same plate."""
    return a.replace("-", "").upper() == b.replace("-", "").upper()


def propio(vehiculos: Iterable[Vehiculo], placa: str) -> Vehiculo | None:
    """The citizen's vehicle with ``placa``, or None when the plate is not theirs."""
    return next((v for v in vehiculos if mismo_vehiculo(v.placa, placa)), None)


# The plate's last digit and its month: the ANT calendar lives with the other calendar rules.
ultimo_digito = legal_calendar.last_digit
mes_por_placa = legal_calendar.registration_month


def calendario(matricula: Matricula, hoy: date) -> legal_calendar.Registration | None:
    """Where the vehicle stands on ``hoy`` by the ANT's record of its last registration (None when it has none)."""
    if matricula.anio_ultima_matricula is None:
        return None
    return legal_calendar.registration(matricula.vehiculo.placa, matricula.anio_ultima_matricula, hoy)


def vigente_hasta(matricula: Matricula) -> date | None:
    """The last day of the registration month a year after the last registration (None if never registered)."""
    if matricula.anio_ultima_matricula is None:
        return None
    anio, mes = matricula.anio_ultima_matricula + 1, matricula.mes_matriculacion
    return date(anio, mes, calendar.monthrange(anio, mes)[1])


async def emitir(
    s: Servicios, matricula: Matricula, titular: Holder, *, conversation_id: str, ahora: datetime
) -> IssuedDocument:
    """Sign the matrícula of an up-to-date vehicle: issued ``ahora``, valid until the next registration is due
    (the template's year when the ANT has no registration on record)."""
    hasta = vigente_hasta(matricula)
    vehiculo = matricula.vehiculo
    return await s.documents.issuer.issue(
        DocumentKind.MATRICULA_VEHICULAR,
        titular,
        {
            "placa": vehiculo.placa,
            "marca": vehiculo.marca,
            "modelo": vehiculo.modelo,
            "anio": str(vehiculo.anio),
            "color": vehiculo.color,
            "clase": vehiculo.clase,
            "chasis": vehiculo.chasis or NO_CONSTA,
        },
        conversation_id=conversation_id,
        issued_at=ahora.astimezone(UTC),
        expires_at=None if hasta is None else valid_through(hasta),
    )
