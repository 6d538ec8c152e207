"""`ver_cedula_digital`: the citizen's identity data now, and the signed digital cédula (PDF + image)."""

from __future__ import annotations

from rasa_sdk import Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from bot.actions.identity import require_identity
from bot.actions.runtime import say, services
from bot.actions.tramites import IdentifiedLookup
from bot.documents.service import document_payloads
from bot.privacy.redaction import mask_cedula
from bot.tramites.cedula_digital import TRAMITE
from bot.tramites.cedula_digital import service as tramite
from integrations.registros.errors import NotFound, Unavailable


async def mostrar_cedula_digital(
    dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
) -> list[EventType]:
    s = await services()
    identidad = await s.identidad.current(tracker.sender_id)
    if identidad is None:  # the link expired between the check and now: prove it again
        return (await require_identity(dispatcher, tracker, tramite=TRAMITE.clave, servicio=TRAMITE.servicio)) or []
    try:
        persona = await s.registros.registro_civil.consultar_ciudadano(identidad.cedula)
    except (Unavailable, NotFound):
        say(dispatcher, "registro_no_disponible", institucion="el Registro Civil")
        return []
    impresos = tramite.campos(persona)
    say(
        dispatcher,
        "cedula_digital_datos",
        nombre=tramite.titular(persona).name,
        cedula=mask_cedula(persona.cedula),
        nacimiento=impresos["fecha_nacimiento"],
        lugar=impresos["lugar_nacimiento"],
        nacionalidad=impresos["nacionalidad"],
        estado_civil=impresos["estado_civil"],
        expedicion=impresos["fecha_expedicion"],
        expiracion=tramite.fecha(persona.fecha_expiracion),
    )
    issued = await tramite.emitir(s, persona, conversation_id=tracker.sender_id)
    say(dispatcher, "cedula_digital_documento", codigo=issued.verification_code, url=issued.verification_url)
    for payload in document_payloads(issued):
        dispatcher.utter_message(json_message=payload)
    return []


class ActionVerCedulaDigital(IdentifiedLookup):
    tramite = TRAMITE

    def name(self) -> str:
        return "action_ver_cedula_digital"

    async def show(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        return await mostrar_cedula_digital(dispatcher, tracker, domain)
