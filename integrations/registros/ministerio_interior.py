"""Ministerio del Interior client: the criminal-record certificate ("antecedentes penales").

Wire format (all of it lives in this module): REST/JSON ``GET antecedentes/{cedula}?motivo=`` →
``{cedula, nombre, registra: bool, numero_certificado, fecha_emision, valido_hasta}``; the service asks for
the reason of the query (at least 10 characters) and answers 400 ``{codigo: "motivo_invalido"}`` otherwise.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from integrations.registros import identifiers
from integrations.registros.base import BaseClient, json_body
from integrations.registros.records import AntecedentesPenales

API_PATH = "/ministerio-interior/v1"


@dataclass(frozen=True)
class MinisterioInteriorConfig:
    """Where the Ministerio del Interior's certificate service is reached."""

    url_api: str

    @classmethod
    def sandbox(cls, base_url: str) -> MinisterioInteriorConfig:
        """The sandbox registries server at ``base_url`` (e.g. ``http://127.0.0.1:8300``)."""
        return cls(url_api=base_url.rstrip("/") + API_PATH)


def antecedentes(data: Mapping[str, Any]) -> AntecedentesPenales:
    """`AntecedentesPenales` from the JSON certificate."""
    registra = data["registra"]
    if not isinstance(registra, bool):
        raise TypeError("registra must be a boolean")
    return AntecedentesPenales(
        cedula=str(data["cedula"]),
        nombre=str(data["nombre"]),
        registra=registra,
        numero_certificado=str(data["numero_certificado"]),
        fecha_emision=date.fromisoformat(data["fecha_emision"]),
        valido_hasta=date.fromisoformat(data["valido_hasta"]),
        ficticio=data.get("ficticio") is True,
    )


class MinisterioInteriorClient(BaseClient[MinisterioInteriorConfig]):
    """Criminal-record certificates; their content is sensitive data (LOPDP), show it only to its holder."""

    institution = "ministerio_interior"

    async def antecedentes(self, cedula: str, *, motivo: str) -> AntecedentesPenales:
        """The criminal-record certificate of ``cedula``.

        Args:
            cedula: the person's cédula.
            motivo: why it is requested, as the service requires (at least 10 characters).

        Raises:
            NotFound: unknown cédula.
            Rejected: ``motivo_invalido`` or ``cedula_invalida``.
        """

        async def exchange() -> AntecedentesPenales:
            numero = identifiers.cedula(cedula)
            response = await self.http.get(
                f"{self.config.url_api.rstrip('/')}/antecedentes/{numero}",
                params={"motivo": motivo},
                timeout=self.timeout,
            )
            return antecedentes(json_body(response))

        return await self._call("antecedentes", exchange, identifiers=[cedula])
