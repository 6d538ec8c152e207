"""Sandbox ANT: licences, citations and vehicles (REST) and ``Solicita_Matricula`` behind the BSG."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import date
from decimal import Decimal
from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel

from integrations.registros import soap
from integrations.registros.sandbox.bsg import SOAP_DOC, Bsg, leer_llamada
from integrations.registros.sandbox.common import Error, cedula_valida, error, xml
from integrations.registros.sandbox.model import (
    CitacionRegistrada,
    Poblacion,
    VehiculoRegistrado,
    mes_matricula,
)

NS = "http://ant.gob.ec/BSGSW01_Consultar_MatriculaLic"
SERVICIO = "BSGSW01_Consultar_MatriculaLic"
_PLACA = re.compile(r"([A-Z]{3})-?(\d{3,4})")
_ERRORES: dict[int | str, dict[str, Any]] = {400: {"model": Error}, 404: {"model": Error}}


class LicenciaOut(BaseModel):
    tipo: str
    fecha_emision: date
    fecha_vencimiento: date
    puntos: Decimal
    estado: str
    tipo_sangre: str
    restricciones: str


class LicenciaRespuesta(BaseModel):
    cedula: str
    nombre: str
    licencia: LicenciaOut | None
    ficticio: bool = True


class VehiculoOut(BaseModel):
    placa: str
    marca: str
    modelo: str
    anio: int
    color: str
    clase: str
    chasis: str
    servicio: str


class VehiculosRespuesta(BaseModel):
    cedula: str
    vehiculos: list[VehiculoOut]
    ficticio: bool = True


class CitacionOut(BaseModel):
    numero: str
    fecha: date
    placa: str | None
    articulo: str
    clase: int
    descripcion: str
    valor: Decimal
    puntos: Decimal
    estado: str


class CitacionesRespuesta(BaseModel):
    citaciones: list[CitacionOut]
    total_pendiente: Decimal
    ficticio: bool = True


def normalizar_placa(value: str) -> str | None:
    """``ABC-1234`` from ``abc1234`` or ``ABC-1234`` (None when it is not a plate)."""
    match = _PLACA.fullmatch(value.strip().upper().replace(" ", ""))
    return None if match is None else f"{match.group(1)}-{match.group(2)}"


def _vehiculo(v: VehiculoRegistrado) -> VehiculoOut:
    return VehiculoOut(
        placa=v.placa,
        marca=v.marca,
        modelo=v.modelo,
        anio=v.anio,
        color=v.color,
        clase=v.clase,
        chasis=v.chasis,
        servicio=v.servicio,
    )


def _citacion(c: CitacionRegistrada) -> CitacionOut:
    return CitacionOut(
        numero=c.numero,
        fecha=c.fecha,
        placa=c.placa,
        articulo=c.articulo,
        clase=c.clase,
        descripcion=c.descripcion,
        valor=c.valor,
        puntos=c.puntos,
        estado="pagada" if c.pagada else "pendiente",
    )


def respuesta_matricula(vehiculo: VehiculoRegistrado | None, *, cod_error: str, mensaje: str) -> bytes:
    """A ``Solicita_MatriculaResponse`` envelope."""
    response = ET.Element(soap.qname(NS, "Solicita_MatriculaResponse"))
    retorno = soap.sub(response, "return")
    soap.sub(retorno, "cod_error", cod_error)
    soap.sub(retorno, "mensaje", mensaje)
    if vehiculo is not None:
        for campo, valor in (
            ("placa", vehiculo.placa),
            ("marca", vehiculo.marca),
            ("modelo", vehiculo.modelo),
            ("anio", str(vehiculo.anio)),
            ("color", vehiculo.color),
            ("clase", vehiculo.clase),
            ("chasis", vehiculo.chasis),
            ("servicio", vehiculo.servicio),
            ("estado_matricula", vehiculo.estado_matricula),
            ("mes_matriculacion", str(mes_matricula(vehiculo.placa))),
            ("anio_ultima_matricula", str(vehiculo.anio_ultima_matricula)),
            ("total", str(vehiculo.total)),
            ("ficticio", "true"),
        ):
            soap.sub(retorno, campo, valor)
        valores = soap.sub(retorno, "valores")
        for concepto, monto in vehiculo.valores:
            valor_node = soap.sub(valores, "valor")
            soap.sub(valor_node, "concepto", concepto)
            soap.sub(valor_node, "monto", str(monto))
    return soap.envelope(response)


def router(poblacion: Poblacion, bsg: Bsg) -> APIRouter:
    """The ANT's routes over ``poblacion``."""
    api = APIRouter(tags=["ANT"])
    hoy = poblacion.hoy

    @api.get("/ant/v1/personas/{cedula}/licencia", response_model=LicenciaRespuesta, responses=_ERRORES)
    async def licencia(cedula: str) -> JSONResponse:
        """The driving licence of a person (``licencia`` is null when they have none)."""
        if not cedula_valida(cedula):
            return error(400, "cedula_invalida", "CEDULA INVALIDA")
        persona = poblacion.persona(cedula)
        if persona is None:
            return error(404, "no_encontrado", "NO EXISTEN REGISTROS")
        data = persona.licencia
        out = (
            None
            if data is None
            else LicenciaOut(
                tipo=data.tipo,
                fecha_emision=data.fecha_emision,
                fecha_vencimiento=data.fecha_vencimiento,
                puntos=data.puntos,
                estado="VIGENTE" if data.fecha_vencimiento >= hoy else "CADUCADA",
                tipo_sangre=data.tipo_sangre,
                restricciones=data.restricciones,
            )
        )
        body = LicenciaRespuesta(cedula=persona.cedula, nombre=persona.nombre, licencia=out)
        return JSONResponse(body.model_dump(mode="json"))

    @api.get("/ant/v1/personas/{cedula}/vehiculos", response_model=VehiculosRespuesta, responses=_ERRORES)
    async def vehiculos(cedula: str) -> JSONResponse:
        """Vehicles registered to a person."""
        if not cedula_valida(cedula):
            return error(400, "cedula_invalida", "CEDULA INVALIDA")
        persona = poblacion.persona(cedula)
        if persona is None:
            return error(404, "no_encontrado", "NO EXISTEN REGISTROS")
        out = [_vehiculo(poblacion.vehiculos[p]) for p in persona.placas]
        return JSONResponse(VehiculosRespuesta(cedula=persona.cedula, vehiculos=out).model_dump(mode="json"))

    @api.get("/ant/v1/citaciones", response_model=CitacionesRespuesta, responses=_ERRORES)
    async def citaciones(
        cedula: str | None = Query(default=None), placa: str | None = Query(default=None)
    ) -> JSONResponse:
        """Citations of a driver (``cedula``) or of a vehicle (``placa``), newest first."""
        if (cedula is None) == (placa is None):
            return error(400, "parametros_invalidos", "INDIQUE CEDULA O PLACA")
        if cedula is not None:
            if not cedula_valida(cedula):
                return error(400, "cedula_invalida", "CEDULA INVALIDA")
            persona = poblacion.persona(cedula)
            if persona is None:
                return error(404, "no_encontrado", "NO EXISTEN REGISTROS")
            registros = persona.citaciones
        else:
            normalizada = normalizar_placa(placa or "")
            if normalizada is None:
                return error(400, "placa_invalida", "PLACA INVALIDA")
            if normalizada not in poblacion.vehiculos:
                return error(404, "no_encontrado", "PLACA NO REGISTRADA")
            registros = poblacion.citaciones_de_placa(normalizada)
        pendiente = sum((c.valor for c in registros if not c.pagada), Decimal("0.00"))
        body = CitacionesRespuesta(citaciones=[_citacion(c) for c in registros], total_pendiente=pendiente)
        return JSONResponse(body.model_dump(mode="json"))

    @api.post(
        "/bsg/sw/ANT/BSGSW01_Consultar_MatriculaLic",
        summary="ANT through the BSG: Solicita_Matricula (SOAP 1.1, WS-Security)",
        response_class=Response,
        openapi_extra=SOAP_DOC,
    )
    async def solicita_matricula(request: Request) -> Response:
        payload = await leer_llamada(request, bsg, SERVICIO, "Solicita_Matricula")
        if isinstance(payload, Response):
            return payload
        placa = normalizar_placa(soap.text(payload, "Placa") or "")
        if placa is None:
            return xml(respuesta_matricula(None, cod_error="2", mensaje="PLACA INVALIDA"))
        vehiculo = poblacion.vehiculos.get(placa)
        if vehiculo is None:
            return xml(respuesta_matricula(None, cod_error="1", mensaje="PLACA NO REGISTRADA"))
        return xml(respuesta_matricula(vehiculo, cod_error="0", mensaje="OK"))

    return api
