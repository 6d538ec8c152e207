"""Identity: the `identidad_form` (cédula, then código dactilar), its validation, login and logout.

The gateway hands Rasa vault references instead of the numbers the citizen typed (bot.privacy.vault);
these actions redeem them, validate, and ask the Registro Civil. The código dactilar is redeemed once
and never placed in a slot: the slot holds its reference until the check, then a marker.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any, ClassVar

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict
from stdnum.ec import ci

from bot.actions.forms import SlotKind, SlotSpec, TramiteForm
from bot.actions.general import handoff_payload
from bot.actions.runtime import say, services
from bot.identity.service import Resultado
from bot.tramites import registry

FORM = "identidad_form"
DONE = "-"  # what the código dactilar slot holds once the check is over: never the code itself
_DIGITS = re.compile(r"\d")
_DACTILAR = re.compile(r"[A-Z][0-9X]{4}[A-Z][0-9X]{4}")
PROVINCIAS = {f"{n:02d}" for n in range(1, 25)} | {"30"}

# Trámites that resume after the identity step: the action to run, or the form to start.
# Filled by the trámite modules (`register_resume`), so this module needs no import of them.
_RESUME: dict[str, Callable[[CollectingDispatcher, Tracker, DomainDict], Awaitable[list[EventType]]] | str] = {}


def register_resume(
    tramite: str, target: Callable[[CollectingDispatcher, Tracker, DomainDict], Awaitable[list[EventType]]] | str
) -> None:
    """Declare how ``tramite`` continues once the citizen has proved who they are."""
    _RESUME[tramite] = target


def cedula_problem(text: str) -> tuple[str, dict[str, Any]] | None:
    """Which rule a typed cédula breaks, as a template name and its values; None when it is valid."""
    digits = "".join(_DIGITS.findall(text))
    if not digits:
        return "cedula_sin_numero", {}
    if len(digits) != 10:
        return "cedula_longitud", {"cantidad": len(digits)}
    if digits[:2] not in PROVINCIAS:
        return "cedula_provincia", {"provincia": digits[:2]}
    if int(digits[2]) > 6:
        return "cedula_tercer_digito", {"digito": digits[2]}
    if not ci.is_valid(digits):
        return "cedula_verificador", {}
    return None


VIGENTE = [SlotSet("identidad", "vigente")]


async def require_identity(
    dispatcher: CollectingDispatcher, tracker: Tracker, *, tramite: str, servicio: str
) -> list[EventType] | None:
    """None when this chat has proved its identity; otherwise the events that stop the trámite.

    ``identidad: requerida`` makes the rules start `identidad_form`, and the trámite resumes once the
    identity is proved (`register_resume`); ``identidad: bloqueada`` after too many failed checks. When the
    message already carries the cédula, the form goes straight on with it (nothing is asked twice).
    """
    s = await services()
    if await s.identidad.current(tracker.sender_id) is not None:
        return None
    locked = await s.identidad.locked_until(tracker.sender_id)
    if locked is not None:
        say(dispatcher, "identidad_bloqueada", minutos=s.settings.identidad_bloqueo_minutos)
        return [SlotSet("identidad", "bloqueada")]
    cedula = given_cedula(tracker)
    dactilar = next(tracker.get_latest_entity_values("codigo_dactilar"), None)
    if cedula is None:
        say(dispatcher, "identidad_necesaria", servicio=servicio)
    elif dactilar is None:
        say(dispatcher, "identidad_con_cedula", servicio=servicio)
    given = [SlotSet("cedula", cedula)] if cedula else []
    if cedula and dactilar:
        given.append(SlotSet("codigo_dactilar", dactilar))
    return [SlotSet("identidad", "requerida"), SlotSet("tramite_pendiente", tramite), *given]


def given_cedula(tracker: Tracker) -> str | None:
    """The cédula the citizen already wrote in this conversation (its vault reference), the latest first;
    nothing written before «cerrar sesión» counts (the chat may be a borrowed phone)."""
    for event in reversed(tracker.events):
        if event.get("event") == "session_started":
            break
        if event.get("event") == "action" and event.get("name") == "action_cerrar_sesion":
            break
        if event.get("event") != "user":
            continue
        for entity in (event.get("parse_data") or {}).get("entities") or ():
            if entity.get("entity") == "cedula" and entity.get("value"):
                return str(entity["value"])
    return None


class ValidateIdentidadForm(TramiteForm):
    slots: ClassVar[dict[str, SlotSpec]] = {
        "cedula": SlotSpec(SlotKind.ENTITY, hint="cedula_ayuda", entity="cedula"),
        "codigo_dactilar": SlotSpec(SlotKind.SECRET, hint="dactilar_ayuda", entity="codigo_dactilar"),
    }

    def name(self) -> str:
        return "validate_identidad_form"

    async def validate_cedula(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        text = str(value or "")
        revealed = await (await services()).vault.reveal(text, kind="ced", owner=tracker.sender_id)
        if revealed is None and "ced_" in text:
            say(dispatcher, "cedula_expirada")  # the reference outlived the vault (e.g. after a restart)
            return {"cedula": None}
        problem = cedula_problem(revealed if revealed is not None else text)
        if problem is not None:
            key, values = problem
            say(dispatcher, key, **values)
            return {"cedula": None}
        if revealed is None:
            # A valid cédula in clear never came through the gateway's vault: refused (only the gateway speaks
            # for a citizen), and the citizen is asked again, so it goes through the vault this time.
            say(dispatcher, "cedula_expirada")
            return {"cedula": None}
        return {"cedula": text.strip()}  # the slot keeps the reference: never a copy of the number

    async def validate_codigo_dactilar(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        s = await services()
        text = str(value or "")
        turn = (tracker.latest_message or {}).get("metadata", {}).get("message_id")  # its retry may check again
        code = await s.vault.reveal(
            text, kind="dac", owner=tracker.sender_id, consume=True, turn=turn if isinstance(turn, str) else None
        )
        if code is None and text.startswith("dac_"):  # given earlier and already used or expired: ask for it
            return {"codigo_dactilar": None}
        if code is None and _DACTILAR.search(re.sub(r"[\s.-]", "", text).upper()):
            say(dispatcher, "dactilar_de_nuevo")  # a code in clear did not come through the vault: refused
            return {"codigo_dactilar": None}
        code = re.sub(r"[\s.-]", "", code if code is not None else text).upper()
        if not _DACTILAR.fullmatch(code):
            say(dispatcher, "dactilar_formato")
            return {"codigo_dactilar": None}
        typed = str(tracker.get_slot("cedula") or "")
        cedula = await s.vault.reveal(typed, kind="ced", owner=tracker.sender_id)
        if cedula is None:
            say(dispatcher, "cedula_expirada")
            return {"cedula": None, "codigo_dactilar": None}
        client = ((tracker.latest_message or {}).get("metadata") or {}).get("cliente")
        result = await s.identidad.verify(
            tracker.sender_id, cedula, code, client=client if isinstance(client, str) else None
        )
        del code
        minutes = s.settings.identidad_bloqueo_minutos
        if result.resultado is Resultado.VERIFICADO and result.identidad is not None:
            say(
                dispatcher,
                "identidad_verificada",
                nombres=result.identidad.nombres,
                minutos=s.settings.identidad_minutos,
            )
        elif result.resultado is Resultado.NO_COINCIDE:
            restantes = result.intentos_restantes
            say(
                dispatcher,
                "dactilar_no_coincide_ultimo" if restantes == 1 else "dactilar_no_coincide",
                restantes=restantes,
            )
            return {"codigo_dactilar": None}
        elif result.resultado is Resultado.NO_ENCONTRADO:
            say(dispatcher, "cedula_no_encontrada")
            return {"cedula": None, "codigo_dactilar": None}
        elif result.resultado is Resultado.BLOQUEADO:
            say(dispatcher, "identidad_bloqueada", minutos=minutes)
        elif result.resultado is Resultado.EN_ESPERA:
            hasta = result.bloqueado_hasta or datetime.now(UTC)
            say(dispatcher, "identidad_en_espera", hora=hasta.astimezone(s.settings.zona_horaria).strftime("%H:%M"))
        elif result.resultado is Resultado.FALLECIDO:
            say(dispatcher, "identidad_no_verificable")
        else:
            say(dispatcher, "registro_civil_no_disponible")
        return {"codigo_dactilar": DONE, "identidad_resultado": result.resultado.value}


class ActionAskCedula(Action):
    def name(self) -> str:
        return "action_ask_cedula"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        say(dispatcher, "pedir_cedula")
        return []


class ActionAskCodigoDactilar(Action):
    """Asks for the code and tells the gateway that the next message is a secret (goes whole to the vault)."""

    def name(self) -> str:
        return "action_ask_codigo_dactilar"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        say(dispatcher, "pedir_codigo_dactilar")
        dispatcher.utter_message(json_message={"secreto": "codigo_dactilar"})
        return []


class ActionIdentidadVerificada(Action):
    """After the form: resume the pending trámite, or hand over to a person, or offer a retry."""

    def name(self) -> str:
        return "action_identidad_verificada"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        resultado = tracker.get_slot("identidad_resultado")
        pendiente = tracker.get_slot("tramite_pendiente")
        events: list[EventType] = [
            SlotSet("cedula", None),
            SlotSet("codigo_dactilar", None),
            SlotSet("identidad_resultado", None),
        ]
        nothing = SlotSet("reanudar", "ninguno")
        if resultado == Resultado.VERIFICADO:
            events += [SlotSet("tramite_pendiente", None), *VIGENTE]
            declared = registry.by_clave(pendiente)
            target = _RESUME.get(str(pendiente)) or (declared.formulario if declared else None)
            if target is None:
                say(dispatcher, "identidad_lista")
                return [*events, nothing]
            if isinstance(target, str):
                # The rules start this trámite's form (see dialogs/reglas/<tramite>.yml, "reanudar").
                return [*events, SlotSet("reanudar", target)]
            return [*events, *(await target(dispatcher, tracker, domain)), nothing]
        if resultado in (Resultado.BLOQUEADO, Resultado.FALLECIDO):
            reason = "identidad_bloqueada" if resultado == Resultado.BLOQUEADO else "identidad_no_verificable"
            dispatcher.utter_message(json_message=handoff_payload(reason, team="registro_civil"))
            return [*events, SlotSet("tramite_pendiente", None), nothing]
        return [*events, nothing]  # the registry is down: the apology offered a retry, the trámite stays pending


class ActionIniciarSesion(Action):
    def name(self) -> str:
        return "action_iniciar_sesion"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        s = await services()
        identidad = await s.identidad.current(tracker.sender_id)
        if identidad is not None:
            hora = identidad.expires_at.astimezone(s.settings.zona_horaria).strftime("%H:%M")
            say(dispatcher, "ya_verificado", nombres=identidad.nombres, hora=hora)
            return list(VIGENTE)
        if await s.identidad.locked_until(tracker.sender_id) is not None:
            say(dispatcher, "identidad_bloqueada", minutos=s.settings.identidad_bloqueo_minutos)
            return [SlotSet("identidad", "bloqueada")]
        return [SlotSet("identidad", "requerida")]


class ActionCerrarSesion(Action):
    def name(self) -> str:
        return "action_cerrar_sesion"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        removed = await (await services()).identidad.unlink(tracker.sender_id)
        say(dispatcher, "sesion_cerrada" if removed else "sin_sesion")
        if removed:  # the web chat forgets this chat's id, so the next person on the computer starts anew
            dispatcher.messages[-1]["custom"] = {"sesion": "cerrada"}
        # The cédula typed before is forgotten too: after «cerrar sesión» every trámite asks for it again.
        # (`identidad` is left to the gate: it is read again, against the vault, at the next trámite.)
        return [SlotSet("cedula", None), SlotSet("codigo_dactilar", None), SlotSet("identidad_resultado", None)]
