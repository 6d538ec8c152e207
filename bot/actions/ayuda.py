"""`ayuda`: the menu of services, written from the trámites' declarations (`bot.tramites.registry`) so that
fees, institutions and buttons stay in one place."""

from __future__ import annotations

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from bot.actions.runtime import say, textos
from bot.tramites import registry


class ActionAyuda(Action):
    def name(self) -> str:
        return "action_ayuda"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        lines = []
        buttons = []
        for servicio in registry.TRAMITES:
            costo = (
                textos().render("ayuda_costo", monto=f"{servicio.costo_usd:.2f}").text
                if servicio.costo_usd
                else textos().render("ayuda_gratis").text
            )
            lines.append(
                textos()
                .render("ayuda_linea", nombre=servicio.nombre, institucion=servicio.institucion, costo=costo)
                .text
            )
            buttons.append({"title": servicio.nombre, "payload": f"/{servicio.intent}"})
        buttons.append({"title": textos().render("ayuda_boton_verificar").text, "payload": "/verificar_documento"})
        say(dispatcher, "ayuda_menu", servicios="\n".join(lines))
        dispatcher.messages[-1]["buttons"] = buttons
        return []
