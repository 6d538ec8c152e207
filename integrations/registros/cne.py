"""CNE client: a voter's record in the last election.

Wire format (all of it lives in this module): REST/JSON ``GET votacion/{cedula}`` → ``{cedula, nombre,
proceso, lugar: {provincia, canton, parroquia, zona, recinto, junta}, vueltas: [{vuelta, fecha, estado,
motivo_exencion, multa: {valor, pagada} | null}]}``; 404
``{codigo: "no_empadronado"}`` for a person who was not on the electoral roll.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from integrations.registros import identifiers
from integrations.registros.base import BaseClient, json_body
from integrations.registros.records import EstadoVoto, LugarVotacion, RegistroVotacion, Vuelta

API_PATH = "/cne/v1"


@dataclass(frozen=True)
class CneConfig:
    """Where the CNE's voter service is reached."""

    url_api: str

    @classmethod
    def sandbox(cls, base_url: str) -> CneConfig:
        """The sandbox registries server at ``base_url`` (e.g. ``http://127.0.0.1:8300``)."""
        return cls(url_api=base_url.rstrip("/") + API_PATH)


def vuelta(data: Mapping[str, Any]) -> Vuelta:
    """A `Vuelta` from one JSON round."""
    multa = data.get("multa")
    return Vuelta(
        vuelta=str(data["vuelta"]),
        fecha=date.fromisoformat(data["fecha"]),
        estado=EstadoVoto(data["estado"]),
        motivo_exencion=data.get("motivo_exencion") or None,
        multa=None if multa is None else Decimal(multa["valor"]),
        multa_pagada=bool(multa and multa["pagada"] is True),
    )


def lugar(data: Mapping[str, Any] | None) -> LugarVotacion | None:
    """The voting place of the JSON record (None when absent)."""
    if not data:
        return None
    return LugarVotacion(
        provincia=str(data["provincia"]),
        canton=str(data["canton"]),
        parroquia=str(data["parroquia"]),
        zona=str(data["zona"]),
        recinto=str(data["recinto"]),
        junta=str(data["junta"]),
    )


def registro_votacion(data: Mapping[str, Any]) -> RegistroVotacion:
    """A `RegistroVotacion` from the JSON record."""
    return RegistroVotacion(
        cedula=str(data["cedula"]),
        nombre=str(data["nombre"]),
        proceso=str(data["proceso"]),
        vueltas=tuple(vuelta(v) for v in data["vueltas"]),
        lugar=lugar(data.get("lugar")),
        ficticio=data.get("ficticio") is True,
    )


class CneClient(BaseClient[CneConfig]):
    """Voting records at the CNE."""

    institution = "cne"

    async def registro_votacion(self, cedula: str) -> RegistroVotacion:
        """What the CNE records for ``cedula`` in the last election, round by round.

        Raises:
            NotFound: unknown cédula, or ``no_empadronado`` (not on the roll: under 16, or deceased before).
        """

        async def exchange() -> RegistroVotacion:
            numero = identifiers.cedula(cedula)
            response = await self.http.get(f"{self.config.url_api.rstrip('/')}/votacion/{numero}", timeout=self.timeout)
            return registro_votacion(json_body(response))

        return await self._call("registro_votacion", exchange, identifiers=[cedula])
