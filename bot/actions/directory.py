"""Services of other institutions («el pasaporte», «mi afiliación al IESS»): where to go, in one message.

Never a form of ours: the answer names the institution and its official site from `data/directorio.yml`;
inside a form, the form then asks its pending question again.
"""

from __future__ import annotations

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from bot.actions.forms import in_form, latest_text, no_buttons_in_form
from bot.actions.general import replay_as, taken_offer
from bot.actions.questions import GOB_EC, best_answer, directory, site_of
from bot.actions.runtime import say
from bot.actions.tramites import current_tramite
from bot.tramites.registry import longest_name

ENTIDAD = "entidad_actual"  # the other institution's service the conversation is about (follow-up questions)


class ActionOtraEntidad(Action):
    def name(self) -> str:
        return "action_otra_entidad"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        taken = taken_offer(tracker)
        if taken is not None:
            return taken
        text = latest_text(tracker)
        servicio = directory().find(text)
        ours = longest_name(text)
        if (
            ours is not None
            and not in_form(tracker)
            and (servicio is None or ours[1] >= directory().size_of(servicio, text))
        ):
            # «la partida de nacimiento de mi papá, para la herencia»: ours is named more fully; it explains its rules.
            return replay_as(tracker, ours[0].intent)
        if servicio is None:
            self.unknown(dispatcher, tracker, text)
            no_buttons_in_form(dispatcher, tracker)
            return []
        dispatcher.utter_message(
            text=directory().answer_for(servicio, text), plantilla=f"otra_entidad:{servicio.clave}"
        )
        no_buttons_in_form(dispatcher, tracker)
        return [SlotSet(ENTIDAD, servicio.clave), SlotSet("tramite_actual", None)]

    @staticmethod
    def unknown(dispatcher: CollectingDispatcher, tracker: Tracker, text: str) -> None:
        """Not in the directory: the institution named; or, after another institution's service or in a trámite
        («¿y con qué clave entro?», «¿y cómo saco una?»), the one that conversation is about."""
        institucion = directory().institution_named(text)
        external = next((e for e in directory().servicios if e.clave == tracker.get_slot(ENTIDAD)), None)
        tramite = current_tramite(tracker)
        if institucion is None and external is not None:
            institucion = external.institucion
        if institucion is not None:
            say(dispatcher, "otra_entidad_institucion", nombre=institucion.nombre, sitio=institucion.sitio or GOB_EC)
            return
        found = best_answer(text, (tramite,)) if tramite is not None else None
        if found is not None:
            declared, pregunta = found
            dispatcher.utter_message(text=pregunta.respuesta, plantilla=f"pregunta:{declared.clave}:{pregunta.tema}")
        elif tramite is not None:
            say(dispatcher, "otra_entidad_institucion", nombre=tramite.institucion, sitio=site_of(tramite))
        else:
            say(dispatcher, "otra_entidad_desconocida", sitio=GOB_EC)
