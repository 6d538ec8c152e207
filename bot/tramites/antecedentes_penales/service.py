"""Certificado de antecedentes penales: asked with a reason (10 characters or more), free, valid 90 days."""

from __future__ import annotations

from dataclasses import dataclass

from bot.documents.service import Holder, IssuedDocument
from bot.documents.templates import DocumentKind
from bot.language import proper_name
from bot.services import Servicios
from bot.storage.models_tramites import EstadoSolicitud
from bot.tramites.antecedentes_penales import TRAMITE
from bot.tramites.solicitudes import Solicitud
from integrations.registros.errors import NotFound, Rejected, Unavailable

CLAVE = TRAMITE.clave
MOTIVO_MINIMO = 10


@dataclass(frozen=True)
class Resultado:
    estado: EstadoSolicitud
    solicitud: Solicitud
    documento: IssuedDocument | None = None
    registra: bool | None = None


async def procesar(s: Servicios, solicitud: Solicitud, cedula: str) -> Resultado:
    """Ask the Ministerio del Interior and issue the certificate; on an outage keep it pending for a retry."""
    solicitud = await s.solicitudes.cambiar_estado(solicitud.id, EstadoSolicitud.EN_PROCESO)
    try:
        record = await s.registros.ministerio_interior.antecedentes(cedula, motivo=str(solicitud.datos["motivo"]))
    except Unavailable:
        return Resultado(
            EstadoSolicitud.EN_PROCESO,
            await s.solicitudes.reintentar_despues(solicitud.id, nota="ministerio_no_disponible"),
        )
    except (NotFound, Rejected) as exc:
        return Resultado(
            EstadoSolicitud.RECHAZADA,
            await s.solicitudes.cambiar_estado(solicitud.id, EstadoSolicitud.RECHAZADA, nota=exc.code),
        )
    await s.solicitudes.cambiar_estado(solicitud.id, EstadoSolicitud.APROBADA)
    issued = await s.documents.issuer.issue(
        DocumentKind.CERTIFICADO_ANTECEDENTES_PENALES,
        Holder(cedula=cedula, name=proper_name(record.nombre)),
        {
            "resultado": "REGISTRA ANTECEDENTES" if record.registra else "NO REGISTRA ANTECEDENTES",
            "motivo": str(solicitud.datos["motivo"]),
        },
        conversation_id=solicitud.conversation_id,
        once_for=f"solicitud:{solicitud.id}",  # a worker taking over a dead one's application gets this one back
    )
    await s.solicitudes.adjuntar_documento(solicitud.id, issued.id)
    solicitud = await s.solicitudes.cambiar_estado(
        solicitud.id, EstadoSolicitud.EMITIDA, datos={"codigo_verificacion": issued.verification_code}
    )
    return Resultado(EstadoSolicitud.EMITIDA, solicitud, issued, record.registra)
