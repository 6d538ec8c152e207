"""The whole product running for end-to-end tests: action server, Rasa with the trained model, gateway.

Started once per test session with the same code as `chasqui run`, on free ports and a temporary `var/`.
"""

from __future__ import annotations

import socket
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.cli.model import ensure_model
from bot.cli.stack import Stack, prepare_databases
from bot.settings import Settings


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
    stack = Stack(settings)
    try:
        stack.start_registros()
        stack.start_actions()
        stack.start_rasa(model)
        stack.start_gateway()
        stack.start_worker()
        stack.wait_ready(timeout=300)
        yield Chasqui(settings=settings, stack=stack, model=model)
    finally:
        stack.stop()
