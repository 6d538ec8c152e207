"""`solicitar_certificado_nacimiento`: for the citizen or a minor child; USD 5 paid on the payment page."""

from __future__ import annotations

import unicodedata
from datetime import date
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from bot.actions.identidad import VIGENTE, register_resume, require_identity
from bot.actions.runtime import say, services
from bot.actions.tramites import confirmation
from bot.privacy.redaction import mask_cedula
from bot.tramites.certificado_nacimiento import service as tramite
from integrations.registros.errores import RegistroError

FORM = "certificado_nacimiento_form"
SLOTS = ("nacimiento_para", "confirmar_nacimiento")
_SELF_WORDS = ("mi", "mio", "mismo", "misma", "propio", "propia", "yo")


def _plain(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFD", text.lower()) if unicodedata.category(c) != "Mn")


async def _children(tracker: Tracker) -> list[str]:
    """First names of the citizen's minor children, in the registry's order."""
    s = await services()
    identidad = await s.identidad.current(tracker.sender_id)
    if identidad is None:
        return []
    try:
        hijos = await s.registros.registro_civil.hijos(identidad.cedula)
    except RegistroError:
        return []
    return [(h.nombres or h.nombre).title() for h in tramite.menores(hijos, date.today())]


class ActionIniciarCertificadoNacimiento(Action):
    def name(self) -> str:
        return "action_iniciar_certificado_nacimiento"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        gate = await require_identity(
            dispatcher, tracker, tramite=tramite.CLAVE, servicio="pedir un certificado de nacimiento"
        )
        return gate if gate is not None else list(VIGENTE)


class ActionAskNacimientoPara(Action):
    def name(self) -> str:
        return "action_ask_nacimiento_para"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        children = await _children(tracker)
        buttons = [{"title": "Para mí", "payload": "para mí"}] + [
            {"title": f"Para {name}", "payload": f"para {name}"} for name in children
        ]
        key = "nacimiento_para_quien" if children else "nacimiento_para_quien_sin_hijos"
        say(dispatcher, key)
        dispatcher.messages[-1]["buttons"] = buttons + dispatcher.messages[-1]["buttons"]
        return []


class ValidateCertificadoNacimientoForm(FormValidationAction):
    def name(self) -> str:
        return "validate_certificado_nacimiento_form"

    async def validate_nacimiento_para(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        text = _plain(str(value or ""))
        children = await _children(tracker)
        for index, name in enumerate(children):
            if any(part in text.split() for part in _plain(name).split()):
                return {"nacimiento_para": f"hijo:{index}"}
        if any(word in text.split() for word in _SELF_WORDS) or text.strip() in ("1", "uno"):
            return {"nacimiento_para": tramite.PROPIO}
        say(dispatcher, "nacimiento_para_no_entendido")
        return {"nacimiento_para": None}

    async def validate_confirmar_nacimiento(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        answer = confirmation(value)
        if answer is True:
            return {"confirmar_nacimiento": True}
        if answer is None:
            say(dispatcher, "confirmar_si_o_no")
            return {"confirmar_nacimiento": None}
        say(dispatcher, "nacimiento_corregir")
        return {"nacimiento_para": None, "confirmar_nacimiento": None}


class ActionAskConfirmarNacimiento(Action):
    def name(self) -> str:
        return "action_ask_confirmar_nacimiento"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        s = await services()
        identidad = await s.identidad.current(tracker.sender_id)
        if identidad is None:
            return []
        para = str(tracker.get_slot("nacimiento_para") or tramite.PROPIO)
        try:
            persona = await tramite.titular(s, identidad.cedula, para)
            titular = f"{persona.nombre.title()} ({mask_cedula(persona.cedula)})"
        except (RegistroError, IndexError, ValueError):
            titular = identidad.nombres
        say(dispatcher, "nacimiento_resumen", titular=titular, costo=f"{tramite.COSTO:.2f}")
        return []


class ActionSolicitarCertificadoNacimiento(Action):
    """Submit: the application waits for the USD 5 payment; the worker issues it once paid."""

    def name(self) -> str:
        return "action_solicitar_certificado_nacimiento"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        s = await services()
        reset = [SlotSet(slot, None) for slot in SLOTS]
        identidad = await s.identidad.current(tracker.sender_id)
        if identidad is None:
            gate = await require_identity(dispatcher, tracker, tramite=tramite.CLAVE, servicio="pedir el certificado")
            return [*reset, *(gate or [])]
        solicitud = await s.solicitudes.crear(
            tramite=tramite.CLAVE,
            conversation_id=tracker.sender_id,
            cedula=identidad.cedula,
            datos={"para": tracker.get_slot("nacimiento_para") or tramite.PROPIO},
        )
        pago = await s.pagos.crear(
            solicitud.id,
            concepto="Certificado de nacimiento",
            monto=tramite.COSTO,
            detalle={"tramite": tramite.CLAVE},
        )
        say(
            dispatcher,
            "nacimiento_pagar",
            numero=solicitud.numero,
            monto=f"{pago.monto:.2f}",
            enlace=s.pagos.url(pago.id),
        )
        return reset


register_resume(tramite.CLAVE, FORM)
