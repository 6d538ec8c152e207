"""Start-up refuses several gateway processes whose state or secrets would be each process's own, and says
which settings to set."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.gateway.app import create_app
from bot.gateway.shared_state import ProcessLocalState, process_local_problems
from bot.settings import PROJECT_DIR, Settings

POSTGRES = "postgresql://chasqui@127.0.0.1:5432/chasqui"
REDIS = "redis://127.0.0.1:6379/1"
TELEGRAM = "123456789:AAHfiqksKZ8WmR2zSjiQ7_v4TMAKdiHm9T0"


def named(settings: Settings) -> list[str]:
    """The setting each problem names first."""
    return [problem.split(" ", 1)[0].rstrip(":") for problem in process_local_problems(settings)]


def test_one_process_may_keep_its_state_in_memory(tmp_path: Path) -> None:
    assert named(Settings(var_dir=tmp_path, telegram_token=TELEGRAM, telegram_mode="polling")) == []


def test_several_processes_need_redis_and_a_server_database(tmp_path: Path) -> None:
    assert named(Settings(var_dir=tmp_path, replicas=2)) == ["REDIS_URL", "DATABASE_URL"]
    assert named(Settings(var_dir=tmp_path, web_concurrency=4)) == ["REDIS_URL", "DATABASE_URL"]  # uvicorn workers
    assert named(Settings(var_dir=tmp_path, replicas=2, redis_url=REDIS, database_url=POSTGRES)) == []


def test_several_processes_need_one_telegram_secret_and_no_pollers(tmp_path: Path) -> None:
    shared = {"var_dir": tmp_path, "replicas": 3, "redis_url": REDIS, "database_url": POSTGRES}
    webhook = {"telegram_token": TELEGRAM, "public_base_url": "https://chasqui.gob.example"}
    assert named(Settings(**shared, **webhook)) == ["CHASQUI_TELEGRAM_SECRET_TOKEN"]
    assert named(Settings(**shared, **webhook, telegram_secret_token="secreto-compartido-123")) == []
    assert named(Settings(**shared, telegram_token=TELEGRAM, telegram_mode="polling")) == [
        "CHASQUI_TELEGRAM_MODE=webhook"
    ]


def test_create_app_refuses_and_names_the_settings(settings: Settings) -> None:
    settings.replicas = 2
    with pytest.raises(ProcessLocalState) as refused:
        create_app(settings)
    message = str(refused.value)
    assert "REDIS_URL" in message and "DATABASE_URL" in message
    assert "2 procesos" in message


@pytest.mark.parametrize(
    ("variables", "status"),
    [
        ({"CHASQUI_REPLICAS": "2"}, 3),  # one of two replicas, each its own uvicorn: start-up failure
        ({"WEB_CONCURRENCY": "2"}, None),  # uvicorn's workers refuse; its supervisor stops instead of restarting
    ],
)
def test_the_gateway_process_exits_with_the_message_and_no_traceback(
    tmp_path: Path, variables: dict[str, str], status: int | None
) -> None:
    env = {key: value for key, value in os.environ.items() if "REDIS" not in key and "DATABASE_URL" not in key}
    env.update(CHASQUI_VAR_DIR=str(tmp_path / "var"), **variables)
    app = ["bot.gateway.app:create_app", "--factory", "--app-dir", str(PROJECT_DIR), "--port", "0"]
    command = [sys.executable, "-m", "uvicorn", *app]  # run outside the project: no `.env` is read
    done = subprocess.run(command, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120, check=False)
    if status is not None:  # (the supervisor's own status is uvicorn's business)
        assert done.returncode == status, done.stderr
    assert "Configure:\n  - REDIS_URL" in done.stderr
    assert "Traceback" not in done.stderr
