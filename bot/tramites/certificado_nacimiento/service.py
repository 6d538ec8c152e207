"""Certificado de nacimiento: for the citizen or a minor child registered with them as parent; USD 5."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from bot.documents.service import Holder, IssuedDocument
from bot.documents.templates import DocumentKind
from bot.language import proper_name
from bot.services import Servicios
from bot.storage.models_tramites import EstadoSolicitud
from bot.tramites.certificado_nacimiento import TRAMITE
from bot.tramites.solicitudes import Solicitud
from integrations.registros.errors import NotFound, Rejected, Unavailable
from integrations.registros.records import Ciudadano

CLAVE = TRAMITE.clave
COSTO = TRAMITE.costo_usd
PROPIO = "propio"
NO_CONSTA = "No consta en el Registro Civil"


@dataclass(frozen=True)
class Resultado:
    estado: EstadoSolicitud
    solicitud: Solicitud
    documento: IssuedDocument | None = None


def menores(hijos: tuple[Ciudadano, ...], hoy: date) -> list[Ciudadano]:
    """The children who are still minors (the trámite is for the citizen or a minor child)."""
    return [h for h in hijos if h.es_menor(hoy)]


def _fecha(value: date | None) -> str:
    return value.strftime("%d/%m/%Y") if value else NO_CONSTA


def _nombre(value: str | None) -> str:
    return proper_name(value) if value else NO_CONSTA


def inscripcion(persona: Ciudadano) -> str:
    """«12, 34, 567» under the label «Inscripción (tomo, página, acta)»: the registry's numbers, or «No consta»."""
    partes = (persona.tomo_inscripcion, persona.pagina_inscripcion, persona.acta_inscripcion)
    return ", ".join(p for p in partes if p) if all(partes) else NO_CONSTA


def campos(persona: Ciudadano) -> dict[str, str]:
    """The printed fields (``data/plantillas/documentos/certificado_nacimiento.yml``), all from the birth record;
    names and places keep the registry's accents."""
    return {
        "fecha_nacimiento": _fecha(persona.fecha_nacimiento),
        "lugar_nacimiento": _nombre(persona.lugar_nacimiento),
        "nombre_padre": _nombre(persona.nombre_padre),
        "nombre_madre": _nombre(persona.nombre_madre),
        "inscripcion": inscripcion(persona),
    }


async def titular(s: Servicios, cedula_solicitante: str, para: str) -> Ciudadano:
    """Whose certificate it is: the applicant (``propio``) or one of their minor children (``hijo:<n>``)."""
    if para == PROPIO:
        return await s.registros.registro_civil.consultar_ciudadano(cedula_solicitante)
    index = int(para.removeprefix("hijo:"))
    hijos = menores(await s.registros.registro_civil.hijos(cedula_solicitante), date.today())
    return hijos[index]


async def procesar(s: Servicios, solicitud: Solicitud, cedula: str) -> Resultado:
    """After payment: read the birth record and issue the certificate (retried later on an outage)."""
    solicitud = await s.solicitudes.cambiar_estado(solicitud.id, EstadoSolicitud.EN_PROCESO)
    try:
        persona = await titular(s, cedula, str(solicitud.datos["para"]))
    except Unavailable:
        return Resultado(
            EstadoSolicitud.EN_PROCESO,
            await s.solicitudes.reintentar_despues(solicitud.id, nota="registro_civil_no_disponible"),
        )
    except (NotFound, Rejected, IndexError, ValueError):
        return Resultado(
            EstadoSolicitud.RECHAZADA,
            await s.solicitudes.cambiar_estado(solicitud.id, EstadoSolicitud.RECHAZADA, nota="sin_registro"),
        )
    await s.solicitudes.cambiar_estado(solicitud.id, EstadoSolicitud.APROBADA)
    issued = await s.documents.issuer.issue(
        DocumentKind.CERTIFICADO_NACIMIENTO,
        Holder(cedula=persona.cedula, name=proper_name(persona.nombre)),
        campos(persona),
        conversation_id=solicitud.conversation_id,
        once_for=f"solicitud:{solicitud.id}",  # a worker taking over a dead one's application gets this one back
    )
    await s.solicitudes.adjuntar_documento(solicitud.id, issued.id)
    solicitud = await s.solicitudes.cambiar_estado(
        solicitud.id,
        EstadoSolicitud.EMITIDA,
        datos={"codigo_verificacion": issued.verification_code},
    )
    return Resultado(EstadoSolicitud.EMITIDA, solicitud, issued)
