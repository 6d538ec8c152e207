"""A message the NLU did not understand: before asking to rephrase, look for what it names.

The NLU decides first; only when it cannot (`nlu_fallback`: too unsure, or torn between two intents, as with two
requests in one message) does this action look for a trámite or another institution named in the text, or a
question its trámite answers. Two unclear messages in a row ask for a person.
"""

from __future__ import annotations

import re
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.actions.forms import FALLBACK, in_form, latest_text, no_buttons_in_form, payment_link_sent
from bot.actions.general import handoff_payload, replay_as, taken_offer
from bot.actions.questions import GOB_EC, best_answer, candidates, directory, facts
from bot.actions.runtime import say, textos
from bot.actions.tramites import current_tramite
from bot.language import is_question, is_request, says_paid, says_yes
from bot.privacy.vault import REFERENCE
from bot.tramites.registry import mentioned_tramites

IDENTIFIERS = frozenset({"cedula", "codigo_dactilar", "placa", "ruc"})  # entities that are one's own data
UNCLEAR_IN_A_ROW_FOR_PERSON = 2


def unclear_streak(tracker: Tracker) -> int:
    """How many of the latest user messages in a row the NLU did not understand."""
    streak = 0
    for event in reversed(tracker.events):
        if event.get("event") != "user":
            continue
        intent = (event.get("parse_data") or {}).get("intent") or {}
        if intent.get("name") != FALLBACK:
            break
        streak += 1
    return streak


_ONLY_REFERENCES = re.compile(rf"(?:{REFERENCE.pattern}[\s,.;y]*)+")


class ActionNoEntendido(Action):
    """Ask to rephrase; on the second unclear message in a row, ask for a person."""

    def name(self) -> str:
        return "action_no_entendido"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        taken = taken_offer(tracker)
        if taken is not None:
            return taken
        text = latest_text(tracker)
        if not in_form(tracker) and _ONLY_REFERENCES.fullmatch(text.strip()):
            # A bare cédula, RUC or phone (the gateway's vault reference): data given up front, whatever the
            # NLU made of the random reference: «¿para qué trámite es este dato?».
            return replay_as(tracker, "informar")
        if not text.startswith("/"):
            named = mentioned_tramites(text)
            given = {str(e.get("entity")) for e in (tracker.latest_message or {}).get("entities") or ()}
            own_data = bool(given & IDENTIFIERS)
            if named and (not is_question(text) or is_request(text) or own_data) and not in_form(tracker):
                # «record policial y la papeleta», «¿y el récord sí me pueden dar aquí?»: a request, not a question;
                # «¿se me venció el brevete? cédula … código …»: a question about one's own, with the data to look.
                return replay_as(tracker, named[0].intent)
            if not in_form(tracker) and self.explain_relative(dispatcher, tracker):
                return []
            servicio = directory().find(text)
            if servicio is not None:
                dispatcher.utter_message(
                    text=directory().answer_for(servicio, text), plantilla=f"otra_entidad:{servicio.clave}"
                )
                no_buttons_in_form(dispatcher, tracker)
                if in_form(tracker):
                    return []
                # Follow-ups («¿y eso no lo pueden hacer ustedes?») are about that institution's service.
                return [SlotSet("entidad_actual", servicio.clave), SlotSet("tramite_actual", None)]
            if says_yes(text) and not in_form(tracker) and payment_link_sent(tracker):
                say(dispatcher, "pago_le_espero")  # «de ley, ahorita pago» after the payment link
                return []
            if says_paid(text) and not in_form(tracker):
                return replay_as(tracker, "confirmar_pago")  # «ya está pagado, ¿por dónde me llega?»
            if is_question(text):
                self.answer_question(dispatcher, tracker, text)
                no_buttons_in_form(dispatcher, tracker)
                return []
        if unclear_streak(tracker) >= UNCLEAR_IN_A_ROW_FOR_PERSON:
            say(dispatcher, "no_entendido_pasa_a_persona")
            dispatcher.utter_message(json_message=handoff_payload("no_entendido"))
        else:
            say(dispatcher, "no_entendido")
        return []

    @staticmethod
    def explain_relative(dispatcher: CollectingDispatcher, tracker: Tracker) -> bool:
        """«es que la moto está a nombre de mi papá» after the trámite found nothing: why it is only one's own,
        and what the relative can do (the trámite's own wording if it has one)."""
        familiar = next(tracker.get_latest_entity_values("parentesco"), None)
        tramite = current_tramite(tracker)
        if familiar is None or tramite is None or familiar in tramite.familiares:
            return False
        own, known = f"{tramite.clave}_de_un_familiar", textos().keys()
        if own in known:
            say(dispatcher, own)
        else:
            say(dispatcher, "tramite_solo_del_titular", familiar=familiar)
        return True

    @staticmethod
    def answer_question(dispatcher: CollectingDispatcher, tracker: Tracker, text: str) -> None:
        """The closest declared answer; else say honestly that there is none, and where to ask."""
        tramite = current_tramite(tracker)
        found = best_answer(text, candidates(tramite, text))
        if found is not None:
            declared, pregunta = found
            dispatcher.utter_message(text=pregunta.respuesta, plantilla=f"pregunta:{declared.clave}:{pregunta.tema}")
        elif tramite is not None:
            say(dispatcher, "pregunta_sin_respuesta", **facts(tramite))
        else:
            say(dispatcher, "pregunta_sin_respuesta_general", sitio=GOB_EC)


class ActionDatoSinTramite(Action):
    """Data with no trámite in progress («mi cédula es …»): the trámite the message names, if any, starts
    (with the data); otherwise, which trámite is it for? The data is kept: the form will not ask again."""

    def name(self) -> str:
        return "action_dato_sin_tramite"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        taken = taken_offer(tracker)
        if taken is not None:
            return taken
        text = latest_text(tracker)
        named = [] if text.startswith("/") else mentioned_tramites(text)
        if named and not in_form(tracker):
            return replay_as(tracker, named[0].intent)
        if not in_form(tracker) and ActionNoEntendido.explain_relative(dispatcher, tracker):
            return []  # «es que la moto está a nombre de mi papá» after the look-up: the rule, and what to do
        say(dispatcher, "dato_sin_tramite")
        return []
