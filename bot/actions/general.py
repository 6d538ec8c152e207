"""General conversation actions: not understood, asking for a person, cancelling."""

from __future__ import annotations

import re
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import (
    ActionExecuted,
    ActiveLoop,
    EventType,
    FollowupAction,
    SlotSet,
    UserUtteranceReverted,
    UserUttered,
)
from rasa_sdk.executor import CollectingDispatcher

from bot.actions.forms import offer_still_open
from bot.actions.runtime import say
from bot.language import fold, says_yes
from bot.tramites.registry import mentioned_tramites


def handoff_payload(reason: str, team: str = "general") -> dict[str, Any]:
    """The custom payload the gateway turns into a handoff request (architecture contract)."""
    return {"handoff": {"reason": reason, "team": team}}


class ActionPedirAgente(Action):
    """The citizen asked for a person, at any moment (also in the middle of a form)."""

    def name(self) -> str:
        return "action_pedir_agente"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        say(dispatcher, "agente_solicitado")
        dispatcher.utter_message(json_message=handoff_payload("pedido_ciudadano"))
        form = (tracker.active_loop or {}).get("name")
        if not form:
            return [ActiveLoop(None)]  # the same event with or without a form (Rasa's rules require it)
        # The form stops asking while a person attends; it is remembered so it can be resumed later.
        return [ActiveLoop(None), SlotSet("requested_slot", None), SlotSet("formulario_interrumpido", form)]


# «…, páseme con alguien»: a person was asked for, whatever else the message asks.
_WANTS_PERSON = re.compile(r"\b(pase\w*|comunique\w*|alguien|asesor\w*|persona|humano|agente|operador\w*)\b")
_SHORT_YES_WORDS = 5  # «sí, los puntos», «ya, de una, pásenme»: a yes to an offer, whatever the NLU read
_ASKS = re.compile(r"\b(por ?que|como|cuando|donde|cuanto|cuantos|cual)\b")
# Forms that are not a trámite say what stopping them means («mejor déjelo así» to «¿borro sus datos?»).
_CANCELLED = {"borrado_form": "borrar_cancelado"}


class ActionCancelar(Action):
    """Stop the trámite in progress, forgetting what its form had asked, or say there is none."""

    def name(self) -> str:
        return "action_cancelar"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        form = (tracker.active_loop or {}).get("name")
        if not form:
            text = str((tracker.latest_message or {}).get("text") or "")
            paid = next((t for t in mentioned_tramites(text) if t.se_paga), None)
            if paid is not None and not text.startswith("/"):
                # «¿cómo hago para cancelar la multa?»: in Ecuador «cancelar» a debt is paying it.
                return replay_as(tracker, paid.intent)
            say(dispatcher, "nada_que_cancelar")
            return [ActiveLoop(None)]  # the same event with or without a form (Rasa's rules require it)
        form_slots = ((domain.get("forms") or {}).get(form) or {}).get("required_slots") or []
        say(dispatcher, _CANCELLED.get(form, "tramite_cancelado"))
        return [
            ActiveLoop(None),
            SlotSet("requested_slot", None),
            *(SlotSet(slot, None) for slot in form_slots),
        ]


def replay_as(tracker: Tracker, intent: str, *, text: str | None = None, entities: bool = True) -> list[EventType]:
    """Read the latest message again as ``intent`` (its text and entities kept, unless told otherwise).

    The events undo the turn and replay the message with the new intent, so the rules of that intent take over
    (Rasa's own TwoStageFallback does the same after a citizen confirms what they meant).
    """
    latest = dict(tracker.latest_message or {})
    message = {
        "intent": {"name": intent, "confidence": 1.0},
        "entities": list(latest.get("entities") or ()) if entities else [],
        "text": text if text is not None else str(latest.get("text") or ""),
    }
    return [UserUtteranceReverted(), ActionExecuted("action_listen"), UserUttered(message["text"], parse_data=message)]


def taken_offer(tracker: Tracker) -> list[EventType] | None:
    """«Sí, los puntos» to «¿seguimos con los puntos?»: the offer just made is taken, whatever the NLU made of the
    words; None when no offer is open or the message does not say yes."""
    offered = offer_still_open(tracker)
    text = str((tracker.latest_message or {}).get("text") or "")
    if offered is None or not says_yes(text):
        return None
    intent = ((tracker.latest_message or {}).get("intent") or {}).get("name")
    if intent != "afirmar" and len(fold(text).split()) > _SHORT_YES_WORDS:
        return None  # «ya, dice que es para la residencia en Chile»: an answer that opens with «ya», not a yes
    return [*replay_as(tracker, offered, text=f"/{offered}", entities=False), SlotSet("oferta", None)]


def count_intents(tracker: Tracker, intents: frozenset[str]) -> int:
    """How many of the citizen's messages in this conversation had one of ``intents``."""
    return sum(
        1
        for event in tracker.events
        if event.get("event") == "user" and ((event.get("parse_data") or {}).get("intent") or {}).get("name") in intents
    )


UPSET = frozenset({"quejarse", "insultar"})


def hand_over(dispatcher: CollectingDispatcher, tracker: Tracker, *, reason: str, texto: str) -> list[EventType]:
    """Say ``texto`` and ask the gateway for a person; a form in progress is remembered to resume later."""
    say(dispatcher, texto)
    dispatcher.utter_message(json_message=handoff_payload(reason))
    form = (tracker.active_loop or {}).get("name")
    if not form:
        return [ActiveLoop(None)]
    return [ActiveLoop(None), SlotSet("requested_slot", None), SlotSet("formulario_interrumpido", form)]


class ActionMalestar(Action):
    """Frustration or an insult: an apology and a person at hand; a second time, or any insult, a person."""

    def name(self) -> str:
        return "action_malestar"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        intent = ((tracker.latest_message or {}).get("intent") or {}).get("name")
        if intent == "insultar":
            return hand_over(dispatcher, tracker, reason="insulto", texto="malestar_insulto")
        text = str((tracker.latest_message or {}).get("text") or "")
        if _WANTS_PERSON.search(fold(text)):  # «esto no sirve, páseme con alguien»: the person asked for
            return hand_over(dispatcher, tracker, reason="pedido_ciudadano", texto="agente_solicitado")
        if _ASKS.search(fold(text)) or "?" in text:
            # «chuta, ¿y por qué me bajaron?»: annoyed, but a question the trámite in progress answers.
            from bot.actions.questions import best_answer
            from bot.actions.tramites import current_tramite

            tramite = current_tramite(tracker)
            if tramite is not None and best_answer(text, (tramite,)) is not None:
                return replay_as(tracker, "preguntar_tramite")
        if count_intents(tracker, UPSET) >= 2:
            return hand_over(dispatcher, tracker, reason="frustracion", texto="malestar_persona")
        say(dispatcher, "malestar_disculpa")
        form = (tracker.active_loop or {}).get("name")
        if not form:
            return [SlotSet("oferta", "hablar_con_agente")]
        # One question at a time: the form does not ask again now; the next message answers the offer (the form
        # reads «sí» / «no» as its answer, anything else as usual).
        return [SlotSet("oferta", "hablar_con_agente"), ActiveLoop(form), FollowupAction("action_listen")]


class ActionRepetir(Action):
    """«¿Mande?»: the last thing Chasqui asked, again (inside a form the form asks it again by itself)."""

    def name(self) -> str:
        return "action_repetir"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        if (tracker.active_loop or {}).get("name"):
            say(dispatcher, "repetir_en_formulario")
            return []
        last = next((e for e in reversed(tracker.events) if e.get("event") == "bot" and e.get("text")), None)
        if last is None:
            say(dispatcher, "repetir_nada")
            return []
        say(dispatcher, "repetir_en_formulario")
        buttons = ((last.get("data") or {}).get("buttons")) or []
        dispatcher.utter_message(text=str(last["text"]), buttons=buttons, plantilla="repetir")
        return []


class ActionAfirmar(Action):
    """A «sí» outside a form: takes up the offer just made (the next trámite, a person), or asks what to do."""

    def name(self) -> str:
        return "action_afirmar"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        offered = offer_still_open(tracker)
        if offered is None:
            say(dispatcher, "en_que_ayudo")
            return [SlotSet("oferta", None)]
        # As if the citizen had tapped the offer's button: the rules of that intent take over.
        return [*replay_as(tracker, offered, text=f"/{offered}", entities=False), SlotSet("oferta", None)]


class ActionNegar(Action):
    """A «no» outside a form: declines the offer just made, or there was nothing to answer."""

    def name(self) -> str:
        return "action_negar"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        if offer_still_open(tracker):
            say(
                dispatcher,
                "oferta_rechazada_seguimos" if (tracker.active_loop or {}).get("name") else "oferta_rechazada",
            )
        else:
            say(dispatcher, "negar")
        return [SlotSet("oferta", None)]
