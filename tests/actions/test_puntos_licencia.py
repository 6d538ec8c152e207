"""Puntos de la licencia: the points left and the citations that took them; no licence; the ANT down."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.tramites.puntos_licencia.actions import ActionConsultarPuntosLicencia
from bot.tramites.puntos_licencia.service import descuentos
from integrations.registros.records import Citacion, EstadoCitacion
from tests.actions.builders import tracker
from tests.actions.conftest import World, sandbox_fallas


def said(dispatcher: CollectingDispatcher) -> list[Any]:
    return [m.get("plantilla") or m.get("custom") for m in dispatcher.messages]


async def consult(world: World, sender: str, cedula: str, dactilar: str) -> tuple[list[Any], CollectingDispatcher]:
    await world.services.identidad.verify(sender, cedula, dactilar)
    dispatcher = CollectingDispatcher()
    events = await ActionConsultarPuntosLicencia().run(dispatcher, tracker(sender_id=sender), {})
    return events, dispatcher


async def test_without_identity_the_identity_step_comes_first(world: World) -> None:
    events = await ActionConsultarPuntosLicencia().run(CollectingDispatcher(), tracker(sender_id="web:nueva"), {})
    assert events == [
        SlotSet("tramite_actual", "puntos_licencia"),
        SlotSet("identidad", "requerida"),
        SlotSet("tramite_pendiente", "puntos_licencia"),
    ]


async def test_the_points_left_and_the_citation_that_took_them(world: World) -> None:
    events, dispatcher = await consult(world, "web:carlos", "0923456784", "E1333I1222")
    assert events == [SlotSet("tramite_actual", "puntos_licencia"), SlotSet("identidad", "vigente")]
    assert said(dispatcher) == ["puntos_saldo", "puntos_descuentos"]
    assert dispatcher.messages[0]["text"] == "Su licencia tiene 21 de 30 puntos."
    assert dispatcher.messages[1]["text"] == (
        "Le restaron 9 puntos por estas citaciones:\n"
        "• 18/10/2026: Conducir con licencia caducada (COIP Art. 387): 9 puntos"
    )
    assert [b["payload"] for b in dispatcher.messages[1]["buttons"]] == ["/consultar_multas"]


async def test_all_points_and_no_deductions(world: World) -> None:
    _, dispatcher = await consult(world, "web:maria", "1712345675", "V4443V4442")
    assert said(dispatcher) == ["puntos_saldo", "puntos_sin_descuentos"]
    assert dispatcher.messages[0]["text"] == "Su licencia tiene 30 de 30 puntos."


async def test_no_licence_no_points(world: World) -> None:
    _, dispatcher = await consult(world, "web:martha", "1311111114", "V1111A2222")
    assert said(dispatcher) == ["puntos_sin_licencia"]


async def test_the_ant_down(world: World) -> None:
    await world.services.identidad.verify("web:carlos", "0923456784", "E1333I1222")
    await sandbox_fallas(world, institucion="ant", caida=True)
    dispatcher = CollectingDispatcher()
    await ActionConsultarPuntosLicencia().run(dispatcher, tracker(sender_id="web:carlos"), {})
    assert said(dispatcher) == ["puntos_ant_no_disponible"]


def _citacion(numero: str, dia: int, puntos: str) -> Citacion:
    return Citacion(
        numero, date(2026, 1, dia), "COIP Art. 387", 2, "X", Decimal("10.00"), Decimal(puntos), EstadoCitacion.PAGADA
    )


def test_only_citations_that_took_points_count_newest_first() -> None:
    found = descuentos([_citacion("A", 3, "9"), _citacion("B", 5, "0"), _citacion("C", 9, "7.5")])
    assert [c.numero for c in found] == ["C", "A"]
