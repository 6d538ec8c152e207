"""axe-core (npm, `tests/a11y/package-lock.json`) in Debian's Chromium on every public and console page (the
console's pages as an agent and as an admin, and the open data page), at phone and desktop widths: no serious or
critical WCAG 2.1 AA violation. Results: ``var/a11y/axe.json``."""

from __future__ import annotations

import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from bot.settings import Settings
from tests.console.conftest import HANDOFF_TRIGGER, FakeRasa
from tests.console.navegador import DESKTOP, PHONE, chromium, citizen_says, create_staff, log_in, running_gateway
from tests.tramites.test_pagos import new_payment

HERE = Path(__file__).resolve().parent
AXE = HERE / "node_modules" / "axe-core" / "axe.min.js"
ARTIFACTS = HERE.parents[1] / "var" / "a11y"
WCAG_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
BLOCKING = {"serious", "critical"}
MENU = "menú"
# The console's other pages, as an admin (who sees them all) finds them.
ADMIN_PAGES = ("tablero", "analitica", "revision-nlu", "auditoria", "personal", "respuestas", "campanas")


class MenuRasa(FakeRasa):
    """The console's fake Rasa, plus a reply with option buttons for «menú»."""

    def handler(self, request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/webhook") and json.loads(request.content)["message"] == MENU:
            sender = json.loads(request.content)["sender"]
            self.received.append(MENU)
            buttons = [
                {"title": "Récord policial", "payload": "/pedir_antecedentes"},
                {"title": "Mi licencia", "payload": "/consultar_licencia"},
            ]
            return httpx.Response(200, json=[{"recipient_id": sender, "text": "¿Qué necesita?", "buttons": buttons}])
        return super().handler(request)


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
    if not AXE.exists():
        pytest.fail("axe-core is missing: `make test` runs `npm ci --prefix tests/a11y`")
    with chromium() as opened:
        yield opened


def axe(page: Page) -> dict[str, Any]:
    """Run axe-core on the page as it is now (injected past the page's CSP: the test context bypasses it)."""
    page.add_script_tag(path=str(AXE))
    result: dict[str, Any] = page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']})", WCAG_AA
    )
    return result


def blocking(result: dict[str, Any]) -> list[str]:
    return [
        f"{v['impact']}: {v['id']} ({len(v['nodes'])}×) {v['nodes'][0]['target']}"
        for v in result["violations"]
        if v["impact"] in BLOCKING
    ]


def payment_path(settings: Settings) -> str:
    with ThreadPoolExecutor(max_workers=1) as pool:  # Playwright's sync API holds this thread's loop
        _, url, _ = pool.submit(new_payment, settings).result()
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


def test_every_page_has_no_serious_or_critical_wcag_violation(
    served: tuple[str, FakeRasa, Settings], browser: Browser
) -> None:
    url, _, settings = served
    expect.set_options(timeout=15_000)
    create_staff(settings, "ana", "Ana Pérez")
    create_staff(settings, "eva", "Eva Ríos", rol="admin")
    pago = payment_path(settings)
    results: dict[str, dict[str, Any]] = {}
    for width, viewport in (("telefono", PHONE), ("escritorio", DESKTOP)):
        citizen = browser.new_context(viewport=viewport, bypass_csp=True).new_page()
        citizen.goto(url + "/")
        results[f"chat-vacio/{width}"] = axe(citizen)
        citizen_says(citizen, MENU)
        expect(citizen.locator("#conversacion")).to_contain_text("¿Qué necesita?")
        results[f"chat-opciones/{width}"] = axe(citizen)
        citizen_says(citizen, HANDOFF_TRIGGER)
        expect(citizen.locator("#conversacion")).to_contain_text("Usted es el número")
        for name, path in (("verificar", "/verificar"), ("privacidad", "/privacidad"), ("pago", pago)):
            citizen.goto(url + path)
            results[f"{name}/{width}"] = axe(citizen)

        agent = browser.new_context(viewport=viewport, bypass_csp=True).new_page()
        agent.goto(url + "/consola/entrar")
        results[f"consola-entrar/{width}"] = axe(agent)
        log_in(agent, url, "ana")
        expect(agent.locator("#filas .caso").first).to_be_visible()
        results[f"consola-cola/{width}"] = axe(agent)
        agent.locator("#filas .caso").first.get_by_role("link").click()
        expect(agent.get_by_role("button", name="Tomar", exact=True)).to_be_visible()
        results[f"consola-conversacion/{width}"] = axe(agent)
        agent.context.close()

        admin = browser.new_context(viewport=viewport, bypass_csp=True).new_page()
        log_in(admin, url, "eva")
        for name in ADMIN_PAGES:
            admin.goto(f"{url}/consola/{name}")
            expect(admin.locator("main")).to_be_visible()
            results[f"consola-{name}/{width}"] = axe(admin)
        admin.context.close()
        citizen.goto(url + "/datos-abiertos")
        results[f"datos-abiertos/{width}"] = axe(citizen)
        citizen.context.close()

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "axe.json").write_text(json.dumps(results, ensure_ascii=False, indent=1), encoding="utf-8")
    summary = {page: blocking(result) for page, result in results.items()}
    lines = [
        f"{page}: {len(result['violations'])} violaciones, {len(summary[page])} graves o críticas"
        for page, result in results.items()
    ]
    (ARTIFACTS / "resumen.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\naxe-core (WCAG 2.1 AA):\n  " + "\n  ".join(lines))
    assert {page: found for page, found in summary.items() if found} == {}
