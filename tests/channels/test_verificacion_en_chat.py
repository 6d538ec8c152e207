"""Photos and PDFs sent on Telegram and WhatsApp are fetched through the channel's API (with its credentials)
from the local fakes, verified like the /verificar page does, and the verdict comes back in the chat."""

from __future__ import annotations

import functools
from typing import Any

from fastapi.testclient import TestClient

from bot.documents.service import IssuedDocument
from bot.documents.templates import DocumentKind
from tests.channels.conftest import TWILIO_SID, Channels, fixture, wait_until
from tests.channels.test_telegram import post_update
from tests.channels.test_whatsapp import CITIZEN, WEBHOOK, signed_post
from tests.documents.builders import FIELDS, HOLDER, landscape_photo, photo_of
from tests.documents.test_pdf import flip_byte_in_signed_range

VALID = "Documento válido. El documento fue emitido por Chasqui, su firma digital es correcta y está vigente."
ALTERED = "Documento alterado."
TOO_LARGE = "El archivo es demasiado grande para verificarlo."
NOT_RECEIVED = "No pude recibir su archivo."
MEDIA_PATH = f"/2010-04-01/Accounts/{TWILIO_SID}/Messages/MMc1/Media/ME1"


def issued_files(client: TestClient, kind: DocumentKind = DocumentKind.MATRICULA_VEHICULAR) -> tuple[bytes, bytes]:
    documents = client.app.state.documents  # type: ignore[attr-defined]
    issued: IssuedDocument = client.portal.call(  # type: ignore[union-attr]
        functools.partial(documents.issuer.issue, kind, HOLDER, FIELDS[kind])
    )
    return documents.store.get(issued.id, issued.pdf.filename), documents.store.get(issued.id, issued.png.filename)


def telegram_document(file_id: str, *, mime_type: str = "application/pdf", size: int = 20_000) -> dict[str, Any]:
    update = fixture("telegram", "foto")
    message = {k: v for k, v in update["message"].items() if k != "photo"}
    message["document"] = {
        "file_id": file_id, "file_unique_id": "AQADy", "file_name": "matricula.pdf", "mime_type": mime_type,
        "file_size": size,
    }  # fmt: skip
    return {"update_id": update["update_id"] + 1, "message": message}


def test_telegram_photo_is_downloaded_with_the_token_and_verified(channels: Channels) -> None:
    _, png = issued_files(channels.client)
    channels.telegram.files["AgACAgEAAxkBAAIC"] = photo_of(png, degrees=3, scale=0.7, quality=60)

    assert post_update(channels, fixture("telegram", "foto")) == 200
    [text] = wait_until(lambda: channels.telegram.texts_to(4242))

    assert text.startswith(VALID + "\n• Documento: Matrícula vehicular")
    assert "• Placa: PBX-1234" in text
    assert [c.params["file_id"] for c in channels.telegram.sent("getFile")] == ["AgACAgEAAxkBAAIC"]
    assert channels.telegram.downloads == ["documentos/AgACAgEAAxkBAAIC.bin"]
    assert channels.rasa.received == []


def test_telegram_pdf_changed_after_signing_is_altered(channels: Channels) -> None:
    pdf, _ = issued_files(channels.client)
    channels.telegram.files["BQACAgEAAxkBAAID"] = flip_byte_in_signed_range(pdf)

    assert post_update(channels, telegram_document("BQACAgEAAxkBAAID", size=len(pdf))) == 200
    [text] = wait_until(lambda: channels.telegram.texts_to(4242))

    assert text.startswith(ALTERED)


def test_telegram_file_of_50_mb_is_refused_before_any_download(channels: Channels) -> None:
    assert post_update(channels, telegram_document("BQACAgEAAxkBAAIE", size=50 * 1024 * 1024)) == 200
    [text] = wait_until(lambda: channels.telegram.texts_to(4242))

    assert text.startswith(TOO_LARGE)
    assert channels.telegram.sent("getFile") == []
    assert channels.telegram.downloads == []


def test_whatsapp_image_is_fetched_with_basic_auth_and_verified(channels: Channels) -> None:
    _, png = issued_files(channels.client)
    channels.twilio.media[MEDIA_PATH] = (photo_of(png, degrees=-4, scale=0.8, quality=60), "image/jpeg")

    assert signed_post(channels, WEBHOOK, fixture("twilio", "imagen")) == 200
    [body] = wait_until(lambda: channels.twilio.bodies_to(CITIZEN))

    assert body.startswith(VALID + "\n• Documento: Matrícula vehicular")
    assert channels.twilio.media_requests == [(MEDIA_PATH, True)]
    assert channels.rasa.received == []


def test_whatsapp_pdf_is_verified(channels: Channels) -> None:
    pdf, _ = issued_files(channels.client, DocumentKind.CERTIFICADO_NACIMIENTO)
    channels.twilio.media[MEDIA_PATH] = (pdf, "application/pdf")
    form = {**fixture("twilio", "imagen"), "MessageType": "document", "MediaContentType0": "application/pdf"}

    assert signed_post(channels, WEBHOOK, form) == 200
    [body] = wait_until(lambda: channels.twilio.bodies_to(CITIZEN))

    assert body.startswith(VALID + "\n• Documento: Certificado de nacimiento")


def test_whatsapp_photo_without_a_qr_and_media_outside_our_account(channels: Channels) -> None:
    channels.twilio.media[MEDIA_PATH] = (landscape_photo(), "image/jpeg")
    foreign = "https://api.twilio.com/2010-04-01/Accounts/AC0000000000000000000000000000ffff/Messages/MM9/Media/ME9"
    image = fixture("twilio", "imagen")

    assert signed_post(channels, WEBHOOK, image) == 200
    wait_until(lambda: channels.twilio.bodies_to(CITIZEN))
    assert signed_post(channels, WEBHOOK, {**image, "MessageSid": "MM2", "MediaUrl0": foreign}) == 200
    wait_until(lambda: len(channels.twilio.bodies_to(CITIZEN)) == 2)

    first, second = channels.twilio.bodies_to(CITIZEN)
    assert first.startswith("No encontré un código QR de Chasqui en la imagen.")
    assert second.startswith(NOT_RECEIVED)
    assert channels.twilio.media_requests == [(MEDIA_PATH, True)]  # the foreign URL was never fetched
