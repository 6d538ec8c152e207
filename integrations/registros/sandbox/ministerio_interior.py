"""Sandbox Ministerio del Interior: the criminal-record certificate."""

from __future__ import annotations

import hashlib
from datetime import date, timedelta

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from integrations.registros.sandbox.common import Error, cedula_valida, error
from integrations.registros.sandbox.model import Poblacion

VALIDEZ = timedelta(days=90)
MOTIVO_MINIMO = 10


class Certificado(BaseModel):
    cedula: str
    nombre: str
    registra: bool
    antecedentes: str
    numero_certificado: str
    fecha_emision: date
    valido_hasta: date
    ficticio: bool = True


def router(poblacion: Poblacion) -> APIRouter:
    """The certificate route over ``poblacion``."""
    api = APIRouter(tags=["Ministerio del Interior"])

    @api.get(
        "/ministerio-interior/v1/antecedentes/{cedula}",
        response_model=Certificado,
        responses={400: {"model": Error}, 404: {"model": Error}},
    )
    async def antecedentes(
        cedula: str, motivo: str = Query(default="", description="Reason of the query, at least 10 characters.")
    ) -> JSONResponse:
        """The criminal-record certificate of a person, valid 90 days."""
        if len(motivo.strip()) < MOTIVO_MINIMO:
            return error(400, "motivo_invalido", "EL MOTIVO DE LA CONSULTA DEBE TENER AL MENOS 10 CARACTERES")
        if not cedula_valida(cedula):
            return error(400, "cedula_invalida", "CEDULA INVALIDA")
        persona = poblacion.persona(cedula)
        if persona is None:
            return error(404, "no_encontrado", "NO SE ENCONTRARON DATOS")
        hoy = poblacion.hoy
        serie = hashlib.sha256(f"{poblacion.semilla}:{cedula}:{hoy.isoformat()}".encode()).hexdigest()[:10].upper()
        body = Certificado(
            cedula=persona.cedula,
            nombre=persona.nombre,
            registra=persona.antecedentes,
            antecedentes="SI REGISTRA" if persona.antecedentes else "NO REGISTRA",
            numero_certificado=f"MDI-{serie}",
            fecha_emision=hoy,
            valido_hasta=hoy + VALIDEZ,
        )
        return JSONResponse(body.model_dump(mode="json"))

    return api
