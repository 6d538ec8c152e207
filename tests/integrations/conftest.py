"""The sandbox registries server on a free 127.0.0.1 port for the whole session, and small builders of clients."""

from __future__ import annotations

import random
import socket
import ssl
import threading
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI

from integrations.registros.ant import AntClient, AntConfig
from integrations.registros.base import AuditEvent, CircuitBreaker, RetryPolicy
from integrations.registros.cne import CneClient, CneConfig
from integrations.registros.ministerio_interior import MinisterioInteriorClient, MinisterioInteriorConfig
from integrations.registros.registro_civil import RegistroCivilClient, RegistroCivilConfig
from integrations.registros.sandbox import create_app
from integrations.registros.sandbox.model import Poblacion
from integrations.registros.sri import SriClient, SriConfig

SEED = 2026
HOY = date(2026, 3, 1)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# Building an SSL context loads the CA bundle (~0.1 s); every client of the session shares this one.
SSL_CONTEXT = ssl.create_default_context()


@dataclass
class Sandbox:
    """A running sandbox registries server and a small admin client."""

    url: str
    app: FastAPI
    admin: httpx.Client

    @property
    def poblacion(self) -> Poblacion:
        return self.app.state.poblacion  # type: ignore[no-any-return]

    def fallas(self, **configuracion: object) -> None:
        response = self.admin.post("/_sandbox/fallas", json=configuracion)
        assert response.status_code == 200, response.text

    def reset(self) -> None:
        assert self.admin.post("/_sandbox/reset").status_code == 200


@pytest.fixture(scope="session")
def sandbox_server() -> Iterator[Sandbox]:
    app = create_app(seed=SEED, population=2000, hoy=HOY)
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", timeout_graceful_shutdown=1)
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the sandbox registries server did not start")
        time.sleep(0.02)
    url = f"http://127.0.0.1:{port}"
    try:
        with httpx.Client(base_url=url, trust_env=False, verify=SSL_CONTEXT) as admin:
            yield Sandbox(url=url, app=app, admin=admin)
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture
def sandbox(sandbox_server: Sandbox) -> Iterator[Sandbox]:
    """The session's sandbox, with no faults and no lock-outs before and after the test."""
    sandbox_server.reset()
    yield sandbox_server
    sandbox_server.reset()


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    # trust_env=False: no proxy from the environment may stand between the tests and 127.0.0.1.
    async with httpx.AsyncClient(trust_env=False, verify=SSL_CONTEXT) as client:
        yield client


class FakeClock:
    """A monotonic clock that moves only when told to."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@dataclass
class Kit:
    """What a client under test is built with: the audit events it emits and the waits it asked for."""

    clock: FakeClock = field(default_factory=FakeClock)
    audit: list[AuditEvent] = field(default_factory=list)
    sleeps: list[float] = field(default_factory=list)

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)

    def options(
        self, *, attempts: int = 3, threshold: int = 5, cooldown: float = 30.0, timeout: float = 3.0
    ) -> dict[str, Any]:
        return {
            "audit": self.audit.append,
            "timeout": timeout,
            "retry": RetryPolicy(max_attempts=attempts),
            "breaker": CircuitBreaker(failure_threshold=threshold, cooldown=cooldown, clock=self.clock),
            "clock": self.clock,
            "sleep": self.sleep,
            "rng": random.Random(7),
        }


@pytest.fixture
def kit() -> Kit:
    return Kit()


@dataclass
class Clientes:
    registro_civil: RegistroCivilClient
    ant: AntClient
    ministerio_interior: MinisterioInteriorClient
    cne: CneClient
    sri: SriClient


def clientes(http: httpx.AsyncClient, base_url: str, kit: Kit, **options: object) -> Clientes:
    opts = {**kit.options(), **options}
    return Clientes(
        registro_civil=RegistroCivilClient(http, RegistroCivilConfig.sandbox(base_url), **opts),
        ant=AntClient(http, AntConfig.sandbox(base_url), **opts),
        ministerio_interior=MinisterioInteriorClient(http, MinisterioInteriorConfig.sandbox(base_url), **opts),
        cne=CneClient(http, CneConfig.sandbox(base_url), **opts),
        sri=SriClient(http, SriConfig.sandbox(base_url), **opts),
    )


@pytest.fixture
def registros(http: httpx.AsyncClient, sandbox: Sandbox, kit: Kit) -> Clientes:
    """One client per institution, talking to the running sandbox over HTTP."""
    return clientes(http, sandbox.url, kit)
