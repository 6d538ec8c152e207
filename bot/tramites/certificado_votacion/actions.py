"""`solicitar_certificado_votacion`: identity, the CNE record and a summary to confirm; the certificate, or the
fine's payment first (the background worker issues it once paid)."""

from __future__ import annotations

from typing import Any, ClassVar

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from bot.actions.forms import SlotKind, SlotSpec, TramiteForm
from bot.actions.runtime import say, services, textos
from bot.actions.tramites import SubmitApplication, begin, confirmation, deliver_documents
from bot.documents.service import document_payloads
from bot.identity.service import Identidad
from bot.services import Servicios
from bot.storage.models_tramites import EstadoSolicitud
from bot.tramites.certificado_votacion import TRAMITE
from bot.tramites.certificado_votacion import service as tramite
from bot.tramites.certificado_votacion.service import Resumen, Situacion
from integrations.registros.errors import NotFound, RegistroError
from integrations.registros.records import EstadoVoto

FORM = "certificado_votacion_form"
REGISTRO = "votacion_registro"  # the summary the citizen confirms (tramite.Resumen.to_slot)
CONFIRMAR = "confirmar_votacion"
SLOTS = (CONFIRMAR, REGISTRO)
# Ends the form at once: nothing to confirm (the rules then run the submit action, which only clears).
END = [SlotSet(REGISTRO, None), SlotSet(CONFIRMAR, None), SlotSet("requested_slot", None)]
RESUMEN = {
    Situacion.SUFRAGO: "votacion_resumen_sufrago",
    Situacion.EXENTO: "votacion_resumen_exento",
    Situacion.MULTA_PAGADA: "votacion_resumen_multa_pagada",
    Situacion.MULTA: "votacion_resumen_multa",
}


def rondas_texto(resumen: Resumen) -> str:
    """One line per round for the summary ("• Primera vuelta (09/02/2025): votó")."""
    lines = []
    for r in resumen.rondas:
        values: dict[str, Any] = {"vuelta": r.vuelta.capitalize(), "fecha": r.fecha.strftime("%d/%m/%Y")}
        if r.estado is EstadoVoto.SUFRAGO:
            key = "votacion_vuelta_sufrago"
        elif r.estado is EstadoVoto.EXENTO:
            key = "votacion_vuelta_exento"
            values["motivo"] = textos().render(tramite.motivo_plantilla(r.motivo)).text
        else:
            key = "votacion_vuelta_multa_pagada" if r.pagada else "votacion_vuelta_multa"
            values["valor"] = f"{r.multa or 0:.2f}"
        lines.append(textos().render(key, **values).text)
    return "\n".join(lines)


class ActionIniciarCertificadoVotacion(Action):
    def name(self) -> str:
        return "action_iniciar_certificado_votacion"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        return await begin(dispatcher, tracker, TRAMITE)


class ValidateCertificadoVotacionForm(TramiteForm):
    slots: ClassVar[dict[str, SlotSpec]] = {
        "confirmar_votacion": SlotSpec(SlotKind.CONFIRM, hint="confirmar_si_o_no"),
    }

    """At activation, asks the CNE; the form goes on only when there is a certificate to send or a fine to pay."""

    def name(self) -> str:
        return "validate_certificado_votacion_form"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        if (tracker.active_loop or {}).get("name") != FORM:
            return await self.activate(dispatcher, tracker)
        return list(await super().run(dispatcher, tracker, domain))

    async def activate(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType]:
        """Look the voter up; not on the roll or the CNE down end the form with a clear answer."""
        s = await services()
        identidad = await s.identidad.current(tracker.sender_id)
        if identidad is None:
            say(dispatcher, "votacion_sesion_vencida")
            return list(END)
        try:
            registro = await s.registros.cne.registro_votacion(identidad.cedula)
        except NotFound:
            say(dispatcher, "votacion_no_empadronado")
            return list(END)
        except RegistroError:
            say(dispatcher, "votacion_no_disponible")
            return list(END)
        return [
            SlotSet(REGISTRO, Resumen.de(registro).to_slot()),
            SlotSet(CONFIRMAR, None),
            SlotSet("requested_slot", CONFIRMAR),
        ]

    async def validate_confirmar_votacion(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        answer = confirmation(value)
        if answer is None:
            say(dispatcher, "confirmar_si_o_no")
        return {CONFIRMAR: answer}


class ActionAskConfirmarVotacion(Action):
    def name(self) -> str:
        return "action_ask_confirmar_votacion"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        resumen = Resumen.from_slot(tracker.get_slot(REGISTRO))
        if resumen is None:
            say(dispatcher, "confirmar_si_o_no")
            return []
        say(
            dispatcher,
            RESUMEN[resumen.situacion],
            proceso=resumen.proceso,
            vueltas=rondas_texto(resumen),
            total=f"{resumen.multa:.2f}",
        )
        return []


class ActionSolicitarCertificadoVotacion(SubmitApplication):
    """Submit what was confirmed: a payment for a fine, or the certificate now; clears the form either way."""

    tramite = TRAMITE
    slots = SLOTS

    def name(self) -> str:
        return "action_solicitar_certificado_votacion"

    async def ready(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> bool:
        confirmado = tracker.get_slot(CONFIRMAR)
        if confirmado is False:
            say(dispatcher, "votacion_no_solicitado")
        return Resumen.from_slot(tracker.get_slot(REGISTRO)) is not None and confirmado is True

    async def submit(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, s: Servicios, identidad: Identidad
    ) -> None:
        resumen = Resumen.from_slot(tracker.get_slot(REGISTRO))
        assert resumen is not None  # checked by `ready`
        datos: dict[str, Any] = {"proceso": resumen.proceso}
        if resumen.situacion is Situacion.MULTA:
            solicitud = await s.solicitudes.crear(
                tramite=TRAMITE.clave,
                conversation_id=tracker.sender_id,
                cedula=identidad.cedula,
                datos={**datos, "multa": f"{resumen.multa:.2f}"},
            )
            pago = await s.pagos.crear(
                solicitud.id,
                concepto=textos().render("votacion_pago_concepto", proceso=resumen.proceso).text,
                monto=resumen.multa,
                detalle={"tramite": TRAMITE.clave, "vueltas": [r.vuelta for r in resumen.rondas if r.multa]},
            )
            say(
                dispatcher,
                "votacion_pagar",
                numero=solicitud.numero,
                monto=f"{pago.monto:.2f}",
                enlace=s.pagos.url(pago.id),
            )
            return
        solicitud = await s.solicitudes.crear(
            tramite=TRAMITE.clave, conversation_id=tracker.sender_id, cedula=identidad.cedula, datos=datos
        )
        resultado = await tramite.procesar(s, solicitud, identidad.cedula)
        numero = resultado.solicitud.numero
        if resultado.estado is EstadoSolicitud.EMITIDA and resultado.documento is not None:
            say(dispatcher, "votacion_emitido", numero=numero, codigo=resultado.documento.verification_code)
            deliver_documents(dispatcher, document_payloads(resultado.documento))
        elif resultado.estado is EstadoSolicitud.EN_PROCESO:
            say(dispatcher, "tramite_pendiente_registro", numero=numero, institucion="el CNE")
        else:
            say(dispatcher, "votacion_rechazado", numero=numero)
