"""The analytics page in Debian's Chromium (Playwright), over the generated month: every SVG chart is drawn and
visible with its table beside it, and one click puts a message not understood on the NLU review list.

The README's chart is this page's screenshot; refresh it with
``CHASQUI_CAPTURAS=docs/capturas .venv/bin/pytest tests/analytics/test_navegador.py``.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from bot.privacy.encryption import protector_from
from bot.settings import Settings, async_database_url
from bot.storage.db import create_engine, session_factory
from tests.analytics.builders import month, write_month
from tests.console.conftest import FakeRasa
from tests.console.navegador import DESKTOP, PHONE, chromium, create_staff, log_in, running_gateway
from tests.console.test_capturas import png_size

NOVEMBER = "desde=2026-11-01&hasta=2026-11-30"
CHARTS = 8  # two funnels, containment, handoffs, satisfaction, median and p90 times, fallbacks per day
SCREENSHOT = "analitica-tiempos.png"


async def seed(settings: Settings) -> None:
    """The generated month in the gateway's own databases (the app's and Rasa's tracker store)."""
    engine = create_engine(settings.effective_database_url)
    rasa = create_engine(async_database_url(settings.effective_rasa_database_url))
    try:
        async with session_factory(engine)() as session:
            await write_month(session, rasa, protector_from(settings), month())
    finally:
        await rasa.dispose()
        await engine.dispose()


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    configured = os.environ.get("CHASQUI_CAPTURAS")
    target = Path(configured) if configured else tmp_path / "capturas"
    target.mkdir(parents=True, exist_ok=True)
    return target


@pytest.fixture
def browser() -> Iterator[Browser]:
    with chromium() as opened:
        yield opened


def test_charts_render_beside_their_tables(tmp_path: Path, folder: Path, browser: Browser) -> None:
    settings = Settings(
        var_dir=tmp_path / "var",
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'app.db'}",
        consentimiento_requerido=False,
    )
    expect.set_options(timeout=15_000)
    with running_gateway(settings, FakeRasa()) as url:
        create_staff(settings, "jefa", "Lucía Andrade", rol="supervisor", equipos=())
        with ThreadPoolExecutor(max_workers=1) as pool:  # Playwright's sync API holds this thread's loop
            pool.submit(asyncio.run, seed(settings)).result()

        page = browser.new_context(viewport=DESKTOP).new_page()
        log_in(page, url, "jefa")
        page.goto(f"{url}/consola/analitica?{NOVEMBER}")
        charts = page.locator("svg.grafico")
        expect(charts).to_have_count(CHARTS)
        for index in range(CHARTS):
            chart = charts.nth(index)
            chart.scroll_into_view_if_needed()
            expect(chart).to_be_visible()
            box = chart.bounding_box()
            assert box is not None and box["width"] > 300 and box["height"] > 20
            title = chart.locator("title").text_content()
            assert title, f"chart {index} has no title"
            bars = chart.locator("rect")
            assert bars.count() >= 1, title
            widths = [float(bars.nth(n).get_attribute("width") or 0) for n in range(bars.count())]
            assert max(widths) == 300, title  # the longest bar fills the width: the bars were drawn to scale
            table = chart.locator("xpath=ancestor::section[1]").locator("table[data-tabla]").first
            expect(table).to_be_visible()
            assert table.locator("tbody tr").count() >= 1, title
        clipped = page.evaluate(
            "[...document.querySelectorAll('svg.grafico text')].filter(t => t.getBBox().x < 0).map(t => t.textContent)"
        )
        assert clipped == []  # every label fits left of its bar
        expect(page.get_by_role("img", name="Mediana de minutos hasta el documento")).to_be_visible()
        tiempos = page.locator("section[aria-labelledby='h-tiempos']")
        expect(tiempos.locator("table[data-tabla='tiempos'] tbody tr")).to_have_count(2)

        tiempos.scroll_into_view_if_needed()
        tiempos.screenshot(path=str(folder / SCREENSHOT))
        width, height = png_size(folder / SCREENSHOT)
        assert width > 500 and height > 200

        page.get_by_role("button", name="Agregar «como saco la visa» a revisión").click()
        expect(page.locator(".aviso")).to_have_text("Mensaje agregado a la lista de revisión.")
        row = page.locator("table[data-tabla='no_entendidos_frecuentes'] tr", has_text="como saco la visa")
        expect(row.locator("td.accion")).to_have_text("En la lista")
        page.get_by_role("link", name="Revisión", exact=True).click()
        expect(page.locator("table[data-tabla='revision_nlu'] tbody th")).to_have_text(["como saco la visa"])

        page.set_viewport_size(PHONE)
        page.goto(f"{url}/consola/analitica?{NOVEMBER}")
        expect(charts.first).to_be_visible()
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]  # tables scroll, not the page
