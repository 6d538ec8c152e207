"""The gateway's web channel against a fake Rasa (httpx MockTransport): gate, dedupe, failures, limits."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.exc import IntegrityError, OperationalError

from bot.gateway.app import create_app
from bot.settings import Settings
from bot.storage import conversations as repo
from bot.storage.db import create_engine, migrate, session_factory
from bot.storage.models import Owner

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "rasa"


def golden(name: str) -> list[dict[str, Any]]:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))  # type: ignore[no-any-return]


class FakeRasa:
    """Answers like Rasa's REST channel and records what it was sent."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        self.reply: Callable[[dict[str, Any]], httpx.Response] = lambda body: httpx.Response(
            200, json=golden("rest_saludo.json")
        )
        self.active_loop: str | None = None  # the form a conversation is in, as Rasa's tracker says
        self.intents: dict[str, tuple[str, float]] = {}  # what /model/parse answers for a text

    def handler(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/status":
            return httpx.Response(200, json={"model_file": "x.tar.gz", "num_active_training_jobs": 0})
        if request.url.path.endswith("/tracker"):
            return httpx.Response(200, json={"active_loop": {"name": self.active_loop} if self.active_loop else {}})
        if request.url.path == "/model/parse":
            text = json.loads(request.content)["text"]
            name, confidence = self.intents.get(text, ("nlu_fallback", 0.3))
            return httpx.Response(200, json={"text": text, "intent": {"name": name, "confidence": confidence}})
        body = json.loads(request.content)
        self.received.append(body)
        return self.reply(body)


@pytest.fixture
def fake_rasa() -> FakeRasa:
    return FakeRasa()


@pytest.fixture
def client(settings: Settings, fake_rasa: FakeRasa) -> Iterator[TestClient]:
    migrate(settings.effective_database_url)
    app = create_app(settings, rasa_transport=httpx.MockTransport(fake_rasa.handler))
    with TestClient(app) as test_client:
        yield test_client


def post(
    client: TestClient, message: str, *, sender: str = "web:prueba", message_id: str | None = None
) -> httpx.Response:
    body: dict[str, Any] = {"sender": sender, "message": message}
    if message_id:
        body["metadata"] = {"message_id": message_id}
    return client.post("/webhooks/rest/webhook", json=body)


def set_owner(settings: Settings, conversation_id: str, owner: Owner) -> None:
    async def _set() -> None:
        engine = create_engine(settings.effective_database_url)
        async with session_factory(engine)() as session:
            conversation = await repo.get_or_create_conversation(
                session=session, conversation_id=conversation_id, channel="web"
            )
            await repo.record_owner_change(
                session=session, conversation=conversation, to_owner=owner, actor="prueba", reason="prueba"
            )
            await session.commit()
        await engine.dispose()

    asyncio.run(_set())


def stored(settings: Settings, conversation_id: str) -> list[tuple[str, str | None, str]]:
    async def _read() -> list[tuple[str, str | None, str]]:
        engine = create_engine(settings.effective_database_url)
        async with session_factory(engine)() as session:
            messages = await repo.transcript(session=session, conversation_id=conversation_id)
        await engine.dispose()
        return [(m.direction, m.text, m.status) for m in messages]

    return asyncio.run(_read())


def test_a_message_goes_to_rasa_and_the_answer_comes_back_and_is_stored(
    client: TestClient, fake_rasa: FakeRasa, settings: Settings
) -> None:
    response = post(client, "hola", message_id="m1")
    assert response.status_code == 200
    assert response.json() == [
        {
            "recipient_id": "web:prueba",
            **{k: v for k, v in golden("rest_saludo.json")[0].items() if k != "recipient_id"},
        }
    ]
    # The web client travels as a keyed hash (identity attempts are counted per client), never as an address.
    client_key = fake_rasa.received[0]["metadata"].pop("cliente")
    assert re.fullmatch(r"[0-9a-f]{32}", client_key)
    assert fake_rasa.received[0]["metadata"].pop("request_id") == response.headers["X-Request-ID"]
    assert fake_rasa.received == [
        {"sender": "web:prueba", "message": "hola", "metadata": {"channel": "web", "message_id": "m1"}}
    ]
    assert stored(settings, "web:prueba") == [
        ("in", "hola", "answered"),
        ("out", "¡Hola! Soy Chasqui, el asistente virtual del Gobierno del Ecuador.", "sent"),
    ]
    post(client, "otra vez", message_id="m2")
    assert fake_rasa.received[1]["metadata"]["cliente"] == client_key  # the same client, the same key


def test_a_sender_without_prefix_is_a_web_conversation(client: TestClient, fake_rasa: FakeRasa) -> None:
    response = post(client, "hola", sender="abc123")
    assert response.status_code == 200
    assert response.json()[0]["recipient_id"] == "abc123"
    assert fake_rasa.received[0]["sender"] == "web:abc123"


def test_a_redelivered_message_is_answered_once(client: TestClient, fake_rasa: FakeRasa) -> None:
    first = post(client, "hola", message_id="dup-1")
    second = post(client, "hola", message_id="dup-1")
    assert second.status_code == 200
    assert second.json() == first.json()
    assert len(fake_rasa.received) == 1


def test_nothing_reaches_rasa_while_a_person_owns_the_conversation(
    client: TestClient, fake_rasa: FakeRasa, settings: Settings
) -> None:
    set_owner(settings, "web:atendido", Owner.QUEUE)
    response = post(client, "necesito ayuda", sender="web:atendido", message_id="q1")
    assert response.status_code == 200
    assert response.json() == []
    assert fake_rasa.received == []
    assert stored(settings, "web:atendido") == [("in", "necesito ayuda", "waiting")]


def test_rasa_down_gives_an_apology_and_503_and_the_retry_goes_through(
    client: TestClient, fake_rasa: FakeRasa, settings: Settings
) -> None:
    def down(_: dict[str, Any]) -> httpx.Response:
        raise httpx.ConnectError("connection refused")

    fake_rasa.reply = down
    response = post(client, "hola", message_id="r1")
    assert response.status_code == 503
    assert response.headers["retry-after"] == "10"
    [apology] = response.json()
    assert apology["recipient_id"] == "web:prueba"
    assert apology["text"].startswith("Disculpe, en este momento no puedo atenderle")
    assert stored(settings, "web:prueba") == [("in", "hola", "failed")]

    fake_rasa.reply = lambda body: httpx.Response(200, json=golden("rest_saludo.json"))
    retry = post(client, "hola", message_id="r1")
    assert retry.status_code == 200
    assert [m for m in stored(settings, "web:prueba") if m[0] == "in"] == [("in", "hola", "answered")]


def test_a_database_failure_gives_a_503_and_the_retry_goes_through(
    client: TestClient, fake_rasa: FakeRasa, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The database dropped the connection (a restart, a failover) or SQLite stayed locked: never a 500."""
    store = repo.add_inbound_once

    async def dropped(**_: Any) -> None:
        raise OperationalError("INSERT INTO messages …", {}, ConnectionResetError("server closed the connection"))

    monkeypatch.setattr(repo, "add_inbound_once", dropped)
    response = post(client, "hola", message_id="d1")
    assert response.status_code == 503
    assert response.headers["retry-after"] == "10"
    [apology] = response.json()
    assert apology["text"].startswith("Disculpe, tuve un problema técnico")
    assert stored(settings, "web:prueba") == []  # the turn's transaction was rolled back
    assert fake_rasa.received == []

    monkeypatch.setattr(repo, "add_inbound_once", store)
    fake_rasa.reply = lambda body: httpx.Response(200, json=golden("rest_saludo.json"))
    retry = post(client, "hola", message_id="d1")  # the web chat sends the same message again
    assert retry.status_code == 200
    assert [m for m in stored(settings, "web:prueba") if m[0] == "in"] == [("in", "hola", "answered")]
    assert len(fake_rasa.received) == 1

    async def broken(**_: Any) -> None:  # a programming error is not the database being away: it stays a 500
        raise IntegrityError("INSERT INTO messages …", {}, ValueError("constraint"))

    monkeypatch.setattr(repo, "add_inbound_once", broken)
    with pytest.raises(IntegrityError):
        post(client, "hola otra vez", message_id="d2")


def test_rasa_still_loading_is_unavailable_too(client: TestClient, fake_rasa: FakeRasa) -> None:
    fake_rasa.reply = lambda body: httpx.Response(503, text="loading")
    assert post(client, "hola").status_code == 503


def test_handoff_payload_is_recorded_and_not_shown(client: TestClient, fake_rasa: FakeRasa, settings: Settings) -> None:
    fake_rasa.reply = lambda body: httpx.Response(200, json=golden("rest_handoff.json"))
    response = post(client, "ñññ", message_id="h1")
    assert response.json() == [{"recipient_id": "web:prueba", "text": golden("rest_handoff.json")[0]["text"]}]

    async def _requests() -> list[tuple[str, str]]:
        engine = create_engine(settings.effective_database_url)
        async with session_factory(engine)() as session:
            found = await repo.handoff_requests(session=session, conversation_id="web:prueba")
        await engine.dispose()
        return [(r.reason, r.team) for r in found]

    assert asyncio.run(_requests()) == [("no_entendido", "general")]


def test_an_empty_answer_from_rasa_gets_an_apology(client: TestClient, fake_rasa: FakeRasa) -> None:
    fake_rasa.reply = lambda body: httpx.Response(200, json=[])
    response = post(client, "hola")
    assert response.status_code == 200
    assert response.json()[0]["text"].startswith("Disculpe, tuve un problema para responderle.")


@pytest.mark.parametrize(
    ("body", "status"),
    [
        (b"{not json", 400),
        (b"[1, 2]", 400),
        (json.dumps({"sender": "web:x"}).encode(), 422),
        (json.dumps({"sender": "web:x", "message": "   "}).encode(), 422),
        (json.dumps({"sender": "tg:123", "message": "hola"}).encode(), 422),
        (json.dumps({"sender": "web:x", "message": "hola", "metadata": "x"}).encode(), 422),
        (json.dumps({"sender": "web:x", "message": "hola", "metadata": {"message_id": "a b"}}).encode(), 422),
        (json.dumps({"sender": "web:x", "message": "a" * 2001}).encode(), 413),
        (b"{" + b" " * (70 * 1024) + b"}", 413),
        ('{"sender": "web:x", "message": "\udcff"}'.encode("utf-8", "surrogatepass"), 400),
        (rb'{"sender": "web:x", "message": "\udcff"}', 400),
    ],
)
def test_bad_requests_get_a_4xx_and_never_reach_rasa(
    client: TestClient, fake_rasa: FakeRasa, body: bytes, status: int
) -> None:
    response = client.post("/webhooks/rest/webhook", content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == status
    assert fake_rasa.received == []


def test_health_and_readiness(client: TestClient, fake_rasa: FakeRasa) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert (ready.status_code, ready.json()) == (200, {"ready": True, "database": "ok", "rasa": "ok"})


def test_not_wholly_ready_while_rasa_loads(settings: Settings) -> None:
    migrate(settings.effective_database_url)
    app = create_app(settings, rasa_transport=httpx.MockTransport(lambda r: httpx.Response(503)))
    with TestClient(app) as test_client:
        ready = test_client.get("/readyz?completo=1")
    # Plain /readyz stays 200 meanwhile (the gateway apologises in Spanish): tests/gateway/test_observabilidad.py
    assert (ready.status_code, ready.json()["rasa"]) == (503, "cargando o no disponible")


def test_the_web_chat_page_is_spanish_and_accessible(client: TestClient) -> None:
    page = client.get("/")
    assert page.status_code == 200
    html = page.text
    assert '<html lang="es">' in html
    assert 'role="log"' in html and 'aria-live="polite"' in html
    assert '<label for="mensaje">' in html
    assert "http://" not in html and "https://" not in html  # no assets from the internet
    assert client.get("/static/chat.js").status_code == 200


def test_identifiers_reach_rasa_and_the_database_only_as_vault_references(
    client: TestClient, fake_rasa: FakeRasa, settings: Settings
) -> None:
    post(client, "mi cédula es 1712345675 y mi celular +593991234567", message_id="p1")
    sent = fake_rasa.received[0]["message"]
    assert "1712345675" not in sent and "+593991234567" not in sent
    assert re.fullmatch(r"mi cédula es ced_[0-9a-f]{10} y mi celular tel_[0-9a-f]{10}", sent)
    [(direction, text, _), _reply] = stored(settings, "web:prueba")
    assert (direction, text) == ("in", sent)


def test_the_reply_to_the_codigo_dactilar_question_goes_whole_to_the_vault(
    client: TestClient, fake_rasa: FakeRasa, settings: Settings
) -> None:
    fake_rasa.reply = lambda body: httpx.Response(
        200,
        json=[
            {"recipient_id": body["sender"], "text": "Escriba su código dactilar."},
            {"recipient_id": body["sender"], "custom": {"secreto": "codigo_dactilar"}},
        ],
    )
    asked = post(client, "quiero identificarme", message_id="s1")
    assert asked.json() == [{"recipient_id": "web:prueba", "text": "Escriba su código dactilar."}]
    post(client, "v 4443 v 4442", message_id="s2")  # typed with spaces: still treated as the secret
    reference = fake_rasa.received[1]["message"]
    assert re.fullmatch(r"dac_[0-9a-f]{10}", reference)
    token = {"Authorization": f"Bearer {settings.internal_token}"}
    assert client.get(f"/interno/boveda/{reference}").status_code == 403
    assert client.get(f"/interno/boveda/{reference}", headers={"Authorization": "Bearer otro"}).status_code == 403
    # Bound to its conversation: asked for another chat (or none) it is unknown, and it is not used up.
    url = f"/interno/boveda/{reference}"
    assert client.get(url, params={"conversacion": "web:otra"}, headers=token).status_code == 404
    assert client.get(url, headers=token).status_code == 404
    first = client.get(url, params={"conversacion": "web:prueba"}, headers=token)
    assert (first.status_code, first.json()) == (200, {"valor": "v 4443 v 4442"})
    assert client.get(url, params={"conversacion": "web:prueba"}, headers=token).status_code == 404  # used once
    assert all("4443" not in (text or "") for _, text, _ in stored(settings, "web:prueba"))
    post(client, "4443", message_id="s3")  # the expectation lasts one message
    assert fake_rasa.received[2]["message"] == "4443"


def test_a_request_to_wait_is_answered_by_the_gateway_and_a_secret_question_stays_open(
    client: TestClient, fake_rasa: FakeRasa
) -> None:
    fake_rasa.reply = lambda body: httpx.Response(
        200,
        json=[
            {"recipient_id": body["sender"], "text": "Escriba su código dactilar."},
            {"recipient_id": body["sender"], "custom": {"secreto": "codigo_dactilar"}},
        ],
    )
    post(client, "quiero identificarme", message_id="w1")
    waited = post(client, "espereme un ratito, ahorita le paso el codigo", message_id="w2")
    assert [m["text"] for m in waited.json()] == ["Claro, le espero. Cuando lo tenga, escríbamelo aquí."]
    post(client, "v 4443 v 4442", message_id="w3")  # still the answer to the secret question: whole to the vault
    assert fake_rasa.received[0]["message"] == "quiero identificarme"
    assert re.fullmatch(r"dac_[0-9a-f]{10}", fake_rasa.received[1]["message"])
    assert len(fake_rasa.received) == 2  # the pause never reached Rasa
    post(client, "espere, mejor quiero la licencia", message_id="w4")  # more than a pause: Rasa reads it
    assert fake_rasa.received[-1]["message"] == "espere, mejor quiero la licencia"


def test_a_request_to_wait_inside_a_form_keeps_the_form_question_on_screen(
    client: TestClient, fake_rasa: FakeRasa
) -> None:
    fake_rasa.reply = lambda body: httpx.Response(
        200, json=[{"recipient_id": body["sender"], "text": "¿Para qué necesita el certificado?"}]
    )
    post(client, "quiero el record policial", message_id="m1")
    fake_rasa.active_loop = "antecedentes_form"
    waited = post(client, "espere un ratito que le pregunto a mi esposo para que era", message_id="m2")
    assert [m["text"] for m in waited.json()] == [
        "Claro, le espero. Cuando lo tenga, escríbamelo aquí.",
        "¿Para qué necesita el certificado?",
    ]
    assert len(fake_rasa.received) == 1  # the pause never reached Rasa
    again = post(client, "un momentito", message_id="m3")  # a second pause finds the question, not the first pause
    assert [m["text"] for m in again.json()][-1] == "¿Para qué necesita el certificado?"
