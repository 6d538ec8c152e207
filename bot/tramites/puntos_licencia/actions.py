"""`consultar_puntos_licencia`: identity, then the points left out of 30 and the citations that took them.
A look-up: no form, no application."""

from __future__ import annotations

from rasa_sdk import Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from bot.actions.identity import require_identity
from bot.actions.runtime import say, services, textos
from bot.actions.tramites import IdentifiedLookup
from bot.language import sentence
from bot.tramites.licencia.service import PUNTOS_INICIALES, puntos_texto
from bot.tramites.puntos_licencia import TRAMITE
from bot.tramites.puntos_licencia import service as tramite
from integrations.registros.errors import NotFound, Rejected, Unavailable


async def mostrar_puntos(dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
    """Points and deductions of the citizen who proved their identity in this chat."""
    s = await services()
    identidad = await s.identidad.current(tracker.sender_id)
    if identidad is None:  # the link expired between the check and now: prove it again
        return (await require_identity(dispatcher, tracker, tramite=tramite.CLAVE, servicio=TRAMITE.servicio)) or []
    try:
        puntos = await tramite.consultar(s, identidad.cedula)
    except (NotFound, Rejected):
        puntos = None
    except Unavailable:
        say(dispatcher, "puntos_ant_no_disponible")
        return []
    if puntos is None:
        say(dispatcher, "puntos_sin_licencia")
        return []
    quedan = puntos.licencia.puntos
    say(dispatcher, "puntos_saldo", puntos=puntos_texto(quedan), maximo=puntos_texto(PUNTOS_INICIALES))
    if puntos.descuentos:
        lineas = [
            textos()
            .render(
                "puntos_linea",
                fecha=c.fecha.strftime("%d/%m/%Y"),
                descripcion=sentence(c.descripcion),
                articulo=c.articulo,
                puntos=puntos_texto(c.puntos),
            )
            .text
            for c in puntos.descuentos
        ]
        say(dispatcher, "puntos_descuentos", lineas="\n".join(lineas), total=puntos_texto(puntos.descontados))
    else:
        say(dispatcher, "puntos_sin_descuentos")
    if quedan <= 0:
        say(dispatcher, "puntos_agotados")
    elif quedan <= tramite.PUNTOS_BAJOS:
        say(dispatcher, "puntos_bajos")
    return []


class ActionConsultarPuntosLicencia(IdentifiedLookup):
    tramite = TRAMITE

    def name(self) -> str:
        return "action_consultar_puntos_licencia"

    async def show(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        return await mostrar_puntos(dispatcher, tracker, domain)
