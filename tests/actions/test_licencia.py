"""Licencia de conducir: the licence and its digital copy, renewal when due, expired, none, the ANT down."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.actions.identity import ActionIdentidadVerificada
from bot.tramites.licencia import service as tramite
from bot.tramites.licencia.actions import ActionConsultarLicencia
from tests.actions.builders import tracker
from tests.actions.conftest import World, sandbox_fallas

HOY = date(2026, 11, 27)  # the sandbox's day in the `world` fixture


@pytest.fixture(autouse=True)
def sandbox_day(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tramite, "hoy", lambda s: HOY)


def said(dispatcher: CollectingDispatcher) -> list[Any]:
    return [m.get("plantilla") or m.get("custom") for m in dispatcher.messages]


async def consult(world: World, sender: str, cedula: str, dactilar: str) -> tuple[list[Any], CollectingDispatcher]:
    await world.services.identidad.verify(sender, cedula, dactilar)
    dispatcher = CollectingDispatcher()
    events = await ActionConsultarLicencia().run(dispatcher, tracker(sender_id=sender), {})
    return events, dispatcher


async def test_without_identity_the_identity_step_comes_first(world: World) -> None:
    dispatcher = CollectingDispatcher()
    events = await ActionConsultarLicencia().run(dispatcher, tracker(sender_id="web:nueva"), {})
    assert events == [
        SlotSet("tramite_actual", "licencia"),
        SlotSet("identidad", "requerida"),
        SlotSet("tramite_pendiente", "licencia"),
    ]
    assert said(dispatcher) == ["identidad_necesaria"]
    assert dispatcher.messages[0]["text"].startswith("Para consultar su licencia de conducir primero necesito")


async def test_a_valid_licence_with_its_signed_digital_copy(world: World) -> None:
    events, dispatcher = await consult(world, "web:maria", "1712345675", "V4443V4442")
    assert events == [SlotSet("tramite_actual", "licencia"), SlotSet("identidad", "vigente")]
    [datos, renovar, documento, pdf, png] = dispatcher.messages
    assert datos["plantilla"] == "licencia_datos"
    assert (
        renovar["text"]
        == "Todavía no puede renovarla: se renueva desde 90 días antes de que venza, es decir, desde el 02/09/2029."
    )
    assert datos["text"] == (
        "Su licencia de conducir:\n• Tipo: B (no profesional)\n• Vigente hasta: 01/12/2029\n• Puntos: 30 de 30"
    )
    assert [b["payload"] for b in datos["buttons"]] == ["/consultar_puntos_licencia", "/consultar_multas"]
    assert documento["plantilla"] == "licencia_documento"
    assert (pdf["custom"]["document"]["kind"], png["custom"]["document"]["kind"]) == ("pdf", "png")
    [summary] = await world.services.documents.issuer.of_holder("1712345675")
    assert (summary.kind, summary.expires_at.astimezone(UTC)) == (
        "licencia_conducir",
        datetime(2029, 12, 2, 4, 59, 59, tzinfo=UTC),  # the copy expires with the licence: 01/12/2029 in Quito
    )
    assert await world.services.solicitudes.de_ciudadano("1712345675") == []  # a look-up: no application


async def test_a_licence_that_expires_within_90_days_can_be_renewed(world: World) -> None:
    _, dispatcher = await consult(world, "web:diego", "1811111119", "I3344E1122")
    assert said(dispatcher)[:3] == ["licencia_datos", "licencia_renovar", "licencia_documento"]
    assert "• Tipo: C (profesional)" in dispatcher.messages[0]["text"]
    assert dispatcher.messages[1]["text"].startswith(
        "Su licencia vence pronto, el 11/01/2027, y ya puede renovarla: se renueva desde 90 días antes de que venza. "
        "Cuesta USD 110.00 (licencia profesional)."
    )


async def test_an_expired_licence_is_said_clearly_and_gets_no_digital_copy(world: World) -> None:
    _, dispatcher = await consult(world, "web:nancy", "0611111113", "V2424I1313")
    assert said(dispatcher) == ["licencia_caducada"]
    assert dispatcher.messages[0]["text"].startswith(
        "Su licencia de conducir tipo B venció el 30/07/2026. No puede conducir con ella"
    )
    assert "Cuesta USD 68.00 (licencia no profesional)." in dispatcher.messages[0]["text"]
    assert await world.services.documents.issuer.of_holder("0611111113") == []


async def test_no_licence_is_told_so(world: World) -> None:
    _, dispatcher = await consult(world, "web:martha", "1311111114", "V1111A2222")
    assert said(dispatcher) == ["licencia_no_tiene"]


async def test_the_ant_down_gets_an_apology_and_a_retry_button(world: World) -> None:
    await world.services.identidad.verify("web:maria", "1712345675", "V4443V4442")
    await sandbox_fallas(world, institucion="ant", caida=True)
    dispatcher = CollectingDispatcher()
    await ActionConsultarLicencia().run(dispatcher, tracker(sender_id="web:maria"), {})
    assert said(dispatcher) == ["licencia_ant_no_disponible"]
    assert [b["payload"] for b in dispatcher.messages[0]["buttons"]] == ["/consultar_licencia", "/hablar_con_agente"]


async def test_it_resumes_by_itself_after_the_identity_step(world: World) -> None:
    await world.services.identidad.verify("web:maria", "1712345675", "V4443V4442")
    dispatcher = CollectingDispatcher()
    t = tracker(
        slots={"identidad_resultado": "verificado", "tramite_pendiente": "licencia"},
        sender_id="web:maria",
    )
    events = await ActionIdentidadVerificada().run(dispatcher, t, {})
    assert events[-1] == SlotSet("reanudar", "ninguno")
    assert said(dispatcher)[:3] == ["licencia_datos", "licencia_renovar_desde", "licencia_documento"]


def test_fees_and_the_renewal_window() -> None:
    assert (tramite.costo_renovacion("B"), tramite.costo_renovacion("e1")) == (
        tramite.COSTO_NO_PROFESIONAL,
        tramite.COSTO_PROFESIONAL,
    )
    assert tramite.puntos_texto(tramite.PUNTOS_INICIALES) == "30"
