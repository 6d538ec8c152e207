"""Services of other institutions («el pasaporte», «mi afiliación al IESS»): where to go, in one message.

Never a form of ours: the answer names the institution and its official site from `data/directorio.yml`;
inside a form, the form then asks its pending question again.
"""

from __future__ import annotations

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from bot.actions.forms import latest_text, no_buttons_in_form
from bot.actions.questions import GOB_EC, directory
from bot.actions.runtime import say

ENTIDAD = "entidad_actual"  # the other institution's service the conversation is about (follow-up questions)


class ActionOtraEntidad(Action):
    def name(self) -> str:
        return "action_otra_entidad"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        text = latest_text(tracker)
        servicio = directory().find(text)
        if servicio is None:
            institucion = directory().institution_named(text)
            if institucion is not None:
                say(
                    dispatcher, "otra_entidad_institucion", nombre=institucion.nombre, sitio=institucion.sitio or GOB_EC
                )
            else:
                say(dispatcher, "otra_entidad_desconocida", sitio=GOB_EC)
            no_buttons_in_form(dispatcher, tracker)
            return [SlotSet(ENTIDAD, None)]
        dispatcher.utter_message(text=servicio.answer, plantilla=f"otra_entidad:{servicio.clave}")
        no_buttons_in_form(dispatcher, tracker)
        return [SlotSet(ENTIDAD, servicio.clave), SlotSet("tramite_actual", None)]
