"""A photo or PDF sent in the web chat is verified like the /verificar page does, and answered in words."""

from __future__ import annotations

import asyncio
import base64
import functools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from bot.documents.runtime import Documents
from bot.documents.service import IssuedDocument
from bot.documents.templates import DocumentKind
from bot.gateway.app import create_app
from bot.settings import Settings
from bot.storage.db import create_engine, migrate, session_factory
from bot.storage.models import Message
from tests.documents.builders import FIELDS, HOLDER, landscape_photo, photo_of
from tests.documents.test_pdf import flip_byte_in_signed_range
from tests.gateway.test_hardening import png_header_only
from tests.gateway.test_web_channel import FakeRasa

VALID = "Documento válido. El documento fue emitido por Chasqui, su firma digital es correcta y está vigente."
ALTERED = (
    "Documento alterado. La firma digital no corresponde al contenido. El documento fue modificado o no fue emitido"
    " por Chasqui. La firma digital no corresponde al contenido del archivo."
)
NO_QR = "No encontré un código QR de Chasqui en la imagen."
TOO_LARGE = "El archivo es demasiado grande para verificarlo."
FORMAT = "Solo puedo verificar documentos en PDF o fotos en JPG o PNG."


@pytest.fixture
def fake_rasa() -> FakeRasa:
    return FakeRasa()


@pytest.fixture
def client(settings: Settings, fake_rasa: FakeRasa) -> Iterator[TestClient]:
    migrate(settings.effective_database_url)
    app = create_app(settings, rasa_transport=httpx.MockTransport(fake_rasa.handler))
    with TestClient(app) as test_client:
        yield test_client


def issue(client: TestClient, kind: DocumentKind = DocumentKind.CERTIFICADO_ANTECEDENTES_PENALES) -> IssuedDocument:
    documents: Documents = client.app.state.documents  # type: ignore[attr-defined]
    call = functools.partial(documents.issuer.issue, kind, HOLDER, FIELDS[kind])
    return client.portal.call(call)  # type: ignore[union-attr]


def files(client: TestClient, issued: IssuedDocument) -> tuple[bytes, bytes]:
    store = client.app.state.documents.store  # type: ignore[attr-defined]
    return store.get(issued.id, issued.pdf.filename), store.get(issued.id, issued.png.filename)


def send(
    client: TestClient, data: bytes | str, content_type: str, *, filename: str = "documento", message: str = ""
) -> httpx.Response:
    encoded = data if isinstance(data, str) else base64.b64encode(data).decode()
    attachment = {"filename": filename, "content_type": content_type, "data": encoded}
    return client.post(
        "/webhooks/rest/webhook", json={"sender": "web:prueba", "message": message, "attachment": attachment}
    )


def answer(response: httpx.Response) -> str:
    assert response.status_code == 200, response.text
    [reply] = response.json()
    return str(reply["text"])


def stored_messages(settings: Settings) -> list[tuple[str, str | None, dict[str, Any] | None]]:
    async def _read() -> list[tuple[str, str | None, dict[str, Any] | None]]:
        engine = create_engine(settings.effective_database_url)
        async with session_factory(engine)() as session:
            rows = (await session.scalars(select(Message).order_by(Message.id))).all()
        await engine.dispose()
        return [(r.direction, r.text, r.payload) for r in rows]

    return asyncio.run(_read())


def test_a_signed_pdf_is_valid_with_the_same_wording_as_the_code_in_chat(
    client: TestClient, fake_rasa: FakeRasa, settings: Settings
) -> None:
    issued = issue(client)
    pdf, _ = files(client, issued)

    text = answer(send(client, pdf, "application/pdf", filename="record.pdf"))

    lines = text.split("\n")
    assert lines[3].startswith(f"• Titular: {HOLDER.name} (") and HOLDER.cedula not in text
    assert lines[:3] + lines[4:] == [
        VALID,
        "• Documento: Certificado de antecedentes penales",
        "• Institución: Ministerio del Interior",
        f"• Emitido: {issued.issued_at.astimezone(settings.zona_horaria):%d/%m/%Y}",
        f"• Vence: {issued.expires_at.astimezone(settings.zona_horaria):%d/%m/%Y}",
        "• Resultado: No registra antecedentes penales",
    ]
    assert fake_rasa.received == []  # the gateway answered: no NLU, no Rasa


def test_only_the_verdict_is_stored_never_the_file(client: TestClient, settings: Settings) -> None:
    pdf, _ = files(client, issue(client))

    text = answer(send(client, pdf, "application/pdf", filename="record de María.pdf"))

    [(_, inbound_text, inbound), (_, reply_text, _)] = stored_messages(settings)
    assert (inbound_text, reply_text) == ("[application/pdf]", text)
    assert inbound is not None and inbound["media"] == {
        "content_type": "application/pdf",
        "locator": "",
        "size": len(pdf),
    }
    assert "María" not in str(inbound)
    database = settings.effective_database_url.split(":///", 1)[1]
    assert pdf[-2000:-1000] not in Path(database).read_bytes()


def test_a_signed_png_is_valid(client: TestClient) -> None:
    _, png = files(client, issue(client))

    assert answer(send(client, png, "image/png")).startswith(VALID + "\n• Documento: Certificado de antecedentes")


def test_a_pdf_changed_after_signing_is_altered(client: TestClient) -> None:
    pdf, _ = files(client, issue(client))

    assert answer(send(client, flip_byte_in_signed_range(pdf), "application/pdf")) == ALTERED


def test_a_skewed_recompressed_photo_of_the_png_is_valid(client: TestClient) -> None:
    _, png = files(client, issue(client, DocumentKind.LICENCIA_CONDUCIR))

    text = answer(send(client, photo_of(png, degrees=4, scale=0.8, quality=60), "image/jpeg", filename="foto.jpg"))

    assert text.startswith(VALID + "\n• Documento: Licencia de conducir")


def test_a_photo_without_a_chasqui_qr_says_what_to_try(client: TestClient) -> None:
    text = answer(send(client, landscape_photo(), "image/jpeg"))

    assert text.startswith(NO_QR)
    assert "código de verificación" in text and "/verificar" in text


def test_a_decompression_bomb_is_refused_in_words(client: TestClient) -> None:
    assert answer(send(client, png_header_only(100_000, 100_000), "image/png")).startswith(TOO_LARGE)


def test_a_file_over_the_limit_is_refused_in_words_and_a_huge_body_is_a_413(client: TestClient) -> None:
    over = b"\xff\xd8\xff" + b"\0" * (5 * 1024 * 1024)
    assert answer(send(client, over, "image/jpeg")).startswith(TOO_LARGE)

    huge = base64.b64encode(b"\0" * (12 * 1024 * 1024)).decode()
    assert send(client, huge, "image/jpeg").status_code == 413


@pytest.mark.parametrize(
    ("data", "content_type"),
    [(b"%PDF-1.7 no es un PDF", "application/pdf"), (b"GIF89a" + b"\xff" * 60, "image/gif"), (b"hola", "image/jpeg")],
    ids=["broken-pdf", "gif", "text-as-jpeg"],
)
def test_other_files_get_a_clear_answer(client: TestClient, data: bytes, content_type: str) -> None:
    text = answer(send(client, data, content_type))

    assert text.startswith((FORMAT, "Documento alterado", "Documento desconocido")), text


def test_malformed_attachments_are_a_422(client: TestClient) -> None:
    assert send(client, "no es base64!", "image/png", message="hola").status_code == 422
    response = client.post(
        "/webhooks/rest/webhook", json={"sender": "web:prueba", "message": "hola", "attachment": "archivo"}
    )
    assert response.status_code == 422
