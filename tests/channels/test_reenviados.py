"""A forwarded message with a link, on Telegram and WhatsApp: the channel marks it, and the gateway checks it
(«¿esto es oficial?») without Rasa, answering through the channel's API."""

from __future__ import annotations

from bot.channels.telegram.adapter import TelegramAdapter
from bot.channels.whatsapp.adapter import WhatsAppAdapter
from tests.channels.conftest import Channels, fixture, wait_until
from tests.channels.test_telegram import post_update
from tests.channels.test_whatsapp import CITIZEN, WEBHOOK, signed_post


def test_the_adapters_mark_a_forwarded_message() -> None:
    telegram = TelegramAdapter(bot=None)  # type: ignore[arg-type]
    whatsapp = WhatsAppAdapter(
        None,  # type: ignore[arg-type]
        auth_token="x",
        sender="whatsapp:+1",
        numbered_options_text=str,
        pseudonym=lambda number: "p" + number[-4:],
    )
    forwarded = [telegram.parse(fixture("telegram", "reenviado")), whatsapp.parse(fixture("twilio", "reenviado"))]
    typed = [telegram.parse(fixture("telegram", "texto")), whatsapp.parse(fixture("twilio", "texto"))]
    assert [m.metadata if m else None for m in forwarded] == [{"reenviado": True}, {"reenviado": True}]
    assert [m.metadata if m else None for m in typed] == [{}, {}]


def test_a_forwarded_telegram_message_is_checked_without_rasa(channels: Channels) -> None:
    assert post_update(channels, fixture("telegram", "reenviado")) == 200
    [answer] = wait_until(lambda: channels.telegram.texts_to(4242))
    assert answer.startswith(
        "Revisé el mensaje sin abrir ningún enlace:\n"
        "• www.registrocivil.gob.ec: sí es un sitio oficial; lo administra el Registro Civil.\n\n"
        "Todo lo que revisé es oficial."
    )
    assert channels.rasa.received == []


def test_a_forwarded_whatsapp_message_is_checked_without_rasa(channels: Channels) -> None:
    assert signed_post(channels, WEBHOOK, fixture("twilio", "reenviado")) == 200
    [answer] = wait_until(lambda: channels.twilio.bodies_to(CITIZEN))
    assert answer.startswith(
        "Revisé el mensaje sin abrir ningún enlace:\n"
        "• ant-multas.com: NO es oficial. Se hace pasar por la Agencia Nacional de Tránsito (ANT), cuyo sitio real "
        "es ant.gob.ec. Usa el nombre de la institución, pero no es su sitio.\n\n"
        "Es muy probable que sea un engaño."
    )
    assert channels.rasa.received == []
