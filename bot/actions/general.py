"""General conversation actions: not understood, asking for a person, cancelling."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActiveLoop, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.actions.runtime import say

FALLBACK_INTENT = "nlu_fallback"
UNCLEAR_IN_A_ROW_FOR_PERSON = 2


def unclear_streak(tracker: Tracker) -> int:
    """How many of the latest user messages in a row the NLU did not understand."""
    streak = 0
    for event in reversed(tracker.events):
        if event.get("event") != "user":
            continue
        intent = (event.get("parse_data") or {}).get("intent") or {}
        if intent.get("name") != FALLBACK_INTENT:
            break
        streak += 1
    return streak


def handoff_payload(reason: str, team: str = "general") -> dict[str, Any]:
    """The custom payload the gateway turns into a handoff request (architecture contract)."""
    return {"handoff": {"reason": reason, "team": team}}


class ActionNoEntendido(Action):
    """Ask to rephrase; on the second unclear message in a row, ask for a person."""

    def name(self) -> str:
        return "action_no_entendido"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        if unclear_streak(tracker) >= UNCLEAR_IN_A_ROW_FOR_PERSON:
            say(dispatcher, "no_entendido_pasa_a_persona")
            dispatcher.utter_message(json_message=handoff_payload("no_entendido"))
        else:
            say(dispatcher, "no_entendido")
        return []


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


class ActionCancelar(Action):
    """Stop the trámite in progress, forgetting what its form had asked, or say there is none."""

    def name(self) -> str:
        return "action_cancelar"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        form = (tracker.active_loop or {}).get("name")
        if not form:
            say(dispatcher, "nada_que_cancelar")
            return [ActiveLoop(None)]  # the same event with or without a form (Rasa's rules require it)
        form_slots = ((domain.get("forms") or {}).get(form) or {}).get("required_slots") or []
        say(dispatcher, "tramite_cancelado")
        return [
            ActiveLoop(None),
            SlotSet("requested_slot", None),
            *(SlotSet(slot, None) for slot in form_slots),
        ]
