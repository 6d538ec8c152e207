"""«¿Esto es oficial?» in the chat: the action reads the latest message, numbers revealed from the vault, and
answers in one message; no link is opened."""

from __future__ import annotations

import dataclasses
import socket
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from rasa_sdk.executor import CollectingDispatcher

from bot.actions.message_check import ActionVerificarMensaje
from bot.actions.runtime import use_services
from bot.identity.vault_client import VaultClient
from tests.actions.builders import bot, tracker, user
from tests.actions.conftest import World

SENDER = "wa:prueba"


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Resolving or connecting anywhere fails the test (the registries and the vault answer in process)."""

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError(f"network access attempted: {args!r}")

    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)
    yield


@pytest.fixture
def own_senders(world: World) -> World:
    """Chasqui writes from +1 415 523 8886 on WhatsApp and as @chasqui_ec_bot on Telegram."""
    settings = world.services.settings.model_copy(
        update={"twilio_whatsapp_from": "whatsapp:+14155238886", "telegram_bot_username": "@chasqui_ec_bot"}
    )
    use_services(dataclasses.replace(world.services, settings=settings))
    return world


async def _check(text: str, **kwargs: Any) -> tuple[list[Any], dict[str, Any]]:
    dispatcher = CollectingDispatcher()
    events = await ActionVerificarMensaje().run(
        dispatcher, tracker(user(text, "verificar_mensaje"), sender_id=SENDER, **kwargs), {}
    )
    [message] = dispatcher.messages
    return events, message


async def test_a_pasted_fake_sms(own_senders: World) -> None:
    number = await own_senders.vault.put("telefono", "0991234567", owner=SENDER)  # as the gateway hands it to Rasa
    events, message = await _check(
        "me llego esto es verdad? REGISTRO CIVIL: su cedula sera bloqueada HOY. Actualice sus datos en "
        f"https://registrocivil-gob.ec/datos y deposite $5 a la cuenta de ahorros 2201. Dudas al {number}"
    )
    assert events == []
    assert message["plantilla"] == "verificar_mensaje_peligro"
    assert message["text"] == (
        "Revisé el mensaje sin abrir ningún enlace:\n"
        "• registrocivil-gob.ec: NO es oficial. Se hace pasar por el Registro Civil, cuyo sitio real es "
        "registrocivil.gob.ec. Los sitios del Estado terminan en «.gob.ec», sin nada después, y este no.\n"
        "• El número +593*******67 no es de Chasqui.\n\n"
        "Chasqui solo le escribe por WhatsApp desde el +1 415-523-8886 y por Telegram como @chasqui_ec_bot.\n\n"
        "Señales de engaño en el mensaje:\n"
        "• Le apura o le amenaza («urgente», «hoy», «será bloqueada»).\n"
        "• Pide pagar por transferencia o depósito a una cuenta. El Estado no cobra así.\n\n"
        "Es muy probable que sea un engaño. No abra el enlace, no pague nada y no comparta datos, claves ni "
        "códigos. Haga sus trámites solo en sitios que terminan en «.gob.ec» (www.gob.ec) o aquí conmigo. Si ya "
        "pagó o dio sus datos, denúncielo en la Policía Nacional o en la Fiscalía, y avise a la institución por "
        "su sitio oficial."
    )
    assert "0991234567" not in message["text"]  # a number is shown masked: it may be a citizen's


async def test_chasquis_own_number_and_an_official_link(own_senders: World) -> None:
    number = await own_senders.vault.put("telefono", "+1 415 523 8886", owner=SENDER)
    _, message = await _check(f"este numero {number} me mando un link a www.registrocivil.gob.ec, es oficial?")
    assert message["plantilla"] == "verificar_mensaje_confiable"
    assert message["text"].splitlines()[1:3] == [
        "• www.registrocivil.gob.ec: sí es un sitio oficial; lo administra el Registro Civil.",
        "• El número +1 415-523-8886 es el de Chasqui en WhatsApp.",
    ]


async def test_a_number_that_says_it_is_from_the_sri(own_senders: World) -> None:
    number = await own_senders.vault.put("telefono", "+234 801 234 5678", owner=SENDER)
    _, message = await _check(f"este numero me escribio diciendo que es del sri {number}")
    assert message["plantilla"] == "verificar_mensaje_dudoso"
    assert "• El número +234********78 no es de Chasqui, y es de Nigeria (+234)." in message["text"]


async def test_another_conversations_reference_is_no_number(own_senders: World) -> None:
    number = await own_senders.vault.put("telefono", "0991234567", owner="tg:otra")
    _, message = await _check(f"me escribió el {number}, ¿es oficial?")
    assert message["plantilla"] == "verificar_mensaje_nada"


async def test_the_question_alone_asks_for_the_message(world: World) -> None:
    events, message = await _check("esto es oficial?")
    assert (events, message["plantilla"]) == ([], "verificar_mensaje_nada")
    assert message["text"].startswith("Este chat sí es oficial: Chasqui es el asistente del Gobierno del Ecuador.")
    assert "péguelo aquí completo o reenvíemelo" in message["text"]


async def test_the_question_alone_is_about_the_message_pasted_just_before(world: World) -> None:
    pasted = user("ANT: tiene una multa pendiente, pague hoy con descuento en ant-pagos.com", "fuera_de_alcance")
    dispatcher = CollectingDispatcher()
    events = await ActionVerificarMensaje().run(
        dispatcher, tracker(pasted, bot("No le entendí."), user("esto es oficial?", "verificar_mensaje")), {}
    )
    [message] = dispatcher.messages
    assert (events, message["plantilla"]) == ([], "verificar_mensaje_peligro")
    assert "ant-pagos.com: NO es oficial" in message["text"]


@pytest.mark.parametrize(
    ("kwargs", "last_bot"),
    [
        ({"active_loop": "certificado_nacimiento_form"}, "¿Para qué necesita el certificado?"),
        ({}, "Pague aquí: https://chasqui.gob.ec/pagos/abc123"),
    ],
    ids=["in a form", "at the payment link"],
)
async def test_the_question_alone_in_a_form_or_at_a_payment_is_about_chasqui(
    world: World, kwargs: dict[str, Any], last_bot: str
) -> None:
    dispatcher = CollectingDispatcher()
    events = await ActionVerificarMensaje().run(
        dispatcher, tracker(bot(last_bot), user("es oficial?", "verificar_mensaje"), **kwargs), {}
    )
    assert dispatcher.messages == []
    assert events[-1]["parse_data"]["intent"]["name"] == "preguntar_seguridad"  # the safety answer, then the form


async def test_the_vault_down_still_checks_the_rest(world: World) -> None:
    async def down(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("gateway down", request=request)

    vault = VaultClient(httpx.AsyncClient(transport=httpx.MockTransport(down), base_url="http://gateway"), token="t")
    use_services(dataclasses.replace(world.services, vault=vault))
    _, message = await _check("el tel_0123456789 dice que gane un premio en sri-pagos.com")
    assert message["plantilla"] == "verificar_mensaje_peligro"
    assert "• sri-pagos.com: NO es oficial. Se hace pasar por el Servicio de Rentas Internas (SRI)" in message["text"]
    assert "• Ofrece un premio, un sorteo o un bono que usted no pidió." in message["text"]
    assert "número" not in message["text"].split("\n\n")[0]


async def test_in_a_form_the_answer_has_no_buttons(world: World) -> None:
    _, message = await _check("gob-ec.com es real?", active_loop="licencia_form")
    assert (message["plantilla"], message["buttons"]) == ("verificar_mensaje_peligro", [])
