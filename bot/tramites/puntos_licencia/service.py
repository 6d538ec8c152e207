"""Puntos de la licencia (ANT): the points left out of 30 and the citations that took them."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from bot.services import Servicios
from bot.tramites.puntos_licencia import TRAMITE
from integrations.registros.records import Citacion, Licencia

CLAVE = TRAMITE.clave
PUNTOS_BAJOS = Decimal(15)  # from here on the ANT offers its course to recover points (ecuador.md §4.2)


@dataclass(frozen=True)
class Puntos:
    """A licence's points and the deductions behind them, newest first."""

    licencia: Licencia
    descuentos: tuple[Citacion, ...]

    @property
    def descontados(self) -> Decimal:
        return sum((c.puntos for c in self.descuentos), Decimal(0))


def descuentos(citaciones: Iterable[Citacion]) -> tuple[Citacion, ...]:
    """The citations that took points (since 2021 only classes 1 and 2 do), newest first."""
    return tuple(sorted((c for c in citaciones if c.puntos > 0), key=lambda c: c.fecha, reverse=True))


async def consultar(s: Servicios, cedula: str) -> Puntos | None:
    """Points and deductions of ``cedula``'s licence; None without a licence.

    Raises:
        RegistroError: the ANT could not answer (``Unavailable``) or does not know the cédula (``NotFound``).
    """
    licencia = await s.registros.ant.licencia(cedula)
    if licencia is None:
        return None
    return Puntos(licencia, descuentos(await s.registros.ant.citaciones(cedula=cedula)))
