"""Runs last in the end-to-end session: after every conversation of the suite, no cédula, código dactilar,
phone number (in any format a citizen writes it), e-mail address, name or home address a citizen typed, nor a
secret token, is in clear in the logs, the app database or Rasa's tracker store (the redaction search)."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import pytest
import yaml

from tests.e2e.conftest import Chasqui

pytestmark = pytest.mark.conversation

DEMO = yaml.safe_load((Path(__file__).resolve().parents[2] / "data" / "sandbox" / "identidades_demo.yml").read_text())
CEDULAS = {str(i["cedula"]) for i in DEMO["identidades"]}
DACTILARES = {str(i["codigo_dactilar"]).upper() for i in DEMO["identidades"]}
PHONE = re.compile(r"\+593\d{9}")
# What one citizen types about themselves, in the shapes people write it; none of it is in the sandbox population.
TYPED = [
    "hola, me llamo Eduvijes Pilacuán Tupiza y quiero el récord policial",
    "mi cel es +593 98 765 4321 o al 098-765-4321, el de la casa (02) 2604 118",
    "tambien al 0987654321 o al 593987654321",
    "mi correo es eduvijes.pilacuan@hotmail.com",
    "vivo en la calle Chimborazo N12-34 y Olmedo, barrio San Roque",
    "mi nombre es Eduvijes Pilacuán",
]
IN_CLEAR = [
    "Pilacuán", "Pilacuan", "Tupiza", "eduvijes.pilacuan", "765 4321", "765-4321", "987654321", "2604 118",
    "Chimborazo N12-34", "N12-34",
]  # fmt: skip


def _database_text(path: Path) -> str:
    cells: list[str] = []
    with sqlite3.connect(path) as db:
        for (table,) in db.execute("SELECT name FROM sqlite_master WHERE type='table'").fetchall():
            for row in db.execute(f'SELECT * FROM "{table}"'):  # noqa: S608 - names from sqlite_master
                cells.extend(str(c) for c in row)
    return "\n".join(cells)


def test_no_personal_identifier_or_token_in_clear_anywhere(chasqui: Chasqui) -> None:
    citizen = chasqui.citizen()  # one more conversation touching every kind, in case this runs alone
    citizen.says("mi cédula es 0923456784 y mi celular +593991234567")
    citizen.says("/iniciar_sesion")
    citizen.says("0923456784")
    citizen.says("E1333I1222")
    for text in TYPED:
        citizen.says(text)

    var = chasqui.settings.var_dir
    stores = {
        "base de datos de la app": _database_text(var / "chasqui.db"),
        "tracker de Rasa": _database_text(var / "rasa.db"),
        **{f"log {p.name}": p.read_text(errors="replace") for p in (var / "logs").glob("*.log")},
    }
    secrets = {chasqui.stack.rasa_token, chasqui.stack.internal_token}
    for name, content in stores.items():
        upper = content.upper()
        assert [c for c in CEDULAS if c in content] == [], name
        assert [d for d in DACTILARES if d in upper] == [], name
        assert PHONE.findall(content) == [], name
        assert [s for s in secrets if s in content] == [], name
        assert [t for t in IN_CLEAR if t.upper() in upper] == [], name
