"""RUC of a natural person (SRI): the taxpayer's record and the signed RUC certificate; a look-up, no application."""

from __future__ import annotations

from bot.documents.service import Holder, IssuedDocument
from bot.documents.templates import DocumentKind
from bot.language import proper_name, sentence
from bot.services import Servicios
from bot.tramites.ruc import TRAMITE
from integrations.registros.records import Ruc

CLAVE = TRAMITE.clave
SIN_DATO = "—"


def es_propio(ruc: str, cedula: str) -> bool:
    """True when the 13-digit ``ruc`` is the person's own: a natural person's RUC starts with the cédula."""
    digits = "".join(c for c in ruc if c.isdigit())
    return len(digits) == 13 and digits[:10] == cedula


def actividades(ruc: Ruc) -> list[str]:
    """The economic activities in sentence case, as printed and shown."""
    return [sentence(a.descripcion) for a in ruc.actividades]


async def consultar(s: Servicios, cedula: str) -> Ruc:
    """The citizen's own RUC.

    Raises:
        NotFound: the citizen has no RUC.
        Unavailable, Rejected: the SRI cannot answer now.
    """
    return await s.registros.sri.ruc_por_cedula(cedula)


async def emitir_certificado(s: Servicios, ruc: Ruc, *, cedula: str, conversation_id: str) -> IssuedDocument:
    """Issue the signed RUC certificate (``data/plantillas/documentos/certificado_ruc.yml``)."""
    inicio = ruc.fecha_inicio_actividades
    return await s.documents.issuer.issue(
        DocumentKind.CERTIFICADO_RUC,
        Holder(cedula=cedula, name=proper_name(ruc.razon_social)),
        {
            "ruc": ruc.numero,
            "razon_social": proper_name(ruc.razon_social),
            "actividad_economica": "; ".join(actividades(ruc)) or SIN_DATO,
            "estado": ruc.estado.value.capitalize(),
            "fecha_inicio": inicio.strftime("%d/%m/%Y") if inicio else SIN_DATO,
        },
        conversation_id=conversation_id,
    )
