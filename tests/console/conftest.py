"""A gateway with the console, a fake Rasa (httpx MockTransport) and staff accounts, driven by TestClient."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from bot.console.service import Consola
from bot.gateway.app import create_app
from bot.settings import Settings
from bot.storage.db import create_engine, migrate, session_factory
from tests.handoff.builders import always_open

HANDOFF_TRIGGER = "quiero hablar con un asesor"
LOGOUT_TRIGGER = "cerrar sesión"
PASSWORD = "clave-de-prueba-123"


@dataclass
class FakeRasa:
    """Rasa's REST channel and tracker: an echo, a handoff for the trigger, slots chosen by the test."""

    received: list[str] = field(default_factory=list)
    senders: list[str] = field(default_factory=list)
    slots: dict[str, Any] = field(default_factory=dict)
    active_loop: str | None = None
    team: str = "general"

    def handler(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/status":
            return httpx.Response(200, json={"model_file": "x.tar.gz"})
        if request.url.path.endswith("/tracker"):
            loop = {"name": self.active_loop} if self.active_loop else {}
            return httpx.Response(200, json={"sender_id": "x", "slots": self.slots, "active_loop": loop, "events": []})
        body = json.loads(request.content)
        self.received.append(body["message"])
        sender = body["sender"]
        self.senders.append(sender)
        if body["message"] == LOGOUT_TRIGGER:  # what `action_cerrar_sesion` sends when a link was removed
            return httpx.Response(
                200,
                json=[
                    {"recipient_id": sender, "text": "Listo, desvinculé este chat de su identidad."},
                    {"recipient_id": sender, "custom": {"sesion": "cerrada"}},
                ],
            )
        if body["message"] == HANDOFF_TRIGGER:
            return httpx.Response(
                200,
                json=[
                    {"recipient_id": sender, "text": "Entendido. He pedido que una persona le atienda."},
                    {"recipient_id": sender, "custom": {"handoff": {"reason": "pedido_ciudadano", "team": self.team}}},
                ],
            )
        return httpx.Response(200, json=[{"recipient_id": sender, "text": f"eco: {body['message']}"}])


def run(coroutine: Any) -> Any:
    return asyncio.run(coroutine)


def query(settings: Settings, work: Callable[[Any], Any]) -> Any:
    """Run ``work(session)`` against the app database from a test (its own engine and loop)."""

    async def _run() -> Any:
        engine = create_engine(settings.effective_database_url)
        try:
            async with session_factory(engine)() as session:
                return await work(session)
        finally:
            await engine.dispose()

    return run(_run())


@dataclass
class Staff:
    """A browser-less staff member: a TestClient with its own cookies."""

    client: TestClient
    usuario: str
    csrf: str = ""

    def login(self, password: str = PASSWORD) -> httpx.Response:
        page = self.client.get("/consola/entrar")
        token = re.search(r'name="csrf" value="([^"]+)"', page.text)
        assert token is not None
        response = self.client.post(
            "/consola/entrar",
            data={"usuario": self.usuario, "clave": password, "csrf": token.group(1)},
            follow_redirects=False,
        )
        if response.status_code == 303:
            self.csrf = self.read_csrf(self.client.get("/consola/cola").text)
        return response

    @staticmethod
    def read_csrf(html: str) -> str:
        found = re.search(r'<meta name="csrf" content="([^"]+)"', html)
        assert found is not None
        return found.group(1)

    def post(self, path: str, data: dict[str, str] | None = None) -> httpx.Response:
        return self.client.post(path, data={"csrf": self.csrf, **(data or {})}, follow_redirects=False)

    def act(self, case_id: int, action: str, **data: str) -> str:
        """Do an action on a case and return the notice code of the redirect."""
        response = self.post(f"/consola/atenciones/{case_id}/{action}", data)
        assert response.status_code == 303, response.text
        found = re.search(r"aviso=([a-z_]+)", response.headers["location"])
        assert found is not None
        return found.group(1)


@dataclass
class Gateway:
    app: FastAPI
    citizen: TestClient
    rasa: FakeRasa
    settings: Settings

    @property
    def consola(self) -> Consola:
        consola: Consola = self.app.state.consola
        return consola

    def says(self, text: str, *, sender: str = "web:ciudadano") -> list[dict[str, Any]]:
        response = self.citizen.post("/webhooks/rest/webhook", json={"sender": sender, "message": text})
        assert response.status_code == 200, response.text
        return response.json()  # type: ignore[no-any-return]

    def news(self, *, sender: str = "web:ciudadano", after: int = 0) -> list[dict[str, Any]]:
        response = self.citizen.get("/webhooks/rest/mensajes", params={"sender": sender, "despues": after})
        assert response.status_code == 200
        return response.json()  # type: ignore[no-any-return]

    def create_staff(self, usuario: str, *, rol: str = "agente", equipos: tuple[str, ...] = ("general",)) -> None:
        run_in_app(
            self,
            self.consola.auth.create_staff(
                usuario=usuario, nombre=f"{usuario.title()} Pérez", password=PASSWORD, rol=rol, equipos=equipos
            ),
        )

    def staff(self, usuario: str, *, rol: str = "agente", equipos: tuple[str, ...] = ("general",)) -> Staff:
        """Create an account and log it in with a client of its own."""
        self.create_staff(usuario, rol=rol, equipos=equipos)
        member = Staff(client=self.client(), usuario=usuario)
        assert member.login().status_code == 303
        return member

    def client(self) -> TestClient:
        """Another browser: its own cookies, the same app and event loop (no second lifespan)."""
        other = TestClient(self.app, base_url=str(self.citizen.base_url))
        other.portal = self.citizen.portal
        return other

    def open_case(self) -> int:
        async def _case(session: Any) -> int:
            from bot.storage import console as repo

            [case] = await repo.open_cases(session=session)
            return case.id

        return int(query(self.settings, _case))


async def _wait(coroutine: Any) -> Any:
    return await coroutine


def run_in_app(gateway: Gateway, coroutine: Any) -> Any:
    """Run a coroutine on the app's own event loop (the TestClient's portal)."""
    portal = gateway.citizen.portal
    assert portal is not None
    return portal.call(_wait, coroutine)


@pytest.fixture
def gateway(settings: Settings) -> Iterator[Gateway]:
    migrate(settings.effective_database_url)
    rasa = FakeRasa()
    app = create_app(settings, rasa_transport=httpx.MockTransport(rasa.handler))
    with TestClient(app) as citizen:
        consola: Consola = app.state.consola
        consola.handoff.equipos = always_open(consola.handoff.equipos)
        yield Gateway(app=app, citizen=citizen, rasa=rasa, settings=settings)
