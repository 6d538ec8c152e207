"""`ayuda`: the menu of services, written from the trámites' declarations (`bot.tramites.registry`) so that
fees, institutions and buttons stay in one place.

Sized for WhatsApp: the overview lists every service in its text with three buttons (the groups); a group
(`/ayuda{"grupo": "vehiculos"}`) is a list of at most ten rows.
"""

from __future__ import annotations

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from bot.actions.runtime import say, textos
from bot.tramites import registry
from bot.tramites.declaration import Grupo, Tramite

MAX_ROWS = 10


def _linea(tramite: Tramite) -> str:
    costo = (
        textos().render("ayuda_costo", monto=f"{tramite.costo_usd:.2f}").text
        if tramite.costo_usd
        else textos().render("ayuda_gratis").text
    )
    return textos().render("ayuda_linea", nombre=tramite.nombre, institucion=tramite.institucion, costo=costo).text


class ActionAyuda(Action):
    def name(self) -> str:
        return "action_ayuda"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        chosen = next(tracker.get_latest_entity_values("grupo"), None)
        try:
            grupo = Grupo(str(chosen)) if chosen else None
        except ValueError:
            grupo = None
        if grupo is None:
            secciones = []
            for g in Grupo:
                titulo = textos().render(f"ayuda_grupo_{g.value}").text
                secciones.append(titulo + "\n" + "\n".join(_linea(t) for t in registry.in_group(g)))
            say(dispatcher, "ayuda_menu", servicios="\n".join(secciones))
            return []
        tramites = registry.in_group(grupo)
        buttons = [{"title": t.nombre, "payload": f"/{t.intent}"} for t in tramites]
        if grupo is Grupo.DATOS:
            buttons.append({"title": textos().render("ayuda_boton_verificar").text, "payload": "/verificar_documento"})
        say(dispatcher, "ayuda_grupo", grupo=textos().render(f"ayuda_grupo_{grupo.value}").text)
        dispatcher.messages[-1]["buttons"] = buttons[:MAX_ROWS]
        return []
