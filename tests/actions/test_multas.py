"""Multas: by cédula or by a plate the citizen owns, the list, which to pay, a summary, corrections, the payment
and what the worker records once it is confirmed; the ANT down."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.services import Servicios
from bot.storage import tramites as repo
from bot.storage.models import utcnow
from bot.storage.models_tramites import EstadoSolicitud
from bot.tramites.multas import service as tramite
from bot.tramites.multas.actions import (
    FIN,
    NINGUNA,
    ActionAskMultasConfirmar,
    ActionAskMultasCriterio,
    ActionAskMultasSeleccion,
    ActionIniciarMultas,
    ActionPagarMultas,
    ValidateMultasForm,
)
from bot.tramites.worker import retry_due
from tests.actions.builders import tracker, user
from tests.actions.conftest import World, sandbox_fallas

CARLOS, DACTILAR = "0923456784", "E1333I1222"  # three citations owed (one took 9 points), one paid; GBC-2468
C1, C2, C3, C4 = (f"C2026000000{n}" for n in range(1, 5))  # the sandbox's numbers, newest first
SLOTS = ("multas_criterio", "multas_pendientes", "multas_seleccion", "multas_confirmar")
RESET = [SlotSet(slot, None) for slot in SLOTS]
DOMAIN: dict[str, Any] = {"forms": {"multas_form": {"required_slots": ["multas_criterio", *SLOTS[2:]]}}}


def said(dispatcher: CollectingDispatcher) -> list[Any]:
    return [m.get("plantilla") or m.get("custom") for m in dispatcher.messages]


def slot(name: str, value: Any) -> dict[str, Any]:
    return {"event": "slot", "name": name, "value": value}


@pytest.fixture
async def carlos(world: World) -> Servicios:
    await world.services.identidad.verify("web:carlos", CARLOS, DACTILAR)
    return world.services


async def listed(criterio: str = "mi cédula") -> tuple[dict[str, Any], CollectingDispatcher]:
    dispatcher = CollectingDispatcher()
    found = await ValidateMultasForm().validate_multas_criterio(
        criterio, dispatcher, tracker(sender_id="web:carlos"), {}
    )
    return found, dispatcher


@pytest.mark.parametrize(
    ("texto", "elegidas"),
    [
        ("todas", (C1, C2, C3)),
        ("1 y 3", (C1, C3)),
        ("solo la segunda", (C2,)),
        ("todas menos la 2", (C1, C3)),
        (C3.lower(), (C3,)),
        ("ninguna por ahora", ()),
        ("después", ()),
        ("la 7", None),
        ("la roja", None),
    ],
)
def test_which_fines_the_citizen_chose(texto: str, elegidas: tuple[str, ...] | None) -> None:
    pendientes = [{"numero": n} for n in (C1, C2, C3)]
    assert tramite.leer_seleccion(texto, pendientes) == elegidas


def test_with_one_fine_a_yes_means_pay_it() -> None:
    assert tramite.leer_seleccion("sí, pagar", [{"numero": C1}]) == (C1,)
    assert tramite.leer_seleccion("no", [{"numero": C1}]) == ()


async def test_a_plate_in_the_request_fills_the_form_after_the_identity_step(world: World) -> None:
    event = user("multas del carro GBC-2468", "consultar_multas")
    event["parse_data"]["entities"] = [{"entity": "placa", "value": "GBC-2468"}]
    events = await ActionIniciarMultas().run(CollectingDispatcher(), tracker(event, sender_id="web:nueva"), {})
    assert events == [
        SlotSet("tramite_actual", "multas"),
        SlotSet("identidad", "requerida"),
        SlotSet("tramite_pendiente", "multas"),
        SlotSet("multas_criterio", "GBC-2468"),
        *RESET[1:],
    ]


async def test_without_vehicles_the_search_is_by_cedula_without_asking(world: World) -> None:
    await world.services.identidad.verify("web:martha", "1311111114", "V1111A2222")
    form = ValidateMultasForm()
    assert await form.extract_multas_criterio(CollectingDispatcher(), tracker(sender_id="web:martha"), {}) == {
        "multas_criterio": "cedula"
    }
    dispatcher = CollectingDispatcher()
    found = await form.validate_multas_criterio("cedula", dispatcher, tracker(sender_id="web:martha"), {})
    assert found["requested_slot"] is None  # nothing owed: nothing more to ask
    assert said(dispatcher) == ["multas_sin_registro"]
    assert dispatcher.messages[0]["text"] == "Buenas noticias: no hay multas de tránsito a su nombre en la ANT."


async def test_with_vehicles_the_citizen_chooses(carlos: Servicios) -> None:
    form = ValidateMultasForm()
    assert await form.extract_multas_criterio(CollectingDispatcher(), tracker(sender_id="web:carlos"), {}) == {}
    dispatcher = CollectingDispatcher()
    await ActionAskMultasCriterio().run(dispatcher, tracker(sender_id="web:carlos"), {})
    assert said(dispatcher) == ["multas_pedir_criterio"]
    assert dispatcher.messages[0]["buttons"] == [
        {"title": "Las de mi cédula", "payload": "mi cédula"},
        {"title": "GBC-2468 · Chevrolet D-Max", "payload": "GBC-2468"},
    ]


async def test_the_list_of_the_cedula_with_amounts_and_points(carlos: Servicios) -> None:
    found, dispatcher = await listed("mi cédula")
    assert said(dispatcher) == ["multas_lista"]
    assert dispatcher.messages[0]["text"] == (
        "Tiene 3 multas pendientes a su nombre, por USD 409.70 en total:\n"
        "1) 18/10/2026 · Conducir con licencia caducada · USD 241.00 · le restó 9 puntos\n"
        "2) 13/09/2026 · Conducir sin placas · USD 144.60\n"
        "3) 30/07/2026 · Usar innecesariamente la bocina · USD 24.10\n"
        "Multas ya pagadas en la ANT: 1."
    )
    assert found["multas_criterio"] == "cedula"
    assert [p["numero"] for p in found["multas_pendientes"]] == [C1, C2, C3]
    assert (found["multas_seleccion"], found["multas_confirmar"]) == (None, None)
    assert "requested_slot" not in found


async def test_by_a_plate_of_theirs_and_not_by_someone_elses(carlos: Servicios) -> None:
    found, dispatcher = await listed("la gbc2468")
    assert found["multas_criterio"] == "GBC-2468"
    assert dispatcher.messages[0]["text"].startswith("Tiene 3 multas pendientes del vehículo GBC-2468")
    by_word, _ = await listed("las de la camioneta")
    assert by_word["multas_criterio"] == "GBC-2468"
    refused, dispatcher = await listed("PDA-4521")
    assert refused == {"multas_criterio": None}
    assert said(dispatcher) == ["multas_placa_ajena"]
    assert dispatcher.messages[0]["text"].startswith("La placa PDA-4521 no está registrada a su nombre.")


async def test_a_typed_cedula_must_be_their_own(world: World, carlos: Servicios) -> None:
    own, _ = await listed(f"mi cédula es {await world.typed('cedula', CARLOS)}")
    assert own["multas_criterio"] == "cedula"
    other, dispatcher = await listed(await world.typed("cedula", "1712345675"))
    assert other == {"multas_criterio": None}
    assert said(dispatcher) == ["multas_cedula_ajena"]


async def test_the_choice_and_its_buttons(carlos: Servicios) -> None:
    found, _ = await listed()
    pendientes = found["multas_pendientes"]
    dispatcher = CollectingDispatcher()
    await ActionAskMultasSeleccion().run(dispatcher, tracker(slots={"multas_pendientes": pendientes}), {})
    assert [(b["title"], b["payload"]) for b in dispatcher.messages[0]["buttons"]] == [
        ("Pagar todas (USD 409.70)", "todas"),
        ("Solo la 1 (USD 241.00)", "1"),
        ("Solo la 2 (USD 144.60)", "2"),
        ("Solo la 3 (USD 24.10)", "3"),
        ("No pagar ahora", "ninguna"),
    ]
    form = ValidateMultasForm()
    t = tracker(slots={"multas_pendientes": pendientes})
    assert await form.validate_multas_seleccion("1 y 3", CollectingDispatcher(), t, {}) == {
        "multas_seleccion": f"{C1},{C3}"
    }
    assert await form.validate_multas_seleccion("ninguna", CollectingDispatcher(), t, {}) == {
        "multas_seleccion": NINGUNA,
        "requested_slot": None,
    }
    dispatcher = CollectingDispatcher()
    assert await form.validate_multas_seleccion("la 7", dispatcher, t, {}) == {"multas_seleccion": None}
    assert said(dispatcher) == ["multas_seleccion_no_entendida"]


async def test_the_summary_and_corrections_at_confirmation(carlos: Servicios) -> None:
    found, _ = await listed()
    pendientes = found["multas_pendientes"]
    dispatcher = CollectingDispatcher()
    slots = {"multas_pendientes": pendientes, "multas_seleccion": f"{C1},{C3}"}
    await ActionAskMultasConfirmar().run(dispatcher, tracker(slots=slots), {})
    assert dispatcher.messages[0]["text"] == (
        "Va a pagar estas multas:\n"
        f"• 18/10/2026 · Conducir con licencia caducada · USD 241.00 (citación {C1})\n"
        f"• 30/07/2026 · Usar innecesariamente la bocina · USD 24.10 (citación {C3})\n"
        "• Total: USD 265.10, con tarjeta\n¿Confirma el pago?"
    )
    assert [b["payload"] for b in dispatcher.messages[0]["buttons"]] == ["/afirmar", "/negar", "/cancelar"]
    form = ValidateMultasForm()
    only_two = tracker(user("no, solo la 2", "negar"), slots=slots)
    assert await form.validate_multas_confirmar(False, CollectingDispatcher(), only_two, {}) == {
        "multas_seleccion": C2,
        "multas_confirmar": None,
    }
    dispatcher = CollectingDispatcher()
    plain_no = tracker(user("no", "negar"), slots=slots)
    assert await form.validate_multas_confirmar(False, dispatcher, plain_no, {}) == {
        "multas_seleccion": None,
        "multas_confirmar": None,
    }
    assert said(dispatcher) == ["multas_corregir"]
    for text in ("no, ya no pago nada hoy", "no, mejor otro día", "no, ninguna"):
        not_now = tracker(user(text, "negar"), slots=slots)
        assert await form.validate_multas_confirmar(False, CollectingDispatcher(), not_now, {}) == {
            "multas_seleccion": "ninguna",
            "multas_confirmar": None,
            "requested_slot": None,
        }, text


async def test_a_plate_typed_at_confirmation_replaces_the_search_without_restarting(carlos: Servicios) -> None:
    found, _ = await listed()
    text = "no, mejor la placa GBC-2468"
    event = user(text, "negar")
    event["parse_data"]["entities"] = [{"entity": "placa", "value": "GBC-2468"}]
    slots = {
        "multas_criterio": "GBC-2468",
        "multas_pendientes": found["multas_pendientes"],
        "multas_seleccion": C1,
        "multas_confirmar": False,
        "requested_slot": "multas_confirmar",
    }
    t = tracker(
        event, slot("multas_criterio", "GBC-2468"), slot("multas_confirmar", False), slots=slots, sender_id="web:carlos"
    )
    t.active_loop = {"name": "multas_form"}
    dispatcher = CollectingDispatcher()
    events = await ValidateMultasForm().run(dispatcher, t, DOMAIN)
    assert said(dispatcher) == ["multas_lista"]  # the vehicle's list, once; no "¿sí o no?"
    values = {e["name"]: e["value"] for e in events}
    assert (values["multas_criterio"], values["multas_seleccion"], values["multas_confirmar"]) == (
        "GBC-2468",
        None,
        None,
    )


async def test_saying_no_to_paying_ends_the_look_up(carlos: Servicios) -> None:
    found, _ = await listed()
    dispatcher = CollectingDispatcher()
    slots = {"multas_criterio": "cedula", "multas_pendientes": found["multas_pendientes"], "multas_seleccion": NINGUNA}
    assert await ActionPagarMultas().run(dispatcher, tracker(slots=slots, sender_id="web:carlos"), {}) == RESET
    assert said(dispatcher) == ["multas_sin_pagar"]
    assert await carlos.solicitudes.de_ciudadano(CARLOS) == []


async def pay(s: Servicios, seleccion: str) -> tuple[CollectingDispatcher, Any]:
    found, _ = await listed()
    dispatcher = CollectingDispatcher()
    slots = {
        "multas_criterio": "cedula",
        "multas_pendientes": found["multas_pendientes"],
        "multas_seleccion": seleccion,
        "multas_confirmar": True,
    }
    assert await ActionPagarMultas().run(dispatcher, tracker(slots=slots, sender_id="web:carlos"), {}) == RESET
    [solicitud] = [a for a in await s.solicitudes.de_ciudadano(CARLOS) if a.estado == "pendiente_pago"]
    return dispatcher, solicitud


async def confirm_payment(s: Servicios, solicitud_id: int, monto: str) -> None:
    [pago] = await s.pagos.de_solicitud(solicitud_id)
    confirmacion = s.pagos.proveedor.cobrar(
        pago_id=pago.id, monto=Decimal(monto), numero_tarjeta="4111111111111111", vencimiento="12/30", cvv="123"
    )
    assert await s.pagos.confirmar(confirmacion) is not None


async def test_pay_two_then_the_worker_records_them_paid_and_the_list_shows_it(carlos: Servicios) -> None:
    s = carlos
    dispatcher, solicitud = await pay(s, f"{C1},{C3}")
    assert said(dispatcher) == ["multas_pagar"]
    assert re.match(
        rf"Su solicitud {solicitud.numero} quedó registrada\. Pague USD 265\.10 con tarjeta en este enlace seguro: "
        r"https://chasqui\.prueba\.ec/pagos/\w+\?t=\w+\n",
        dispatcher.messages[0]["text"],
    )
    assert solicitud.datos["total"] == "265.10"
    [pago] = await s.pagos.de_solicitud(solicitud.id)
    assert (pago.monto, pago.concepto, pago.detalle["citaciones"]) == (
        Decimal("265.10"),
        "Multas de tránsito de la ANT (2)",
        [C1, C3],
    )

    _, dispatcher = await listed()  # waiting for the payment: not offered again, the link is shown
    assert said(dispatcher) == ["multas_lista_una"]
    assert f"pago iniciado (solicitud {solicitud.numero}). Puede pagar aquí: https://" in dispatcher.messages[0]["text"]

    await confirm_payment(s, solicitud.id, "265.10")
    assert await retry_due(s) == 0  # a paid fine has no document: approved, not "issued"
    [done] = await s.solicitudes.de_ciudadano(CARLOS)
    assert done.estado == "aprobada"
    [pagado] = await s.pagos.de_solicitud(done.id)
    assert (done.datos["citaciones_pagadas"], done.datos["recibo"]) == ([C1, C3], pagado.recibo)
    history = [m.estado for m in await s.solicitudes.historial(done.id)]
    assert history == ["recibida", "pendiente_pago", "en_proceso", "aprobada"]
    async with s.identidad._sessions() as session:
        notifications = [n.plantilla for n in await repo.undelivered_notifications(session=session)]
    assert notifications == ["pago_confirmado"]

    found, dispatcher = await listed()  # the ANT still shows them owed; Chasqui shows them paid
    assert [p["numero"] for p in found["multas_pendientes"]] == [C2]
    text = dispatcher.messages[0]["text"]
    assert text.startswith("Tiene 1 multa pendiente a su nombre, por USD 144.60:\n1) 13/09/2026 · Conducir sin placas")
    assert re.search(
        rf"• 18/10/2026 · Conducir con licencia caducada · USD 241\.00: pagada en Chasqui "
        rf"\(solicitud {done.numero}, recibo N\.º R-\d{{4}}-[0-9A-F]{{8}}\)",
        text,
    )


async def test_the_ant_down_after_the_payment_keeps_it_for_a_retry(world: World, carlos: Servicios) -> None:
    s = carlos
    _, solicitud = await pay(s, f"{C1},{C2},{C3}")
    await confirm_payment(s, solicitud.id, "409.70")
    await sandbox_fallas(world, institucion="ant", caida=True)
    await retry_due(s)
    [pending] = await s.solicitudes.de_ciudadano(CARLOS)
    assert pending.estado == "en_proceso"
    await sandbox_fallas(world, institucion="ant", caida=False)
    s.solicitudes._clock = lambda: utcnow() + timedelta(minutes=2)  # type: ignore[method-assign]
    await retry_due(s)
    [done] = await s.solicitudes.de_ciudadano(CARLOS)
    assert (done.estado, done.datos["citaciones_pagadas"]) == ("aprobada", [C1, C2, C3])


async def test_a_citation_already_paid_is_left_out_and_the_citizen_is_told(carlos: Servicios) -> None:
    s = carlos
    _, solicitud = await pay(s, C2)
    # As if the citizen had also paid C4 elsewhere meanwhile: the ANT shows it paid.
    datos = {**solicitud.datos, "citaciones": [*solicitud.datos["citaciones"], {"numero": C4, "valor": "72.30"}]}
    solicitud = await s.solicitudes.cambiar_estado(solicitud.id, EstadoSolicitud(solicitud.estado), datos=datos)
    await confirm_payment(s, solicitud.id, "144.60")
    resultado = await tramite.procesar(s, solicitud, CARLOS)
    assert (resultado.estado, resultado.pagadas, resultado.no_aplicadas) == ("aprobada", (C2,), (C4,))
    async with s.identidad._sessions() as session:
        notifications = [(n.plantilla, n.valores) for n in await repo.undelivered_notifications(session=session)]
    assert notifications[-1] == (
        "multas_no_aplicadas_notificacion",
        {"numero": solicitud.numero, "citaciones": C4},
    )


async def test_the_ant_down_while_looking(world: World, carlos: Servicios) -> None:
    await sandbox_fallas(world, institucion="ant", caida=True)
    found, dispatcher = await listed()
    assert found == {"multas_criterio": None, "requested_slot": None}
    assert said(dispatcher) == ["multas_ant_no_disponible"]
    dispatcher = CollectingDispatcher()
    extracted = await ValidateMultasForm().extract_multas_criterio(dispatcher, tracker(sender_id="web:carlos"), {})
    assert extracted == {"multas_criterio": FIN}
    assert said(dispatcher) == ["multas_ant_no_disponible"]


async def test_when_the_form_starts_nothing_is_said_before_the_question(carlos: Servicios) -> None:
    # The form validates the slots the start action just cleared; an empty slot is not an answer to complain about.
    t = tracker(
        user("tengo multas?", "consultar_multas"),
        slot("identidad", "vigente"),
        *(slot(name, None) for name in SLOTS),
        slots={"identidad": "vigente"},
        sender_id="web:carlos",
    )
    dispatcher = CollectingDispatcher()
    events = await ValidateMultasForm().run(dispatcher, t, DOMAIN)
    assert dispatcher.messages == []
    assert {e["name"]: e["value"] for e in events} == {"multas_criterio": None, **dict.fromkeys(SLOTS[2:])}


async def test_a_new_choice_at_the_summary_replaces_the_old_one(carlos: Servicios) -> None:
    found, _ = await listed()
    pendientes = found["multas_pendientes"]
    slots = {
        "multas_pendientes": pendientes,
        "multas_seleccion": f"{C1},{C2},{C3}",
        "requested_slot": "multas_confirmar",
    }
    form = ValidateMultasForm()
    change = tracker(
        user("mmm mejor solo la primera nomas", "fuera_de_alcance"), slots=slots, active_loop="multas_form"
    )
    events = await form.run(CollectingDispatcher(), change, DOMAIN)
    assert SlotSet("multas_seleccion", C1) in events
    assert not any(e.get("name") == "multas_confirmar" and e.get("value") is True for e in events)
    question = tracker(
        user("primero tengo que pagar todo?", "preguntar_formas_pago"), slots=slots, active_loop="multas_form"
    )
    assert await form.run(CollectingDispatcher(), question, DOMAIN) == []  # a question: a rule answers it


async def test_a_payment_already_made_is_about_that_payment_not_a_new_search() -> None:
    t = tracker(user("ya pague, ya se borro la multa?", "consultar_multas"))
    events = await ActionIniciarMultas().run(CollectingDispatcher(), t, {})
    [user_event] = [e for e in events if e.get("event") == "user"]
    assert user_event["parse_data"]["intent"]["name"] == "confirmar_pago"
