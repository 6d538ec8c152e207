"""Browser tests: Debian's Chromium (Playwright) against the gateway served by uvicorn, a citizen and two agents."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, expect

from bot.settings import Settings
from tests.console.conftest import HANDOFF_TRIGGER, LOGOUT_TRIGGER, FakeRasa
from tests.console.navegador import (
    DESKTOP,
    PHONE,
    chromium,
    citizen_says,
    create_staff,
    fail_on_dialogs,
    log_in,
    running_gateway,
)

SCRIPT = "<script>alert(1)</script>"


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, FakeRasa, Settings]]:
    settings = Settings(
        var_dir=tmp_path / "var",
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'app.db'}",
        consentimiento_requerido=False,  # consent has its own tests
    )
    rasa = FakeRasa()
    with running_gateway(settings, rasa) as url:
        yield url, rasa, settings


@pytest.fixture
def browser() -> Iterator[Browser]:
    with chromium() as opened:
        yield opened


def test_two_agents_attend_a_web_citizen_live(served: tuple[str, FakeRasa, Settings], browser: Browser) -> None:
    url, rasa, settings = served
    expect.set_options(timeout=15_000)
    create_staff(settings, "ana", "Ana Pérez")
    create_staff(settings, "beto", "Beto Ruiz")
    dialogs: list[Any] = []

    agent = browser.new_context(viewport=DESKTOP).new_page()
    fail_on_dialogs(agent, dialogs)
    log_in(agent, url, "ana")
    expect(agent.locator("body[data-conectado='1']")).to_be_attached()  # the event stream is open
    agent.evaluate("window.sinRecargar = true")

    citizen = browser.new_context(viewport=PHONE).new_page()
    fail_on_dialogs(citizen, dialogs)
    citizen.goto(url + "/")
    citizen_says(citizen, "hola")
    expect(citizen.locator("#conversacion")).to_contain_text("eco: hola")
    citizen_says(citizen, HANDOFF_TRIGGER)
    expect(citizen.locator("#conversacion")).to_contain_text("Un asesor le atenderá en breve. Usted es el número 1")

    # The new conversation arrives in the agent's queue without a reload, with a notice and a title change.
    row = agent.locator("#filas .caso")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("Pidió hablar con una persona")
    expect(agent.locator("#novedad")).to_have_text("Nueva conversación en la cola.")
    assert agent.title().startswith("(1) ")
    assert agent.evaluate("window.sinRecargar") is True

    row.get_by_role("link").click()
    agent.get_by_role("button", name="Tomar", exact=True).click()
    expect(agent.locator(".aviso")).to_have_text("Usted atiende esta conversación.")
    conversation_url = agent.url.split("?")[0]

    # A second agent's claim on the held conversation fails.
    other = browser.new_context(viewport=PHONE).new_page()
    fail_on_dialogs(other, dialogs)
    log_in(other, url, "beto")
    other.goto(conversation_url)
    expect(other.locator("#estado-atencion")).to_contain_text("Le atiende Ana Pérez")
    other.get_by_role("button", name="Tomar", exact=True).click()
    expect(other.locator(".aviso")).to_have_text("No pudo tomarla: otra persona ya atiende esta conversación.")

    # A citizen's script shows as text, live, in the agent's transcript.
    agent.evaluate("window.sinRecargar = true")
    citizen_says(citizen, SCRIPT)
    last = agent.locator("#transcripcion li.msg.citizen").last
    expect(last.locator(".texto")).to_have_text(SCRIPT)
    assert agent.evaluate("window.sinRecargar") is True
    assert agent.locator("#transcripcion script").count() == 0

    # The agent's reply and a canned reply reach the citizen's web chat.
    agent.get_by_label("Su respuesta al ciudadano").fill("Buenos días, le atiende Ana. ¿Qué necesita?")
    agent.get_by_role("button", name="Enviar", exact=True).click()
    expect(agent.locator(".aviso")).to_have_text("Mensaje enviado.")
    answer = citizen.locator("#conversacion li.agente").last
    expect(answer).to_contain_text("Buenos días, le atiende Ana. ¿Qué necesita?")
    expect(answer.locator(".autor")).to_have_text("Asesor")
    agent.get_by_label("Respuesta predefinida").select_option(label="Saludo")
    agent.get_by_role("button", name="Enviar predefinida").click()
    expect(citizen.locator("#conversacion")).to_contain_text(
        "Hola. Le saluda Ana, del equipo de atención de Chasqui. ¿En qué le puedo ayudar?"
    )

    # Transferred to the second agent, who hands it back to the bot.
    agent.get_by_text("Transferir", exact=True).first.click()
    agent.get_by_label("A quién").select_option(label="Beto Ruiz")
    agent.get_by_label("Comentario para quien la recibe").fill("Quiere renovar la licencia")
    agent.get_by_role("button", name="Transferir").click()
    expect(agent.locator(".aviso")).to_have_text("Conversación transferida.")
    expect(citizen.locator("#conversacion")).to_contain_text("Ya le atiende Beto, del equipo de Atención general.")

    other.goto(url + "/consola/cola?vista=mias")
    other.locator("#filas .caso").get_by_role("link").click()
    expect(other.locator("#transcripcion")).to_contain_text("Quiere renovar la licencia")
    other.get_by_role("button", name="Devolver al asistente").click()
    expect(other.locator(".aviso")).to_have_text("La conversación volvió al asistente virtual.")

    expect(citizen.locator("#conversacion")).to_contain_text("Ahora le atiende de nuevo Chasqui")
    citizen.locator("#conversacion").get_by_role("button", name="5", exact=True).click()
    expect(citizen.locator("#conversacion")).to_contain_text("Gracias por su calificación.")
    citizen_says(citizen, "¿me ayuda con la licencia?")
    expect(citizen.locator("#conversacion")).to_contain_text("eco: ¿me ayuda con la licencia?")

    # Nothing the citizen wrote while a person owned the conversation reached Rasa; nothing ran as script.
    assert rasa.received == ["hola", HANDOFF_TRIGGER, "¿me ayuda con la licencia?"]
    assert dialogs == []


def test_logging_out_and_a_long_pause_leave_nothing_for_the_next_person(
    served: tuple[str, FakeRasa, Settings], browser: Browser
) -> None:
    url, rasa, _ = served
    expect.set_options(timeout=15_000)
    page = browser.new_context(viewport=PHONE).new_page()
    page.goto(url + "/")
    assert page.locator("body").get_attribute("data-sesion-minutos") == "60"  # the identity link's lifetime
    citizen_says(page, "mi cedula es de prueba")
    expect(page.locator("#conversacion")).to_contain_text("eco: mi cedula es de prueba")
    first = page.evaluate("localStorage.getItem('chasqui.remitente')")

    # «cerrar sesión»: the confirmation stays, what came before leaves the screen and the stored id changes.
    citizen_says(page, LOGOUT_TRIGGER)
    expect(page.locator("#conversacion")).to_contain_text("Listo, desvinculé este chat de su identidad.")
    expect(page.locator("#conversacion")).not_to_contain_text("mi cedula es de prueba")
    second = page.evaluate("localStorage.getItem('chasqui.remitente')")
    assert second.startswith("web:") and second != first
    page.reload()
    citizen_says(page, "hola")
    expect(page.locator("#conversacion")).to_contain_text("eco: hola")
    assert rasa.senders[-1] == second  # the new id is the one used from then on

    # A pause longer than an identity link lasts: the next visit starts a new chat.
    page.evaluate("localStorage.setItem('chasqui.actividad', String(Date.now() - 61 * 60000))")
    page.reload()
    expect(page.locator("#conversacion")).not_to_contain_text("eco: hola")
    third = page.evaluate("localStorage.getItem('chasqui.remitente')")
    assert third not in (first, second)
    citizen_says(page, "buenas")
    expect(page.locator("#conversacion")).to_contain_text("eco: buenas")
    assert rasa.senders[-1] == third
    assert rasa.senders[:2] == [first, first]
