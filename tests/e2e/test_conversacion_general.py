"""Whole conversations in Spanish through the web channel, against Rasa with the trained model."""

from __future__ import annotations

import asyncio

import pytest

from bot.storage import conversations as repo
from bot.storage.db import create_engine, session_factory
from tests.e2e.conftest import Chasqui

pytestmark = pytest.mark.conversation


def test_hola_gets_the_greeting_and_the_menu_of_services(chasqui: Chasqui) -> None:
    [greeting] = chasqui.citizen().says("hola")
    assert greeting["text"].startswith("¡Hola! Soy Chasqui, el asistente virtual del Gobierno del Ecuador.")
    assert [b["payload"] for b in greeting["buttons"]] == [  # WhatsApp-sized: three buttons, the groups
        '/ayuda{"grupo": "certificados"}',
        '/ayuda{"grupo": "vehiculos"}',
        "/ayuda",
    ]


@pytest.mark.parametrize("greeting", ["buenas tardes", "Buenos días, señorita", "hla q tal"])
def test_everyday_greetings_are_understood(chasqui: Chasqui, greeting: str) -> None:
    [reply] = chasqui.citizen().says(greeting)
    assert reply["text"].startswith("¡Hola! Soy Chasqui")


def test_a_button_tap_needs_no_nlu(chasqui: Chasqui) -> None:
    [menu] = chasqui.citizen().says("/ayuda")
    assert menu["text"].startswith("Puedo ayudarle con estos servicios:")
    assert len(menu["buttons"]) == 3
    [group] = chasqui.citizen().says('/ayuda{"grupo": "vehiculos"}')
    assert [b["payload"] for b in group["buttons"]] == [
        "/consultar_licencia",
        "/consultar_puntos_licencia",
        "/consultar_multas",
        "/consultar_matricula",
    ]


def test_out_of_scope_is_polite_and_says_what_it_can_do(chasqui: Chasqui) -> None:
    [reply] = chasqui.citizen().says("quién ganó el partido de la selección ayer")
    assert reply["text"].startswith("Disculpe, con eso no puedo ayudarle. Solo atiendo trámites y consultas del Estado")
    assert {b["payload"] for b in reply["buttons"]} == {"/ayuda", "/hablar_con_agente"}


def test_the_bot_is_honest_about_being_a_program(chasqui: Chasqui) -> None:
    assert chasqui.citizen().texts("eres un robot?") == [
        "Soy Chasqui, un asistente virtual: un programa de computadora, no una persona. Trabajo para el Gobierno "
        "del Ecuador y le ayudo con trámites públicos. Si prefiere hablar con una persona, escriba «asesor»."
    ]


def test_two_unclear_messages_in_a_row_offer_a_person_and_record_the_request(chasqui: Chasqui) -> None:
    citizen = chasqui.citizen()
    first = citizen.texts("/nlu_fallback")
    second = citizen.texts("/nlu_fallback")
    assert first == [
        "Disculpe, no le entendí. ¿Me lo puede decir con otras palabras? También puede elegir un servicio."
    ]
    assert second == [
        "Disculpe, sigo sin entenderle. He pedido que una persona de nuestro equipo de atención revise su conversación."
    ]

    async def _requests() -> list[tuple[str, str]]:
        engine = create_engine(chasqui.settings.effective_database_url)
        async with session_factory(engine)() as session:
            found = await repo.handoff_requests(session=session, conversation_id=citizen.sender)
        await engine.dispose()
        return [(r.reason, r.team) for r in found]

    assert asyncio.run(_requests()) == [("no_entendido", "general")]


def test_asking_for_a_person(chasqui: Chasqui) -> None:
    assert chasqui.citizen().texts("quiero hablar con un asesor por favor") == [
        "Entendido. He pedido que una persona de nuestro equipo de atención le atienda por este mismo chat."
    ]


def test_cancel_without_a_trámite(chasqui: Chasqui) -> None:
    assert chasqui.citizen().texts("cancelar") == ["No tiene ningún trámite en curso. ¿En qué le puedo ayudar?"]


def test_thanks_and_goodbye(chasqui: Chasqui) -> None:
    citizen = chasqui.citizen()
    assert citizen.texts("muchas gracias") == ["Con gusto. ¿Le ayudo con algo más?"]
    assert citizen.texts("chao, hasta luego") == [
        "Que tenga un buen día. Cuando necesite un trámite, escríbame por aquí."
    ]


def test_a_service_that_needs_identity_asks_for_it_first(chasqui: Chasqui) -> None:
    replies = chasqui.citizen().texts("quiero ver mi licencia de conducir")
    assert replies[0].startswith(
        "Para consultar su licencia de conducir primero necesito comprobar su identidad con el Registro Civil."
    )
    assert replies[-1].startswith("Escriba su número de cédula")
