"""The action server as it runs (one process, multi-process metrics): Rasa's contract, /metrics, request id in logs."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import zlib
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
def server(tmp_path: Path) -> Iterator[tuple[str, Path, int]]:
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
        yield url, log_path, process.pid
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=20)


def test_an_action_run_is_counted_and_its_log_lines_carry_the_request_id(server: tuple[str, Path, int]) -> None:
    url, log_path, _ = server
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


def test_metrics_are_refused_through_a_proxy(server: tuple[str, Path, int]) -> None:
    url, _, _ = server
    assert httpx.get(f"{url}/metrics", headers={"X-Forwarded-For": "190.152.10.4"}).status_code == 403
    assert httpx.post(f"{url}/webhook", json=action_call("action_repetir", "x")).status_code == 401


def test_rasas_contract_in_one_process(server: tuple[str, Path, int]) -> None:
    url, log_path, pid = server
    assert httpx.get(f"{url}/health").json() == {"status": "ok"}
    assert httpx.get(f"{url}/no-existe").status_code == 404  # Sanic's answer, not the actions' 500
    assert httpx.get(f"{url}/webhook", params={"token": TOKEN}).status_code == 405
    listed = httpx.get(f"{url}/actions", params={"token": TOKEN})
    assert listed.status_code == 200
    assert {"name": "action_repetir"} in listed.json()
    # Rasa may deflate a large action call.
    body = zlib.compress(json.dumps(action_call("action_repetir", "prueba-deflate")).encode())
    deflated = httpx.post(
        f"{url}/webhook",
        params={"token": TOKEN},
        content=body,
        headers={"Content-Encoding": "deflate", "Content-Type": "application/json"},
    )
    assert deflated.status_code == 200
    assert deflated.json()["responses"], deflated.json()
    for broken in (b"{no es json", b"[1, 2]", b"\x78\x9c\x00"):
        answer = httpx.post(f"{url}/webhook", params={"token": TOKEN}, content=broken)
        assert answer.status_code == 400, broken
    # An action that fails answers 500 with the error's class only: the tracker (a citizen's words) stays inside.
    failing = action_call("action_repetir", "prueba-falla")
    failing["tracker"]["events"] = "no es una lista"  # type: ignore[index]
    failing["tracker"]["latest_message"]["text"] = "mi cedula es 1710034065"  # type: ignore[index]
    answer = httpx.post(f"{url}/webhook", params={"token": TOKEN}, json=failing)
    assert answer.status_code == 500
    assert answer.json() == {"error": "AttributeError"}
    # Served by the process `chasqui run` started, not by workers it spawned.
    children = [p for p in Path("/proc").iterdir() if p.name.isdigit() and _parent(p) == pid]
    assert children == [] or sys.platform != "linux"
    assert "1710034065" not in log_path.read_text(errors="replace")


def _parent(process: Path) -> int:
    try:
        return int((process / "stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, ValueError, IndexError):
        return -1
