"""`chasqui run` prepares the databases in a child, so the supervisor never imports the application."""

from __future__ import annotations

import io
import sqlite3
from pathlib import Path

import pytest

from bot.cli.bench_memory import DATABASE_VARIABLES, measure, report
from bot.cli.stack import Stack, StackError
from bot.settings import Settings


def test_prepare_migrates_and_makes_the_keys_in_a_child(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for variable in DATABASE_VARIABLES:
        monkeypatch.delenv(variable, raising=False)
    settings = Settings(var_dir=tmp_path)

    Stack(settings).prepare()

    with sqlite3.connect(tmp_path / "chasqui.db") as db:
        (revision,) = db.execute("SELECT version_num FROM alembic_version").fetchone()
    assert revision
    assert any((tmp_path / "keys").rglob("*.pem"))


def test_prepare_reports_a_failed_child(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = Settings(var_dir=tmp_path)
    monkeypatch.setenv("DATABASE_URL", "nodb://ninguna")  # the child reads it before CHASQUI_DATABASE_URL

    with pytest.raises(StackError, match="preparing the databases failed"):
        Stack(settings).prepare()


def test_the_supervisor_path_imports_no_application_package() -> None:
    now, before = measure("ahora"), measure("antes")

    assert now["application"] == []
    assert {"sqlalchemy", "alembic", "pyhanko", "bot.storage", "bot.documents"} <= set(before["application"])
    assert now["modules_after"] == now["modules"]  # preparing loaded nothing into the supervisor


@pytest.mark.parametrize(("peak", "verdict"), [(41.6, "meta ≤ 60 MB: cumple"), (75.0, "meta ≤ 60 MB: NO cumple")])
def test_report_prints_both_modes_and_the_target(peak: float, verdict: str) -> None:
    figures = {"after_import": 41.5, "after_prepare": peak, "peak": peak, "modules": 433, "modules_after": 433}
    out = io.StringIO()

    report(
        {"ahora": figures | {"application": []}, "antes": figures | {"peak": 154.4, "application": ["PIL"]}}, out=out
    )

    lines = out.getvalue().splitlines()
    assert lines[2].startswith("ahora (migración en un proceso hijo)")
    assert lines[3] == "  de la aplicación: nada"
    assert lines[4].startswith("antes (migración en el mismo proceso)")
    assert verdict in lines[6]
