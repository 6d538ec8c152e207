"""An agent's replies reach Telegram through the outbox, like the bot's; the citizen's messages wait meanwhile."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from bot.console.service import Consola
from bot.gateway.app import create_app
from bot.settings import Settings
from bot.storage.db import migrate
from tests.channels.conftest import TELEGRAM_SECRET, TELEGRAM_TOKEN, fixture, wait_until
from tests.console.conftest import HANDOFF_TRIGGER, PASSWORD, FakeRasa, Staff
from tests.fakes.server import serve
from tests.fakes.telegram_api import FakeTelegram
from tests.handoff.builders import always_open

HEADERS = {"X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET}
CHAT = 4242


@pytest.fixture
def telegram(tmp_path: Path) -> Iterator[tuple[TestClient, FakeTelegram, FakeRasa]]:
    fake = FakeTelegram(TELEGRAM_TOKEN)
    rasa = FakeRasa()
    with serve(fake.app) as telegram_url:
        settings = Settings(
            var_dir=tmp_path / "var",
            database_url=f"sqlite+aiosqlite:///{tmp_path / 'app.db'}",
            public_base_url="https://chasqui.gob.example",
            telegram_token=TELEGRAM_TOKEN,
            telegram_secret_token=TELEGRAM_SECRET,
            telegram_api_url=f"{telegram_url}/bot",
            telegram_mode="webhook",
            consentimiento_requerido=False,  # consent has its own tests
        )
        migrate(settings.effective_database_url)
        app = create_app(settings, rasa_transport=httpx.MockTransport(rasa.handler))
        with TestClient(app, base_url="https://testserver") as client:
            consola: Consola = app.state.consola
            consola.handoff.equipos = always_open(consola.handoff.equipos)
            yield client, fake, rasa


def update(number: int, text: str) -> dict[str, object]:
    body = fixture("telegram", "texto")
    body["update_id"] = 600000 + number
    body["message"]["message_id"] = 100 + number  # type: ignore[index]
    body["message"]["text"] = text  # type: ignore[index]
    return body


def test_an_agents_reply_goes_to_telegram_and_the_citizen_waits_meanwhile(
    telegram: tuple[TestClient, FakeTelegram, FakeRasa],
) -> None:
    client, fake, rasa = telegram
    assert client.post("/webhooks/telegram", json=update(1, HANDOFF_TRIGGER), headers=HEADERS).status_code == 200
    wait_until(lambda: len(fake.texts_to(CHAT)) == 2)
    assert fake.texts_to(CHAT)[0] == "Entendido. He pedido que una persona le atienda."
    assert fake.texts_to(CHAT)[1].startswith("Un asesor le atenderá en breve. Usted es el número 1 en la fila")

    consola: Consola = client.app.state.consola  # type: ignore[attr-defined]
    portal = client.portal
    assert portal is not None
    portal.call(
        lambda: consola.auth.create_staff(
            usuario="ana", nombre="Ana Pérez", password=PASSWORD, rol="agente", equipos=["general"]
        )
    )
    browser = TestClient(client.app, base_url="https://testserver")
    browser.portal = portal
    ana = Staff(client=browser, usuario="ana")
    assert ana.login().status_code == 303
    assert ana.act(1, "tomar") == "tomada"
    assert ana.act(1, "responder", texto="Hola, soy Ana. ¿Qué trámite necesita?") == "enviada"
    wait_until(lambda: len(fake.texts_to(CHAT)) == 4)
    assert fake.texts_to(CHAT)[2:] == [
        "Ya le atiende Ana, del equipo de Atención general.",
        "Hola, soy Ana. ¿Qué trámite necesita?",
    ]

    assert client.post("/webhooks/telegram", json=update(2, "mi licencia"), headers=HEADERS).status_code == 200
    wait_until(lambda: "mi licencia" in ana.client.get("/consola/atenciones/1").text)
    assert rasa.received == [HANDOFF_TRIGGER]
