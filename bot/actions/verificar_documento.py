"""`verificar_documento` in chat: the citizen types a verification code (or the QR's text) and learns the
verdict with the document's key data — the same verdicts and wording as the public page and the CLI."""

from __future__ import annotations

import re
from typing import Any, ClassVar

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from bot.actions.forms import SlotKind, SlotSpec, TramiteForm
from bot.actions.runtime import say, services

# A verification code («V37Y-X99X-XYCT-VQJA») or the QR's text («EC1:…»), whatever the NLU makes of it.
CODIGO = re.compile(r"\b[a-z0-9]{4}-[a-z0-9]{4}\b|^ec1:")


class ActionAskCodigoDocumento(Action):
    def name(self) -> str:
        return "action_ask_codigo_documento"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        s = await services()
        say(dispatcher, "verificar_pedir_codigo", pagina=f"{s.settings.effective_public_base_url}/verificar")
        return []


class ValidateVerificarDocumentoForm(TramiteForm):
    slots: ClassVar[dict[str, SlotSpec]] = {
        "codigo_documento": SlotSpec(SlotKind.CHOICE, accepts=CODIGO),
    }

    def name(self) -> str:
        return "validate_verificar_documento_form"

    async def validate_codigo_documento(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        code = str(value or "").strip()
        if len(code) < 8:
            say(dispatcher, "verificar_codigo_corto")
            return {"codigo_documento": None}
        return {"codigo_documento": code[:2000]}


class ActionVerificarDocumento(Action):
    def name(self) -> str:
        return "action_verificar_documento"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        s = await services()
        documents = s.documents
        result = await documents.verifier.verify_text(str(tracker.get_slot("codigo_documento") or ""))
        wording = documents.plantillas.text("veredictos", result.verdict.value)
        facts = result.document
        if facts is None:
            say(
                dispatcher,
                "verificar_resultado_sin_documento",
                titulo=wording["titulo"],
                detalle=wording["detalle"],
                motivo=documents.plantillas.text("motivos", result.reason),
            )
        else:
            say(
                dispatcher,
                "verificar_resultado",
                titulo=wording["titulo"],
                detalle=wording["detalle"],
                documento=facts.title,
                institucion=facts.institution,
                titular=f"{facts.holder_name} ({facts.holder_cedula_masked})",
                emitido=facts.issued_at.astimezone(s.settings.zona_horaria).strftime("%d/%m/%Y"),
                vence=facts.expires_at.astimezone(s.settings.zona_horaria).strftime("%d/%m/%Y"),
                # What the page shows too: the fields its template lists for verifiers (the récord's result,
                # the RUC's state, the voting's process), and why a revoked document was revoked.
                campos="".join(f"\n• {label}: {value}" for label, value in facts.fields)
                + (f"\n• Motivo de la revocación: {facts.revocation_reason}" if facts.revocation_reason else ""),
            )
        return [SlotSet("codigo_documento", None)]
