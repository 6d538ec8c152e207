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
from bot.documents.chat_verification import verdict_texto

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
        key, values = verdict_texto(result, documents.plantillas, s.settings.zona_horaria)
        say(dispatcher, key, **values)
        return [SlotSet("codigo_documento", None)]
