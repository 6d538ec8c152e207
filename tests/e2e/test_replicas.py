"""The scale profile under fire: two replicas of every process behind HAProxy on PostgreSQL and Redis, the real
Rasa and model, 40 citizens × 6 turns (consent, an identity check against the Registro Civil, a signed licence
issued) while one gateway, one Rasa replica and one worker are killed with SIGKILL and started again.

Every turn must get its right answer, in order, each message stored once and answered once, Rasa must process
each message once (no message id twice in its tracker store) and each citizen gets exactly one document. A failed
or unanswered request is sent again with the same message id after half a second (`chat.js` does so for a 503;
here for a proxy error or a minute without answer too). Skipped, with the reason, where HAProxy, PostgreSQL or
Redis are missing.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import socket
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
import httpx
import pytest
import redis

from bot.cli.model import ensure_model
from bot.cli.stack import Stack, prepare_databases
from bot.settings import Settings

POSTGRES = os.environ.get("CHASQUI_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS = os.environ.get("CHASQUI_TEST_REDIS_URL", "redis://127.0.0.1:6379/15").rsplit("/", 1)[0] + "/14"
CITIZENS = 40
CEDULA, DACTILAR = "1712345675", "V4443V4442"  # demo identity with a valid licence
PEDIR_CODIGO = "Ahora escriba su código dactilar."
CONSENT_KEPT = "Gracias, quedó registrado. Si un día cambia de idea, solo tiene que escribir «retirar consentimiento»."


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def turn_is_right(index: int, texts: list[str]) -> bool:
    """What the answer to the citizen's ``index``-th message must say (the order of a conversation)."""
    joined = " ".join(texts)
    return [
        lambda: texts[-1].startswith("Sobre sus datos: usamos sus mensajes solo para atender"),
        lambda: (
            texts
            == [
                "Gracias, quedó registrado. Si un día cambia de idea, solo tiene que escribir «retirar consentimiento»."
            ]
        ),
        lambda: "cédula" in joined,
        lambda: any(t.startswith(PEDIR_CODIGO) for t in texts),
        lambda: "Su licencia de conducir:" in joined and "copia digital firmada" in joined,
        lambda: bool(texts) and "Su licencia de conducir:" not in joined,
    ][index]()


SCRIPT = ("hola", "/consentimiento_acepto", "quiero ver mi licencia", CEDULA, DACTILAR, "gracias")


@dataclass
class Traffic:
    answered: int = 0
    wrong: list[str] = field(default_factory=list)
    retried: Counter[str] = field(default_factory=Counter)


async def citizen(http: httpx.AsyncClient, sender: str, traffic: Traffic) -> None:
    for index, text in enumerate(SCRIPT):
        message_id = uuid.uuid4().hex
        deadline = time.monotonic() + 300
        while True:
            try:
                response = await http.post(
                    "/webhooks/rest/webhook",
                    json={"sender": sender, "message": text, "metadata": {"message_id": message_id}},
                )
                if response.status_code == 200:
                    break
                traffic.retried[f"HTTP {response.status_code}"] += 1
            except httpx.TransportError as exc:
                traffic.retried[type(exc).__name__] += 1
            assert time.monotonic() < deadline, f"{sender}: «{text}» never answered"
            await asyncio.sleep(0.5)  # the web chat's retry, with the same message id
        texts = [m["text"] for m in response.json() if "text" in m]
        if not turn_is_right(index, texts):
            traffic.wrong.append(f"{sender} turno {index + 1} «{text}»: {texts}")
        traffic.answered += 1


async def chaos(stack: Stack, traffic: Traffic, log: list[str]) -> None:
    """Kill one of each at a point of the traffic, and start it again as a host's process manager would."""
    for after, name, pause in ((40, "gateway-1", 1.0), (100, "rasa-1", 0.0), (140, "trabajador-1", 0.5)):
        while traffic.answered < after:
            await asyncio.sleep(0.05)
        await asyncio.to_thread(stack.kill, name)
        log.append(f"{name} killed after {traffic.answered} turns")
        await asyncio.sleep(pause)
        await asyncio.to_thread(stack.restart, name)


async def run_citizens(stack: Stack, url: str) -> tuple[Traffic, list[str], list[str]]:
    traffic, log = Traffic(), []
    senders = [f"web:escala-{uuid.uuid4().hex[:10]}" for _ in range(CITIZENS)]
    limits = httpx.Limits(max_connections=CITIZENS)
    async with httpx.AsyncClient(base_url=url, timeout=60, limits=limits) as http:
        breaker = asyncio.create_task(chaos(stack, traffic, log))
        await asyncio.gather(*(citizen(http, sender, traffic) for sender in senders))
        await asyncio.wait_for(breaker, timeout=60)
    return traffic, log, senders


def databases_reachable() -> str | None:
    if shutil.which("haproxy") is None and not Path("/usr/sbin/haproxy").exists():
        return "HAProxy is not installed (make test installs it)"

    async def ping() -> None:
        connection = await asyncpg.connect(POSTGRES, timeout=5)
        await connection.close()

    try:
        asyncio.run(ping())
    except (OSError, asyncpg.PostgresError) as exc:
        return f"PostgreSQL is unreachable at {POSTGRES}: {exc}"
    try:
        redis.Redis.from_url(REDIS, socket_timeout=3).ping()
    except (redis.exceptions.RedisError, OSError) as exc:
        return f"Redis is unreachable at {REDIS}: {exc}"
    return None


async def drop(names: list[str]) -> None:
    connection = await asyncpg.connect(POSTGRES, timeout=5)
    try:
        for name in names:
            await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await connection.close()


@pytest.fixture(scope="module")
def replicas(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    reason = databases_reachable()
    if reason is not None:
        pytest.skip(reason)
    suffix = uuid.uuid4().hex[:8]
    app_db, rasa_db = f"chasqui_escala_{suffix}", f"chasqui_escala_rasa_{suffix}"
    base = POSTGRES.rsplit("/", 1)[0]
    var_dir = tmp_path_factory.mktemp("escala") / "var"
    var_dir.mkdir(parents=True)
    settings = Settings(
        var_dir=var_dir,
        database_url=f"{base}/{app_db}",
        rasa_database_url=f"{base}/{rasa_db}",
        redis_url=REDIS,
        redis_prefix=f"escala{suffix}:",
        replicas=2,
        gateway_port=free_port(),
        rasa_port=free_port(),
        actions_port=free_port(),
        registros_port=free_port(),
    )
    model = ensure_model(settings, echo=False)
    stack = Stack(settings, replica_ports={kind: [free_port(), free_port()] for kind in ("gateway", "rasa", "actions")})
    stack.check_replicas()
    try:
        prepare_databases(settings)
        stack.start_all(model)
        stack.wait_ready(timeout=600)
        yield stack
    finally:
        stack.stop()
        redis.Redis.from_url(REDIS).flushdb()  # Rasa's locks and this run's keys: database 14 is the tests'
        asyncio.run(drop([app_db, rasa_db]))


def rows(url: str, query: str) -> list[asyncpg.Record]:
    async def fetch() -> list[asyncpg.Record]:
        connection = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"), timeout=5)
        try:
            return list(await connection.fetch(query))
        finally:
            await connection.close()

    return asyncio.run(fetch())


def test_forty_citizens_are_answered_once_and_in_order_while_replicas_are_killed(replicas: Stack) -> None:
    settings = replicas.settings
    url = f"http://{settings.host}:{settings.gateway_port}"  # HAProxy
    traffic, log, senders = asyncio.run(run_citizens(replicas, url))
    print(f"\n{traffic.answered} turnos; reintentos del cliente: {dict(traffic.retried)}; {'; '.join(log)}")

    assert len(log) == 3, log  # the three kills happened during the traffic
    assert traffic.answered == CITIZENS * len(SCRIPT)
    assert traffic.wrong == [], "\n".join(traffic.wrong)

    app = settings.effective_database_url
    inbound = rows(
        app, "SELECT conversation_id, status, count(*) AS n FROM messages WHERE direction = 'in' GROUP BY 1, 2"
    )
    assert {(r["conversation_id"], r["status"], r["n"]) for r in inbound} == {
        (sender, "answered", len(SCRIPT)) for sender in senders
    }
    documents = rows(app, "SELECT conversation_id, count(*) AS n FROM documents GROUP BY 1")
    assert {r["conversation_id"]: r["n"] for r in documents} == dict.fromkeys(senders, 1)

    # Rasa processed each message once: no message id twice among its tracker store's user events.
    user_events = rows(settings.effective_rasa_database_url, "SELECT data FROM events WHERE type_name = 'user'")
    ids = Counter((json.loads(r["data"]).get("metadata") or {}).get("message_id") for r in user_events)
    assert [i for i, n in ids.items() if i is not None and n > 1] == []

    # The killed ones came back and serve: the balancer has both of each again.
    for port in replicas.ports("gateway"):
        assert httpx.get(f"http://{settings.host}:{port}/readyz", timeout=5).status_code == 200
    for name in ("gateway-1", "rasa-1", "trabajador-1"):
        assert replicas.process(name).popen.poll() is None, name
