"""ANT client: driving licences and points, citations, vehicles by owner (REST) and registration by plate (BSG).

Wire format (all of it lives in this module):

- REST/JSON under ``url_api``: ``GET personas/{cedula}/licencia`` → ``{licencia: {...} | null}``,
  ``GET personas/{cedula}/vehiculos`` → ``{vehiculos: [...]}``, ``GET citaciones?cedula=`` or ``?placa=`` →
  ``{citaciones: [...]}``; dates ISO, amounts and points as decimal strings; errors ``{codigo}``. A licence's
  ``tipo_sangre`` and ``restricciones`` and a vehicle's ``chasis`` are optional strings (absent, null or blank:
  None).
- Registration through the BSG service ``ANT/BSGSW01_Consultar_MatriculaLic``: ``Solicita_Matricula{Placa,
  Canal, Usuario}`` with WS-Security; the answer's ``return`` carries ``cod_error`` (``0`` found, ``1`` unknown
  plate, ``2`` invalid plate) and ``mensaje``, then the vehicle (``chasis`` optional), the status and
  ``valores/valor{concepto, monto}``.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from integrations.registros import identifiers, soap
from integrations.registros.base import BaseClient, json_body
from integrations.registros.bsg import BsgConfig, BsgSession
from integrations.registros.errors import NotFound, Rejected
from integrations.registros.records import (
    Citacion,
    EstadoCitacion,
    EstadoMatricula,
    Licencia,
    Matricula,
    ValorPendiente,
    Vehiculo,
)

MATRICULA_NS = "http://ant.gob.ec/BSGSW01_Consultar_MatriculaLic"
MATRICULA_PATH = "/sw/ANT/BSGSW01_Consultar_MatriculaLic"
API_PATH = "/ant/v1"


@dataclass(frozen=True)
class AntConfig:
    """Where the ANT is reached.

    Attributes:
        url_api: base of the REST API (licences, citations, vehicles).
        url_matricula: endpoint of the BSG service ``ANT/BSGSW01_Consultar_MatriculaLic``.
        bsg: the BSG access service and our access user.
        urlsw: the service's WSDL address as registered at the BSG (default: ``url_matricula + "?wsdl"``).
        canal, usuario: the ``Canal`` and ``Usuario`` the ANT assigned to the caller.
    """

    url_api: str
    url_matricula: str
    bsg: BsgConfig
    urlsw: str = ""
    canal: str = "1"
    usuario: str = "CHASQUI"

    @classmethod
    def sandbox(cls, base_url: str) -> AntConfig:
        """The sandbox registries server at ``base_url`` (e.g. ``http://127.0.0.1:8300``)."""
        base = base_url.rstrip("/")
        return cls(url_api=base + API_PATH, url_matricula=base + "/bsg" + MATRICULA_PATH, bsg=BsgConfig.sandbox(base))

    @property
    def effective_urlsw(self) -> str:
        return self.urlsw or self.url_matricula + "?wsdl"


def licencia(cedula: str, data: Mapping[str, Any], *, ficticio: bool) -> Licencia:
    """A `Licencia` from the JSON ``licencia`` object."""
    return Licencia(
        cedula=cedula,
        tipo=str(data["tipo"]),
        fecha_emision=date.fromisoformat(data["fecha_emision"]),
        fecha_vencimiento=date.fromisoformat(data["fecha_vencimiento"]),
        puntos=Decimal(data["puntos"]),
        tipo_sangre=_texto(data.get("tipo_sangre")),
        restricciones=_texto(data.get("restricciones")),
        ficticio=ficticio,
    )


def citacion(data: Mapping[str, Any], *, ficticio: bool) -> Citacion:
    """A `Citacion` from one JSON citation."""
    return Citacion(
        numero=str(data["numero"]),
        fecha=date.fromisoformat(data["fecha"]),
        articulo=str(data["articulo"]),
        clase=int(data["clase"]),
        descripcion=str(data["descripcion"]),
        valor=Decimal(data["valor"]),
        puntos=Decimal(data["puntos"]),
        estado=EstadoCitacion(data["estado"]),
        placa=data.get("placa") or None,
        ficticio=ficticio,
    )


def vehiculo(data: Mapping[str, Any], *, ficticio: bool) -> Vehiculo:
    """A `Vehiculo` from a JSON vehicle or the leaf fields of a ``Solicita_Matricula`` answer."""
    return Vehiculo(
        placa=str(data["placa"]),
        marca=str(data["marca"]),
        modelo=str(data["modelo"]),
        anio=int(data["anio"]),
        color=str(data["color"]),
        clase=str(data["clase"]),
        servicio=str(data["servicio"]),
        chasis=_texto(data.get("chasis")),
        ficticio=ficticio,
    )


def _texto(value: Any) -> str | None:
    """An optional text field: None when the answer lacks it or leaves it blank."""
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def solicita_matricula_request(placa: str, *, canal: str, usuario: str) -> ET.Element:
    """The ``Solicita_Matricula`` payload."""
    operation = ET.Element(soap.qname(MATRICULA_NS, "Solicita_Matricula"))
    soap.sub(operation, "Placa", placa)
    soap.sub(operation, "Canal", canal)
    soap.sub(operation, "Usuario", usuario)
    return operation


def matricula(payload: ET.Element) -> Matricula:
    """A `Matricula` from a ``Solicita_MatriculaResponse``."""
    cod_error = soap.text(payload, "cod_error")
    if cod_error == "1":
        raise NotFound("ANT cod_error 1")
    if cod_error == "2":
        raise Rejected("placa_invalida", "ANT cod_error 2")
    if cod_error != "0":
        raise Rejected(f"ant_{cod_error}", f"ANT cod_error {cod_error}")
    retorno = soap.find(payload, "return")
    if retorno is None:
        raise KeyError("return")
    campos = soap.children_text(retorno)
    ficticio = campos.get("ficticio") == "true"
    valores = tuple(
        ValorPendiente(concepto=soap.required_text(v, "concepto"), valor=Decimal(soap.required_text(v, "monto")))
        for v in soap.iter_named(retorno, "valor")
    )
    anio = campos.get("anio_ultima_matricula")
    return Matricula(
        vehiculo=vehiculo(campos, ficticio=ficticio),
        estado=EstadoMatricula(campos["estado_matricula"]),
        mes_matriculacion=int(campos["mes_matriculacion"]),
        anio_ultima_matricula=int(anio) if anio else None,
        valores=valores,
        total=Decimal(campos["total"]),
        ficticio=ficticio,
    )


class AntClient(BaseClient[AntConfig]):
    """Licences, points, citations, vehicles and registrations at the ANT."""

    institution = "ant"
    _bsg: BsgSession | None = None

    async def licencia(self, cedula: str) -> Licencia | None:
        """The driving licence of ``cedula``, or None when the person has none.

        Raises:
            NotFound: the ANT does not know the cédula.
        """

        async def exchange() -> Licencia | None:
            numero = identifiers.cedula(cedula)
            body = await self._get(f"/personas/{numero}/licencia")
            data = body.get("licencia")
            return None if data is None else licencia(numero, data, ficticio=body.get("ficticio") is True)

        return await self._call("licencia", exchange, identifiers=[cedula])

    async def puntos(self, cedula: str) -> Decimal | None:
        """Points left on the licence of ``cedula`` (out of 30), or None without a licence."""
        found = await self.licencia(cedula)
        return None if found is None else found.puntos

    async def citaciones(self, *, cedula: str | None = None, placa: str | None = None) -> tuple[Citacion, ...]:
        """Citations of a driver (``cedula``) or of a vehicle (``placa``), newest first.

        Raises:
            NotFound: the ANT does not know the cédula or the plate.
            Rejected: neither or both of ``cedula`` and ``placa`` given, or an invalid one.
        """
        if (cedula is None) == (placa is None):
            raise Rejected("parametros_invalidos", "give either cedula or placa", institution=self.institution)

        async def exchange() -> tuple[Citacion, ...]:
            if cedula is not None:
                params = {"cedula": identifiers.cedula(cedula)}
            else:
                params = {"placa": identifiers.placa(placa or "")}
            body = await self._get("/citaciones", params=params)
            ficticio = body.get("ficticio") is True
            return tuple(citacion(item, ficticio=ficticio) for item in body["citaciones"])

        return await self._call("citaciones", exchange, identifiers=[cedula or placa or ""])

    async def vehiculos(self, cedula: str) -> tuple[Vehiculo, ...]:
        """Vehicles registered to ``cedula`` (empty when none).

        Raises:
            NotFound: the ANT does not know the cédula.
        """

        async def exchange() -> tuple[Vehiculo, ...]:
            body = await self._get(f"/personas/{identifiers.cedula(cedula)}/vehiculos")
            ficticio = body.get("ficticio") is True
            return tuple(vehiculo(item, ficticio=ficticio) for item in body["vehiculos"])

        return await self._call("vehiculos", exchange, identifiers=[cedula])

    async def matricula(self, placa: str) -> Matricula:
        """Registration status and amounts due of the vehicle ``placa``, through the BSG.

        Raises:
            NotFound: unknown plate.
            Rejected: ``placa_invalida``, or the BSG refused our permission.
        """

        async def exchange() -> Matricula:
            payload = solicita_matricula_request(
                identifiers.placa(placa), canal=self.config.canal, usuario=self.config.usuario
            )
            answer = await self._session().call(
                url=self.config.url_matricula, urlsw=self.config.effective_urlsw, payload=payload
            )
            return matricula(answer)

        return await self._call("matricula", exchange, identifiers=[placa])

    async def _get(self, path: str, *, params: Mapping[str, str] | None = None) -> dict[str, Any]:
        response = await self.http.get(self.config.url_api.rstrip("/") + path, params=params, timeout=self.timeout)
        body = json_body(response)
        if not isinstance(body, dict):
            raise TypeError("expected a JSON object")
        return body

    def _session(self) -> BsgSession:
        if self._bsg is None:
            self._bsg = BsgSession(self.http, self.config.bsg, clock=self.clock, timeout=self.timeout)
        return self._bsg
