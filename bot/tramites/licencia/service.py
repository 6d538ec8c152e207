"""Licencia de conducir (ANT): type, validity, points, renewal from 90 days before expiry, the digital licence."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from bot import legal_calendar
from bot.documents.service import Holder, IssuedDocument, valid_through
from bot.documents.templates import DocumentKind
from bot.services import Servicios
from bot.tramites.licencia import TRAMITE
from integrations.registros.records import Licencia

CLAVE = TRAMITE.clave
PUNTOS_INICIALES = Decimal(30)
DIAS_PARA_RENOVAR = legal_calendar.RENEWAL_WINDOW_DAYS  # from 90 days before expiry (Reglamento LOTTTSV Art. 131)
# Fees of 2025 (ecuador.md §4.2): non-professional first issue or renewal 68, professional 110.
COSTO_NO_PROFESIONAL = Decimal("68.00")
COSTO_PROFESIONAL = Decimal("110.00")
PROFESIONALES = frozenset({"A1", "C", "C1", "D", "D1", "E", "E1", "G"})
NO_CONSTA = "No consta en la ANT"  # only when the ANT's answer lacks the field


def hoy(s: Servicios) -> date:
    """Today in Ecuador: the day that decides validity and renewal."""
    return s.today()


def es_profesional(tipo: str) -> bool:
    """True for the professional types (A1, C, C1, D, D1, E, E1, G)."""
    return tipo.upper() in PROFESIONALES


def costo_renovacion(tipo: str) -> Decimal:
    """What renewing a licence of ``tipo`` costs (USD)."""
    return COSTO_PROFESIONAL if es_profesional(tipo) else COSTO_NO_PROFESIONAL


def renovacion(licencia: Licencia, dia: date) -> legal_calendar.LicenceRenewal:
    """Whether the licence can be renewed on ``dia``, has expired, or from when it can be renewed."""
    return legal_calendar.licence_renewal(licencia.fecha_vencimiento, dia)


def puede_renovar(licencia: Licencia, dia: date) -> bool:
    """True from 90 days before expiry on (an expired licence is renewed too)."""
    return renovacion(licencia, dia).status is not legal_calendar.LicenceStatus.VALID


def sin_puntos(licencia: Licencia) -> bool:
    """At 0 points the holder may not drive."""
    return licencia.puntos <= 0


def puntos_texto(puntos: Decimal) -> str:
    """``21`` or ``7.5``: points as the citizen reads them."""
    return str(int(puntos)) if puntos == puntos.to_integral_value() else f"{puntos:.1f}"


async def emitir(s: Servicios, licencia: Licencia, titular: Holder, *, conversation_id: str) -> IssuedDocument:
    """Sign the digital licence, issued now and valid until the licence's expiry date in the ANT."""
    return await s.documents.issuer.issue(
        DocumentKind.LICENCIA_CONDUCIR,
        titular,
        {
            "categoria": licencia.tipo,
            "puntos": f"{puntos_texto(licencia.puntos)}/{puntos_texto(PUNTOS_INICIALES)}",
            "tipo_sangre": licencia.tipo_sangre or NO_CONSTA,
            "restricciones": licencia.restricciones or NO_CONSTA,
        },
        conversation_id=conversation_id,
        expires_at=valid_through(licencia.fecha_vencimiento),
    )
