"""The citizen's rights in chat: a copy of their data, and deletion after an explicit confirmation."""

from __future__ import annotations

import asyncio

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from bot.actions.runtime import say, services
from bot.actions.tramites import confirmation


class ActionExportarMisDatos(Action):
    def name(self) -> str:
        return "action_exportar_mis_datos"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        s = await services()
        data = await s.privacidad.exportar(tracker.sender_id)
        token = await asyncio.to_thread(s.exportes.put, data)  # a disk or a bucket: off the event loop
        enlace = f"{s.settings.effective_public_base_url}/mis-datos/{token}"
        if data["alcance"] == "todas_sus_conversaciones":  # what the copy holds, said as it is
            count = len(data["conversaciones"])
            say(
                dispatcher,
                "exportar_listo",
                enlace=enlace,
                conversaciones=_plural(count, "conversación", "conversaciones"),
            )
        else:
            say(dispatcher, "exportar_listo_sin_identidad", enlace=enlace)
        return []


def _plural(count: int, one: str, many: str) -> str:
    return f"{count} {one if count == 1 else many}"


class ActionAskConfirmarBorrado(Action):
    def name(self) -> str:
        return "action_ask_confirmar_borrado"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        current = await (await services()).privacidad.identity_is_current(tracker.sender_id)
        say(dispatcher, "borrar_confirmar" if current else "borrar_confirmar_sin_identidad")
        return []


class ActionBorrarMisDatos(Action):
    """Confirmed: tell the gateway to delete everything of this chat right after this answer."""

    def name(self) -> str:
        return "action_borrar_mis_datos"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        if confirmation(tracker.get_slot("confirmar_borrado")) is True:
            # What the gateway's deletion will cover, checked now as it will be then: with a current identity,
            # everything of that citizen; without one, this conversation only.
            current = await (await services()).privacidad.identity_is_current(tracker.sender_id)
            say(dispatcher, "borrar_hecho" if current else "borrar_hecho_sin_identidad")
            dispatcher.utter_message(json_message={"privacidad": "borrar"})
        else:
            say(dispatcher, "borrar_cancelado")
        return [SlotSet("confirmar_borrado", None)]
