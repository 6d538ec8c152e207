"""Telegram end to end through a fake Bot API over HTTP: webhook secret, replies, buttons, limits."""

from __future__ import annotations

import asyncio
import re
from typing import Any

from bot.channels.base import split_text
from bot.channels.telegram.adapter import TelegramAdapter, callback_data
from bot.conversations.messages import InboundKind
from bot.storage import outbox as outbox_repo
from bot.storage.db import create_engine, session_factory
from tests.channels.conftest import TELEGRAM_SECRET, Channels, fixture, wait_until

HEADERS = {"X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET}


def post_update(channels: Channels, update: dict[str, Any], headers: dict[str, str] | None = None) -> int:
    return channels.client.post(
        "/webhooks/telegram", json=update, headers=HEADERS if headers is None else headers
    ).status_code


def outbox_statuses(channels: Channels, conversation_id: str) -> list[tuple[str, int, str | None]]:
    async def _read() -> list[tuple[str, int, str | None]]:
        engine = create_engine(channels.settings.effective_database_url)
        async with session_factory(engine)() as session:
            rows = await outbox_repo.for_conversation(session=session, conversation_id=conversation_id)
        await engine.dispose()
        return [(r.status, r.attempts, r.last_error) for r in rows]

    return asyncio.run(_read())


def test_forged_or_missing_secret_gets_403_and_nothing_is_processed(channels: Channels) -> None:
    update = fixture("telegram", "texto")
    assert post_update(channels, update, headers={}) == 403
    assert post_update(channels, update, headers={"X-Telegram-Bot-Api-Secret-Token": "otro"}) == 403
    assert post_update(channels, update, headers={"X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET + "x"}) == 403
    assert channels.rasa.received == []
    assert channels.telegram.sent() == []


def test_a_text_is_answered_through_the_bot_api(channels: Channels) -> None:
    assert post_update(channels, fixture("telegram", "texto")) == 200
    wait_until(lambda: channels.telegram.texts_to(4242))
    assert channels.telegram.texts_to(4242) == ["eco: hola, buenas tardes"]
    # The webhook's request id travels with the stored message to the background turn and on to Rasa.
    assert re.fullmatch(r"[a-z]{24}", channels.rasa.received[0]["metadata"].pop("request_id"))
    assert channels.rasa.received == [
        {"sender": "tg:4242", "message": "hola, buenas tardes", "metadata": {"channel": "tg", "message_id": "500001"}}
    ]
    assert [c.params["action"] for c in channels.telegram.sent("sendChatAction")] == ["typing"]
    # The Bot API has the message before the outbox row says so: the row is marked once the call returned.
    wait_until(lambda: outbox_statuses(channels, "tg:4242")[0][0] != "sending")
    assert outbox_statuses(channels, "tg:4242") == [("sent", 1, None)]


def test_a_redelivered_update_is_answered_once(channels: Channels) -> None:
    update = fixture("telegram", "texto")
    assert post_update(channels, update) == 200
    assert post_update(channels, update) == 200
    wait_until(lambda: channels.telegram.texts_to(4242))
    assert post_update(channels, update) == 200
    channels.client.portal.call(asyncio.sleep, 0.5)  # type: ignore[union-attr]
    assert channels.telegram.texts_to(4242) == ["eco: hola, buenas tardes"]
    assert len(channels.rasa.received) == 1


def test_buttons_become_an_inline_keyboard_and_a_tap_reaches_rasa_as_the_payload(channels: Channels) -> None:
    channels.rasa.replies["/saludar"] = [
        {
            "text": "¿Qué necesita?",
            "buttons": [{"title": "Récord policial", "payload": "/solicitar_antecedentes_penales"}],
        }
    ]
    assert post_update(channels, fixture("telegram", "comando_start")) == 200
    wait_until(lambda: channels.telegram.texts_to(4242))
    [sent] = channels.telegram.sent()
    assert sent.params["reply_markup"] == {
        "inline_keyboard": [[{"text": "Récord policial", "callback_data": "/solicitar_antecedentes_penales"}]]
    }
    assert post_update(channels, fixture("telegram", "boton")) == 200
    wait_until(lambda: len(channels.telegram.texts_to(4242)) == 2)
    assert [r["message"] for r in channels.rasa.received] == ["/saludar", "/solicitar_antecedentes_penales"]
    assert [c.params["callback_query_id"] for c in channels.telegram.sent("answerCallbackQuery")] == [
        "4382bfdwdsb323b2d9"
    ]


def test_voice_notes_get_a_polite_answer_without_rasa(channels: Channels) -> None:
    assert post_update(channels, fixture("telegram", "nota_de_voz")) == 200
    wait_until(lambda: channels.telegram.texts_to(4242))
    assert channels.telegram.texts_to(4242) == [
        "Por ahora solo entiendo mensajes de texto, y fotos o PDF de documentos de Chasqui para verificarlos. "
        "Por favor, escríbame su consulta con palabras."
    ]
    assert channels.rasa.received == []


def test_only_the_senders_own_contact_is_accepted(channels: Channels) -> None:
    assert post_update(channels, fixture("telegram", "contacto_ajeno")) == 200
    wait_until(lambda: channels.telegram.texts_to(4242))
    assert post_update(channels, fixture("telegram", "contacto_propio")) == 200
    wait_until(lambda: len(channels.telegram.texts_to(4242)) == 2)
    assert channels.telegram.texts_to(4242) == [
        "Por su seguridad, solo puedo registrar su propio número. Use el botón «Compartir mi número» desde su cuenta.",
        "Gracias. Recibí su número de teléfono.",
    ]


def test_edited_messages_are_ignored(channels: Channels) -> None:
    assert post_update(channels, fixture("telegram", "mensaje_editado")) == 200
    channels.client.portal.call(asyncio.sleep, 0.3)  # type: ignore[union-attr]
    assert channels.rasa.received == []


def test_long_texts_are_split_under_telegrams_limit(channels: Channels) -> None:
    long_text = "\n\n".join(f"Párrafo {n}: " + " ".join(["palabra"] * 60) for n in range(20))
    channels.rasa.replies["hola, buenas tardes"] = [{"text": long_text}]
    assert post_update(channels, fixture("telegram", "texto")) == 200
    wait_until(lambda: len(channels.telegram.texts_to(4242)) >= 3)
    pieces = channels.telegram.texts_to(4242)
    assert all(len(p) <= 4096 for p in pieces)
    assert "\n\n".join(pieces) == long_text


def test_a_blocked_bot_is_recorded_and_not_retried(channels: Channels) -> None:
    channels.telegram.blocked_chats.add(4242)
    assert post_update(channels, fixture("telegram", "texto")) == 200
    wait_until(lambda: outbox_statuses(channels, "tg:4242") and outbox_statuses(channels, "tg:4242")[0][0] == "failed")
    assert outbox_statuses(channels, "tg:4242") == [("failed", 1, "forbidden: Forbidden: bot was blocked by the user")]


def test_flood_limit_is_respected_and_the_message_is_delivered_later(channels: Channels) -> None:
    channels.telegram.flood_once.add(4242)
    assert post_update(channels, fixture("telegram", "texto")) == 200
    wait_until(lambda: channels.telegram.texts_to(4242), timeout=20)
    wait_until(lambda: outbox_statuses(channels, "tg:4242")[0][0] != "sending")  # marked after the call returned
    assert outbox_statuses(channels, "tg:4242") == [("sent", 2, "flood limit")]


def test_webhook_and_commands_menu_are_registered_at_start(channels: Channels) -> None:
    [webhook] = channels.telegram.sent("setWebhook")
    assert webhook.params["url"] == "https://chasqui.gob.example/webhooks/telegram"
    assert webhook.params["secret_token"] == TELEGRAM_SECRET
    [commands] = channels.telegram.sent("setMyCommands")
    assert [c["command"] for c in commands.params["commands"]] == [
        "start", "ayuda", "tramites", "documentos", "agente", "privacidad"
    ]  # fmt: skip


def test_adapter_parses_golden_updates() -> None:
    adapter = TelegramAdapter(bot=None)  # type: ignore[arg-type]
    text = adapter.parse(fixture("telegram", "texto"))
    start = adapter.parse(fixture("telegram", "comando_start"))
    voice = adapter.parse(fixture("telegram", "nota_de_voz"))
    own = adapter.parse(fixture("telegram", "contacto_propio"))
    assert text is not None and (text.conversation_id, text.channel_message_id, text.text) == (
        "tg:4242", "500001", "hola, buenas tardes"
    )  # fmt: skip
    assert start is not None and start.text == "/saludar"
    assert voice is not None and (voice.kind, voice.text) == (InboundKind.UNSUPPORTED, "[nota de voz]")
    photo = adapter.parse(fixture("telegram", "foto"))
    assert photo is not None and (photo.kind, photo.text) == (InboundKind.MEDIA, "[foto]")
    assert own is not None and own.kind == InboundKind.OWN_CONTACT
    assert adapter.parse(fixture("telegram", "mensaje_editado")) is None


def test_callback_data_fits_telegrams_64_bytes() -> None:
    short = "/solicitar_certificado_nacimiento"
    long = '/informar{"placa": "PBX-4821", "cedula": "1712345675", "motivo": "trabajo"}'
    assert callback_data(short) == short
    assert len(callback_data(long).encode()) <= 64


def test_split_text_prefers_paragraphs_then_lines_then_words() -> None:
    assert split_text("uno dos tres", 100) == ["uno dos tres"]
    assert split_text("aaaa\n\nbbbb", 6) == ["aaaa", "bbbb"]
    assert split_text("palabra " * 5, 16) == ["palabra palabra", "palabra palabra", "palabra"]
