"""`ayuda` is written from the declarations: every service with its institution and fee, grouped for WhatsApp."""

from __future__ import annotations

from typing import Any

from rasa_sdk.executor import CollectingDispatcher

from bot.actions.help import ActionAyuda
from bot.tramites.declaration import Grupo
from bot.tramites.registry import TRAMITES, in_group
from tests.actions.builders import tracker, user


def group_tap(grupo: str) -> dict[str, Any]:
    event = user(f'/ayuda{{"grupo": "{grupo}"}}', "ayuda", 1.0)
    event["parse_data"]["entities"] = [{"entity": "grupo", "value": grupo}]
    return event


async def test_the_overview_lists_every_service_with_three_group_buttons() -> None:
    dispatcher = CollectingDispatcher()
    assert await ActionAyuda().run(dispatcher, tracker(), {}) == []
    [menu] = dispatcher.messages
    assert menu["plantilla"] == "ayuda_menu"
    assert "• Certificado de nacimiento (Registro Civil), USD 5.00" in menu["text"]
    assert "• Certificado de antecedentes penales (Ministerio del Interior), gratis" in menu["text"]
    assert all(t.nombre in menu["text"] for t in TRAMITES)
    assert [b["payload"] for b in menu["buttons"]] == [
        '/ayuda{"grupo": "certificados"}',
        '/ayuda{"grupo": "vehiculos"}',
        '/ayuda{"grupo": "datos"}',
    ]


async def test_a_group_is_a_list_of_at_most_ten_rows() -> None:
    for grupo in Grupo:
        dispatcher = CollectingDispatcher()
        await ActionAyuda().run(dispatcher, tracker(group_tap(grupo.value)), {})
        [menu] = dispatcher.messages
        payloads = [b["payload"] for b in menu["buttons"]]
        expected = [f"/{t.intent}" for t in in_group(grupo)]
        assert payloads[: len(expected)] == expected
        assert len(payloads) <= 10
    assert "/verificar_documento" in payloads  # the last group, «Mis datos y documentos»
