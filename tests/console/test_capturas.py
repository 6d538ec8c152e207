"""Screenshots of the queue and of a conversation at phone (390×844) and desktop (1366×900) widths.

They land in a temporary folder; to refresh the README's images run
``CHASQUI_CAPTURAS=docs/capturas .venv/bin/pytest tests/console/test_capturas.py``.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import struct
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from bot.handoff.events import EventBus
from bot.handoff.service import HandoffService
from bot.privacy.encryption import protector_from
from bot.settings import Settings
from bot.storage import conversations as conversations_repo
from bot.storage import documents as documents_repo
from bot.storage import identity as identidad_repo
from bot.storage.db import create_engine, session_factory
from bot.texts import load_textos
from tests.console.conftest import HANDOFF_TRIGGER, FakeRasa
from tests.console.navegador import DESKTOP, PHONE, chromium, create_staff, log_in, running_gateway
from tests.handoff.builders import PROJECT, Clock, always_open, shipped_equipos

CITIZEN = "web:3f1c9a27d0b84e55"


def in_thread(work: Any) -> Any:
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, work).result()


async def seed(settings: Settings) -> None:
    """Other conversations waiting (Telegram, WhatsApp, a ticket left out of hours), an identity, a document."""
    engine = create_engine(settings.effective_database_url)
    sessions = session_factory(engine)
    textos = load_textos(PROJECT / "dialogs" / "textos")
    now = datetime.now(UTC)
    shipped = shipped_equipos()
    today = now.astimezone(shipped.zone).date()
    closed_today = dataclasses.replace(shipped, holidays=shipped.holidays | {today})  # a ticket for the next day
    waiting = [
        ("wa:7c1e9b0d4a2f6e8b3c5d", "Necesito corregir un dato de mi partida", "registro_civil", closed_today, 25),
        ("tg:5550001", "Mi licencia sale suspendida y no sé por qué", "ant", always_open(shipped), 12),
        ("web:9b0e44c1a2f3", "No me llega el código del SRI", "sri", always_open(shipped), 4),
    ]
    async with sessions() as session:
        for conversation_id, text, team, equipos, minutes in waiting:
            service = HandoffService(
                equipos=equipos, textos=textos, bus=EventBus(), clock=Clock(now - timedelta(minutes=minutes))
            )
            conversation = await conversations_repo.get_or_create_conversation(
                session=session, conversation_id=conversation_id, channel=conversation_id.split(":")[0]
            )
            await conversations_repo.add_inbound(
                session=session, conversation=conversation, channel_message_id=conversation_id, text=text
            )
            await service.request(session=session, conversation=conversation, reason="no_entendido", team=team)
        protector = protector_from(settings)
        await identidad_repo.save_link(
            session=session,
            conversation_id=CITIZEN,
            cedula_hash=protector.lookup_hash("1712345675"),
            cedula_cifrada=protector.encrypt("1712345675"),
            nombres_cifrados=protector.encrypt("María José"),
            nivel="dactilar",
            verified_at=now,
            expires_at=now + timedelta(hours=1),
        )
        await documents_repo.add_document(
            session=session,
            document=documents_repo.NewDocument(
                id="d4c1e0a9b8f7e6d5",
                kind="certificado_votacion",
                verification_code="K7M2Q9T4W8X3",
                holder_cedula_hash=protector.lookup_hash("1712345675"),
                holder_cedula_masked="17******75",
                holder_name="ANDRADE CEVALLOS MARIA JOSE",
                public_fields={},
                issued_at=now - timedelta(days=3),
                expires_at=now + timedelta(days=87),
                pdf_filename="certificado_votacion.pdf",
                pdf_sha256="0" * 64,
                pdf_size=1,
                png_filename="certificado_votacion.png",
                png_sha256="0" * 64,
                png_size=1,
                signer_kid="dev",
                sandbox=True,
                conversation_id=CITIZEN,
            ),
        )
        await session.commit()
    await engine.dispose()


def png_size(path: Path) -> tuple[int, int]:
    header = path.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", header[16:24])
    return width, height


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


def shoot(page: Page, path: Path) -> None:
    page.evaluate("document.getElementById('novedad').hidden = true; document.title = 'Consola'")
    page.screenshot(path=str(path))


def test_screenshots_of_the_queue_and_a_conversation(tmp_path: Path, folder: Path, browser: Browser) -> None:
    settings = Settings(
        var_dir=tmp_path / "var",
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'app.db'}",
        consentimiento_requerido=False,  # consent has its own tests
    )
    rasa = FakeRasa()
    expect.set_options(timeout=15_000)
    with running_gateway(settings, rasa) as url:
        create_staff(settings, "ana", "Ana Pérez")
        create_staff(settings, "jefa", "Lucía Andrade", rol="supervisor", equipos=())
        in_thread(seed(settings))

        def says(text: str) -> None:
            httpx.post(f"{url}/webhooks/rest/webhook", json={"sender": CITIZEN, "message": text}).raise_for_status()

        says("hola")
        says("quiero sacar mi certificado de votación, mi cédula es 1712345675")
        says(HANDOFF_TRIGGER)
        rasa.active_loop = None
        rasa.slots = {"formulario_interrumpido": "certificado_votacion_form", "motivo": "para un trabajo"}

        agent = browser.new_context(viewport=DESKTOP).new_page()
        log_in(agent, url, "ana")
        agent.locator("#filas .caso").filter(has_text="Pidió hablar con una persona").get_by_role("link").click()
        agent.get_by_role("button", name="Tomar", exact=True).click()
        agent.get_by_label("Respuesta predefinida").select_option(label="Saludo con nombre")
        agent.get_by_role("button", name="Enviar predefinida").click()
        says("no me deja descargar el certificado, dice que ya lo emití")
        agent.get_by_label("Su respuesta al ciudadano").fill(
            "Ya lo veo: se emitió hace tres días. Se lo reenvío ahora."
        )
        agent.get_by_role("button", name="Enviar", exact=True).click()
        agent.get_by_role("button", name="Reenviar PDF").click()
        agent.get_by_label("Solo la ve el personal").fill("La ciudadana no encontraba el PDF en su teléfono.")
        agent.get_by_role("button", name="Guardar nota").click()
        expect(agent.locator(".aviso")).to_have_text("Nota interna guardada. El ciudadano no la ve.")
        conversation_url = agent.url.split("?")[0]

        supervisor = browser.new_context(viewport=DESKTOP).new_page()
        log_in(supervisor, url, "jefa")
        supervisor.goto(f"{url}/consola/cola?vista=todas")
        expect(supervisor.locator("#filas .caso")).to_have_count(4)
        shots = {"cola-escritorio.png": (supervisor, f"{url}/consola/cola?vista=todas", DESKTOP)}
        shots["conversacion-escritorio.png"] = (agent, conversation_url, DESKTOP)
        for name, (page, address, size) in shots.items():
            page.goto(address)
            shoot(page, folder / name)
            assert png_size(folder / name) == (size["width"], size["height"])
        for name, (page, address) in {
            "cola-telefono.png": (supervisor, f"{url}/consola/cola?vista=todas"),
            "conversacion-telefono.png": (agent, conversation_url),
        }.items():
            page.set_viewport_size(PHONE)
            page.goto(address)
            shoot(page, folder / name)
            assert png_size(folder / name) == (PHONE["width"], PHONE["height"])
            assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]  # no sideways scrolling
