"""Data protection in conversation: consent given, refused and withdrawn; a copy of one's data; deletion
from every store (app database, Rasa's tracker store, document files)."""

from __future__ import annotations

import json
import re
import sqlite3

import httpx
import pytest

from tests.e2e.conftest import Chasqui

pytestmark = pytest.mark.conversation


def test_hola_gets_the_menu_and_then_the_privacy_notice(chasqui: Chasqui) -> None:
    [greeting, notice] = chasqui.citizen(consented=False).says("hola")
    assert greeting["text"].startswith("¡Hola! Soy Chasqui, el asistente virtual del Gobierno del Ecuador.")
    assert notice["text"].startswith("Sobre sus datos: usamos sus mensajes solo para atender sus trámites")
    assert [b["payload"] for b in notice["buttons"]] == ["/consentimiento_acepto", "/consentimiento_rechazo"]


def test_consent_given_then_withdrawn(chasqui: Chasqui) -> None:
    citizen = chasqui.citizen(consented=False)
    citizen.says("buenas tardes")
    assert citizen.texts("cuéntame un chiste")[0].startswith("Disculpe, con eso no puedo ayudarle.")  # goes on
    assert citizen.texts("sí, acepto")[0].startswith("Gracias, quedó registrado.")
    assert citizen.texts("retirar consentimiento")[0].startswith("Listo, retiré su consentimiento")


def test_consent_refused_on_the_web_still_serves(chasqui: Chasqui) -> None:
    citizen = chasqui.citizen(consented=False)
    citizen.says("hola")
    assert citizen.texts("no acepto") == ["Entendido, no usaremos sus datos para estadísticas."]
    assert citizen.texts("hola")[0].startswith("¡Hola! Soy Chasqui")


def test_a_copy_of_my_data(chasqui: Chasqui) -> None:
    citizen = chasqui.citizen()
    citizen.says("mi cédula es 1712345675")
    [reply] = citizen.texts("quiero una copia de mis datos")
    link = re.search(r"(http://\S+/mis-datos/\S+)", reply)
    assert link is not None, reply
    assert "no incluye sus solicitudes" in reply  # no identity proven here: the copy says what it holds
    data = httpx.get(link.group(1), timeout=10).json()
    [chat] = data["conversaciones"]
    assert [m["texto"] for m in chat["mensajes"] if m["direccion"] == "recibido"][:3] == [
        "hola",
        "/consentimiento_acepto",
        "mi cédula es 17******75",
    ]
    assert "1712345675" not in json.dumps(data)


def test_deletion_leaves_nothing_of_the_citizen_in_any_store(chasqui: Chasqui) -> None:
    citizen = chasqui.citizen()
    citizen.says("quiero ver mi cédula digital")
    citizen.says("1712345675")
    documents = [m["custom"]["document"] for m in citizen.says("V4443V4442") if "custom" in m]
    assert documents
    assert citizen.texts("borrar mis datos")[0].startswith("Puedo borrar ahora todo lo que Chasqui guarda de usted")
    assert citizen.texts("sí")[0].startswith("Listo: borré todo lo que Chasqui guardaba de usted")
    var = chasqui.settings.var_dir
    for database in ("chasqui.db", "rasa.db"):
        with sqlite3.connect(var / database) as db:
            for (table,) in db.execute("SELECT name FROM sqlite_master WHERE type='table'").fetchall():
                if table == "audit_log":
                    continue  # kept by law, with no identifiers of the citizen
                for row in db.execute(f'SELECT * FROM "{table}"'):  # noqa: S608 - names from sqlite_master
                    assert citizen.sender not in " ".join(str(c) for c in row), (database, table)
    gone = httpx.get(documents[0]["url"], timeout=10)
    assert gone.status_code in (404, 410)
