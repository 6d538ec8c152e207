"""The action server as it runs (a process, Sanic's worker, multi-process metrics): /metrics, request id in logs."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from bot.storage.db import migrate
from tests.fakes.server import free_port

TOKEN = "token-de-rasa-para-acciones"


def action_call(name: str, request_id: str) -> dict[str, object]:
    return {
        "next_action": name,
        "sender_id": "web:prueba",
        "version": "3.6.21",
        "domain": {"responses": {}, "slots": {}, "forms": {}, "intents": [], "entities": [], "actions": [name]},
        "tracker": {
            "sender_id": "web:prueba",
            "slots": {},
            "latest_message": {
                "text": "¿mande?",
                "intent": {"name": "repetir"},
                "metadata": {"request_id": request_id},
            },
            "events": [],
            "paused": False,
            "followup_action": None,
            "active_loop": {},
            "latest_action_name": "action_listen",
        },
    }


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    database = f"sqlite+aiosqlite:///{tmp_path / 'app.db'}"
    migrate(database)
    (tmp_path / "metrics").mkdir()
    port = free_port()
    env = dict(os.environ)
    env.update(
        CHASQUI_VAR_DIR=str(tmp_path / "var"),
        CHASQUI_DATABASE_URL=database,
        CHASQUI_ACTIONS_TOKEN=TOKEN,
        PROMETHEUS_MULTIPROC_DIR=str(tmp_path / "metrics"),
        SANIC_HOST="127.0.0.1",
    )
    log_path = tmp_path / "actions.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "bot.cli.actions_server", "--port", str(port)],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        else:
            raise AssertionError(log_path.read_text(errors="replace")[-2000:])
        yield url, log_path
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=20)


def test_an_action_run_is_counted_and_its_log_lines_carry_the_request_id(server: tuple[str, Path]) -> None:
    url, log_path = server
    answer = httpx.post(f"{url}/webhook", params={"token": TOKEN}, json=action_call("action_repetir", "prueba-acc-1"))
    assert answer.status_code == 200
    missing = httpx.post(f"{url}/webhook", params={"token": TOKEN}, json=action_call("action_no_existe", "prueba-2"))
    assert missing.status_code == 404

    metrics = httpx.get(f"{url}/metrics")
    assert metrics.status_code == 200
    assert 'chasqui_action_runs_total{action="action_repetir",outcome="ok"} 1.0' in metrics.text
    assert 'chasqui_action_runs_total{action="desconocida",outcome="not_found"} 1.0' in metrics.text
    assert 'chasqui_action_seconds_count{action="action_repetir"} 1.0' in metrics.text
    # The worker process configures its logs: the action's line carries the gateway's request id.
    time.sleep(0.2)
    lines = [line for line in log_path.read_text(errors="replace").splitlines() if "accion.ejecutada" in line]
    assert any("action_repetir" in line and "request_id=prueba-acc-1" in line for line in lines), lines


def test_metrics_are_refused_through_a_proxy(server: tuple[str, Path]) -> None:
    url, _ = server
    assert httpx.get(f"{url}/metrics", headers={"X-Forwarded-For": "190.152.10.4"}).status_code == 403
    assert httpx.post(f"{url}/webhook", json=action_call("action_repetir", "x")).status_code == 401
