"""A gateway with Telegram and WhatsApp configured against local fake APIs and a fake Rasa."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from bot.gateway.app import create_app
from bot.settings import Settings
from bot.storage.db import migrate
from tests.fakes.server import serve
from tests.fakes.telegram_api import FakeTelegram
from tests.fakes.twilio_api import FakeTwilio

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
TELEGRAM_TOKEN = "123456789:AAHfiqksKZ8WmR2zSjiQ7_v4TMAKdiHm9T0"
TELEGRAM_SECRET = "secreto-de-prueba_123"
TWILIO_SID = "ACtest00000000000000000000000000000"
TWILIO_TOKEN = "twilio-auth-token-de-prueba"
PUBLIC_URL = "https://chasqui.gob.example"


def fixture(channel: str, name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / channel / f"{name}.json").read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def wait_until(predicate: Callable[[], Any], *, timeout: float = 15.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("condition not met in time")


@dataclass
class FakeRasa:
    """Answers like Rasa's REST channel: an echo, or a reply chosen by the test."""

    received: list[dict[str, Any]] = field(default_factory=list)
    replies: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    def handler(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/status":
            return httpx.Response(200, json={"model_file": "x.tar.gz"})
        if request.url.path.endswith("/tracker"):  # no form is waiting for an answer
            return httpx.Response(200, json={"active_loop": {}})
        body = json.loads(request.content)
        self.received.append(body)
        reply = self.replies.get(body["message"], [{"text": f"eco: {body['message']}"}])
        return httpx.Response(200, json=[{"recipient_id": body["sender"], **r} for r in reply])


@dataclass
class Channels:
    client: TestClient
    telegram: FakeTelegram
    twilio: FakeTwilio
    rasa: FakeRasa
    settings: Settings


@pytest.fixture
def channels(tmp_path: Path) -> Iterator[Channels]:
    telegram = FakeTelegram(TELEGRAM_TOKEN)
    twilio = FakeTwilio(TWILIO_SID, TWILIO_TOKEN)
    rasa = FakeRasa()
    with serve(telegram.app) as telegram_url, serve(twilio.app) as twilio_url:
        settings = Settings(
            var_dir=tmp_path / "var",
            database_url=f"sqlite+aiosqlite:///{tmp_path / 'app.db'}",
            public_base_url=PUBLIC_URL,
            telegram_token=TELEGRAM_TOKEN,
            telegram_secret_token=TELEGRAM_SECRET,
            telegram_api_url=f"{telegram_url}/bot",
            telegram_mode="webhook",
            twilio_account_sid=TWILIO_SID,
            twilio_auth_token=TWILIO_TOKEN,
            twilio_whatsapp_from="whatsapp:+14155238886",
            twilio_api_url=twilio_url,
            consentimiento_requerido=False,  # consent has its own tests
        )
        migrate(settings.effective_database_url)
        app = create_app(settings, rasa_transport=httpx.MockTransport(rasa.handler))
        with TestClient(app, base_url="http://10.0.0.5:8000") as client:
            yield Channels(client=client, telegram=telegram, twilio=twilio, rasa=rasa, settings=settings)
