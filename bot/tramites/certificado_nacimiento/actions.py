"""`solicitar_certificado_nacimiento`: for the citizen or a minor child; USD 5 paid on the payment page."""

from __future__ import annotations

import re
from datetime import date
from typing import Any, ClassVar

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from bot.actions.forms import SlotKind, SlotSpec, TramiteForm, latest_intent, latest_text
from bot.actions.runtime import say, services, textos
from bot.actions.tramites import SubmitApplication, begin, confirmation, said_no_to_confirmation
from bot.identity.service import Identidad
from bot.language import fold, proper_name, words
from bot.privacy.redaction import mask_cedula
from bot.services import Servicios
from bot.tramites.certificado_nacimiento import TRAMITE
from bot.tramites.certificado_nacimiento import service as tramite
from integrations.registros.errors import RegistroError

FORM = "certificado_nacimiento_form"
SLOTS = ("nacimiento_para", "confirmar_nacimiento")
PARIENTE = "pariente:"  # a relative named before the children are known («la partida de mi hijo»)
# How citizens name relatives (the NLU's `parentesco` lookup finds the same; this reads a prefilled request).
PARENTESCOS = {
    "hijo": "hijo", "hijos": "hijo", "guagua": "hijo", "guaguas": "hijo", "bebe": "hijo", "nino": "hijo",
    "hija": "hija", "nina": "hija", "mama": "madre", "mami": "madre", "madre": "madre", "mamita": "madre",
    "papa": "padre", "papi": "padre", "padre": "padre", "taita": "padre", "papito": "padre",
    "esposo": "conyuge", "esposa": "conyuge", "marido": "conyuge", "conyuge": "conyuge",
    "hermano": "hermano", "hermana": "hermana", "nano": "hermano", "nana": "hermana",
    "abuelo": "abuelo", "abuela": "abuela", "abuelita": "abuela", "abuelito": "abuelo",
    "nieto": "nieto", "nieta": "nieta", "tio": "tio", "tia": "tia", "sobrino": "sobrino", "sobrina": "sobrina",
    "primo": "primo", "prima": "prima", "suegro": "suegro", "suegra": "suegra",
}  # fmt: skip
_DECEASED = frozenset(
    {"fallecio", "fallecido", "fallecida", "murio", "muerto", "muerta", "difunto", "difunta", "finado"}
)
# An answer to «¿para quién es?», whatever the NLU makes of it («¿y la mía sí puedo sacar?», «la mía nomás»).
PARA_QUIEN = re.compile(r"\b(para mi|la mia|el mio|mia|mio|yo mismo|yo misma|mi persona|propia|propio)\b")
_SELF_WORDS = frozenset({"mi", "mio", "mia", "mismo", "misma", "yo", "propio", "propia", "personal", "persona"})


def pariente_en(tracker: Tracker, text: str) -> str | None:
    """The relative a message names: the NLU's `parentesco` entity, or a word of `PARENTESCOS`."""
    entity = next(tracker.get_latest_entity_values("parentesco"), None)
    if entity:
        return PARENTESCOS.get(fold(str(entity)), fold(str(entity)))
    return next((PARENTESCOS[w] for w in words(text) if w in PARENTESCOS), None)


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
    return [proper_name(h.nombres or h.nombre) for h in tramite.menores(hijos, date.today())]


class ActionIniciarCertificadoNacimiento(Action):
    def name(self) -> str:
        return "action_iniciar_certificado_nacimiento"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        events = await begin(dispatcher, tracker, TRAMITE)
        text = latest_text(tracker)
        pariente = None if text.startswith("/") else pariente_en(tracker, text)
        # «la partida de mi hijo»: kept to be read once the children are known (after identity).
        return [*events, SlotSet("nacimiento_para", f"{PARIENTE}{pariente}")] if pariente else events


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
        dispatcher.messages[-1]["buttons"] = (buttons + dispatcher.messages[-1]["buttons"])[:10]
        return []


class ValidateCertificadoNacimientoForm(TramiteForm):
    slots: ClassVar[dict[str, SlotSpec]] = {
        "nacimiento_para": SlotSpec(SlotKind.CHOICE, entity="parentesco", accepts=PARA_QUIEN),
        "confirmar_nacimiento": SlotSpec(SlotKind.CONFIRM, hint="confirmar_si_o_no"),
    }

    def name(self) -> str:
        return "validate_certificado_nacimiento_form"

    async def validate_nacimiento_para(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        raw = str(value or "")
        if raw == tramite.PROPIO or raw.startswith("hijo:"):
            return {"nacimiento_para": raw}
        children = await _children(tracker)
        said = words(raw)
        for index, name in enumerate(children):
            if any(part in said for part in words(name)):
                return {"nacimiento_para": f"hijo:{index}"}
        pariente = raw.removeprefix(PARIENTE) if raw.startswith(PARIENTE) else pariente_en(tracker, raw)
        if pariente in TRAMITE.familiares:  # a son or a daughter: which one, among the minor children
            if len(children) == 1:
                return {"nacimiento_para": "hijo:0"}
            say(dispatcher, "nacimiento_cual_hijo" if children else "nacimiento_sin_hijos_menores")
            return {"nacimiento_para": None}
        if pariente is not None and _DECEASED & set(words(latest_text(tracker)) + said):
            say(dispatcher, "nacimiento_pariente_fallecido")  # the rule, with care: a relative who died
            return {"nacimiento_para": None}
        if pariente is not None:  # the rule: oneself or a minor child; say why and what else to do
            key = f"pariente_{pariente}" if f"pariente_{pariente}" in textos().keys() else "pariente_otro"  # noqa: SIM118
            say(dispatcher, "nacimiento_solo_propio_o_hijo", quien=textos().render(key).text)
            return {"nacimiento_para": None}
        intent, _ = latest_intent(tracker)
        if (_SELF_WORDS & set(said)) or said == ["1"] or (intent == "afirmar" and not children):
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
        correction = said_no_to_confirmation(tracker)  # «no, es para mi hijo Mateo»: who it is for, corrected
        if correction:
            scratch = CollectingDispatcher()
            para = await self.validate_nacimiento_para(correction, scratch, tracker, domain)
            if para["nacimiento_para"] is not None:
                return {**para, "confirmar_nacimiento": None}
            if pariente_en(tracker, correction) is not None:  # «no, es para mi mamá»: the rule, and why
                dispatcher.messages.extend(scratch.messages)
                return {"nacimiento_para": None, "confirmar_nacimiento": None}
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
            titular = f"{proper_name(persona.nombre)} ({mask_cedula(persona.cedula)})"
        except (RegistroError, IndexError, ValueError):
            titular = identidad.nombres
        say(dispatcher, "nacimiento_resumen", titular=titular, costo=f"{tramite.COSTO:.2f}")
        return []


class ActionSolicitarCertificadoNacimiento(SubmitApplication):
    """Submit: the application waits for the USD 5 payment; the worker issues it once paid."""

    tramite = TRAMITE
    slots = SLOTS

    def name(self) -> str:
        return "action_solicitar_certificado_nacimiento"

    async def submit(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, s: Servicios, identidad: Identidad
    ) -> None:
        solicitud = await s.solicitudes.crear(
            tramite=TRAMITE.clave,
            conversation_id=tracker.sender_id,
            cedula=identidad.cedula,
            datos={"para": tracker.get_slot("nacimiento_para") or tramite.PROPIO},
        )
        pago = await s.pagos.crear(
            solicitud.id, concepto=TRAMITE.nombre, monto=TRAMITE.costo_usd, detalle={"tramite": TRAMITE.clave}
        )
        say(
            dispatcher,
            "nacimiento_pagar",
            numero=solicitud.numero,
            monto=f"{pago.monto:.2f}",
            enlace=s.pagos.url(pago.id),
        )
