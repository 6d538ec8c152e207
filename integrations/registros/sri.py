"""SRI client: a taxpayer's RUC through the BSG service ``SRI/BSGSW01_Consultar_RucSRI``.

Wire format (all of it lives in this module): ``obtenerCompleto{numeroRuc, fuenteDatos}`` with WS-Security;
the answer's ``return`` carries ``codError`` (``000`` found, ``001`` unknown RUC), ``numeroRuc``,
``razonSocial``, ``codEstado``/``desEstado``, ``tipoContribuyente``, ``obligadoContabilidad`` (``S``/``N``),
``fechaInicioActividades`` (ISO date) and one ``actividadEconomica{codN6Actividad, n6Actividad}`` per activity.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import date

from integrations.registros import identifiers, soap
from integrations.registros.base import BaseClient
from integrations.registros.bsg import BsgConfig, BsgSession
from integrations.registros.errors import NotFound, Rejected
from integrations.registros.records import ActividadEconomica, EstadoRuc, Ruc

NS = "http://sri.gov.ec/wsConsultaContribuyente"
RUC_PATH = "/sw/SRI/BSGSW01_Consultar_RucSRI"


@dataclass(frozen=True)
class SriConfig:
    """Where the SRI's RUC service is reached through the BSG.

    Attributes:
        url_ruc: endpoint of ``SRI/BSGSW01_Consultar_RucSRI``.
        bsg: the BSG access service and our access user.
        urlsw: the service's WSDL address as registered at the BSG (default: ``url_ruc + "?wsdl"``).
        fuente_datos: the ``fuenteDatos`` parameter (``T`` in the public integrations seen).
    """

    url_ruc: str
    bsg: BsgConfig
    urlsw: str = ""
    fuente_datos: str = "T"

    @classmethod
    def sandbox(cls, base_url: str) -> SriConfig:
        """The sandbox registries server at ``base_url`` (e.g. ``http://127.0.0.1:8300``)."""
        base = base_url.rstrip("/")
        return cls(url_ruc=base + "/bsg" + RUC_PATH, bsg=BsgConfig.sandbox(base))

    @property
    def effective_urlsw(self) -> str:
        return self.urlsw or self.url_ruc + "?wsdl"


def obtener_completo_request(numero_ruc: str, *, fuente_datos: str) -> ET.Element:
    """The ``obtenerCompleto`` payload."""
    operation = ET.Element(soap.qname(NS, "obtenerCompleto"))
    soap.sub(operation, "numeroRuc", numero_ruc)
    soap.sub(operation, "fuenteDatos", fuente_datos)
    return operation


def ruc(payload: ET.Element) -> Ruc:
    """A `Ruc` from an ``obtenerCompletoResponse``."""
    cod_error = soap.text(payload, "codError")
    if cod_error == "001":
        raise NotFound("SRI codError 001")
    if cod_error != "000":
        raise Rejected(f"sri_{cod_error}", f"SRI codError {cod_error}")
    inicio = soap.text(payload, "fechaInicioActividades")
    return Ruc(
        numero=soap.required_text(payload, "numeroRuc"),
        razon_social=soap.required_text(payload, "razonSocial"),
        estado=EstadoRuc(soap.required_text(payload, "desEstado")),
        tipo_contribuyente=soap.required_text(payload, "tipoContribuyente"),
        obligado_contabilidad=soap.text(payload, "obligadoContabilidad") == "S",
        actividades=tuple(
            ActividadEconomica(
                codigo=soap.required_text(a, "codN6Actividad"), descripcion=soap.required_text(a, "n6Actividad")
            )
            for a in soap.iter_named(payload, "actividadEconomica")
        ),
        fecha_inicio_actividades=date.fromisoformat(inicio) if inicio else None,
        ficticio=soap.text(payload, "ficticio") == "true",
    )


class SriClient(BaseClient[SriConfig]):
    """RUC look-ups at the SRI."""

    institution = "sri"
    _bsg: BsgSession | None = None

    async def ruc(self, numero: str) -> Ruc:
        """The taxpayer registered under the RUC ``numero``.

        Raises:
            NotFound: unknown RUC.
            Rejected: ``ruc_invalido``, or the BSG refused our permission.
        """

        async def exchange() -> Ruc:
            return await self._obtener_completo(identifiers.numero_ruc(numero))

        return await self._call("ruc", exchange, identifiers=[numero])

    async def ruc_por_cedula(self, cedula: str) -> Ruc:
        """The RUC of a natural person: the cédula followed by establishment ``001``.

        Raises:
            NotFound: the person has no RUC (or the cédula is unknown).
            Rejected: ``cedula_invalida``.
        """

        async def exchange() -> Ruc:
            return await self._obtener_completo(identifiers.cedula(cedula) + "001")

        return await self._call("ruc_por_cedula", exchange, identifiers=[cedula])

    async def _obtener_completo(self, numero_ruc: str) -> Ruc:
        payload = obtener_completo_request(numero_ruc, fuente_datos=self.config.fuente_datos)
        answer = await self._session().call(url=self.config.url_ruc, urlsw=self.config.effective_urlsw, payload=payload)
        return ruc(answer)

    def _session(self) -> BsgSession:
        if self._bsg is None:
            self._bsg = BsgSession(self.http, self.config.bsg, clock=self.clock, timeout=self.timeout)
        return self._bsg
