"""WhatsApp through a fake Twilio REST API over HTTP: signatures behind a proxy, numbered options, status."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import select
from twilio.request_validator import RequestValidator

from bot.channels.whatsapp.adapter import WhatsAppAdapter
from bot.conversations.messages import InboundKind
from bot.conversations.router import chosen_option
from bot.storage import outbox as outbox_repo
from bot.storage.db import create_engine, session_factory
from bot.storage.models import Conversation
from tests.channels.conftest import PUBLIC_URL, TWILIO_TOKEN, Channels, fixture, wait_until

CITIZEN = "whatsapp:+593991234567"
WEBHOOK = "/webhooks/whatsapp"
STATUS = "/webhooks/whatsapp/estado"


def signed_post(channels: Channels, path: str, form: dict[str, str], *, signature: str | None = None) -> int:
    """POST like Twilio does: the signature covers the PUBLIC URL, while the request hits the internal one."""
    if signature is None:
        signature = RequestValidator(TWILIO_TOKEN).compute_signature(PUBLIC_URL + path, form)
    headers = {"X-Twilio-Signature": signature} if signature else {}
    return channels.client.post(path, data=form, headers=headers).status_code


def outbox_rows(channels: Channels) -> list[tuple[str, str | None, str | None]]:
    async def _read() -> list[tuple[str, str | None, str | None]]:
        engine = create_engine(channels.settings.effective_database_url)
        async with session_factory(engine)() as session:
            [conversation_id] = (await session.scalars(select(Conversation.id))).all()
            rows = await outbox_repo.for_conversation(session=session, conversation_id=conversation_id)
        await engine.dispose()
        return [(r.status, r.provider_message_id, r.last_error) for r in rows]

    return asyncio.run(_read())


def test_forged_or_missing_signature_gets_403_and_nothing_is_processed(channels: Channels) -> None:
    form = fixture("twilio", "texto")
    assert signed_post(channels, WEBHOOK, form, signature="") == 403
    assert signed_post(channels, WEBHOOK, form, signature="bm90LWEtc2lnbmF0dXJl") == 403
    tampered = {**form, "Body": "otra cosa"}
    good_for_original = RequestValidator(TWILIO_TOKEN).compute_signature(PUBLIC_URL + WEBHOOK, form)
    assert signed_post(channels, WEBHOOK, tampered, signature=good_for_original) == 403
    internal = RequestValidator(TWILIO_TOKEN).compute_signature("http://10.0.0.5:8000" + WEBHOOK, form)
    assert signed_post(channels, WEBHOOK, form, signature=internal) == 403
    assert channels.rasa.received == []
    assert channels.twilio.sent == []


def test_a_text_is_acknowledged_at_once_and_answered_through_the_rest_api(channels: Channels) -> None:
    response = channels.client.post(
        WEBHOOK,
        data=fixture("twilio", "texto"),
        headers={
            "X-Twilio-Signature": RequestValidator(TWILIO_TOKEN).compute_signature(
                PUBLIC_URL + WEBHOOK, fixture("twilio", "texto")
            )
        },
    )
    assert (response.status_code, response.headers["content-type"]) == (200, "text/xml; charset=utf-8")
    assert response.text == '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'
    wait_until(lambda: channels.twilio.bodies_to(CITIZEN))
    [sent] = channels.twilio.sent
    assert sent.params == {
        "To": CITIZEN,
        "From": "whatsapp:+14155238886",
        "Body": "eco: Buenos días, necesito el récord policial",
        "StatusCallback": "https://chasqui.gob.example/webhooks/whatsapp/estado",
    }
    sender = channels.rasa.received[0]["sender"]
    assert sender.startswith("wa:") and "593991234567" not in sender  # a pseudonym, not the number


def test_a_redelivered_message_is_answered_once(channels: Channels) -> None:
    form = fixture("twilio", "texto")
    assert signed_post(channels, WEBHOOK, form) == 200
    assert signed_post(channels, WEBHOOK, form) == 200
    wait_until(lambda: channels.twilio.bodies_to(CITIZEN))
    channels.client.portal.call(asyncio.sleep, 0.5)  # type: ignore[union-attr]
    assert len(channels.twilio.sent) == 1
    assert len(channels.rasa.received) == 1


def test_buttons_are_numbered_options_and_a_number_maps_back_to_the_payload(channels: Channels) -> None:
    channels.rasa.replies["hola"] = [
        {
            "text": "¿Qué necesita?",
            "buttons": [
                {"title": "Partida de nacimiento", "payload": "/solicitar_certificado_nacimiento"},
                {"title": "Récord policial", "payload": "/solicitar_antecedentes_penales"},
            ],
        }
    ]
    base = fixture("twilio", "texto")
    assert signed_post(channels, WEBHOOK, {**base, "Body": "hola", "MessageSid": "SM1"}) == 200
    wait_until(lambda: channels.twilio.bodies_to(CITIZEN))
    assert channels.twilio.bodies_to(CITIZEN) == [
        "¿Qué necesita?\n\nResponda con el número de su opción:\n1. Partida de nacimiento\n2. Récord policial"
    ]
    assert signed_post(channels, WEBHOOK, {**base, "Body": "dos", "MessageSid": "SM2"}) == 200
    wait_until(lambda: len(channels.twilio.bodies_to(CITIZEN)) == 2)
    assert [r["message"] for r in channels.rasa.received] == ["hola", "/solicitar_antecedentes_penales"]


def test_a_quick_reply_tap_arrives_as_its_payload(channels: Channels) -> None:
    assert signed_post(channels, WEBHOOK, fixture("twilio", "respuesta_boton")) == 200
    wait_until(lambda: channels.rasa.received)
    assert channels.rasa.received[0]["message"] == "/solicitar_antecedentes_penales"


def test_voice_notes_and_locations_get_a_polite_answer_without_rasa(channels: Channels) -> None:
    for name in ("nota_de_voz", "ubicacion"):
        assert signed_post(channels, WEBHOOK, fixture("twilio", name)) == 200
    wait_until(lambda: len(channels.twilio.bodies_to(CITIZEN)) == 2)
    assert (
        channels.twilio.bodies_to(CITIZEN)
        == [
            "Por ahora solo entiendo mensajes de texto, y fotos o PDF de documentos de Chasqui para verificarlos. "
            "Por favor, escríbame su consulta con palabras.\n\n"
            "Responda con el número de su opción:\n1. Ver los servicios"
        ]
        * 2
    )
    assert channels.rasa.received == []


def test_status_callbacks_are_signed_and_applied_in_order_even_when_they_arrive_out_of_order(
    channels: Channels,
) -> None:
    assert signed_post(channels, WEBHOOK, fixture("twilio", "texto")) == 200
    wait_until(lambda: outbox_rows(channels) and outbox_rows(channels)[0][0] == "sent")
    sid = channels.twilio.sent[0].sid

    def callback(name: str) -> dict[str, str]:
        return {k: (sid if v == "SMREPLACE" else v) for k, v in fixture("twilio", name).items()}

    assert signed_post(channels, STATUS, callback("estado_leido"), signature="bm9wZQ==") == 403
    assert signed_post(channels, STATUS, callback("estado_leido")) == 204
    assert signed_post(channels, STATUS, callback("estado_entregado")) == 204
    assert outbox_rows(channels) == [("read", sid, None)]


def test_an_invalid_number_is_a_permanent_failure(channels: Channels) -> None:
    channels.twilio.errors[CITIZEN] = (400, 21211)
    assert signed_post(channels, WEBHOOK, fixture("twilio", "texto")) == 200
    wait_until(lambda: outbox_rows(channels) and outbox_rows(channels)[0][0] == "failed")
    assert outbox_rows(channels) == [("failed", None, "twilio 400 21211")]


def test_long_texts_are_split_under_whatsapps_limit(channels: Channels) -> None:
    long_text = " ".join(["palabra"] * 500)
    channels.rasa.replies["Buenos días, necesito el récord policial"] = [{"text": long_text}]
    assert signed_post(channels, WEBHOOK, fixture("twilio", "texto")) == 200
    wait_until(lambda: len(channels.twilio.bodies_to(CITIZEN)) == 3)
    pieces = channels.twilio.bodies_to(CITIZEN)
    assert all(len(p) <= 1600 for p in pieces)
    assert " ".join(pieces) == long_text


def test_adapter_parses_golden_forms() -> None:
    adapter = WhatsAppAdapter(
        None,  # type: ignore[arg-type]
        auth_token="x",
        sender="whatsapp:+1",
        numbered_options_text=str,
        pseudonym=lambda number: "p" + number[-4:],
    )
    text = adapter.parse(fixture("twilio", "texto"))
    image = adapter.parse(fixture("twilio", "imagen"))
    location = adapter.parse(fixture("twilio", "ubicacion"))
    assert text is not None
    assert (text.conversation_id, text.channel_message_id) == ("wa:p4567", "SMa1b2c3d4e5f60718293a4b5c6d7e8f90")
    assert text.address == "+593991234567"
    assert image is not None and (image.kind, image.text) == (InboundKind.MEDIA, "[image]")
    assert location is not None and (location.kind, location.text) == (InboundKind.UNSUPPORTED, "[location]")


def test_numbered_choices_in_digits_and_words() -> None:
    options: list[dict[str, Any]] = [{"title": "A", "payload": "/a"}, {"title": "B", "payload": "/b"}]
    assert [chosen_option(t, options) for t in ("1", "2.", " dos ", "opción 2", "la opcion uno", "3", "hola")] == [
        "/a", "/b", "/b", "/b", "/a", None, None
    ]  # fmt: skip


def test_the_number_is_stored_only_encrypted(channels: Channels) -> None:
    assert signed_post(channels, WEBHOOK, fixture("twilio", "texto")) == 200
    wait_until(lambda: channels.twilio.bodies_to(CITIZEN))  # the reply still reaches the real number
    database = channels.settings.effective_database_url.split(":///", 1)[1]
    import sqlite3

    with sqlite3.connect(database) as db:
        for (table,) in db.execute("SELECT name FROM sqlite_master WHERE type='table'").fetchall():
            for row in db.execute(f'SELECT * FROM "{table}"'):  # noqa: S608 - names from sqlite_master
                assert "593991234567" not in " ".join(str(c) for c in row), table
