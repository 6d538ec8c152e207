"""Pieces every trámite's actions share: starting one (identity, a second request, a paused trámite),
offering what comes next, delivering documents, and reading a correction at a confirmation."""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Iterable
from typing import Any, ClassVar

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActiveLoop, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from bot.actions.general import replay_as
from bot.actions.identity import VIGENTE, register_resume, require_identity
from bot.actions.reminders import offer_reminder
from bot.actions.runtime import say, services
from bot.identity.service import Identidad
from bot.language import mentions
from bot.services import Servicios
from bot.tramites import registry
from bot.tramites.declaration import Tramite
from bot.tramites.registry import mentioned_tramites

_NO = re.compile(r"^\s*(no|nop|nel|nada|todavia no|todavía no)\b[\s,.:;!-]*", re.IGNORECASE)
_LEAD = re.compile(r"^(es|el motivo es|mejor|más bien|mas bien|que)\s+", re.IGNORECASE)
ACTUAL = "tramite_actual"  # the trámite this conversation is about (for side questions)
SIGUIENTE = "tramite_siguiente"  # a second request made in the same message, offered at the end
EN_PAUSA = "tramite_en_pausa"  # a trámite left for another one, offered again at the end
OFERTA = "oferta"  # the intent a «sí» to the latest offer starts


def current_tramite(tracker: Tracker, *, text: str | None = None) -> Tramite | None:
    """The trámite a message is about: named in it, or the one in progress, or the latest one."""
    said = mentioned_tramites(text if text is not None else str((tracker.latest_message or {}).get("text") or ""))
    if said:
        return said[0]
    form = (tracker.active_loop or {}).get("name")
    if form == "identidad_form":
        return registry.by_clave(tracker.get_slot("tramite_pendiente"))
    return registry.by_form(form) or registry.by_clave(tracker.get_slot(ACTUAL))


async def begin(dispatcher: CollectingDispatcher, tracker: Tracker, tramite: Tramite) -> list[EventType]:
    """Start ``tramite``: remember it, note a second request in the same message, pause the trámite in
    progress, then the identity gate (the rules start the identity form or this trámite's form)."""
    events: list[EventType] = [SlotSet(ACTUAL, tramite.clave)]
    if tracker.get_slot("entidad_actual"):
        events.append(SlotSet("entidad_actual", None))  # the conversation is about this trámite now
    text = str((tracker.latest_message or {}).get("text") or "")
    named = [] if text.startswith("/") else mentioned_tramites(text)
    if named and named[0] != tramite and tramite in named:
        # Two requests in one message: the first named is handled first, this one offered at the end.
        return [*replay_as(tracker, named[0].intent), SlotSet(SIGUIENTE, tramite.clave)]
    if named and tramite not in named and any(mentions(text, palabra) for palabra in tramite.palabras):
        # This trámite's word only inside another's longer name («la multa por no votar» is the CNE's): that one.
        return replay_as(tracker, named[0].intent)
    others = [t for t in named if t != tramite]
    if others:
        events.append(SlotSet(SIGUIENTE, others[0].clave))
    paused = registry.by_form((tracker.active_loop or {}).get("name"))
    if paused is not None and paused != tramite:
        say(dispatcher, "tramite_en_pausa", anterior=paused.nombre, nuevo=tramite.nombre)
        # Its slots stay, so nothing is asked twice when it is taken up again; a look-up has no form to replace it.
        events += [SlotSet(EN_PAUSA, paused.clave), ActiveLoop(None), SlotSet("requested_slot", None)]
    gate = await require_identity(dispatcher, tracker, tramite=tramite.clave, servicio=tramite.servicio)
    return [*events, *(gate if gate is not None else VIGENTE)]


def offer_next(dispatcher: CollectingDispatcher, tracker: Tracker, *, done: str) -> list[EventType]:
    """After trámite ``done`` ends: offer the second request of the first message, or the paused trámite."""
    for slot in (SIGUIENTE, EN_PAUSA):
        tramite = registry.by_clave(tracker.get_slot(slot))
        if tramite is not None and tramite.clave != done:
            key = "ofrecer_siguiente" if slot == SIGUIENTE else "ofrecer_en_pausa"
            say(dispatcher, key, nombre=tramite.nombre, intent=tramite.intent)
            return [SlotSet(slot, None), SlotSet(OFERTA, tramite.intent)]
    return [SlotSet(SIGUIENTE, None), SlotSet(EN_PAUSA, None)] if tracker.get_slot(EN_PAUSA) == done else []


def deliver_documents(dispatcher: CollectingDispatcher, payloads: Iterable[dict[str, Any]]) -> None:
    """Send the architecture's ``{"document": ...}`` payloads; the gateway turns them into files."""
    for payload in payloads:
        dispatcher.utter_message(json_message=payload)


def confirmation(value: Any) -> bool | None:
    """True, False, or None (unclear) for what the citizen answered at a summary: the slot holds the NLU's
    reading (``afirmar`` → True, ``negar`` → False, set by the domain's mappings or `TramiteForm`)."""
    return value if isinstance(value, bool) else None


def said_no_to_confirmation(tracker: Tracker) -> str:
    """What follows a "no" in the citizen's last message ("no, es para un viaje" → "para un viaje")."""
    text = str((tracker.latest_message or {}).get("text") or "")
    match = _NO.match(text)
    if match is None:
        return ""
    return _LEAD.sub("", text[match.end() :].strip()).strip()


class IdentifiedLookup(Action, ABC):
    """A look-up that needs a proven identity (licence, points, RUC, cédula): the identity gate, the
    answer (`show`), then what comes next. After the identity form it resumes by itself."""

    tramite: ClassVar[Tramite]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "tramite" in cls.__dict__:
            register_resume(cls.tramite.clave, cls().resume)

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        events = await begin(dispatcher, tracker, self.tramite)
        if SlotSet("identidad", "vigente") not in events:
            return events  # the identity form comes first (or the check is locked)
        return [*events, *(await self.resume(dispatcher, tracker, domain))]

    async def resume(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        shown = await self.show(dispatcher, tracker, domain)
        await offer_reminder(dispatcher, tracker)
        return [*shown, *offer_next(dispatcher, tracker, done=self.tramite.clave)]

    @abstractmethod
    async def show(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        """Say what the registry holds for the citizen."""


class SubmitApplication(Action, ABC):
    """The end of a trámite's form: the identity still current, then the application (`submit`), then the form's
    slots cleared and what was left for later offered, whatever happened in between.

    Subclasses declare the ``tramite`` and its form's ``slots``; `ready` says whether there is anything to submit
    (a «no» at the summary, nothing owed) and may say why not.
    """

    tramite: ClassVar[Tramite]
    slots: ClassVar[tuple[str, ...]]

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        reset: list[EventType] = [SlotSet(slot, None) for slot in self.slots]
        if await self.ready(dispatcher, tracker):
            s = await services()
            identidad = await s.identidad.current(tracker.sender_id)
            if identidad is None:  # the link expired while the form went on: prove it again, then resume
                gate = await require_identity(
                    dispatcher, tracker, tramite=self.tramite.clave, servicio=self.tramite.servicio
                )
                return [*reset, *(gate or [])]
            await self.submit(dispatcher, tracker, s, identidad)
        return [*reset, *offer_next(dispatcher, tracker, done=self.tramite.clave)]

    async def ready(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> bool:
        return True

    @abstractmethod
    async def submit(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, s: Servicios, identidad: Identidad
    ) -> None:
        """Make the application and say what came of it."""
