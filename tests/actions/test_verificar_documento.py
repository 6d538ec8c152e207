"""Verifying a document in chat: valid, revoked and unknown codes, with the page's own wording."""

from __future__ import annotations

from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.actions.verification import ActionVerificarDocumento, ValidateVerificarDocumentoForm
from bot.documents.service import Holder
from bot.documents.templates import DocumentKind
from tests.actions.builders import tracker
from tests.actions.conftest import World


async def _verify(code: str) -> str:
    dispatcher = CollectingDispatcher()
    events = await ActionVerificarDocumento().run(dispatcher, tracker(slots={"codigo_documento": code}), {})
    assert events == [SlotSet("codigo_documento", None)]
    [message] = dispatcher.messages
    return str(message["text"])


async def test_valid_revoked_and_unknown(world: World) -> None:
    issuer = world.services.documents.issuer
    issued = await issuer.issue(
        DocumentKind.CERTIFICADO_ANTECEDENTES_PENALES,
        Holder(cedula="1712345675", name="Maria Jose Andrade"),
        {"resultado": "NO REGISTRA ANTECEDENTES", "motivo": "trabajo"},
    )
    valid = await _verify(issued.verification_code)
    assert valid.startswith("Documento válido. El documento fue emitido por Chasqui")
    assert "• Titular: Maria Jose Andrade (17******75)" in valid
    assert "1712345675" not in valid
    assert valid.endswith("\n• Resultado: NO REGISTRA ANTECEDENTES")  # the certificate's result, as on the page
    assert "trabajo" not in valid  # the motive is not for verifiers (the template does not list it)
    assert (await _verify(issued.verification_code.lower().replace("-", " "))).startswith("Documento válido")
    await issuer.revoke(issued.id, reason="emitido por error", actor="test")
    revoked = await _verify(issued.verification_code)
    assert revoked.startswith("Documento revocado.")
    assert revoked.endswith("• Resultado: NO REGISTRA ANTECEDENTES\n• Motivo de la revocación: emitido por error")
    assert (await _verify("ZZZZ-ZZZZ-ZZZZ-ZZZZ")).startswith("Documento desconocido.")


async def test_a_too_short_code_is_asked_again() -> None:
    dispatcher = CollectingDispatcher()
    assert await ValidateVerificarDocumentoForm().validate_codigo_documento("ABC", dispatcher, tracker(), {}) == {
        "codigo_documento": None
    }
    assert dispatcher.messages[0]["plantilla"] == "verificar_codigo_corto"
