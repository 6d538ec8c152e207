"""Sandbox Registro Civil: the DINARDAP-style SOAP interoperador and the identity check.

Packages served by ``consultar``: ``5362`` (demographics), ``471`` (ficha general) and ``9001`` (a person's
children, sandbox only). Unlike the real 471, the sandbox never returns ``individualDactilar``: identity is
checked with ``validate-individual-person``, which compares and answers only a boolean.
"""

from __future__ import annotations

import hmac
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from integrations.registros import soap
from integrations.registros.sandbox.common import (
    Error,
    basic_auth_ok,
    cedula_valida,
    ddmmyyyy,
    error,
    fault,
    soap_body,
    xml,
)
from integrations.registros.sandbox.model import Persona, Poblacion, estado_civil

NS = "http://interoperabilidad.dinardap.gob.ec/interoperador/"
PAQUETE_DEMOGRAFICO = "5362"
PAQUETE_FICHA = "471"
PAQUETE_HIJOS = "9001"
_DACTILAR = re.compile(r"[A-Z][0-9X]{4}[A-Z][0-9X]{4}")
_SOAP_DOC = {
    "requestBody": {"content": {"text/xml": {"schema": {"type": "string"}}}, "required": True},
    "responses": {"200": {"content": {"text/xml": {"schema": {"type": "string"}}}}},
}


@dataclass
class Bloqueos:
    """Locks a cédula after ``limite`` failed identity checks in a row, for ``duracion`` seconds."""

    reloj: Callable[[], float]
    limite: int = 5
    duracion: float = 15 * 60
    _fallos: dict[str, int] = field(default_factory=dict)
    _hasta: dict[str, float] = field(default_factory=dict)

    def bloqueada(self, cedula: str) -> float:
        """Seconds the cédula stays locked (0 when it is not)."""
        restante = self._hasta.get(cedula, 0.0) - self.reloj()
        if restante <= 0:
            self._hasta.pop(cedula, None)
            return 0.0
        return restante

    def fallo(self, cedula: str) -> None:
        """Count a failed check; lock at the limit."""
        self._fallos[cedula] = self._fallos.get(cedula, 0) + 1
        if self._fallos[cedula] >= self.limite:
            self._fallos.pop(cedula)
            self._hasta[cedula] = self.reloj() + self.duracion

    def acierto(self, cedula: str) -> None:
        """A successful check resets the count."""
        self._fallos.pop(cedula, None)

    def reset(self) -> None:
        """Forget every count and lock."""
        self._fallos.clear()
        self._hasta.clear()


class ValidacionIdentidad(BaseModel):
    """Body of ``validate-individual-person``."""

    model_config = ConfigDict(populate_by_name=True)

    identificacion: str
    individual_dactilar: str = Field(alias="individualDactilar")


class ResultadoValidacion(BaseModel):
    """Answer of ``validate-individual-person``: only whether the code matches."""

    identificacion: str
    valido: bool
    ficticio: bool = True


def inscripcion(persona: Persona) -> list[tuple[str, str]]:
    """Tomo, página and acta of the birth's registration: fixed for each cédula (the sandbox keeps no books)."""
    numero = int(persona.cedula[2:9])
    return [
        ("tomoInscripcion", str(numero % 40 + 1)),
        ("paginaInscripcion", str(numero // 40 % 300 + 1)),
        ("actaInscripcion", str(numero % 997 + 1)),
    ]


def _demograficos(persona: Persona, poblacion: Poblacion) -> list[tuple[str, str]]:
    conyuge = poblacion.persona(persona.cedula_conyuge) if persona.cedula_conyuge else None
    provincia = poblacion.catalogos.provincia(persona.provincia).nombre
    return [
        ("cedula", persona.cedula),
        ("nombre", persona.nombre),
        ("nombres", persona.nombres),
        ("apellidos", persona.apellidos),
        ("sexo", persona.sexo),
        ("fechaNacimiento", ddmmyyyy(persona.fecha_nacimiento)),
        ("anioInscripcionNacimiento", str(persona.fecha_nacimiento.year)),
        *inscripcion(persona),
        ("lugarNacimiento", f"{provincia}/{persona.canton}"),
        ("nacionalidad", "ECUATORIANA"),
        ("estadoCivil", estado_civil(persona)),
        ("conyuge", conyuge.nombre if conyuge else ""),
        ("cedulaConyuge", persona.cedula_conyuge or ""),
        ("fechaMatrimonio", ddmmyyyy(persona.fecha_matrimonio)),
        ("nombrePadre", persona.nombre_padre or ""),
        ("cedulaPadre", persona.cedula_padre or ""),
        ("nombreMadre", persona.nombre_madre or ""),
        ("cedulaMadre", persona.cedula_madre or ""),
        ("profesion", persona.profesion),
        ("condicionCiudadano", "FALLECIDO" if persona.fecha_defuncion else "CIUDADANO"),
        ("fechaDefuncion", ddmmyyyy(persona.fecha_defuncion)),
        ("fechaCedulacion", ddmmyyyy(persona.fecha_cedulacion)),
        ("fechaExpiracion", ddmmyyyy(persona.fecha_expiracion)),
        ("ficticio", "true"),
    ]


def _ficha(persona: Persona) -> list[tuple[str, str]]:
    return [
        ("cedula", persona.cedula),
        ("nombre", persona.nombre),
        ("fechaNacimiento", ddmmyyyy(persona.fecha_nacimiento)),
        ("fechaCedulacion", ddmmyyyy(persona.fecha_cedulacion)),
        ("fechaExpiracion", ddmmyyyy(persona.fecha_expiracion)),
        ("ficticio", "true"),
    ]


def respuesta_consultar(
    paquete: str, codigo_error: str, mensaje: str, *, filas: Iterable[list[tuple[str, str]]] = ()
) -> bytes:
    """A ``consultarResponse`` envelope: ``paquete/entidades/entidad/filas/fila/columnas/columna{campo, valor}``."""
    response = ET.Element(soap.qname(NS, "consultarResponse"))
    node = soap.sub(response, "paquete")
    soap.sub(node, "numeroPaquete", paquete)
    soap.sub(node, "CodigoError", codigo_error)
    soap.sub(node, "Error", mensaje)
    entidad = soap.sub(soap.sub(node, "entidades"), "entidad")
    soap.sub(entidad, "nombre", "REGISTRO CIVIL")
    filas_node = soap.sub(entidad, "filas")
    for fila in filas:
        columnas = soap.sub(soap.sub(filas_node, "fila"), "columnas")
        for campo, valor in fila:
            columna = soap.sub(columnas, "columna")
            soap.sub(columna, "campo", campo)
            soap.sub(columna, "valor", valor)
    return soap.envelope(response)


def router(poblacion: Poblacion, *, usuario: str, contrasena: str, bloqueos: Bloqueos) -> APIRouter:
    """The Registro Civil's routes over ``poblacion``, behind HTTP Basic ``usuario``/``contrasena``."""
    api = APIRouter(tags=["Registro Civil"])

    def no_autorizado() -> Response:
        return Response(status_code=401, headers={"WWW-Authenticate": 'Basic realm="interoperador"'})

    @api.post(
        "/dinardap/interoperador-v2",
        summary="DINARDAP interoperador: consultar (SOAP 1.1, HTTP Basic)",
        response_class=Response,
        openapi_extra=_SOAP_DOC,
    )
    async def consultar(request: Request) -> Response:
        if not basic_auth_ok(request, usuario, contrasena):
            return no_autorizado()
        body = await soap_body(request)
        if body is None:
            return fault("soap:Client", "Mensaje demasiado grande")
        try:
            payload = soap.body_payload(soap.parse(body))
        except ValueError:
            return fault("soap:Client", "Mensaje SOAP mal formado")
        if soap.local(payload.tag) != "consultar":
            return fault("soap:Client", "Operacion no soportada")
        parametros = {
            soap.text(p, "nombre"): soap.text(p, "valor") or "" for p in soap.iter_named(payload, "parametro")
        }
        paquete = parametros.get("codigoPaquete") or ""
        identificacion = parametros.get("identificacion") or ""
        if paquete not in (PAQUETE_DEMOGRAFICO, PAQUETE_FICHA, PAQUETE_HIJOS):
            return xml(respuesta_consultar(paquete, "003", "PAQUETE NO AUTORIZADO"))
        if not cedula_valida(identificacion):
            return xml(respuesta_consultar(paquete, "002", "IDENTIFICACION INVALIDA"))
        persona = poblacion.persona(identificacion)
        if persona is None:
            return xml(respuesta_consultar(paquete, "001", "NO SE ENCONTRARON DATOS"))
        if paquete == PAQUETE_DEMOGRAFICO:
            filas = [_demograficos(persona, poblacion)]
        elif paquete == PAQUETE_FICHA:
            filas = [_ficha(persona)]
        else:
            filas = [_demograficos(poblacion.personas[c], poblacion) for c in poblacion.hijos.get(persona.cedula, [])]
        return xml(respuesta_consultar(paquete, "000", "NO ERROR", filas=filas))

    @api.post(
        "/registro-civil/v1/validate-individual-person",
        summary="Compare a cédula and its código dactilar (answers only a boolean)",
        response_model=ResultadoValidacion,
        responses={400: {"model": Error}, 401: {"model": Error}, 404: {"model": Error}, 429: {"model": Error}},
    )
    async def validar(body: ValidacionIdentidad, request: Request) -> JSONResponse:
        if not basic_auth_ok(request, usuario, contrasena):
            return error(
                401,
                "credenciales_invalidas",
                "CREDENCIALES INVALIDAS",
                headers={"WWW-Authenticate": 'Basic realm="registro-civil"'},
            )
        cedula = body.identificacion.strip()
        codigo = body.individual_dactilar.strip().upper()
        if not cedula_valida(cedula):
            return error(400, "identificacion_invalida", "IDENTIFICACION INVALIDA")
        if not _DACTILAR.fullmatch(codigo):
            return error(400, "dactilar_formato_invalido", "FORMATO DE CODIGO DACTILAR INVALIDO")
        restante = bloqueos.bloqueada(cedula)
        if restante:
            return error(
                429, "demasiados_intentos", "DEMASIADOS INTENTOS", headers={"Retry-After": str(int(restante) + 1)}
            )
        persona = poblacion.persona(cedula)
        if persona is None:
            return error(404, "no_encontrado", "NO SE ENCONTRARON DATOS")
        valido = hmac.compare_digest(codigo.encode(), persona.codigo_dactilar.encode())
        if valido:
            bloqueos.acierto(cedula)
        else:
            bloqueos.fallo(cedula)
        return JSONResponse(ResultadoValidacion(identificacion=cedula, valido=valido).model_dump())

    return api
