"""The matrícula and licence answers in December: the calendar decides, from the clock the actions are given and
the ANT's record (the sandbox registries live on the same day)."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.tramites.licencia.actions import ActionConsultarLicencia
from bot.tramites.matricula.actions import ActionConsultarMatricula
from tests.actions.builders import tracker
from tests.actions.conftest import World


@pytest.fixture
def today() -> date:
    return date(2026, 12, 5)


def said(dispatcher: CollectingDispatcher) -> list[Any]:
    return [m.get("plantilla") or m.get("custom") for m in dispatcher.messages]


async def matricula(world: World, sender: str, cedula: str, dactilar: str, placa: str) -> CollectingDispatcher:
    await world.services.identidad.verify(sender, cedula, dactilar)
    dispatcher = CollectingDispatcher()
    t = tracker(slots={"matricula_placa": placa}, sender_id=sender)
    assert await ActionConsultarMatricula().run(dispatcher, t, {}) == [SlotSet("matricula_placa", None)]
    return dispatcher


async def test_in_december_last_years_car_due_in_october_is_overdue_with_its_surcharge(world: World) -> None:
    dispatcher = await matricula(world, "web:diego", "1811111119", "I3344E1122", "TAB-3579")
    assert said(dispatcher) == ["matricula_vencida"]
    text = dispatcher.messages[0]["text"]
    assert "le toca en octubre" not in text
    assert "está vencida: la última fue en 2025. Su placa termina en 9, por eso le tocaba en octubre de 2026" in text
    assert "hasta el 31/10/2026.\nLleva 2 meses de atraso." in text
    assert "El recargo es de USD 25.00 por cada mes (así lo cobra la AMT de Quito): USD 50.00 hasta hoy." in text
    # The amounts the registry lists carry the same surcharge the calendar states.
    assert ": USD 50.00\n• Total: USD " in text


async def test_in_december_a_car_two_years_behind_owes_fifteen_months(world: World) -> None:
    dispatcher = await matricula(world, "web:carlos", "0923456784", "E1333I1222", "GBC-2468")
    assert said(dispatcher) == ["matricula_vencida"]
    text = dispatcher.messages[0]["text"]
    assert "por eso le tocaba en septiembre de 2025, hasta el 30/09/2025.\nLleva 15 meses de atraso." in text
    assert "USD 375.00 hasta hoy." in text


async def test_in_december_a_car_registered_this_year_is_up_to_date_until_its_month(world: World) -> None:
    dispatcher = await matricula(world, "web:maria", "1712345675", "V4443V4442", "PDA-4521")
    assert said(dispatcher)[0] == "matricula_al_dia"
    assert "la próxima matrícula le toca en febrero de 2027." in dispatcher.messages[0]["text"]


async def licencia(world: World, sender: str, cedula: str, dactilar: str) -> CollectingDispatcher:
    await world.services.identidad.verify(sender, cedula, dactilar)
    dispatcher = CollectingDispatcher()
    await ActionConsultarLicencia().run(dispatcher, tracker(sender_id=sender), {})
    return dispatcher


async def test_an_expired_licence_states_the_fine_and_the_points(world: World) -> None:
    dispatcher = await licencia(world, "web:nancy", "0611111113", "V2424I1313")
    assert said(dispatcher) == ["licencia_caducada"]
    assert dispatcher.messages[0]["text"].startswith(
        "Su licencia de conducir tipo B venció el 07/08/2026. No puede conducir con ella: conducir con la licencia "
        "caducada se multa con el 50 % de un salario básico (USD 241.00 en 2026) y le resta 9 puntos.\n"
        "Puede renovarla cuando quiera:"
    )


async def test_renewal_is_open_within_90_days_and_dated_before(world: World) -> None:
    diego = await licencia(world, "web:diego", "1811111119", "I3344E1122")  # expires in 45 days
    assert said(diego)[:2] == ["licencia_datos", "licencia_renovar"]
    maria = await licencia(world, "web:maria", "1712345675", "V4443V4442")  # expires in 1100 days
    assert said(maria)[:2] == ["licencia_datos", "licencia_renovar_desde"]
    assert maria.messages[1]["text"] == (
        "Todavía no puede renovarla: se renueva desde 90 días antes de que venza, es decir, desde el 10/09/2029."
    )
