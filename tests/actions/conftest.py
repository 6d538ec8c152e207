"""Action tests run against real parts: the sandbox registries (in process, over their HTTP API), the
app database on SQLite, the documents subsystem, and a vault answered like the gateway's internal API."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from bot.actions.runtime import use_services
from bot.documents.runtime import Documents, build_documents
from bot.documents.settings import document_settings_from
from bot.identity.service import IdentityService
from bot.identity.vault_client import VaultClient
from bot.privacy.encryption import protector_from
from bot.privacy.exports import build_export_store
from bot.privacy.rights import build_privacy
from bot.privacy.vault import MemoryVault
from bot.services import Registros, Servicios
from bot.settings import Settings
from bot.storage.db import create_engine, migrate_async, session_factory
from bot.tramites.payments import build_pagos
from bot.tramites.solicitudes import SolicitudesService
from integrations.registros.ant import AntClient, AntConfig
from integrations.registros.base import CircuitBreaker, RetryPolicy
from integrations.registros.cne import CneClient, CneConfig
from integrations.registros.ministerio_interior import MinisterioInteriorClient, MinisterioInteriorConfig
from integrations.registros.registro_civil import RegistroCivilClient, RegistroCivilConfig
from integrations.registros.sandbox import create_app as create_sandbox
from integrations.registros.sri import SriClient, SriConfig

SANDBOX_URL = "http://registros.sandbox"
SANDBOX_DAY = date(2026, 11, 27)


@dataclass
class World:
    services: Servicios
    vault: MemoryVault
    sandbox: Any
    audit: list[Any]

    async def typed(self, kind: str, value: str) -> str:
        """What the gateway would hand Rasa for ``value`` typed by the citizen."""
        return await self.vault.put(kind, value)


def vault_transport(vault: MemoryVault) -> httpx.MockTransport:
    async def handler(request: httpx.Request) -> httpx.Response:
        reference = request.url.path.rsplit("/", 1)[-1]
        params = request.url.params
        value = await vault.take(
            reference, consume=params.get("consumir") == "true", owner=params.get("conversacion") or None
        )
        if value is None:
            return httpx.Response(404, json={"detail": "unknown"})
        return httpx.Response(200, json={"valor": value})

    return httpx.MockTransport(handler)


@pytest.fixture(scope="session")
def keys_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("acciones-var")


@pytest.fixture
def today() -> date:
    """The sandbox registries' day, and the actions' clock (noon in Ecuador); a test module may override it."""
    return SANDBOX_DAY


def sandbox_day(request: pytest.FixtureRequest) -> date:
    """The `today` fixture where the test sees one (modules outside tests/actions import `world` alone)."""
    try:
        day: date = request.getfixturevalue("today")
        return day
    except pytest.FixtureLookupError:
        return SANDBOX_DAY


@pytest.fixture
async def world(tmp_path: Path, keys_dir: Path, request: pytest.FixtureRequest) -> AsyncIterator[World]:
    today = sandbox_day(request)
    database_url = f"sqlite+aiosqlite:///{tmp_path / 'app.db'}"
    await migrate_async(database_url)
    settings = Settings(var_dir=keys_dir, database_url=database_url, public_base_url="https://chasqui.prueba.ec")
    engine = create_engine(database_url)
    sessions = session_factory(engine)
    sandbox = create_sandbox(seed=2026, hoy=today)
    audit: list[Any] = []
    http = httpx.AsyncClient(transport=httpx.ASGITransport(app=sandbox), base_url=SANDBOX_URL)
    common: dict[str, Any] = {"audit": audit.append, "retry": RetryPolicy(max_attempts=1)}
    registros = Registros(
        registro_civil=RegistroCivilClient(
            http, RegistroCivilConfig.sandbox(SANDBOX_URL), breaker=CircuitBreaker(), **common
        ),
        ant=AntClient(http, AntConfig.sandbox(SANDBOX_URL), breaker=CircuitBreaker(), **common),
        ministerio_interior=MinisterioInteriorClient(
            http, MinisterioInteriorConfig.sandbox(SANDBOX_URL), breaker=CircuitBreaker(), **common
        ),
        cne=CneClient(http, CneConfig.sandbox(SANDBOX_URL), breaker=CircuitBreaker(), **common),
        sri=SriClient(http, SriConfig.sandbox(SANDBOX_URL), breaker=CircuitBreaker(), **common),
    )
    vault = MemoryVault()
    documents: Documents = await asyncio.to_thread(build_documents, document_settings_from(settings), sessions=sessions)
    services = Servicios(
        settings=settings,
        vault=VaultClient(httpx.AsyncClient(transport=vault_transport(vault), base_url="http://gateway"), token="t"),
        identidad=IdentityService(
            sessions=sessions, registro_civil=registros.registro_civil, protector=protector_from(settings)
        ),
        registros=registros,
        documents=documents,
        solicitudes=SolicitudesService(sessions=sessions, protector=protector_from(settings)),
        pagos=build_pagos(settings, sessions),
        privacidad=build_privacy(settings, sessions, documents),
        exportes=build_export_store(settings),
        clock=lambda: datetime.combine(today, time(12), tzinfo=ZoneInfo("America/Guayaquil")),
    )
    use_services(services)
    try:
        yield World(services=services, vault=vault, sandbox=sandbox, audit=audit)
    finally:
        use_services(None)
        await http.aclose()
        await engine.dispose()


async def sandbox_fallas(world: World, **configuracion: object) -> None:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=world.sandbox), base_url=SANDBOX_URL) as client:
        response = await client.post("/_sandbox/fallas", content=json.dumps(configuracion),
                                     headers={"Content-Type": "application/json"})  # fmt: skip
        assert response.status_code == 200, response.text
