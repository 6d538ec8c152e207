"""Admins see the audit chain's state; `chasqui auditoria verificar` names the first broken row (exit 1)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from bot.cli.main import main
from bot.settings import Settings
from tests.console.conftest import Gateway


def database_file(settings: Settings) -> Path:
    return Path(settings.effective_database_url.split(":///", 1)[1])


def tamper(settings: Settings, sql: str) -> None:
    with sqlite3.connect(database_file(settings)) as db:
        db.execute(sql)


def test_admins_see_the_chain_intact_then_the_changed_row(gateway: Gateway) -> None:
    admin = gateway.staff("admin", rol="admin", equipos=())
    page = admin.client.get("/consola/auditoria").text
    assert "Estado de la cadena" in page and "Íntegra" in page
    tamper(gateway.settings, "UPDATE audit_log SET usuario = 'otra' WHERE id = 1")
    page = admin.client.get("/consola/auditoria").text
    assert "Cadena rota" in page and "la fila 1 fue cambiada" in page
    ana = gateway.staff("ana")
    assert ana.client.get("/consola/auditoria").status_code == 403


@pytest.fixture
def environment(gateway: Gateway, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """The CLI's environment pointing at the gateway's database and keys."""
    settings = gateway.settings
    monkeypatch.setenv("CHASQUI_VAR_DIR", str(settings.var_dir))
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{database_file(settings)}")
    return settings


def test_verificar_passes_a_clean_chain_and_names_a_deleted_row(
    gateway: Gateway, environment: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    admin = gateway.staff("admin", rol="admin", equipos=())
    for _ in range(3):
        admin.client.get("/consola/auditoria")
    assert main(["auditoria", "verificar"]) == 0
    out = capsys.readouterr().out
    assert "Íntegra" in out and "filas en 1 día " in out
    tamper(environment, "DELETE FROM audit_log WHERE id = 2")
    assert main(["auditoria", "verificar"]) == 1
    out = capsys.readouterr().out
    assert "ROTA: 1 hallazgo. El primero: faltan filas antes de la fila 3" in out
