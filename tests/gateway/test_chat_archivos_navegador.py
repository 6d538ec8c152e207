"""The web chat in Debian's Chromium: an issued document's image shown inline with its download link, and a
file sent by drag and drop or by the keyboard as the web channel's attachment JSON (then verified)."""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from bot.documents.runtime import build_documents
from bot.documents.service import IssuedDocument, document_payloads
from bot.documents.settings import document_settings_from
from bot.documents.templates import DocumentKind
from bot.settings import Settings
from bot.storage.db import create_engine, migrate, session_factory
from tests.a11y.test_axe import AXE, axe, blocking
from tests.console.conftest import FakeRasa
from tests.console.navegador import DESKTOP, PHONE, chromium, citizen_says, running_gateway
from tests.documents.builders import FIELDS, HOLDER

ASK = "mi documento"
VALID = "Documento válido."
KIND = DocumentKind.CERTIFICADO_ANTECEDENTES_PENALES


@dataclass
class DocumentRasa(FakeRasa):
    """The console's fake Rasa, plus the two ``{"document": ...}`` payloads of an issued document for «mi documento»."""

    payloads: list[dict[str, Any]] = field(default_factory=list)

    def handler(self, request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/webhook") and json.loads(request.content)["message"] == ASK:
            sender = json.loads(request.content)["sender"]
            self.received.append(ASK)
            replies = [{"recipient_id": sender, "text": "Aquí está su documento.", "custom": self.payloads[0]}]
            replies.append({"recipient_id": sender, "custom": self.payloads[1]})
            return httpx.Response(200, json=replies)
        return super().handler(request)


@dataclass(frozen=True)
class Served:
    url: str
    rasa: DocumentRasa
    issued: IssuedDocument
    png: bytes


def issue(settings: Settings) -> tuple[IssuedDocument, bytes]:
    """Issue one document in the gateway's database and store, as an action would."""

    async def _issue() -> tuple[IssuedDocument, bytes]:
        engine = create_engine(settings.effective_database_url)
        try:
            documents = build_documents(document_settings_from(settings), sessions=session_factory(engine))
            issued = await documents.issuer.issue(KIND, HOLDER, FIELDS[KIND])
            return issued, documents.store.get(issued.id, issued.png.filename)
        finally:
            await engine.dispose()

    with ThreadPoolExecutor(max_workers=1) as pool:  # Alembic and asyncio.run need a thread without a loop
        pool.submit(migrate, settings.effective_database_url).result()
        return pool.submit(asyncio.run, _issue()).result()


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    settings = Settings(
        var_dir=tmp_path / "var",
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'app.db'}",
        public_base_url="https://chasqui.gob.example",  # not this server: the chat loads the image from its own
        consentimiento_requerido=False,
    )
    issued, png = issue(settings)
    rasa = DocumentRasa(payloads=document_payloads(issued))
    with running_gateway(settings, rasa) as url:
        yield Served(url, rasa, issued, png)


@pytest.fixture
def browser() -> Iterator[Browser]:
    if not AXE.exists():
        pytest.fail("axe-core is missing: `make test` runs `npm ci --prefix tests/a11y`")
    with chromium() as opened:
        yield opened


def posted_body(page: Page, action: Any) -> dict[str, Any]:
    """The JSON the chat posts to the web channel while ``action`` runs."""
    with page.expect_request(lambda r: r.method == "POST" and r.url.endswith("/webhooks/rest/webhook")) as request:
        action()
    body: dict[str, Any] = json.loads(request.value.post_data or "null")
    return body


def drop_file(page: Page, name: str, content_type: str, data: bytes) -> None:
    """Drag a file from outside the browser over the chat and drop it (as the desktop's file manager does)."""
    transfer = page.evaluate_handle(
        """([name, type, b64]) => {
            const bytes = Uint8Array.from(atob(b64), c => c.charCodeAt(0));
            const transfer = new DataTransfer();
            transfer.items.add(new File([bytes], name, {type}));
            return transfer;
        }""",
        [name, content_type, base64.b64encode(data).decode()],
    )
    page.dispatch_event("#conversacion", "dragenter", {"dataTransfer": transfer})
    expect(page.locator("body")).to_have_class("arrastrando")
    page.dispatch_event("#conversacion", "drop", {"dataTransfer": transfer})


def test_an_issued_documents_image_shows_inline_with_its_link_and_alt_text(served: Served, browser: Browser) -> None:
    expect.set_options(timeout=15_000)
    results = {}
    for width, viewport in (("telefono", PHONE), ("escritorio", DESKTOP)):
        page = browser.new_context(viewport=viewport, bypass_csp=True).new_page()
        page.goto(served.url + "/")
        citizen_says(page, ASK)
        figure = page.locator("#conversacion figure")
        expect(figure).to_have_count(1)
        image = figure.get_by_role("img")
        code = served.issued.verification_code
        expect(image).to_have_attribute(
            "alt", f"Imagen de su documento, con el código QR para verificarlo. Código de verificación: {code}"
        )
        expect(image).to_have_js_property("complete", True)
        shown = image.evaluate("img => [img.naturalWidth, img.naturalHeight]")
        assert shown[0] > 0 and shown[1] > 0  # the picture loaded from this gateway, not only the element
        link = figure.get_by_role("link", name=f"Descargar {served.issued.png.filename}")
        assert (link.get_attribute("href") or "").startswith(f"/documentos/{served.issued.id}/")
        response = page.request.get(served.url + (link.get_attribute("href") or ""))
        assert (response.status, response.body()) == (200, served.png)
        pdf = page.get_by_role("link", name=f"Descargar {served.issued.pdf.filename}")
        expect(pdf).to_have_count(1)
        assert page.locator("#conversacion img").count() == 1  # the PDF is a link only
        results[width] = blocking(axe(page))
    assert results == {"telefono": [], "escritorio": []}


def test_a_dropped_file_is_sent_as_the_attachment_json_and_verified(served: Served, browser: Browser) -> None:
    expect.set_options(timeout=15_000)
    page = browser.new_context(viewport=DESKTOP, bypass_csp=True).new_page()
    page.goto(served.url + "/")
    sender = page.evaluate("localStorage.getItem('chasqui.remitente')")
    body = posted_body(page, lambda: drop_file(page, "certificado.png", "image/png", served.png))
    message_id = body["metadata"]["message_id"]
    assert body == {
        "sender": sender,
        "message": "",
        "attachment": {
            "filename": "certificado.png",
            "content_type": "image/png",
            "data": base64.b64encode(served.png).decode(),
        },
        "metadata": {"message_id": message_id},
    }
    conversation = page.locator("#conversacion")
    expect(conversation).to_contain_text("Archivo enviado: certificado.png")
    expect(conversation).to_contain_text(VALID)
    expect(page.locator("body")).not_to_have_class("arrastrando")
    assert served.rasa.received == []  # a file is answered by the gateway; nothing reached Rasa

    before = page.locator("#conversacion li").count()
    drop_file(page, "notas.txt", "text/plain", b"hola")
    expect(conversation).to_contain_text("Solo puedo verificar documentos en PDF o fotos en JPG o PNG.")
    assert page.locator("#conversacion li").count() == before + 1  # a notice only: nothing was sent


def test_the_attachment_button_works_with_the_keyboard_alone(served: Served, browser: Browser) -> None:
    expect.set_options(timeout=15_000)
    page = browser.new_context(viewport=PHONE).new_page()
    # Listening from the start turns Chromium's file chooser interception on before any key is pressed
    # (`expect_file_chooser` alone may turn it on only after the Enter that opens the chooser).
    page.on("filechooser", lambda _: None)
    page.goto(served.url + "/")
    for _ in range(10):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == "adjuntar":
            break
    assert page.evaluate("document.activeElement.id") == "adjuntar"
    with page.expect_file_chooser() as chooser:
        page.keyboard.press("Enter")
    body = posted_body(
        page,
        lambda: chooser.value.set_files({"name": "certificado.png", "mimeType": "image/png", "buffer": served.png}),
    )
    assert (body["message"], body["attachment"]["filename"], body["attachment"]["content_type"]) == (
        "",
        "certificado.png",
        "image/png",
    )
    assert base64.b64decode(body["attachment"]["data"]) == served.png
    expect(page.locator("#conversacion")).to_contain_text(VALID)
