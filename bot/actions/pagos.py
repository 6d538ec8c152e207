"""`confirmar_pago` ("ya pagué"): where the citizen's payment and application stand; the documents if issued."""

from __future__ import annotations

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from bot.actions.runtime import say, services
from bot.actions.tramites import deliver_documents
from bot.servicios import Servicios
from bot.storage.models_tramites import EstadoSolicitud
from bot.tramites import registry


def _sin_documento(s: Servicios, tramite: str) -> bool:
    """Trámites whose payment is the end of it (fines): nothing is issued afterwards."""
    declared = registry.by_clave(tramite)
    return declared is not None and declared.documento is None


class ActionConfirmarPago(Action):
    def name(self) -> str:
        return "action_confirmar_pago"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        s = await services()
        identidad = await s.identidad.current(tracker.sender_id)
        if identidad is None:
            say(dispatcher, "pago_sin_identidad")
            return []
        for solicitud in await s.solicitudes.de_ciudadano(identidad.cedula):
            pagos = await s.pagos.de_solicitud(solicitud.id)
            if not pagos:
                continue
            pago = pagos[-1]
            if not pago.pagado:
                say(
                    dispatcher,
                    "pago_pendiente",
                    numero=solicitud.numero,
                    monto=f"{pago.monto:.2f}",
                    enlace=s.pagos.url(pago.id),
                )
            elif _sin_documento(s, solicitud.tramite):
                say(dispatcher, "pago_confirmado_sin_documento", numero=solicitud.numero, recibo=pago.recibo or "")
            elif solicitud.estado == EstadoSolicitud.EMITIDA:
                say(dispatcher, "pago_y_documento_listos", numero=solicitud.numero, recibo=pago.recibo or "")
                for document_id in await s.solicitudes.documentos(solicitud.id):
                    deliver_documents(dispatcher, await s.documents.issuer.payloads(document_id))
            else:
                say(dispatcher, "pago_confirmado_en_proceso", numero=solicitud.numero, recibo=pago.recibo or "")
            return []
        say(dispatcher, "pago_no_hay")
        return []
