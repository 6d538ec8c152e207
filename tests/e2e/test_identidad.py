"""Proving who the citizen is, in conversation: web channel, real Rasa, sandbox registries running."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Iterator

import httpx
import pytest

from bot.storage import conversations as repo
from bot.storage.db import create_engine, session_factory
from tests.e2e.conftest import Chasqui, Citizen

pytestmark = pytest.mark.conversation

CEDULA = "1712345675"  # demo identity: ANDRADE CEVALLOS MARÍA JOSÉ
CEDULA_FALLIDA = "1750505057"  # demo identity reserved for wrong códigos: its pause must not reach other tests
DACTILAR = "V4443V4442"
PEDIR_CEDULA = "Escriba su número de cédula: son los 10 dígitos que aparecen en su cédula."
PEDIR_CODIGO = "Ahora escriba su código dactilar."


def starts(texts: list[str], *prefixes: str) -> bool:
    return len(texts) == len(prefixes) and all(t.startswith(p) for t, p in zip(texts, prefixes, strict=True))


@pytest.fixture
def fallas(chasqui: Chasqui) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=chasqui.settings.effective_registros_url, timeout=10) as admin:
        yield admin
        admin.post("/_sandbox/reset")


def handoffs(chasqui: Chasqui, citizen: Citizen) -> list[tuple[str, str]]:
    async def _read() -> list[tuple[str, str]]:
        engine = create_engine(chasqui.settings.effective_database_url)
        async with session_factory(engine)() as session:
            found = await repo.handoff_requests(session=session, conversation_id=citizen.sender)
        await engine.dispose()
        return [(r.reason, r.team) for r in found]

    return asyncio.run(_read())


def test_successful_verification_greets_by_first_name(chasqui: Chasqui) -> None:
    citizen = chasqui.citizen()
    assert citizen.texts("quiero identificarme") == [PEDIR_CEDULA]
    assert starts(citizen.texts(f"mi cédula es {CEDULA}"), PEDIR_CODIGO)
    assert citizen.texts(DACTILAR.lower()) == [
        "¡Gracias, María José! Comprobé su identidad con el Registro Civil. "
        "Este chat queda vinculado a usted por 60 minutos.",
        "Ya puede hacer sus trámites. ¿Qué necesita?",
    ]
    assert starts(citizen.texts("quiero identificarme"), "Ya comprobé su identidad, María José.")


@pytest.mark.parametrize(
    ("typed", "answer"),
    [
        ("171234567", "La cédula tiene 10 dígitos y usted escribió 9."),
        ("1712345670", "El último dígito no coincide con los anteriores"),
        ("2512345678", "Los dos primeros dígitos (25) no corresponden a ninguna provincia"),
        ("no me acuerdo", "Necesito su número de cédula para seguir."),
    ],
)
def test_each_invalid_cedula_rule_is_explained(chasqui: Chasqui, typed: str, answer: str) -> None:
    citizen = chasqui.citizen()
    citizen.says("/iniciar_sesion")
    reply = citizen.texts(typed)
    assert reply[0].startswith(answer), reply
    assert reply[-1] == PEDIR_CEDULA


def test_cedula_typed_with_a_dash_inside_a_sentence_is_accepted(chasqui: Chasqui) -> None:
    citizen = chasqui.citizen()
    citizen.says("/iniciar_sesion")
    assert starts(citizen.texts("claro, es la 171234567-5 señorita"), PEDIR_CODIGO)


def test_wrong_codigo_dactilar_then_lockout_offers_a_person(chasqui: Chasqui) -> None:
    citizen = chasqui.citizen()
    citizen.says("/iniciar_sesion")
    citizen.says(CEDULA_FALLIDA)
    first = citizen.texts("A1111A1111")
    second = citizen.texts("A2222A2222")
    third = citizen.says("A3333A3333")
    assert starts(first, "El código dactilar no coincide con esa cédula.", PEDIR_CODIGO)
    assert first[0].endswith("Le quedan 2 intentos.")
    assert second[0].endswith("Le queda 1 intento.")
    assert third[0]["text"].startswith("Por su seguridad, bloqueé la verificación de identidad en este chat")
    assert third[0]["buttons"] == [{"title": "Hablar con una persona", "payload": "/hablar_con_agente"}]
    assert handoffs(chasqui, citizen) == [("identidad_bloqueada", "registro_civil")]
    # The chat is now in the queue: a person answers, and the citizen learns their place and wait.
    [waiting] = citizen.texts("quiero identificarme")
    # Within office hours the place in the queue; outside them, when a person will answer (the run's clock).
    assert waiting.startswith(("Recibí su mensaje y lo verá el asesor.", "Recibí su mensaje. Estamos fuera de horario"))


def test_registro_civil_down_gets_an_apology_and_no_crash(chasqui: Chasqui, fallas: httpx.Client) -> None:
    citizen = chasqui.citizen()
    citizen.says("/iniciar_sesion")
    citizen.says(CEDULA)
    assert fallas.post("/_sandbox/fallas", json={"institucion": "registro_civil", "caida": True}).status_code == 200
    [reply] = citizen.says(DACTILAR)
    assert reply["text"].startswith("Disculpe, el Registro Civil no responde en este momento")
    assert [b["payload"] for b in reply["buttons"]] == ["/iniciar_sesion", "/hablar_con_agente"]


def test_logout(chasqui: Chasqui) -> None:
    citizen = chasqui.citizen()
    citizen.says("/iniciar_sesion")
    citizen.says(CEDULA)
    citizen.says(DACTILAR)
    assert starts(citizen.texts("cerrar sesión"), "Listo, desvinculé este chat de su identidad.")
    assert citizen.texts("quiero identificarme") == [PEDIR_CEDULA]


def test_a_service_asks_for_identity_first_and_then_resumes(chasqui: Chasqui) -> None:
    citizen = chasqui.citizen()
    assert citizen.texts("quiero ver mi cédula digital") == [
        "Para ver su cédula digital primero necesito comprobar su identidad con el Registro Civil. "
        "Es rápido: le pediré su cédula y su código dactilar.",
        PEDIR_CEDULA,
    ]
    citizen.says(CEDULA)
    replies = citizen.says(DACTILAR)
    texts = [m["text"] for m in replies if "text" in m]
    assert texts[0].startswith("¡Gracias, María José!")
    assert texts[1].startswith("Su cédula digital:\nNombre: Andrade Cevallos María José\nCédula: 17******75")
    assert texts[2].startswith("Le envío su cédula digital firmada, en PDF y como imagen.")
    documents = [m["custom"]["document"] for m in replies if "custom" in m]
    assert [d["kind"] for d in documents] == ["pdf", "png"]
    pdf = httpx.get(documents[0]["url"].replace(chasqui.settings.effective_public_base_url, chasqui.url), timeout=10)
    assert (pdf.status_code, pdf.headers["content-type"], pdf.content[:5]) == (200, "application/pdf", b"%PDF-")


def test_the_codigo_dactilar_and_the_cedula_are_nowhere_in_clear(chasqui: Chasqui) -> None:
    citizen = chasqui.citizen()
    citizen.says("/iniciar_sesion")
    citizen.says(f"mi cédula es {CEDULA}")
    assert citizen.texts(DACTILAR)[0].startswith("¡Gracias, María José!")
    var = chasqui.settings.var_dir
    stores = {"app": var / "chasqui.db", "rasa": var / "rasa.db"}
    for name, path in stores.items():
        with sqlite3.connect(path) as db:  # read every text cell of every table
            tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
            for table in tables:
                for row in db.execute(f'SELECT * FROM "{table}"'):  # noqa: S608 - table names from sqlite_master
                    cells = " ".join(str(c) for c in row)
                    assert DACTILAR not in cells.upper(), (name, table)
                    assert CEDULA not in cells, (name, table)
    for log in (var / "logs").glob("*.log"):
        content = log.read_text(errors="replace")
        assert DACTILAR not in content.upper(), log.name
        assert CEDULA not in content, log.name
