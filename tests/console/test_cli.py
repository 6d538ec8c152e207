"""`chasqui crear-admin` creates the first administrator, with the password from stdin or a hidden prompt."""

from __future__ import annotations

import asyncio
import io
from pathlib import Path

import pytest

from bot.cli.main import main
from bot.console.auth import StaffAuth
from bot.settings import Settings
from bot.storage.db import create_engine, session_factory


def login(settings: Settings, usuario: str, password: str) -> str:
    async def _login() -> str:
        engine = create_engine(settings.effective_database_url)
        try:
            logged = await StaffAuth(sessions=session_factory(engine)).login(
                usuario=usuario, password=password, ip="cli"
            )
            return f"{logged.agent.rol}:{logged.agent.nombre}"
        finally:
            await engine.dispose()

    return asyncio.run(_login())


@pytest.fixture
def environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("CHASQUI_VAR_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'var' / 'app.db'}")
    monkeypatch.setenv("RASA_DATABASE_URL", f"sqlite:///{tmp_path / 'var' / 'rasa.db'}")
    return Settings()


def test_crear_admin_reads_the_password_from_stdin(
    environment: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("una-clave-muy-larga\n"))
    assert main(["crear-admin", "--usuario", "Admin", "--nombre", "Ana Admin", "--password-stdin"]) == 0
    assert "Cuenta de administrador creada: admin." in capsys.readouterr().out
    assert login(environment, "admin", "una-clave-muy-larga") == "admin:Ana Admin"

    monkeypatch.setattr("sys.stdin", io.StringIO("otra-clave-muy-larga\n"))
    assert main(["crear-admin", "--usuario", "admin", "--nombre", "Otra", "--password-stdin"]) == 1
    assert "Ese usuario ya existe." in capsys.readouterr().err


def test_crear_admin_refuses_a_short_password_and_a_mistyped_repetition(
    environment: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("corta\n"))
    assert main(["crear-admin", "--usuario", "admin", "--nombre", "Ana", "--password-stdin"]) == 1
    assert "al menos 12 caracteres" in capsys.readouterr().err
    typed = iter(["una-clave-muy-larga", "una-clave-distinta"])
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(typed))
    assert main(["crear-admin", "--usuario", "admin", "--nombre", "Ana"]) == 1
    assert "Las contraseñas no coinciden." in capsys.readouterr().err
