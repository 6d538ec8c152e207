"""`solicitar_antecedentes_penales`: identity, the reason, a summary to confirm, then the certificate."""

from __future__ import annotations

import re
from typing import Any, ClassVar

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from bot.actions.forms import SlotKind, SlotSpec, TramiteForm, latest_intent, latest_text
from bot.actions.runtime import say, services
from bot.actions.tramites import (
    SubmitApplication,
    begin,
    confirmation,
    deliver_documents,
    said_no_to_confirmation,
)
from bot.documents.service import document_payloads
from bot.identity.service import Identidad
from bot.privacy.redaction import mask_cedula
from bot.services import Servicios
from bot.storage.models_tramites import EstadoSolicitud
from bot.tramites.antecedentes_penales import TRAMITE
from bot.tramites.antecedentes_penales import service as tramite

FORM = "antecedentes_penales_form"
SLOTS = ("motivo_consulta", "confirmar_antecedentes")
# A reason as citizens give it: «para un trabajo», «es para la visa», «me lo piden en la empresa».
MOTIVO = re.compile(r"^([a-z]+[ ,.]+){0,5}?(para|porque|por que)\b")
_EN_PEDIDO = re.compile(r"\b(para|porque)\b\s+(?!mi$|mi\s*$)(.{6,})$")


def motivo_en_pedido(text: str) -> str | None:
    """A reason written with the request («el récord policial para un trabajo nuevo»), if any."""
    if text.startswith("/") or "?" in text or "¿" in text:
        return None
    match = _EN_PEDIDO.search(text.strip())
    if match is None:
        return None
    motivo = f"{match.group(1)} {match.group(2)}".strip(" .,!")
    return motivo if len(motivo) >= tramite.MOTIVO_MINIMO else None


class ActionIniciarAntecedentesPenales(Action):
    def name(self) -> str:
        return "action_iniciar_antecedentes_penales"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        events = await begin(dispatcher, tracker, TRAMITE)
        motivo = motivo_en_pedido(latest_text(tracker))
        return [*events, SlotSet("motivo_consulta", motivo)] if motivo else events


class ValidateAntecedentesPenalesForm(TramiteForm):
    slots: ClassVar[dict[str, SlotSpec]] = {
        "motivo_consulta": SlotSpec(SlotKind.TEXT, hint="antecedentes_motivo_ayuda", accepts=MOTIVO),
        "confirmar_antecedentes": SlotSpec(SlotKind.CONFIRM, hint="confirmar_si_o_no"),
    }

    def name(self) -> str:
        return "validate_antecedentes_penales_form"

    async def not_data(
        self, slot: str, spec: SlotSpec, dispatcher: CollectingDispatcher, tracker: Tracker
    ) -> list[EventType] | None:
        """At the summary, a new reason without a «no» («es para un viaje al exterior») corrects it."""
        text = latest_text(tracker)
        if slot == "confirmar_antecedentes" and latest_intent(tracker)[0] == "informar" and len(text) >= 10:
            return [SlotSet("motivo_consulta", text[:200]), SlotSet("confirmar_antecedentes", None)]
        return await super().not_data(slot, spec, dispatcher, tracker)

    async def validate_motivo_consulta(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        motivo = " ".join(str(value or "").split())
        if len(motivo) < tramite.MOTIVO_MINIMO:
            say(dispatcher, "antecedentes_motivo_corto", minimo=tramite.MOTIVO_MINIMO)
            return {"motivo_consulta": None}
        return {"motivo_consulta": motivo[:200]}

    async def validate_confirmar_antecedentes(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        answer = confirmation(value)
        if answer is True:
            return {"confirmar_antecedentes": True}
        if answer is None:
            say(dispatcher, "confirmar_si_o_no")
            return {"confirmar_antecedentes": None}
        correction = said_no_to_confirmation(tracker)
        if correction and len(correction) >= tramite.MOTIVO_MINIMO:
            # "no, es para un viaje al exterior": the rest of the sentence is the corrected reason.
            return {"motivo_consulta": correction[:200], "confirmar_antecedentes": None}
        say(dispatcher, "antecedentes_corregir")
        return {"motivo_consulta": None, "confirmar_antecedentes": None}


class ActionAskMotivoConsulta(Action):
    def name(self) -> str:
        return "action_ask_motivo_consulta"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        say(dispatcher, "antecedentes_pedir_motivo")
        return []


class ActionAskConfirmarAntecedentes(Action):
    def name(self) -> str:
        return "action_ask_confirmar_antecedentes"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        s = await services()
        identidad = await s.identidad.current(tracker.sender_id)
        titular = f"{identidad.nombres} ({mask_cedula(identidad.cedula)})" if identidad else "—"
        say(dispatcher, "antecedentes_resumen", titular=titular, motivo=tracker.get_slot("motivo_consulta") or "")
        return []


class ActionSolicitarAntecedentesPenales(SubmitApplication):
    """Submit the application (the form is complete and confirmed) and issue the certificate."""

    tramite = TRAMITE
    slots = SLOTS

    def name(self) -> str:
        return "action_solicitar_antecedentes_penales"

    async def submit(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, s: Servicios, identidad: Identidad
    ) -> None:
        solicitud = await s.solicitudes.crear(
            tramite=TRAMITE.clave,
            conversation_id=tracker.sender_id,
            cedula=identidad.cedula,
            datos={"motivo": tracker.get_slot("motivo_consulta")},
        )
        resultado = await tramite.procesar(s, solicitud, identidad.cedula)
        numero = resultado.solicitud.numero
        if resultado.estado is EstadoSolicitud.EMITIDA and resultado.documento is not None:
            say(
                dispatcher,
                "antecedentes_emitido_con_registro" if resultado.registra else "antecedentes_emitido",
                numero=numero,
                codigo=resultado.documento.verification_code,
            )
            deliver_documents(dispatcher, document_payloads(resultado.documento))
        elif resultado.estado is EstadoSolicitud.EN_PROCESO:
            say(dispatcher, "tramite_pendiente_registro", numero=numero, institucion="el Ministerio del Interior")
        else:
            say(dispatcher, "antecedentes_rechazado", numero=numero)
