"""Two gateways sharing the database and Redis, each a real HTTP server: an agent whose console is connected to
gateway 1 sees, live, a conversation and a message that arrived at gateway 2; and the vault is shared."""

from __future__ import annotations

import asyncio
import json
import re
import socket
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI

from bot.console.service import Consola
from bot.gateway.app import Gateway, create_app
from bot.handoff.events import RedisEventBus
from bot.settings import Settings
from tests.console.conftest import HANDOFF_TRIGGER, PASSWORD, FakeRasa
from tests.handoff.builders import always_open
from tests.redis_support import REDIS_URL, redis_client, unique_prefix

WAIT = 15.0  # seconds before a missing event fails the test (never reached when it works)


@asynccontextmanager
async def serving(app: FastAPI) -> AsyncIterator[str]:
    """``app`` on a real socket (lifespan included) in this event loop; yields its base URL."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        while not server.started:
            if task.done():
                task.result()  # start-up failed: raise it here
            await asyncio.sleep(0.02)
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        await task
        sock.close()


async def login(client: httpx.AsyncClient, usuario: str) -> str:
    """Log in through the form; the session's CSRF token."""
    page = await client.get("/consola/entrar")
    token = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert token is not None
    response = await client.post(
        "/consola/entrar", data={"usuario": usuario, "clave": PASSWORD, "csrf": token.group(1)}
    )
    assert response.status_code == 303, response.text
    queue = await client.get("/consola/cola")
    csrf = re.search(r'<meta name="csrf" content="([^"]+)"', queue.text)
    assert csrf is not None
    return csrf.group(1)


async def next_event(lines: AsyncIterator[str]) -> tuple[str, dict[str, Any]]:
    """The next server-sent event (keep-alive comments skipped)."""
    kind = ""
    while True:
        line = await asyncio.wait_for(anext(lines), timeout=WAIT)
        if line.startswith("event: "):
            kind = line.removeprefix("event: ")
        elif line.startswith("data: ") and kind:
            return kind, json.loads(line.removeprefix("data: "))


@pytest.fixture
async def prefix() -> AsyncIterator[str]:
    prefix = unique_prefix()
    async with redis_client(prefix):  # skips when Redis is not reachable; deletes the test's keys afterwards
        yield prefix


async def test_an_agent_on_gateway_1_sees_live_what_arrived_at_gateway_2(
    tmp_path: Path, database_url: str, prefix: str
) -> None:
    several = database_url.startswith("postgresql")  # on PostgreSQL as in production: two replicas declared
    settings = Settings(
        var_dir=tmp_path / "var",
        database_url=database_url,
        redis_url=REDIS_URL,
        redis_prefix=prefix,
        replicas=2 if several else 1,
        internal_token="token-interno-de-prueba",
        consentimiento_requerido=False,
    )
    rasa = FakeRasa()
    apps = [create_app(settings, rasa_transport=httpx.MockTransport(rasa.handler)) for _ in range(2)]
    async with AsyncExitStack() as stack:
        one, two = [await stack.enter_async_context(serving(app)) for app in apps]
        for app in apps:
            consola: Consola = app.state.consola
            consola.handoff.equipos = always_open(consola.handoff.equipos)
            assert isinstance(consola.bus, RedisEventBus)
        await apps[0].state.consola.auth.create_staff(
            usuario="ana", nombre="Ana Pérez", password=PASSWORD, rol="agente", equipos=("general",)
        )
        agent = await stack.enter_async_context(httpx.AsyncClient(base_url=one))
        citizen = await stack.enter_async_context(httpx.AsyncClient(base_url=two))
        await login(agent, "ana")

        async with agent.stream("GET", "/consola/eventos", timeout=WAIT) as stream:
            assert stream.status_code == 200
            lines = stream.aiter_lines()
            assert await asyncio.wait_for(anext(lines), timeout=WAIT) == "retry: 3000"  # subscribed
            said = await citizen.post(
                "/webhooks/rest/webhook", json={"sender": "ciudadano", "message": HANDOFF_TRIGGER}
            )
            assert said.status_code == 200
            kind, data = await next_event(lines)
            assert (kind, data["equipo"], data["agente"]) == ("nueva", "general", None)
            case_id = data["caso"]

            said = await citizen.post("/webhooks/rest/webhook", json={"sender": "ciudadano", "message": "¿Sigue ahí?"})
            assert said.status_code == 200 and said.json()  # the citizen is told their place, on gateway 2
            assert await next_event(lines) == (
                "mensaje",
                {"tipo": "mensaje", "caso": case_id, "equipo": "general", "agente": None},
            )

        page = await agent.get(f"/consola/atenciones/{case_id}")
        assert "¿Sigue ahí?" in page.text  # what the live update announced, read from the shared database


async def test_the_vault_of_one_gateway_is_redeemed_through_another(
    tmp_path: Path, database_url: str, prefix: str
) -> None:
    """An action may reach any gateway replica: a reference created on gateway 2 redeems on gateway 1."""
    settings = Settings(
        var_dir=tmp_path / "var",
        database_url=database_url,
        redis_url=REDIS_URL,
        redis_prefix=prefix,
        internal_token="token-interno-de-prueba",
        consentimiento_requerido=False,
    )
    rasa = FakeRasa()
    apps = [create_app(settings, rasa_transport=httpx.MockTransport(rasa.handler)) for _ in range(2)]
    async with AsyncExitStack() as stack:
        one, _ = [await stack.enter_async_context(serving(app)) for app in apps]
        second: Gateway = apps[1].state.gateway
        assert second.vault is not None
        reference = await second.vault.put("cedula", "1712345675", owner="web:ana")
        async with httpx.AsyncClient(base_url=one) as action_server:
            redeemed = await action_server.get(
                f"/interno/boveda/{reference}",
                params={"conversacion": "web:ana"},
                headers={"Authorization": "Bearer token-interno-de-prueba"},
            )
        assert (redeemed.status_code, redeemed.json()) == (200, {"valor": "1712345675"})
