"""Sandbox CNE: a voter's record in the last election."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from integrations.registros.sandbox.common import Error, cedula_valida, error
from integrations.registros.sandbox.model import Poblacion, lugar_votacion


class MultaOut(BaseModel):
    valor: Decimal
    pagada: bool


class VueltaOut(BaseModel):
    vuelta: str
    fecha: date
    estado: str
    motivo_exencion: str | None
    multa: MultaOut | None


class LugarOut(BaseModel):
    provincia: str
    canton: str
    parroquia: str
    zona: str
    recinto: str
    junta: str


class RegistroVotacionOut(BaseModel):
    cedula: str
    nombre: str
    proceso: str
    lugar: LugarOut
    vueltas: list[VueltaOut]
    ficticio: bool = True


def router(poblacion: Poblacion) -> APIRouter:
    """The voter-record route over ``poblacion``."""
    api = APIRouter(tags=["CNE"])

    @api.get(
        "/cne/v1/votacion/{cedula}",
        response_model=RegistroVotacionOut,
        responses={400: {"model": Error}, 404: {"model": Error}},
    )
    async def votacion(cedula: str) -> JSONResponse:
        """What the CNE records for a voter in the last election (404 ``no_empadronado`` when not on the roll)."""
        if not cedula_valida(cedula):
            return error(400, "cedula_invalida", "CEDULA INVALIDA")
        persona = poblacion.persona(cedula)
        if persona is None:
            return error(404, "no_encontrado", "NO SE ENCONTRARON DATOS")
        if not persona.votos:
            return error(404, "no_empadronado", "NO CONSTA EN EL REGISTRO ELECTORAL")
        lugar = lugar_votacion(persona, poblacion.catalogos)
        body = RegistroVotacionOut(
            cedula=persona.cedula,
            nombre=persona.nombre,
            proceso=poblacion.catalogos.eleccion.proceso,
            lugar=LugarOut(
                provincia=poblacion.catalogos.provincia(persona.provincia).nombre,
                canton=persona.canton,
                parroquia=lugar.parroquia,
                zona=lugar.zona,
                recinto=lugar.recinto,
                junta=lugar.junta,
            ),
            vueltas=[
                VueltaOut(
                    vuelta=v.vuelta,
                    fecha=v.fecha,
                    estado=v.estado,
                    motivo_exencion=v.motivo_exencion,
                    multa=None if v.multa is None else MultaOut(valor=v.multa, pagada=v.multa_pagada),
                )
                for v in persona.votos
            ],
        )
        return JSONResponse(body.model_dump(mode="json"))

    return api
