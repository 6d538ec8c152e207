"""Keyboard only: the citizen's chat (type, Enter, options by Tab and Enter/Space) and an agent's claim and reply."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from bot.settings import Settings
from tests.a11y.test_axe import MENU, MenuRasa
from tests.console.conftest import HANDOFF_TRIGGER, PASSWORD, FakeRasa
from tests.console.navegador import DESKTOP, PHONE, chromium, create_staff, running_gateway

MAX_TABS = 40


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, FakeRasa, Settings]]:
    settings = Settings(
        var_dir=tmp_path / "var",
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'app.db'}",
        consentimiento_requerido=False,
    )
    rasa = MenuRasa()
    with running_gateway(settings, rasa) as url:
        yield url, rasa, settings


@pytest.fixture
def browser() -> Iterator[Browser]:
    with chromium() as opened:
        yield opened


def focused(page: Page) -> str:
    """What has the focus: the element's id, else a link's address, else its text."""
    script = (
        "(() => { const e = document.activeElement; return e.id || e.getAttribute('href') || e.textContent.trim(); })()"
    )
    return str(page.evaluate(script))


def tab_to(page: Page, target: str, *, key: str = "Tab") -> None:
    """Press Tab (or Shift+Tab) until ``target`` (an id or a text) has the focus."""
    for _ in range(MAX_TABS):
        page.keyboard.press(key)
        if focused(page) == target:
            return
    raise AssertionError(f"{target!r} cannot be reached with {key}; the focus is on {focused(page)!r}")


def test_the_chat_works_with_the_keyboard_alone(served: tuple[str, FakeRasa, Settings], browser: Browser) -> None:
    url, rasa, _ = served
    expect.set_options(timeout=15_000)
    page = browser.new_context(viewport=PHONE).new_page()
    page.goto(url + "/")
    tab_to(page, "mensaje")
    page.keyboard.type(MENU)
    page.keyboard.press("Enter")
    conversation = page.locator("#conversacion")
    expect(conversation).to_contain_text("¿Qué necesita?")

    tab_to(page, "Mi licencia", key="Shift+Tab")  # the options sit just before the box, in reading order
    page.keyboard.press("Space")
    expect(conversation).to_contain_text("eco: /consultar_licencia")

    tab_to(page, "mensaje")
    page.keyboard.type(MENU)
    page.keyboard.press("Enter")
    expect(page.locator(".botones")).to_have_count(2)
    tab_to(page, "Récord policial", key="Shift+Tab")
    page.keyboard.press("Enter")
    expect(conversation).to_contain_text("eco: /pedir_antecedentes")
    assert rasa.received == [MENU, "/consultar_licencia", MENU, "/pedir_antecedentes"]


def test_an_agent_claims_and_replies_with_the_keyboard_alone(
    served: tuple[str, FakeRasa, Settings], browser: Browser
) -> None:
    url, _, settings = served
    expect.set_options(timeout=15_000)
    create_staff(settings, "ana", "Ana Pérez")
    citizen = browser.new_context(viewport=PHONE).new_page()
    citizen.goto(url + "/")
    citizen.get_by_label("Su mensaje").fill(HANDOFF_TRIGGER)
    citizen.get_by_label("Su mensaje").press("Enter")
    expect(citizen.locator("#conversacion")).to_contain_text("Usted es el número 1")

    agent = browser.new_context(viewport=DESKTOP).new_page()
    agent.goto(url + "/consola/entrar")
    tab_to(agent, "usuario")
    agent.keyboard.type("ana")
    agent.keyboard.press("Tab")
    agent.keyboard.type(PASSWORD)
    agent.keyboard.press("Enter")
    agent.wait_for_url(f"{url}/consola/cola")

    link = agent.locator("#filas .caso").first.get_by_role("link")
    expect(link).to_be_visible()
    tab_to(agent, link.get_attribute("href") or "")
    agent.keyboard.press("Enter")
    agent.wait_for_url(f"{url}/consola/atenciones/*")
    tab_to(agent, "tomar")
    agent.keyboard.press("Enter")
    expect(agent.locator(".aviso")).to_have_text("Usted atiende esta conversación.")

    tab_to(agent, "texto")
    agent.keyboard.type("Buenos días, soy Ana. ¿En qué le ayudo?")
    agent.keyboard.press("Tab")
    assert focused(agent) == "Enviar"
    agent.keyboard.press("Enter")
    expect(agent.locator(".aviso")).to_have_text("Mensaje enviado.")
    expect(citizen.locator("#conversacion")).to_contain_text("Buenos días, soy Ana. ¿En qué le ayudo?")
