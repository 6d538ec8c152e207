"""Consent at first contact: nothing reaches Rasa before an answer; the ledger; withdrawal; messaging channels."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.channels.registry import abroad_codes
from bot.conversations.consent import ConsentGate, Respuesta, read_answer
from bot.conversations.state import ConversationState
from bot.gateway.app import create_app
from bot.settings import Settings
from bot.storage import conversations as repo
from bot.storage import privacy
from bot.storage.db import create_engine, migrate, session_factory
from tests.gateway.test_web_channel import FakeRasa


@pytest.fixture
def consenting(settings: Settings, fake_rasa: FakeRasa) -> Iterator[TestClient]:
    settings = settings.model_copy(update={"consentimiento_requerido": True})
    migrate(settings.effective_database_url)
    app = create_app(settings, rasa_transport=httpx.MockTransport(fake_rasa.handler))
    with TestClient(app) as client:
        yield client


@pytest.fixture
def fake_rasa() -> FakeRasa:
    return FakeRasa()


def post(client: TestClient, message: str) -> list[dict[str, Any]]:
    response = client.post("/webhooks/rest/webhook", json={"sender": "web:ana", "message": message})
    assert response.status_code == 200
    return response.json()  # type: ignore[no-any-return]


def ledger(settings: Settings) -> list[tuple[str, bool, str, str]]:
    async def _read() -> list[tuple[str, bool, str, str]]:
        engine = create_engine(settings.effective_database_url)
        async with session_factory(engine)() as session:
            rows = await privacy.consent_history(session=session, conversation_id="web:ana")
        await engine.dispose()
        return [(r.proposito, r.otorgado, r.version_aviso, r.canal) for r in rows]

    return asyncio.run(_read())


def test_on_the_web_the_first_answer_comes_with_the_notice_and_analytics_waits_for_consent(
    consenting: TestClient, fake_rasa: FakeRasa, settings: Settings
) -> None:
    [greeting, notice] = post(consenting, "hola")
    assert greeting["text"].startswith("¡Hola! Soy Chasqui")  # the service rests on the public mission
    assert notice["text"].startswith("Sobre sus datos: usamos sus mensajes solo para atender sus trámites")
    assert "http://127.0.0.1:8000/privacidad" in notice["text"]
    assert [b["payload"] for b in notice["buttons"]] == ["/consentimiento_acepto", "/consentimiento_rechazo"]
    assert ledger(settings) == []  # silence is not consent
    post(consenting, "sí")  # a «sí» to something else is not consent
    assert ledger(settings) == []
    assert post(consenting, "/consentimiento_acepto")[0]["text"].startswith("Gracias, quedó registrado.")
    assert ledger(settings) == [("analitica", True, "2026-11-27", "web")]
    assert [r["message"] for r in fake_rasa.received] == ["hola", "sí"]  # the consent answer stays in the gateway


def test_refusing_analytics_on_the_web_still_serves_and_withdrawal_is_recorded(
    consenting: TestClient, fake_rasa: FakeRasa, settings: Settings
) -> None:
    post(consenting, "hola")
    assert post(consenting, "no acepto")[0]["text"] == "Entendido, no usaremos sus datos para estadísticas."
    post(consenting, "gracias")
    assert [r["message"] for r in fake_rasa.received] == ["hola", "gracias"]
    withdrawn = post(consenting, "quiero retirar mi consentimiento")
    assert withdrawn[0]["text"].startswith("Listo, retiré su consentimiento")
    assert ledger(settings) == [("analitica", False, "2026-11-27", "web"), ("analitica", False, "2026-11-27", "web")]


def test_withdrawal_in_ones_own_words_is_recorded_and_does_not_reach_rasa(
    consenting: TestClient, fake_rasa: FakeRasa, settings: Settings
) -> None:
    post(consenting, "hola")
    post(consenting, "/consentimiento_acepto")
    withdrawn = post(consenting, "sabe que, ya no acepto")
    assert withdrawn[0]["text"].startswith("Listo, retiré su consentimiento")
    assert ledger(settings) == [("analitica", True, "2026-11-27", "web"), ("analitica", False, "2026-11-27", "web")]
    assert [r["message"] for r in fake_rasa.received] == ["hola"]


@pytest.mark.parametrize(
    ("text", "answer"),
    [
        ("/consentimiento_acepto", Respuesta.ACEPTA),
        ("Sí, acepto", Respuesta.ACEPTA),
        ("claro que sí", Respuesta.ACEPTA),
        ("acepto", Respuesta.ACEPTA),
        ("No acepto", Respuesta.RECHAZA),
        ("/consentimiento_rechazo", Respuesta.RECHAZA),
        ("retirar consentimiento", Respuesta.RETIRA),
        ("ya no acepto", Respuesta.RETIRA),
        ("Ya no acepto, retiro mi autorización", Respuesta.RETIRA),
        ("revoco el permiso que di", Respuesta.RETIRA),
        ("ya no doy mi consentimiento", Respuesta.RETIRA),
        ("no quiero que usen mis datos", Respuesta.RETIRA),
        ("quiero mi partida de nacimiento", Respuesta.OTRA),
        ("ya no acepto pagar tanto por la partida", Respuesta.OTRA),  # a complaint, not a withdrawal
        ("ya no acepto los términos", Respuesta.RETIRA),
        ("me retiraron la licencia", Respuesta.OTRA),
        ("quiero cancelar el trámite", Respuesta.OTRA),
        ("necesito un permiso de salida del país", Respuesta.OTRA),
    ],
)
def test_answers_are_read_from_buttons_and_words(text: str, answer: Respuesta) -> None:
    assert read_answer(text) == answer


def test_where_the_conversation_goes_on_only_explicit_answers_count() -> None:
    assert read_answer("sí", strict=True) == Respuesta.OTRA
    assert read_answer("no", strict=True) == Respuesta.OTRA
    assert read_answer("Acepto", strict=True) == Respuesta.ACEPTA
    assert read_answer("no acepto", strict=True) == Respuesta.RECHAZA


async def test_on_messaging_channels_a_refused_transfer_closes_the_channel_until_accepted(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    gate = ConsentGate(notice_version="v1", public_base_url="https://chasqui.gob.ec", transfers_abroad=abroad_codes())

    async def turn(message_id: int, text: str) -> tuple[bool, str | None, int | None]:
        async with sessions() as session:
            conversation = await repo.get_or_create_conversation(session=session, conversation_id="wa:x1", channel="wa")
            decision, state = await gate.decide(
                session=session,
                conversation=conversation,
                state=ConversationState.load(conversation.options),
                message_id=message_id,
                text=text,
            )
            conversation.options = state.dump()
            await session.commit()
        return decision.forward, decision.texto, decision.process_pending

    assert await turn(1, "hola") == (False, "aviso_privacidad_mensajeria", None)
    assert await turn(2, "no acepto") == (False, "consentimiento_rechazado_mensajeria", None)
    assert await turn(3, "quiero mi récord") == (False, "consentimiento_rechazado_mensajeria", None)
    assert await turn(4, "acepto") == (False, "consentimiento_aceptado", None)
    assert await turn(5, "quiero mi récord") == (True, None, None)
    async with sessions() as session:
        in_force = await privacy.consents_in_force(session=session, conversation_id="wa:x1")
    assert {p: r.otorgado for p, r in in_force.items()} == {"transferencia_internacional": True, "analitica": True}


def test_on_the_web_the_notice_waits_while_a_form_asks_and_then_a_plain_yes_answers_it(
    consenting: TestClient, fake_rasa: FakeRasa, settings: Settings
) -> None:
    """One question at a time: no notice next to a form's question; right after the notice, «dale» answers it."""
    fake_rasa.active_loop = "identidad_form"
    first = post(consenting, "quiero el récord policial")
    assert not any(m["text"].startswith("Sobre sus datos") for m in first)
    fake_rasa.active_loop = None
    [_, notice] = post(consenting, "gracias")
    assert notice["text"].startswith("Sobre sus datos")
    fake_rasa.intents["dale"] = ("afirmar", 0.97)
    assert post(consenting, "dale")[0]["text"].startswith("Gracias, quedó registrado.")
    assert ledger(settings) == [("analitica", True, "2026-11-27", "web")]
    assert "dale" not in [r["message"] for r in fake_rasa.received]


def test_on_the_web_a_plain_yes_later_is_not_consent(
    consenting: TestClient, fake_rasa: FakeRasa, settings: Settings
) -> None:
    post(consenting, "hola")  # the notice
    post(consenting, "quiero mi licencia")  # something else: the notice's question is no longer pending
    fake_rasa.intents["sí"] = ("afirmar", 0.97)
    post(consenting, "sí")
    assert ledger(settings) == []
    assert [r["message"] for r in fake_rasa.received] == ["hola", "quiero mi licencia", "sí"]


def test_in_the_middle_of_a_form_the_question_comes_back_after_a_consent_answer(
    consenting: TestClient, fake_rasa: FakeRasa, settings: Settings
) -> None:
    post(consenting, "hola")
    post(consenting, "/consentimiento_acepto")
    question = {"text": "¿Para qué necesita el certificado?", "buttons": [{"title": "Trabajo", "payload": "trabajo"}]}
    fake_rasa.reply = lambda body: httpx.Response(200, json=[{"recipient_id": body["sender"], **question}])
    fake_rasa.active_loop = "antecedentes_penales_form"
    post(consenting, "record policial")
    replies = post(consenting, "quiero retirar mi consentimiento")
    assert [r["text"] for r in replies] == [
        replies[0]["text"],
        "Sigamos con su trámite:",
        "¿Para qué necesita el certificado?",
    ]
    assert replies[0]["text"].startswith("Listo, retiré su consentimiento")
    assert replies[2]["buttons"] == question["buttons"]
    again = post(consenting, "acepto")  # the previous side answer is skipped: the form's question again
    assert [r["text"] for r in again][1:] == ["Sigamos con su trámite:", "¿Para qué necesita el certificado?"]
    fake_rasa.active_loop = None  # no form: nothing is repeated
    assert len(post(consenting, "ya no acepto")) == 1
