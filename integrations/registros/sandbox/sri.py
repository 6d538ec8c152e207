"""Sandbox SRI: ``obtenerCompleto`` of ``SRI/BSGSW01_Consultar_RucSRI`` behind the BSG's WS-Security."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from fastapi import APIRouter, Request
from fastapi.responses import Response
from stdnum.ec import ruc

from integrations.registros import soap
from integrations.registros.sandbox.bsg import SOAP_DOC, Bsg, leer_llamada
from integrations.registros.sandbox.common import xml
from integrations.registros.sandbox.model import Poblacion, RucRegistrado

NS = "http://sri.gov.ec/wsConsultaContribuyente"
SERVICIO = "BSGSW01_Consultar_RucSRI"


def respuesta_obtener_completo(
    registro: RucRegistrado | None, poblacion: Poblacion, *, cod_error: str, mensaje: str
) -> bytes:
    """An ``obtenerCompletoResponse`` envelope."""
    response = ET.Element(soap.qname(NS, "obtenerCompletoResponse"))
    retorno = soap.sub(response, "return")
    soap.sub(retorno, "codError", cod_error)
    soap.sub(retorno, "desError", mensaje)
    if registro is not None:
        persona = poblacion.personas[registro.cedula]
        soap.sub(retorno, "numeroRuc", registro.numero)
        soap.sub(retorno, "razonSocial", persona.nombre)
        soap.sub(retorno, "codEstado", registro.estado[:3])
        soap.sub(retorno, "desEstado", registro.estado)
        soap.sub(retorno, "tipoContribuyente", "PERSONA NATURAL")
        soap.sub(retorno, "obligadoContabilidad", "S" if registro.obligado_contabilidad else "N")
        soap.sub(retorno, "fechaInicioActividades", registro.fecha_inicio.isoformat())
        for codigo, descripcion in registro.actividades:
            actividad = soap.sub(retorno, "actividadEconomica")
            soap.sub(actividad, "actividadGeneral", descripcion)
            soap.sub(actividad, "codN6Actividad", codigo)
            soap.sub(actividad, "n6Actividad", descripcion)
        soap.sub(retorno, "ficticio", "true")
    return soap.envelope(response)


def router(poblacion: Poblacion, bsg: Bsg) -> APIRouter:
    """The SRI's RUC service over ``poblacion``."""
    api = APIRouter(tags=["SRI"])

    @api.post(
        "/bsg/sw/SRI/BSGSW01_Consultar_RucSRI",
        summary="SRI through the BSG: obtenerCompleto (SOAP 1.1, WS-Security)",
        response_class=Response,
        openapi_extra=SOAP_DOC,
    )
    async def obtener_completo(request: Request) -> Response:
        payload = await leer_llamada(request, bsg, SERVICIO, "obtenerCompleto")
        if isinstance(payload, Response):
            return payload
        numero = soap.text(payload, "numeroRuc") or ""
        if not (len(numero) == 13 and numero.isdigit() and ruc.is_valid(numero)):
            return xml(respuesta_obtener_completo(None, poblacion, cod_error="002", mensaje="NUMERO DE RUC INVALIDO"))
        registro = poblacion.rucs.get(numero)
        if registro is None:
            return xml(respuesta_obtener_completo(None, poblacion, cod_error="001", mensaje="RUC NO ENCONTRADO"))
        return xml(respuesta_obtener_completo(registro, poblacion, cod_error="000", mensaje="OK"))

    return api
