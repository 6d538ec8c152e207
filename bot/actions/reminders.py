"""Reminders: «avíseme» subscribes this chat (identity proven first) and «no más avisos» stops them.

What to remind of comes from the message (entity ``tipo_recordatorio``, or its words), else from the trámite the
conversation is about (after a licence look-up, its expiry), else every kind. Without a proven identity the action
starts the identity form itself (no rule names a form) and subscribes once the identity is proved
(`register_resume`).
Withdrawing needs no identity: it is this chat's consent, and stopping must be as easy as asking.
"""

from __future__ import annotations

from collections.abc import Iterable

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from bot.actions.identity import FORM, register_resume, require_identity
from bot.actions.runtime import say, services, textos
from bot.language import first_mentioned
from bot.reminders.schedule import Kind
from bot.reminders.service import RemindersService

CLAVE = "recordatorios"  # the identity step's pending name (resumed by `register_resume`)
ENTITY = "tipo_recordatorio"
SLOT = "recordatorio_tipos"  # the kinds asked for, kept across the identity form
# The reminder kind each trámite's look-up or document leads to («avíseme» right after it).
KIND_BY_TRAMITE = {
    "licencia": Kind.LICENCIA,
    "puntos_licencia": Kind.LICENCIA,
    "matricula": Kind.MATRICULA,
    "multas": Kind.MULTAS,
    "antecedentes_penales": Kind.DOCUMENTOS,
    "cedula_digital": Kind.DOCUMENTOS,
    "certificado_nacimiento": Kind.DOCUMENTOS,
    "certificado_votacion": Kind.DOCUMENTOS,
    "mis_documentos": Kind.DOCUMENTOS,
    "ruc": Kind.DOCUMENTOS,
}


# The words that name each kind in a message (a typo in a long word is tolerated, `bot.language.mentions`).
KIND_WORDS = {
    Kind.LICENCIA: ("licencia", "brevet", "pase de conducir"),
    Kind.MATRICULA: ("matricula", "matricular", "matriculacion", "revision vehicular"),
    Kind.MULTAS: ("multa", "multas", "fotomulta", "citacion", "citaciones"),
    Kind.DOCUMENTOS: ("documento", "documentos", "certificado", "certificados", "cedula"),
}


def named_kinds(tracker: Tracker) -> list[str]:
    """The kinds the latest message names (entity ``tipo_recordatorio``, else its words), in the order of `Kind`."""
    said = {str(v) for v in tracker.get_latest_entity_values(ENTITY)}
    text = str((tracker.latest_message or {}).get("text") or "")
    if not said and not text.startswith("/"):
        said = {kind.value for kind, words in KIND_WORDS.items() if first_mentioned(text, words) is not None}
    return [k.value for k in Kind if k.value in said]


def asked_kinds(tracker: Tracker) -> list[str]:
    """What to subscribe to: named in the message, else the current trámite's kind, else every kind."""
    named = named_kinds(tracker) or [str(k) for k in tracker.get_slot(SLOT) or ()]
    if named:
        return named
    kind = KIND_BY_TRAMITE.get(str(tracker.get_slot("tramite_actual")))
    return [kind.value] if kind is not None else [k.value for k in Kind]


# The answers that lead to a reminder (a licence's expiry, the plate's month), by the kind they offer.
OFFERED_AFTER = {
    "licencia_datos": Kind.LICENCIA,
    "licencia_caducada": Kind.LICENCIA,
    "matricula_al_dia": Kind.MATRICULA,
    "matricula_pendiente": Kind.MATRICULA,
    "matricula_vencida": Kind.MATRICULA,
    "matricula_vencida_sin_registro": Kind.MATRICULA,
}
PAYLOAD = "/suscribir_recordatorios"


async def offer_reminder(dispatcher: CollectingDispatcher, tracker: Tracker) -> None:
    """The State speaks first, when asked to: an answer with a date to remember gets one more button,
    «Avíseme antes de que venza», unless this chat has that reminder already. A button and not a second question,
    so a «sí» or a «1» never means two things; tapping it subscribes to the current trámite's kind."""
    for message in dispatcher.messages:
        kind = OFFERED_AFTER.get(str(message.get("plantilla")))
        if kind is None:
            continue
        service = (await services()).recordatorios
        if service is None or kind.value in await service.kinds(tracker.sender_id):
            return
        title = textos().render(f"recordatorio_boton_{kind.value}").text
        message["buttons"] = [*(message.get("buttons") or []), {"title": title, "payload": PAYLOAD}]
        return


def bullets(kinds: Iterable[str]) -> str:
    return "\n".join(f"• {textos().render(f'recordatorio_tipo_{kind}').text}" for kind in kinds)


async def reminders() -> RemindersService:
    service = (await services()).recordatorios
    if service is None:
        raise RuntimeError("the services were built without reminders")
    return service


class ActionSuscribirRecordatorios(Action):
    def name(self) -> str:
        return "action_suscribir_recordatorios"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        kinds = asked_kinds(tracker)
        servicio = textos().render("recordatorios_servicio").text
        gate = await require_identity(dispatcher, tracker, tramite=CLAVE, servicio=servicio)
        if gate is None:
            return await self.subscribe(dispatcher, tracker, kinds)
        if SlotSet("identidad", "requerida") in gate:
            return [SlotSet(SLOT, kinds), *gate, FollowupAction(FORM)]
        return gate  # the check is locked for a while: it said so

    async def resume(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        """After the identity form: subscribe to what was asked before it."""
        return await self.subscribe(dispatcher, tracker, asked_kinds(tracker))

    async def subscribe(self, dispatcher: CollectingDispatcher, tracker: Tracker, kinds: list[str]) -> list[EventType]:
        s = await services()
        identidad = await s.identidad.current(tracker.sender_id)
        if identidad is None:  # the link lapsed between the gate and here
            say(dispatcher, "recordatorios_no_disponible")
            return [SlotSet(SLOT, None)]
        canal = tracker.sender_id.split(":", 1)[0]
        subscribed = await (await reminders()).subscribe(
            conversation_id=tracker.sender_id, canal=canal, cedula=identidad.cedula, tipos=kinds
        )
        say(dispatcher, "recordatorios_suscrito", tipos=bullets(subscribed))
        return [SlotSet(SLOT, None)]


class ActionCancelarRecordatorios(Action):
    def name(self) -> str:
        return "action_cancelar_recordatorios"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        service = await reminders()
        before = await service.kinds(tracker.sender_id)
        said = named_kinds(tracker)
        named = [k for k in said if k in before]
        if before and said and not named:  # «ya no me avise de las multas», and it had none of those: nothing goes
            say(dispatcher, "recordatorios_cancelados_en_parte", quitados=bullets(said), quedan=bullets(before))
            return []
        left = await service.withdraw(conversation_id=tracker.sender_id, tipos=named)
        if left is None:
            say(dispatcher, "recordatorios_sin_suscripcion")
        elif left:
            say(dispatcher, "recordatorios_cancelados_en_parte", quitados=bullets(named), quedan=bullets(left))
        else:
            say(dispatcher, "recordatorios_cancelados")
        return []


register_resume(CLAVE, ActionSuscribirRecordatorios().resume)
