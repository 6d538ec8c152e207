"""Multas in conversation: by cédula or by a plate of theirs, the list, a correction at the summary, saying no,
cancelling, no fines, the ANT down, and paying two fines that the list then shows paid.

The tests share the sandbox's Carlos Zambrano (three fines owed); the one that pays runs last in this file."""

from __future__ import annotations

import asyncio
import re
import time
from typing import Any

import httpx
import pytest

from bot.storage import tramites as repo
from bot.storage.db import create_engine, session_factory
from tests.e2e.conftest import Chasqui, Citizen

pytestmark = pytest.mark.conversation

CARLOS, DACTILAR = "0923456784", "E1333I1222"
PEDIR_CRITERIO = "¿Qué multas busco?"
LISTA = "Tiene 3 multas pendientes a su nombre, por USD "
PEDIR_SELECCION = "¿Cuáles quiere pagar ahora, con tarjeta?"


def verified(chasqui: Chasqui, cedula: str = CARLOS, dactilar: str = DACTILAR) -> Citizen:
    citizen = chasqui.citizen()
    citizen.says("/iniciar_sesion")
    citizen.says(cedula)
    assert citizen.texts(dactilar)[0].startswith("¡Gracias,")
    return citizen


def application(chasqui: Chasqui, numero: str) -> tuple[str, dict[str, Any]]:
    async def _read() -> tuple[str, dict[str, Any]]:
        engine = create_engine(chasqui.settings.effective_database_url)
        async with session_factory(engine)() as session:
            found = await repo.by_numero(session=session, numero=numero)
            assert found is not None
            result = (found.estado, dict(found.datos))
        await engine.dispose()
        return result

    return asyncio.run(_read())


def test_identity_first_then_the_choice_of_cedula_or_plate(chasqui: Chasqui) -> None:
    citizen = chasqui.citizen()
    assert citizen.texts("tengo multas de tránsito?")[0].startswith(
        "Para consultar sus multas de tránsito primero necesito comprobar su identidad"
    )
    citizen.says(CARLOS)
    replies = citizen.says(DACTILAR)
    assert replies[0]["text"].startswith("¡Gracias, Carlos Alberto!")
    assert replies[-1]["text"].startswith(PEDIR_CRITERIO)
    assert [(b["title"], b["payload"]) for b in replies[-1]["buttons"]] == [
        ("Las de mi cédula", "mi cédula"),
        ("GBC-2468 · Chevrolet D-Max", "GBC-2468"),
    ]
    listed = citizen.says("GBC-2468")
    assert listed[0]["text"].startswith("Tiene 3 multas pendientes del vehículo GBC-2468, por USD ")
    assert "1) " in listed[0]["text"] and "· le restó 9 puntos" in listed[0]["text"]
    assert listed[-1]["text"].startswith(PEDIR_SELECCION)
    assert [b["payload"] for b in listed[-1]["buttons"]] == ["todas", "1", "2", "3", "ninguna"]
    assert citizen.texts("ninguna")[0].startswith("Está bien, no pagaremos nada por ahora.")


def test_a_plate_that_is_not_theirs_is_refused_politely(chasqui: Chasqui) -> None:
    citizen = verified(chasqui)
    texts = citizen.texts("multas de la placa PDA-4521")
    assert texts[0].startswith("La placa PDA-4521 no está registrada a su nombre. Por privacidad")
    assert texts[-1].startswith(PEDIR_CRITERIO)
    assert citizen.texts("mi cédula")[0].startswith(LISTA)


def test_a_correction_at_the_summary_without_restarting(chasqui: Chasqui) -> None:
    citizen = verified(chasqui)
    assert citizen.texts("quiero pagar mis multas")[-1].startswith(PEDIR_CRITERIO)
    assert citizen.texts("mi cédula")[0].startswith(LISTA)
    summary = citizen.says("la 1 y la 3")
    assert summary[0]["text"].startswith("Va a pagar estas multas:\n• ")
    assert [b["payload"] for b in summary[0]["buttons"]] == ["/afirmar", "/negar", "/cancelar"]
    only_two = citizen.texts("no, solo la 2")
    assert only_two[0].startswith("Va a pagar estas multas:\n• ")
    assert only_two[0].count("\n• ") == 2  # one fine and the total
    replaced = citizen.texts("no, mejor las de la placa GBC-2468")
    assert replaced[0].startswith("Tiene 3 multas pendientes del vehículo GBC-2468")
    assert replaced[-1].startswith(PEDIR_SELECCION)
    assert citizen.texts("cancelar")[0].startswith("Listo, cancelé el trámite.")


def test_without_fines_and_without_vehicles_nothing_is_asked(chasqui: Chasqui) -> None:
    citizen = verified(chasqui, "1311111114", "V1111A2222")
    assert citizen.texts("tengo multas?") == ["Buenas noticias: no hay multas de tránsito a su nombre en la ANT."]
    assert citizen.texts("cancelar")[0].startswith("No tiene ningún trámite en curso.")


def test_the_ant_down(chasqui: Chasqui) -> None:
    citizen = verified(chasqui, "1712345675", "V4443V4442")
    with httpx.Client(base_url=chasqui.settings.effective_registros_url, timeout=10) as admin:
        admin.post("/_sandbox/fallas", json={"institucion": "ant", "caida": True})
        try:
            replies = citizen.texts("tengo multas?")
        finally:
            admin.post("/_sandbox/reset")
    assert replies[0].startswith("Disculpe, la ANT no responde en este momento y no puedo ver sus multas.")


def test_pay_two_fines_and_the_list_shows_them_paid(chasqui: Chasqui) -> None:
    citizen = verified(chasqui)
    citizen.says("multas")
    assert citizen.texts("mi cédula")[0].startswith(LISTA)
    assert citizen.texts("1 y 3")[0].startswith("Va a pagar estas multas:")
    [to_pay] = citizen.says("sí")
    found = re.match(
        r"Su solicitud (EC-\d{4}-\d{6}) quedó registrada\. Pague USD (\d+\.\d{2}) con tarjeta", to_pay["text"]
    )
    assert found is not None, to_pay["text"]
    numero = found.group(1)
    assert [b["payload"] for b in to_pay["buttons"]] == ["/consultar_multas"]
    assert application(chasqui, numero)[0] == "pendiente_pago"

    pago_id, token = re.search(r"/pagos/(\w+)\?t=(\w+)", to_pay["text"]).groups()  # type: ignore[union-attr]
    with httpx.Client(base_url=chasqui.url, timeout=10, follow_redirects=True) as browser:
        assert f"USD {found.group(2)}" in browser.get(f"/pagos/{pago_id}?t={token}").text
        paid = browser.post(
            f"/pagos/{pago_id}",
            data={"t": token, "numero": "4111 1111 1111 1111", "vencimiento": "12/30", "cvv": "123"},
        )
        assert paid.status_code == 200

    deadline = time.monotonic() + 60
    estado, datos = application(chasqui, numero)
    while estado != "aprobada" and time.monotonic() < deadline:
        time.sleep(2)
        estado, datos = application(chasqui, numero)
    assert estado == "aprobada"
    assert len(datos["citaciones_pagadas"]) == 2

    citizen.says("/consultar_multas")  # the button under the payment link
    [listed, *_] = citizen.texts("mi cédula")
    assert listed.startswith("Tiene 1 multa pendiente a su nombre, por USD ")
    assert listed.count(f"pagada en Chasqui (solicitud {numero}, recibo N.º R-") == 2
