"""The whole product running for end-to-end tests: action server, Rasa with the trained model, gateway.

Started once per test session with the same code as `chasqui run`, on free ports and a temporary `var/`.
Telegram is configured too, against the fake Bot API (`tests/fakes/telegram_api.py`) served here: the
gateway registers its webhook there and sends its replies there, as it would to Telegram.
"""

from __future__ import annotations

import itertools
import os
import random
import socket
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.cli.model import ensure_model
from bot.cli.stack import Stack, prepare_databases
from bot.settings import Settings
from tests.fakes.server import serve
from tests.fakes.telegram_api import FakeTelegram

TELEGRAM_TOKEN = "123456789:AAHfiqksKZ8WmR2zSjiQ7_v4TMAKdiHm9T0"
TELEGRAM_SECRET = "secreto-e2e_123"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Chasqui:
    """A running Chasqui and a small web-channel client for one citizen at a time."""

    settings: Settings
    stack: Stack
    model: Path
    telegram: FakeTelegram

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.settings.gateway_port}"

    def citizen(self, *, consented: bool = True) -> Citizen:
        """A new citizen on the web chat; by default past the privacy notice of first contact."""
        citizen = Citizen(self.url, f"web:e2e-{uuid.uuid4().hex[:12]}")
        if consented:
            first = citizen.says("hola")
            assert first[-1]["text"].startswith("Sobre sus datos: usamos sus mensajes solo para atender"), first
            answers = citizen.texts("/consentimiento_acepto")
            assert answers == [
                "Gracias, quedó registrado. Si un día cambia de idea, solo tiene que escribir «retirar consentimiento»."
            ], answers
        return citizen

    def telegram_citizen(self) -> TelegramCitizen:
        """A new citizen writing to the bot on Telegram (a private chat with a fresh id)."""
        return TelegramCitizen(self.url, self.telegram, random.randrange(10**8, 10**9))


_update_ids = itertools.count(700_000)


@dataclass
class TelegramCitizen:
    """Sends updates to the gateway's Telegram webhook; reads what the bot sent to this chat on the fake API.

    Replies leave through the outbox, after the webhook has answered: a turn's replies are those that arrived
    until the chat stayed quiet for ``QUIET`` seconds.
    """

    base_url: str
    api: FakeTelegram
    chat_id: int
    QUIET = 2.0

    def _post(self, update: dict[str, Any]) -> None:
        response = httpx.post(
            f"{self.base_url}/webhooks/telegram",
            json={"update_id": next(_update_ids), **update},
            headers={"X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET},
            timeout=30,
        )
        assert response.status_code == 200, response.text

    def _replies_after(self, before: int, timeout: float = 60.0) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        seen, quiet_since = before, time.monotonic()
        while time.monotonic() < deadline:
            now = len(self.calls())
            if now != seen:
                seen, quiet_since = now, time.monotonic()
            elif seen > before and time.monotonic() - quiet_since >= self.QUIET:
                break
            time.sleep(0.1)
        return [c.params | {"_method": c.method} for c in self.calls()[before:]]

    def calls(self) -> list[Any]:
        return [c for c in self.api.calls if str(c.params.get("chat_id")) == str(self.chat_id)]

    def _message(self, **content: Any) -> dict[str, Any]:
        chat = {"id": self.chat_id, "type": "private", "first_name": "Rosa"}
        sender = {"id": self.chat_id, "is_bot": False, "first_name": "Rosa", "language_code": "es"}
        return {"message_id": next(_update_ids), "date": int(time.time()), "chat": chat, "from": sender, **content}

    def says(self, text: str) -> list[dict[str, Any]]:
        before = len(self.calls())
        self._post({"message": self._message(text=text)})
        return self._replies_after(before)

    def presses(self, payload: str) -> list[dict[str, Any]]:
        """Taps an inline button whose callback data is ``payload``."""
        before = len(self.calls())
        sender = {"id": self.chat_id, "is_bot": False, "first_name": "Rosa"}
        query = {"id": uuid.uuid4().hex, "from": sender, "chat_instance": "-1", "data": payload}
        self._post({"callback_query": query | {"message": self._message(text="…")}})
        return self._replies_after(before)

    def sends_photo(self, image: bytes) -> list[dict[str, Any]]:
        before = len(self.calls())
        file_id = "AgAC" + uuid.uuid4().hex
        self.api.files[file_id] = image
        size = {"file_id": file_id, "file_unique_id": file_id[-8:], "width": 800, "height": 600}
        self._post({"message": self._message(photo=[size | {"file_size": len(image)}])})
        return self._replies_after(before)

    @staticmethod
    def texts(replies: list[dict[str, Any]]) -> list[str]:
        return [str(r["text"]) for r in replies if r.get("text")]

    @staticmethod
    def buttons(replies: list[dict[str, Any]]) -> list[tuple[str, str]]:
        """(title, callback data) of every inline button in the replies."""
        found = []
        for reply in replies:
            markup = reply.get("reply_markup")
            keyboard = (markup if isinstance(markup, dict) else {}).get("inline_keyboard", [])
            found += [(b["text"], b.get("callback_data", "")) for row in keyboard for b in row]
        return found


@dataclass
class Citizen:
    base_url: str
    sender: str

    def says(self, text: str) -> list[dict[str, Any]]:
        response = httpx.post(
            f"{self.base_url}/webhooks/rest/webhook",
            json={"sender": self.sender, "message": text, "metadata": {"message_id": uuid.uuid4().hex}},
            timeout=60,
        )
        assert response.status_code == 200, response.text
        return response.json()  # type: ignore[no-any-return]

    def texts(self, text: str) -> list[str]:
        return [m["text"] for m in self.says(text) if "text" in m]


def restore_environment(saved: dict[str, str | None]) -> None:
    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


@pytest.fixture(scope="session")
def chasqui(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Chasqui]:
    var_dir = tmp_path_factory.mktemp("chasqui") / "var"
    settings = Settings(
        var_dir=var_dir,
        database_url=f"sqlite+aiosqlite:///{var_dir / 'chasqui.db'}",
        rasa_database_url=f"sqlite:///{var_dir / 'rasa.db'}",
        gateway_port=free_port(),
        rasa_port=free_port(),
        actions_port=free_port(),
        registros_port=free_port(),
    )
    var_dir.mkdir(parents=True)
    model = ensure_model(settings, echo=False)
    prepare_databases(settings)
    telegram = FakeTelegram(TELEGRAM_TOKEN)
    with ExitStack() as cleanup:
        telegram_url = cleanup.enter_context(serve(telegram.app))
        telegram_env = {  # the app processes read their settings from the environment
            "CHASQUI_TELEGRAM_TOKEN": TELEGRAM_TOKEN,
            "CHASQUI_TELEGRAM_API_URL": f"{telegram_url}/bot",
            "CHASQUI_TELEGRAM_MODE": "webhook",
            "CHASQUI_TELEGRAM_SECRET_TOKEN": TELEGRAM_SECRET,
        }
        saved = {name: os.environ.get(name) for name in telegram_env}
        os.environ.update(telegram_env)  # only while the processes start
        cleanup.callback(restore_environment, saved)
        stack = Stack(settings)
        cleanup.callback(stack.stop)
        stack.start_all(model)
        stack.wait_ready(timeout=300)
        restore_environment(saved)  # the processes have their copy; the tests that follow read a clean one
        yield Chasqui(settings=settings, stack=stack, model=model, telegram=telegram)
