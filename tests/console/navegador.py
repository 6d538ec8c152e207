"""The gateway served for real (uvicorn on 127.0.0.1, lifespan on) and Debian's Chromium through Playwright."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from playwright.sync_api import Browser, Page, sync_playwright

from bot.console.auth import StaffAuth
from bot.console.service import Consola
from bot.gateway.app import create_app
from bot.settings import Settings
from bot.storage.db import create_engine, migrate, session_factory
from tests.console.conftest import PASSWORD, FakeRasa
from tests.fakes.server import free_port
from tests.handoff.builders import always_open

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1366, "height": 900}


@contextmanager
def running_gateway(settings: Settings, rasa: FakeRasa) -> Iterator[str]:
    """Serve the whole gateway (lifespan included) until the block ends; yields its base URL."""
    with ThreadPoolExecutor(max_workers=1) as pool:  # Alembic runs its own event loop; Playwright may hold this one
        pool.submit(migrate, settings.effective_database_url).result()
    app = create_app(settings, rasa_transport=httpx.MockTransport(rasa.handler))
    port = free_port()
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_level="warning", lifespan="on", timeout_graceful_shutdown=1
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the gateway did not start")
        time.sleep(0.05)
    consola: Consola = app.state.consola
    consola.handoff.equipos = always_open(consola.handoff.equipos)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=15)


@contextmanager
def chromium() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail("Chromium is missing: `make system-deps` installs Debian's chromium package")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def create_staff(
    settings: Settings, usuario: str, nombre: str, *, rol: str = "agente", equipos: tuple[str, ...] = ("general",)
) -> int:
    async def _create() -> int:
        engine = create_engine(settings.effective_database_url)
        try:
            auth = StaffAuth(sessions=session_factory(engine))
            member = await auth.create_staff(
                usuario=usuario, nombre=nombre, password=PASSWORD, rol=rol, equipos=equipos
            )
            return member.id
        finally:
            await engine.dispose()

    # Playwright's sync API keeps an event loop running in this thread: run the coroutine in another one.
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, _create()).result()


def log_in(page: Page, base_url: str, usuario: str) -> None:
    page.goto(f"{base_url}/consola/entrar")
    page.get_by_label("Usuario").fill(usuario)
    page.get_by_label("Contraseña").fill(PASSWORD)
    page.get_by_role("button", name="Entrar").click()
    page.wait_for_url(f"{base_url}/consola/cola")


def citizen_says(page: Page, text: str) -> None:
    page.get_by_label("Su mensaje").fill(text)
    page.get_by_label("Su mensaje").press("Enter")


def fail_on_dialogs(page: Page, seen: list[Any]) -> None:
    page.on("dialog", lambda dialog: (seen.append(dialog.message), dialog.dismiss()))
