"""Matrícula: the vehicle (asked only with several), its registration by status, the document when up to date,
plates that are not the citizen's, the ANT down."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.tramites.matricula.actions import (
    FIN,
    ActionAskMatriculaPlaca,
    ActionConsultarMatricula,
    ActionIniciarMatricula,
    ValidateMatriculaForm,
)
from bot.tramites.matricula.service import mes_por_placa, placa_en
from tests.actions.builders import tracker, user
from tests.actions.conftest import World, sandbox_fallas

CARLOS, DACTILAR_CARLOS = "0923456784", "E1333I1222"  # GBC-2468, registration expired


def said(dispatcher: CollectingDispatcher) -> list[Any]:
    return [m.get("plantilla") or m.get("custom") for m in dispatcher.messages]


def with_plate(text: str, placa: str) -> dict[str, Any]:
    event = user(text, "consultar_matricula")
    event["parse_data"]["entities"] = [{"entity": "placa", "value": placa}]
    return event


@pytest.mark.parametrize(
    ("texto", "placa"),
    [
        ("la pbx4821", "PBX-4821"),
        ("es la GBC-2468 por favor", "GBC-2468"),
        ("placa ABC-123", "ABC-123"),
        ("mi moto is123h", "IS123H"),
        ("DAB-1234", None),  # D is no province's letter
        ("ced_3f9a0c21b7", None),
        ("la camioneta", None),
    ],
)
def test_plates_are_read_from_what_the_citizen_writes(texto: str, placa: str | None) -> None:
    assert placa_en(texto) == placa


def test_the_month_follows_the_last_digit() -> None:
    assert [mes_por_placa(p) for p in ("PDA-4521", "GBC-2468", "TAB-3579", "PBX-4820", "IS123H")] == [2, 9, 10, 11, 4]


async def test_a_plate_in_the_request_fills_the_form_and_identity_comes_first(world: World) -> None:
    t = tracker(with_plate("matrícula de la GBC-2468", "GBC-2468"), sender_id="web:nueva")
    events = await ActionIniciarMatricula().run(CollectingDispatcher(), t, {})
    assert events == [
        SlotSet("tramite_actual", "matricula"),
        SlotSet("identidad", "requerida"),
        SlotSet("tramite_pendiente", "matricula"),
        SlotSet("matricula_placa", "GBC-2468"),
    ]


async def test_with_one_vehicle_nothing_is_asked(world: World) -> None:
    await world.services.identidad.verify("web:carlos", CARLOS, DACTILAR_CARLOS)
    form = ValidateMatriculaForm()
    t = tracker(sender_id="web:carlos")
    assert await form.extract_matricula_placa(CollectingDispatcher(), t, {}) == {"matricula_placa": "GBC-2468"}
    validated = await form.validate_matricula_placa("GBC-2468", CollectingDispatcher(), t, {})
    assert validated == {"matricula_placa": "GBC-2468"}
    asked = tracker(slots={"requested_slot": "matricula_placa"}, sender_id="web:carlos")
    assert await form.extract_matricula_placa(CollectingDispatcher(), asked, {}) == {}


async def test_without_vehicles_the_form_stops_and_says_why(world: World) -> None:
    await world.services.identidad.verify("web:martha", "1311111114", "V1111A2222")
    form = ValidateMatriculaForm()
    dispatcher = CollectingDispatcher()
    t = tracker(sender_id="web:martha")
    assert await form.extract_matricula_placa(dispatcher, t, {}) == {"matricula_placa": FIN}
    assert said(dispatcher) == ["matricula_sin_vehiculos"]
    assert await form.validate_matricula_placa(FIN, CollectingDispatcher(), t, {}) == {
        "matricula_placa": None,
        "requested_slot": None,
    }
    assert await ActionConsultarMatricula().run(CollectingDispatcher(), t, {}) == [SlotSet("matricula_placa", None)]


async def test_a_relatives_vehicle_gets_the_rule_and_what_to_do(world: World) -> None:
    await world.services.identidad.verify("web:martha", "1311111114", "V1111A2222")
    message = user("es que la moto esta a nombre de mi papa", "consultar_matricula")
    message["parse_data"]["entities"] = [{"entity": "parentesco", "value": "padre"}]
    dispatcher = CollectingDispatcher()
    t = tracker(message, sender_id="web:martha")
    assert await ValidateMatriculaForm().extract_matricula_placa(dispatcher, t, {}) == {"matricula_placa": FIN}
    assert said(dispatcher) == ["matricula_de_un_familiar"]
    assert "Por privacidad" in dispatcher.messages[0]["text"]


async def test_a_plate_that_is_not_theirs_or_not_a_plate_is_asked_again(world: World) -> None:
    await world.services.identidad.verify("web:carlos", CARLOS, DACTILAR_CARLOS)
    form = ValidateMatriculaForm()
    t = tracker(sender_id="web:carlos")
    dispatcher = CollectingDispatcher()
    assert await form.validate_matricula_placa("PDA-4521", dispatcher, t, {}) == {"matricula_placa": None}
    assert said(dispatcher) == ["matricula_placa_ajena"]
    assert dispatcher.messages[0]["text"].startswith("La placa PDA-4521 no está registrada a su nombre.")
    dispatcher = CollectingDispatcher()
    assert await form.validate_matricula_placa("la roja", dispatcher, t, {}) == {"matricula_placa": None}
    assert said(dispatcher) == ["matricula_placa_no_valida"]


async def test_the_question_offers_the_citizens_vehicles(world: World) -> None:
    await world.services.identidad.verify("web:carlos", CARLOS, DACTILAR_CARLOS)
    dispatcher = CollectingDispatcher()
    await ActionAskMatriculaPlaca().run(dispatcher, tracker(sender_id="web:carlos"), {})
    assert said(dispatcher) == ["matricula_pedir_placa"]
    assert dispatcher.messages[0]["buttons"] == [
        {"title": "GBC-2468 · Chevrolet D-Max", "payload": "GBC-2468"},
        {"title": "Cancelar", "payload": "/cancelar"},
    ]


async def consult(world: World, sender: str, cedula: str, dactilar: str, placa: str) -> CollectingDispatcher:
    await world.services.identidad.verify(sender, cedula, dactilar)
    dispatcher = CollectingDispatcher()
    t = tracker(slots={"matricula_placa": placa}, sender_id=sender)
    assert await ActionConsultarMatricula().run(dispatcher, t, {}) == [SlotSet("matricula_placa", None)]
    return dispatcher


async def test_an_expired_registration_with_the_amounts_and_the_late_fee(world: World) -> None:
    dispatcher = await consult(world, "web:carlos", CARLOS, DACTILAR_CARLOS, "GBC-2468")
    assert said(dispatcher) == ["matricula_vencida"]
    assert dispatcher.messages[0]["text"] == (
        "La matrícula de su vehículo GBC-2468 (Chevrolet D-Max 2014, camioneta, color blanco) está vencida: "
        "la última fue en 2024. Su placa termina en 8, por eso le tocaba en septiembre de 2025, hasta el 30/09/2025.\n"
        "Lleva 14 meses de atraso. El recargo es de USD 25.00 por cada mes (así lo cobra la AMT de Quito): "
        "USD 350.00 hasta hoy.\n"
        "Valores a pagar, con el recargo por atraso:\n"
        "• Impuesto a la propiedad de vehículos motorizados: USD 326.40\n"
        "• Tasa de matriculación: USD 31.00\n"
        "• SPPAT: USD 12.50\n"
        "• Tasa junta de beneficencia de guayaquil: USD 8.00\n"
        "• Impuesto al rodaje: USD 5.00\n"
        "• Recargo por matriculación tardía: USD 350.00\n"
        "• Total: USD 732.90\n"
        "Páguelos en el SRI (en línea o en el banco, con su placa) y luego haga la revisión técnica vehicular (RTV). "
        "Hágalo pronto: el recargo sube cada mes."
    )
    assert await world.services.documents.issuer.of_holder(CARLOS) == []  # no matrícula document while owed
    assert await world.services.solicitudes.de_ciudadano(CARLOS) == []  # a look-up: no application


@pytest.mark.parametrize("today", [date(2026, 9, 15)])  # before the plate's month ends (October)
async def test_a_registration_due_this_year(world: World, today: date) -> None:
    dispatcher = await consult(world, "web:diego", "1811111119", "I3344E1122", "TAB-3579")
    assert said(dispatcher) == ["matricula_pendiente"]
    assert "Su placa termina en 9: le toca en octubre, hasta el 31/10/2026." in dispatcher.messages[0]["text"]
    assert "• Total: USD 162.10" in dispatcher.messages[0]["text"]


async def test_an_up_to_date_registration_comes_with_the_signed_matricula(world: World) -> None:
    dispatcher = await consult(world, "web:maria", "1712345675", "V4443V4442", "PDA-4521")
    assert said(dispatcher)[:2] == ["matricula_al_dia", "matricula_documento"]
    assert dispatcher.messages[0]["text"] == (
        "Su vehículo PDA-4521 (Kia Rio 2019, automóvil, color rojo) tiene la matrícula al día: la renovó en 2026.\n"
        "Su placa termina en 1, así que la próxima matrícula le toca en febrero de 2027."
    )
    assert [m["custom"]["document"]["kind"] for m in dispatcher.messages[2:]] == ["pdf", "png"]
    [summary] = await world.services.documents.issuer.of_holder("1712345675")
    assert summary.kind == "matricula_vehicular"
    assert summary.expires_at.astimezone(UTC) == datetime(2027, 3, 1, 4, 59, 59, tzinfo=UTC)  # end of February, Quito


async def test_the_ant_down(world: World) -> None:
    await world.services.identidad.verify("web:carlos", CARLOS, DACTILAR_CARLOS)
    await sandbox_fallas(world, institucion="ant", caida=True)
    dispatcher = CollectingDispatcher()
    t = tracker(slots={"matricula_placa": "GBC-2468"}, sender_id="web:carlos")
    await ActionConsultarMatricula().run(dispatcher, t, {})
    assert said(dispatcher) == ["matricula_ant_no_disponible"]
    dispatcher = CollectingDispatcher()
    assert await ValidateMatriculaForm().extract_matricula_placa(dispatcher, tracker(sender_id="web:carlos"), {}) == {
        "matricula_placa": FIN
    }
    assert said(dispatcher) == ["matricula_ant_no_disponible"]


async def test_an_empty_plate_is_not_an_answer_to_complain_about(world: World) -> None:
    dispatcher = CollectingDispatcher()
    assert await ValidateMatriculaForm().validate_matricula_placa(None, dispatcher, tracker(), {}) == {
        "matricula_placa": None
    }
    assert dispatcher.messages == []
