"""The base of every form's validation: only data fills a slot; everything else is answered as what it is.

Rasa fills no form slot from free text here (the domain maps them as ``custom``); this base reads each
message of a form by its NLU intent and the kind of the slot being asked:

- **data** for the slot (a reason typed at the reason question, «sí» at a confirmation, a plate, a
  number from a list): it fills the slot and the trámite's ``validate_<slot>`` checks it;
- an **interruption** (a question, another service, a complaint, «asesor», «cancelar»…): nothing is filled,
  the form rejects the turn, a rule answers it (`dialogs/reglas/conversacion.yml`) and the form then asks
  the same question again, in the same reply;
- **not data** («no sé» at the reason, «ok» at a question that needs a number): a hint for that slot,
  and the same question again.

So nothing a citizen did not mean as data reaches a slot, and from there a document.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, ClassVar

from rasa_sdk import FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from bot.actions.runtime import say
from bot.language import adds_a_request, fold, is_question, is_unsure, says_stop, says_yes
from bot.tramites import registry

FALLBACK = "nlu_fallback"  # the intent the NLU gives when it is too unsure to name one
DATA_INTENTS = frozenset({"informar", FALLBACK})
CANCEL_OR_PERSON = frozenset({"cancelar", "hablar_con_agente", "insultar"})  # never read as a yes
YES, NO = "afirmar", "negar"
# Intents that are never data for a slot: a rule answers them and the form resumes (or stops, for
# cancelar and hablar_con_agente). Trámite intents count too (see `is_interruption`).
INTERRUPTIONS = frozenset(
    {
        "preguntar_costo",
        "preguntar_requisitos",
        "preguntar_tiempo",
        "preguntar_vigencia",
        "preguntar_lugar_horario",
        "preguntar_seguridad",
        "preguntar_formas_pago",
        "preguntar_tramite",
        "preguntar_bot",
        "consultar_otra_entidad",
        "quejarse",
        "insultar",
        "hablar_con_agente",
        "cancelar",
        "ayuda",
        "repetir",
        "problema_entrega",
        "confirmar_pago",
        "compartir_documento",
        "consultar_privacidad",
        "borrar_mis_datos",
        "exportar_mis_datos",
        "corregir_mis_datos",
        "iniciar_sesion",
        "cerrar_sesion",
        "verificar_documento",
        "verificar_mensaje",
        "suscribir_recordatorios",
        "cancelar_recordatorios",
        "mis_documentos",
        "estado_tramite",
        "saludar",
        "despedirse",
        "agradecer",
        "fuera_de_alcance",
        "solicitar_certificado_nacimiento",
        "solicitar_antecedentes_penales",
        "solicitar_certificado_votacion",
        "consultar_licencia",
        "consultar_puntos_licencia",
        "consultar_multas",
        "consultar_matricula",
        "consultar_ruc",
        "ver_cedula_digital",
    }
)
_REFERENCE = re.compile(r"\b(ced|ruc|dac|tel)_[0-9a-f]{10}\b")
# An answer that picks from a numbered list, whatever the NLU makes of it («pago la 3 nomás», «compartir 1»).
LIST_PICK = re.compile(r"\b(\d{1,2}|todas|todos|ninguna|ninguno|primer[oa]?|segund[oa]|tercer[oa]?|ultim[oa])\b")


class SlotKind(StrEnum):
    TEXT = "text"  # free text that will be printed (a reason): only data intents fill it
    CHOICE = "choice"  # one or more options of a list, a name, a plate: data, numbers, entities
    CONFIRM = "confirm"  # yes or no at a summary; a «no, …» may carry a correction
    ENTITY = "entity"  # an identifier the NLU finds as an entity (cédula, plate, application number)
    SECRET = "secret"  # noqa: S105 - the código dactilar: a vault reference, read once


class Verdict(StrEnum):
    DATA = "data"
    INTERRUPTION = "interruption"
    NOT_DATA = "not_data"


@dataclass(frozen=True)
class SlotSpec:
    """How a form reads the answers to one of its questions."""

    kind: SlotKind
    hint: str | None = None  # template said when the message is not data for this slot
    entity: str | None = None  # the entity that carries the value (ENTITY), if any
    accepts: re.Pattern[str] | None = None  # text that is data whatever its intent («para un trabajo»)
    exits: frozenset[str] = frozenset()  # intents that answer the question by ending it («nada más, gracias»)


def latest_intent(tracker: Tracker) -> tuple[str, float]:
    intent = (tracker.latest_message or {}).get("intent") or {}
    return str(intent.get("name") or ""), float(intent.get("confidence") or 0.0)


def latest_text(tracker: Tracker) -> str:
    return str((tracker.latest_message or {}).get("text") or "").strip()


def unsure_no(tracker: Tracker) -> bool:
    """The NLU was too unsure to name an intent (``nlu_fallback``) and its best reading is a no or a cancel
    («no, ya no pago nada hoy»: cancelar 0.55, negar 0.21): at a yes/no question, that is a no."""
    intent, _ = latest_intent(tracker)
    text = latest_text(tracker)
    if intent != FALLBACK or is_question(text) or says_yes(text):  # «sí, mándelo nomás» read as unsure: a yes
        return False
    ranking = (tracker.latest_message or {}).get("intent_ranking") or ()
    best = next((str(r.get("name")) for r in ranking if r.get("name") != FALLBACK), "")
    return best in (NO, "cancelar")


def read_yes_no(tracker: Tracker) -> bool | None:
    """True for a yes («sí», «bueno», «dale»), False for a no, None for anything else."""
    intent, _ = latest_intent(tracker)
    if intent == NO:
        return False
    return True if intent == YES or says_yes(latest_text(tracker)) else None


def is_interruption(intent: str) -> bool:
    return intent in INTERRUPTIONS


def read_answer(tracker: Tracker, spec: SlotSpec) -> Verdict:
    """What the latest message is for a form asking a slot of this kind."""
    intent, _ = latest_intent(tracker)
    text = latest_text(tracker)
    entities = {str(e.get("entity")) for e in (tracker.latest_message or {}).get("entities") or ()}
    if intent in spec.exits:
        return Verdict.DATA  # the trámite's validation reads it as «nothing more»
    if text.startswith("/") and intent not in (YES, NO) and intent not in DATA_INTENTS:
        return Verdict.INTERRUPTION if is_interruption(intent) else Verdict.NOT_DATA  # a button of another step
    if is_unsure(text):
        return Verdict.NOT_DATA  # «no sé» is neither a «no» nor data
    if spec.kind is SlotKind.CONFIRM:
        # A reply answers the question that is pending: «sí, quiero pagar ahora» is a yes whatever else it says.
        if intent in (YES, NO) or (intent not in CANCEL_OR_PERSON and says_yes(text)) or unsure_no(tracker):
            return Verdict.DATA
        if intent == "cancelar" and says_yes(text) and not says_stop(text):
            return Verdict.DATA  # «ya mijo, mándemelo nomás» read as a cancel: nothing in it stops anything
        if (
            intent not in CANCEL_OR_PERSON
            and not is_question(text)
            and spec.accepts is not None
            and spec.accepts.search(fold(text))
        ):
            return Verdict.NOT_DATA  # a correction shaped as data («mejor solo la primera»): the trámite reads it
        return Verdict.INTERRUPTION if is_interruption(intent) else Verdict.NOT_DATA
    if spec.kind is SlotKind.SECRET:
        if _REFERENCE.search(text) and text.startswith("dac_"):
            return Verdict.DATA
        if "codigo_dactilar" in entities or (intent in DATA_INTENTS and not is_question(text)):
            return Verdict.DATA
        return Verdict.INTERRUPTION if is_interruption(intent) else Verdict.NOT_DATA
    if spec.entity and spec.entity in entities:
        return Verdict.DATA
    shaped_as_data = spec.accepts is not None and bool(spec.accepts.search(fold(text)))
    if shaped_as_data and (spec.kind is not SlotKind.TEXT or not is_question(text)):  # a question is never printed
        return Verdict.DATA
    one_word_reason = spec.kind is SlotKind.TEXT and len(text.split()) <= 2 and not is_question(text)
    if one_word_reason and intent in ("preguntar_tramite", "consultar_otra_entidad", "fuera_de_alcance"):
        return Verdict.DATA  # «trabajo» as the reason: a word, not a question (its length is checked as data)
    if one_word_reason and intent in (YES, NO) and not says_yes(text) and not says_stop(text):
        return Verdict.DATA  # «viaje» read as a yes: no word of it says yes or no, so it is the reason itself
    if is_interruption(intent):
        return Verdict.INTERRUPTION
    if is_question(text):
        return Verdict.INTERRUPTION  # a question the NLU could not place: the fallback tries to answer it
    if intent in DATA_INTENTS:
        return Verdict.DATA
    if spec.kind is SlotKind.CHOICE and intent in (YES, NO):
        return Verdict.DATA  # «sí» to a single option, «no» to paying now: the trámite reads it
    return Verdict.NOT_DATA


class TramiteForm(FormValidationAction, ABC):
    """Validation of a form whose slots are read by kind (see the module docstring).

    Subclasses declare ``slots`` (the spec of every slot the form asks) and keep rasa-sdk's
    ``extract_<slot>`` / ``validate_<slot>`` methods for what is particular to them. A slot whose spec has no
    ``extract_<slot>`` method is filled with the message's text (or the entity's value) when it is data.
    """

    slots: ClassVar[Mapping[str, SlotSpec]] = {}

    @abstractmethod
    def name(self) -> str:
        """``validate_<form>``."""

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        requested = tracker.get_slot("requested_slot")
        spec = self.slots.get(str(requested)) if requested in self.domain_slots(domain) else None
        if spec is not None and offer_still_open(tracker) and read_yes_no(tracker) is not None:
            return []  # the answer to the offer just made (a person, the next trámite): the rules take it
        if spec is not None and not self.corrects_another_slot(tracker, domain, str(requested)):
            verdict = read_answer(tracker, spec)
            noted = self.note_other_request(dispatcher, tracker) if verdict is Verdict.INTERRUPTION else None
            if noted is not None:
                return [*noted, SlotSet(str(requested), tracker.get_slot(str(requested)))]
            if verdict is Verdict.INTERRUPTION:
                return []  # nothing validated: the form rejects this turn and a rule answers it
            if verdict is Verdict.NOT_DATA:
                events = await self.not_data(str(requested), spec, dispatcher, tracker)
                if events is not None:
                    return events
        return list(await super().run(dispatcher, tracker, domain))

    def corrects_another_slot(self, tracker: Tracker, domain: DomainDict, requested: str) -> bool:
        """The message carries data for another of this form's slots («no, mejor las de la placa GBC-2468»): the
        trámite's validation reads it as a correction."""
        extracted = set(tracker.slots_to_validate()) & set(self.domain_slots(domain))
        entities = {str(e.get("entity")) for e in (tracker.latest_message or {}).get("entities") or ()}
        carried = {slot for slot, spec in self.slots.items() if spec.entity and spec.entity in entities}
        return bool((extracted | carried) - {requested, "requested_slot"})

    def note_other_request(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType] | None:
        """«¿Y el de votación?» in the middle of this form: noted for the end, this form goes on. A plain
        request or a change of mind («mejor quiero la licencia») goes to the rules, which pause this form."""
        intent, _ = latest_intent(tracker)
        other = registry.by_intent(intent)
        if other is None or other == registry.by_form(self.form_name()) or not adds_a_request(latest_text(tracker)):
            return None
        say(dispatcher, "tramite_anotado", nombre=other.nombre)
        return [SlotSet("tramite_siguiente", other.clave)]

    async def not_data(
        self, slot: str, spec: SlotSpec, dispatcher: CollectingDispatcher, tracker: Tracker
    ) -> list[EventType] | None:
        """A hint and the same question again; None lets the trámite's own validation read the message."""
        if spec.hint is None:
            return None
        say(dispatcher, spec.hint)
        return [SlotSet(slot, None)]

    async def get_extraction_events(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        events: list[EventType] = list(await super().get_extraction_events(dispatcher, tracker, domain))
        requested = tracker.get_slot("requested_slot")
        spec = self.slots.get(str(requested))
        if spec is not None and spec.kind is SlotKind.CONFIRM and requested in self.domain_slots(domain):
            intent, _ = latest_intent(tracker)
            answered = read_answer(tracker, spec) is Verdict.DATA and intent not in (YES, NO)
            if answered and not any(e.get("name") == requested for e in events):
                # The NLU found no yes or no, but the sentence says yes, or its unsure reading is a no.
                events.append(SlotSet(str(requested), not unsure_no(tracker)))
            return events
        if (
            spec is None
            or requested not in self.domain_slots(domain)
            or any(e.get("name") == requested for e in events)
            or read_answer(tracker, spec) is not Verdict.DATA
        ):
            return events
        value: Any = latest_text(tracker)
        if spec.entity:
            value = next(tracker.get_latest_entity_values(spec.entity), None) or value
        events.append(SlotSet(str(requested), value))
        # Everything the citizen says counts: another of this form's identifiers in the same message («mi cédula
        # es … y mi código …») fills its slot too, if it is still empty.
        for slot, other in self.slots.items():
            found = next(tracker.get_latest_entity_values(other.entity), None) if other.entity else None
            if found and slot != requested and slot in self.domain_slots(domain) and tracker.get_slot(slot) is None:
                events.append(SlotSet(slot, found))
        return events


PAYMENT_LINK = "/pagos/"  # the path of the payment page's links (bot/gateway/payments.py)


def latest_bot_text(tracker: Tracker) -> str:
    """What the bot said last (its last message with text)."""
    for event in reversed(tracker.events):
        if event.get("event") == "bot" and event.get("text"):
            return str(event["text"])
    return ""


def payment_link_sent(tracker: Tracker) -> bool:
    """Whether the bot's last message gave a payment link (the citizen is about to pay)."""
    return PAYMENT_LINK in latest_bot_text(tracker)


def previous_user_text(tracker: Tracker) -> str:
    """What the citizen wrote before the latest message ("" when nothing); a message replayed under another
    intent (`replay_as`) is the latest one, not an earlier one."""
    latest = latest_text(tracker)
    seen_latest = False
    for event in reversed(tracker.events):
        if event.get("event") != "user":
            continue
        text = str(event.get("text") or "").strip()
        if seen_latest and text != latest:
            return text
        seen_latest = True
    return ""


def in_form(tracker: Tracker) -> bool:
    return bool((tracker.active_loop or {}).get("name"))


def no_buttons_in_form(dispatcher: CollectingDispatcher, tracker: Tracker) -> None:
    """Inside a form its question follows with its own buttons: the answer to an interruption has none
    (on WhatsApp a «1» must mean one thing)."""
    if in_form(tracker):
        for message in dispatcher.messages:
            message["buttons"] = []


def offer_still_open(tracker: Tracker) -> str | None:
    """The intent offered by the bot's latest answer, if the citizen is answering that answer now."""
    offered = tracker.get_slot("oferta")
    if not offered:
        return None
    users = 0
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            users += 1
        elif event.get("event") == "slot" and event.get("name") == "oferta":
            return str(offered) if users == 1 and event.get("value") == offered else None
    return None
