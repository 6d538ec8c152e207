"""Registro Civil client: citizens through the DINARDAP interoperador (SOAP) and the identity check.

Wire format (all of it lives in this module):

- ``consultar`` on the interoperador, SOAP 1.1 with HTTP Basic auth: parameters ``codigoPaquete`` and
  ``identificacion``; the answer is ``paquete/entidades/entidad/filas/fila/columnas/columna{campo, valor}``
  with ``CodigoError`` ``000`` (found), ``001`` (not found), ``002`` (invalid identification), ``003``
  (package not granted to this user). Dates are ``dd/mm/yyyy``.
- Package ``5362`` (demographics) gives one row per citizen; the children package (sandbox code ``9001``,
  configurable) gives one row per child, with the same fields.
- The identity check is ``validate-individual-person``: JSON ``{identificacion, individualDactilar}`` →
  ``{valido: bool}``. It never returns the stored código dactilar.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime

from integrations.registros import identifiers, soap
from integrations.registros.base import BaseClient, json_body
from integrations.registros.errors import NotFound, Rejected
from integrations.registros.records import Ciudadano

NS = "http://interoperabilidad.dinardap.gob.ec/interoperador/"
SOAP_ACTION = NS + "consultar"
INTEROPERADOR_PATH = "/dinardap/interoperador-v2"
VALIDACION_PATH = "/registro-civil/v1/validate-individual-person"

_CODIGOS_ERROR = {
    "002": "identificacion_invalida",
    "003": "paquete_no_autorizado",
}


@dataclass(frozen=True)
class RegistroCivilConfig:
    """Where the Registro Civil is reached and with which credentials.

    Attributes:
        url_interoperador: DINARDAP interoperador endpoint (``https://interoperabilidad.dinardap.gob.ec/interoperador-v2``).
        url_validacion: endpoint of the identity check (``validate-individual-person``).
        usuario, contrasena: HTTP Basic credentials granted by DINARDAP.
        paquete_demografico: package code of the demographic record.
        paquete_hijos: package code listing a person's children (``9001`` exists only in the sandbox).
    """

    url_interoperador: str
    url_validacion: str
    usuario: str
    contrasena: str = field(repr=False)
    paquete_demografico: str = "5362"
    paquete_hijos: str = "9001"

    @classmethod
    def sandbox(cls, base_url: str, *, usuario: str = "chasqui", contrasena: str = "sandbox") -> RegistroCivilConfig:
        """The sandbox registries server at ``base_url`` (e.g. ``http://127.0.0.1:8300``)."""
        base = base_url.rstrip("/")
        return cls(
            url_interoperador=base + INTEROPERADOR_PATH,
            url_validacion=base + VALIDACION_PATH,
            usuario=usuario,
            contrasena=contrasena,
        )


def consultar_request(codigo_paquete: str, identificacion: str) -> bytes:
    """The ``consultar`` request envelope."""
    operation = ET.Element(soap.qname(NS, "consultar"))
    parametros = soap.sub(operation, "parametros")
    for nombre, valor in (("codigoPaquete", codigo_paquete), ("identificacion", identificacion)):
        parametro = soap.sub(parametros, "parametro")
        soap.sub(parametro, "nombre", nombre)
        soap.sub(parametro, "valor", valor)
    return soap.envelope(operation)


def filas(payload: ET.Element) -> list[dict[str, str]]:
    """The ``{campo: valor}`` rows of a ``consultarResponse``, after checking its ``CodigoError``."""
    codigo = soap.text(payload, "CodigoError")
    if codigo == "001":
        raise NotFound("DINARDAP CodigoError 001")
    if codigo != "000":
        raise Rejected(_CODIGOS_ERROR.get(codigo or "", f"dinardap_{codigo}"), f"DINARDAP CodigoError {codigo}")
    rows = []
    for fila in soap.iter_named(payload, "fila"):
        row = {}
        for columna in soap.iter_named(fila, "columna"):
            campo = soap.text(columna, "campo")
            if campo:
                row[campo] = soap.text(columna, "valor") or ""
        rows.append(row)
    return rows


def _fecha(value: str | None) -> date | None:
    return datetime.strptime(value, "%d/%m/%Y").date() if value else None


def ciudadano(campos: Mapping[str, str]) -> Ciudadano:
    """A `Ciudadano` from one demographic row."""

    def opt(name: str) -> str | None:
        return campos.get(name) or None

    return Ciudadano(
        cedula=campos["cedula"],
        nombre=campos["nombre"],
        condicion=campos.get("condicionCiudadano") or "CIUDADANO",
        nombres=opt("nombres"),
        apellidos=opt("apellidos"),
        sexo=opt("sexo"),
        fecha_nacimiento=_fecha(opt("fechaNacimiento")),
        lugar_nacimiento=opt("lugarNacimiento"),
        nacionalidad=opt("nacionalidad"),
        estado_civil=opt("estadoCivil"),
        conyuge=opt("conyuge"),
        cedula_conyuge=opt("cedulaConyuge"),
        nombre_padre=opt("nombrePadre"),
        cedula_padre=opt("cedulaPadre"),
        nombre_madre=opt("nombreMadre"),
        cedula_madre=opt("cedulaMadre"),
        profesion=opt("profesion"),
        fecha_defuncion=_fecha(opt("fechaDefuncion")),
        fecha_cedulacion=_fecha(opt("fechaCedulacion")),
        fecha_expiracion=_fecha(opt("fechaExpiracion")),
        anio_inscripcion=opt("anioInscripcionNacimiento"),
        tomo_inscripcion=opt("tomoInscripcion"),
        pagina_inscripcion=opt("paginaInscripcion"),
        acta_inscripcion=opt("actaInscripcion"),
        ficticio=campos.get("ficticio") == "true",
    )


class RegistroCivilClient(BaseClient[RegistroCivilConfig]):
    """Citizens, their children, and the identity check against the Registro Civil."""

    institution = "registro_civil"

    async def consultar_ciudadano(self, cedula: str) -> Ciudadano:
        """The demographic record of ``cedula``.

        Raises:
            NotFound: no such cédula.
            Rejected: ``cedula_invalida`` and other refusals.
            Unavailable: the registry cannot answer now.
        """

        async def exchange() -> Ciudadano:
            numero = identifiers.cedula(cedula)
            rows = await self._consultar(self.config.paquete_demografico, numero)
            if not rows:
                raise NotFound("empty package")
            return ciudadano(rows[0])

        return await self._call("consultar_ciudadano", exchange, identifiers=[cedula])

    async def hijos(self, cedula: str) -> tuple[Ciudadano, ...]:
        """The children registered with ``cedula`` as father or mother (empty when there are none).

        Raises:
            NotFound: no such cédula.
        """

        async def exchange() -> tuple[Ciudadano, ...]:
            rows = await self._consultar(self.config.paquete_hijos, identifiers.cedula(cedula))
            return tuple(ciudadano(row) for row in rows)

        return await self._call("hijos", exchange, identifiers=[cedula])

    async def verificar_identidad(self, cedula: str, codigo_dactilar: str) -> Ciudadano:
        """Check that ``codigo_dactilar`` is the one printed on ``cedula`` and return the citizen.

        The code is sent once, compared by the registry (case-insensitively) and never kept or logged here.

        Raises:
            Rejected: ``dactilar_no_coincide``, ``ciudadano_fallecido``, ``cedula_invalida``,
                ``dactilar_formato_invalido``, or ``demasiados_intentos`` (the registry locked the cédula).
            NotFound: no such cédula.
            Unavailable: the registry cannot answer now.
        """

        async def exchange() -> Ciudadano:
            numero = identifiers.cedula(cedula)
            body = {"identificacion": numero, "individualDactilar": identifiers.codigo_dactilar(codigo_dactilar)}
            response = await self.http.post(
                self.config.url_validacion,
                json=body,
                auth=(self.config.usuario, self.config.contrasena),
                timeout=self.timeout,
            )
            if json_body(response)["valido"] is not True:
                raise Rejected("dactilar_no_coincide")
            rows = await self._consultar(self.config.paquete_demografico, numero)
            if not rows:
                raise NotFound("empty package")
            persona = ciudadano(rows[0])
            if persona.fallecido:
                raise Rejected("ciudadano_fallecido")
            return persona

        return await self._call("verificar_identidad", exchange, identifiers=[cedula])

    async def _consultar(self, codigo_paquete: str, identificacion: str) -> list[dict[str, str]]:
        response = await self.http.post(
            self.config.url_interoperador,
            content=consultar_request(codigo_paquete, identificacion),
            headers={"Content-Type": soap.CONTENT_TYPE, "SOAPAction": SOAP_ACTION},
            auth=(self.config.usuario, self.config.contrasena),
            timeout=self.timeout,
        )
        return filas(soap.read_response(response))
