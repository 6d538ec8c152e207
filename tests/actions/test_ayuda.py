"""`ayuda` is written from the catalogue: every service with its institution and fee, one button each."""

from __future__ import annotations

from rasa_sdk.executor import CollectingDispatcher

from bot.actions.ayuda import ActionAyuda
from bot.tramites.registry import TRAMITES
from tests.actions.builders import tracker
from tests.actions.conftest import World


async def test_the_menu_comes_from_the_catalogue(world: World) -> None:
    dispatcher = CollectingDispatcher()
    assert await ActionAyuda().run(dispatcher, tracker(), {}) == []
    [menu] = dispatcher.messages
    assert menu["plantilla"] == "ayuda_menu"
    assert "• Certificado de nacimiento (Registro Civil), USD 5.00" in menu["text"]
    assert "• Certificado de antecedentes penales (Ministerio del Interior), gratis" in menu["text"]
    assert [b["payload"] for b in menu["buttons"]] == [f"/{s.intent}" for s in TRAMITES] + ["/verificar_documento"]
