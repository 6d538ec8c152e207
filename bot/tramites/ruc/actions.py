"""`consultar_ruc`: the citizen's own RUC (status, activities) and the signed RUC certificate; how to get one."""

from __future__ import annotations

from rasa_sdk import Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from bot.actions.identity import require_identity
from bot.actions.runtime import say, services, textos
from bot.actions.tramites import IdentifiedLookup, deliver_documents
from bot.documents.service import as_utc, document_payloads
from bot.identity.vault_client import VaultUnavailable
from bot.language import proper_name
from bot.privacy.redaction import mask_cedula
from bot.tramites.ruc import TRAMITE
from bot.tramites.ruc import service as tramite
from integrations.registros.errors import NotFound, RegistroError
from integrations.registros.records import EstadoRuc

NOTA_ESTADO = {EstadoRuc.SUSPENDIDO: "ruc_suspendido", EstadoRuc.PASIVO: "ruc_pasivo"}


def mask_ruc(numero: str) -> str:
    """A RUC as shown in the chat: the cédula inside it masked (``07******12001``)."""
    return mask_cedula(numero[:10]) + numero[10:]


async def _typed_other_ruc(tracker: Tracker, cedula: str) -> bool:
    """True when the citizen's message names a RUC that is not theirs (it arrives as a vault reference)."""
    entities = (tracker.latest_message or {}).get("entities") or []
    references = [str(e.get("value") or "") for e in entities if e.get("entity") == "ruc"]
    if not references:
        return False
    try:
        typed = await (await services()).vault.reveal(references[0], kind="ruc", owner=tracker.sender_id)
    except VaultUnavailable:
        return False
    return typed is not None and not tramite.es_propio(typed, cedula)


async def mostrar_ruc(dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
    """Show the citizen's RUC and send its certificate; without a RUC, how to get one."""
    s = await services()
    identidad = await s.identidad.current(tracker.sender_id)
    if identidad is None:  # the link expired between the check and now: prove it again
        return (await require_identity(dispatcher, tracker, tramite=tramite.CLAVE, servicio=TRAMITE.servicio)) or []
    if await _typed_other_ruc(tracker, identidad.cedula):
        say(dispatcher, "ruc_solo_propio")
    try:
        ruc = await tramite.consultar(s, identidad.cedula)
    except NotFound:
        say(dispatcher, "ruc_sin_ruc")
        return []
    except RegistroError:
        say(dispatcher, "ruc_no_disponible")
        return []
    inicio = ruc.fecha_inicio_actividades
    say(
        dispatcher,
        "ruc_datos",
        ruc=mask_ruc(ruc.numero),
        razon_social=proper_name(ruc.razon_social),
        estado=ruc.estado.value.capitalize(),
        tipo=ruc.tipo_contribuyente.capitalize(),
        contabilidad=textos()
        .render("ruc_contabilidad_si" if ruc.obligado_contabilidad else "ruc_contabilidad_no")
        .text,
        inicio=inicio.strftime("%d/%m/%Y") if inicio else tramite.SIN_DATO,
        actividades="\n".join(f"• {a}" for a in tramite.actividades(ruc)) or tramite.SIN_DATO,
    )
    if ruc.estado in NOTA_ESTADO:
        say(dispatcher, NOTA_ESTADO[ruc.estado])
    issued = await tramite.emitir_certificado(s, ruc, cedula=identidad.cedula, conversation_id=tracker.sender_id)
    vence = as_utc(issued.expires_at).astimezone(s.settings.zona_horaria).strftime("%d/%m/%Y")
    say(dispatcher, "ruc_certificado", codigo=issued.verification_code, url=issued.verification_url, vence=vence)
    deliver_documents(dispatcher, document_payloads(issued))
    return []


class ActionConsultarRuc(IdentifiedLookup):
    tramite = TRAMITE

    def name(self) -> str:
        return "action_consultar_ruc"

    async def show(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        return await mostrar_ruc(dispatcher, tracker, domain)
