"""«Ya pagué», «no me llega», «no se abre»: what is due is resent, or where it stands is explained.

Never a new application and never a greeting: the latest application of the citizen (or of this chat,
before they prove who they are) with a payment or a document decides the answer.
"""

from __future__ import annotations

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from bot.actions.forms import in_form, latest_intent, latest_text
from bot.actions.general import replay_as
from bot.actions.runtime import say, services
from bot.actions.tramites import deliver_documents
from bot.documents.errors import TemplateError
from bot.documents.service import as_utc
from bot.language import is_question, says_paid
from bot.services import Servicios
from bot.storage.models_tramites import EstadoSolicitud
from bot.tramites import registry
from bot.tramites.solicitudes import Solicitud


def _sin_documento(tramite: str) -> bool:
    """Trámites whose payment is the end of it (fines): nothing is issued afterwards."""
    declared = registry.by_clave(tramite)
    return declared is not None and declared.documento is None


async def _applications(s: Servicios, tracker: Tracker) -> list[Solicitud]:
    identidad = await s.identidad.current(tracker.sender_id)
    if identidad is not None:
        return await s.solicitudes.de_ciudadano(identidad.cedula)
    return await s.solicitudes.de_conversacion(tracker.sender_id)


class ActionConfirmarPago(Action):
    def name(self) -> str:
        return "action_confirmar_pago"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        intent, _ = latest_intent(tracker)
        text = latest_text(tracker)
        if intent == "problema_entrega" and in_form(tracker) and is_question(text) and not says_paid(text):
            # «¿y me llega al correo o por aquí?» while a document is being asked for: how this one will arrive,
            # a side question the trámite answers (then its form asks again), not a complaint about an earlier one.
            return replay_as(tracker, "preguntar_tramite")
        s = await services()
        applications = await _applications(s, tracker)
        if not applications and await s.identidad.current(tracker.sender_id) is None:
            say(dispatcher, "pago_sin_identidad" if intent == "confirmar_pago" else "entrega_sin_identidad")
            return []
        if intent == "problema_entrega" and await self._resend_latest_lookup(dispatcher, tracker, s, applications):
            return []
        for solicitud in applications:
            pagos = await s.pagos.de_solicitud(solicitud.id)
            documentos = await s.solicitudes.documentos(solicitud.id)
            if not pagos and not documentos:
                continue
            pago = pagos[-1] if pagos else None
            if pago is not None and not pago.pagado:
                say(
                    dispatcher,
                    "pago_pendiente",
                    numero=solicitud.numero,
                    monto=f"{pago.monto:.2f}",
                    enlace=s.pagos.url(pago.id),
                )
            elif pago is not None and _sin_documento(solicitud.tramite):
                say(dispatcher, "pago_confirmado_sin_documento", numero=solicitud.numero, recibo=pago.recibo or "")
            elif solicitud.estado == EstadoSolicitud.EMITIDA and documentos:
                if pago is not None:
                    say(dispatcher, "pago_y_documento_listos", numero=solicitud.numero, recibo=pago.recibo or "")
                else:
                    say(dispatcher, "entrega_reenvio", numero=solicitud.numero)
                for document_id in documentos:
                    deliver_documents(dispatcher, await s.documents.issuer.payloads(document_id))
                if intent == "problema_entrega":
                    say(dispatcher, "entrega_como_abrir")
            elif pago is not None:
                say(dispatcher, "pago_confirmado_en_proceso", numero=solicitud.numero, recibo=pago.recibo or "")
            else:
                continue
            return []
        say(dispatcher, "pago_no_hay" if intent == "confirmar_pago" else "entrega_nada")
        return []

    @staticmethod
    async def _resend_latest_lookup(
        dispatcher: CollectingDispatcher, tracker: Tracker, s: Servicios, applications: list[Solicitud]
    ) -> bool:
        """A document issued by a look-up (cédula digital, licence, matrícula: no application) after the latest
        application: «no se abre», «mándemela en foto» is about it. Resent with how to open it."""
        identidad = await s.identidad.current(tracker.sender_id)
        if identidad is None:
            return False
        issued = [d for d in await s.documents.issuer.of_holder(identidad.cedula) if not d.revoked]
        if not issued:
            return False
        newest = issued[0]
        if applications and as_utc(applications[0].actualizada) > as_utc(newest.issued_at):
            return False  # the latest application's document (or payment) is what the citizen means
        try:
            tipo = s.documents.plantillas.document(newest.kind).title
        except TemplateError:
            tipo = "documento"
        say(dispatcher, "entrega_reenvio_documento", tipo=tipo)
        deliver_documents(dispatcher, await s.documents.issuer.payloads(newest.id))
        say(dispatcher, "entrega_como_abrir")
        return True
