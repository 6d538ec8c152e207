"""Matrícula in conversation: the only vehicle right after the identity step, a plate in the request, a plate
that is not the citizen's and its correction, no vehicles, cancelling, the ANT down."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.e2e.conftest import Chasqui, Citizen

pytestmark = pytest.mark.conversation

PEDIR_PLACA = "¿De qué vehículo quiere ver la matrícula?"


def verified(chasqui: Chasqui, cedula: str, dactilar: str) -> Citizen:
    citizen = chasqui.citizen()
    citizen.says("/iniciar_sesion")
    citizen.says(cedula)
    assert citizen.texts(dactilar)[0].startswith("¡Gracias,")
    return citizen


def documents(replies: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [m["custom"]["document"] for m in replies if "custom" in m and "document" in m["custom"]]


def test_identity_first_then_the_only_vehicle_without_asking(chasqui: Chasqui) -> None:
    citizen = chasqui.citizen()
    assert citizen.texts("cuánto debo pagar de la matrícula del carro")[0].startswith(
        "Para consultar la matrícula de su vehículo primero necesito comprobar su identidad"
    )
    citizen.says("0923456784")
    texts = citizen.texts("E1333I1222")
    assert texts[0].startswith("¡Gracias, Carlos Alberto!")
    assert texts[1].startswith(
        "La matrícula de su vehículo GBC-2468 (Chevrolet D-Max 2014, camioneta, color blanco) está vencida"
    )
    assert "Su placa termina en 8, por eso le tocaba en septiembre de " in texts[1]
    assert "de atraso. El recargo es de USD 25.00 por cada mes (así lo cobra la AMT de Quito)" in texts[1]
    assert "• Recargo por matriculación tardía: USD " in texts[1] and "• Total: USD " in texts[1]


def test_a_plate_in_the_request_and_the_signed_matricula_when_up_to_date(chasqui: Chasqui) -> None:
    citizen = verified(chasqui, "1712345675", "V4443V4442")
    replies = citizen.says("matrícula de la PDA-4521")
    assert replies[0]["text"].startswith(
        "Su vehículo PDA-4521 (Kia Rio 2019, automóvil, color rojo) tiene la matrícula al día"
    )
    assert "la próxima matrícula le toca en febrero de " in replies[0]["text"]
    assert replies[1]["text"].startswith("Le envío su matrícula firmada, en PDF y como imagen.")
    [pdf, png] = documents(replies)
    assert png["kind"] == "png"
    answer = httpx.post(
        f"{chasqui.url}/api/verificar",
        files={"archivo": ("doc.pdf", httpx.get(pdf["url"], timeout=10).content, "application/pdf")},
        timeout=30,
    ).json()
    assert (answer["verdict"], answer["via"]) == ("valido", "pdf"), answer


def test_a_plate_that_is_not_theirs_then_the_right_one_without_restarting(chasqui: Chasqui) -> None:
    citizen = verified(chasqui, "0923456784", "E1333I1222")
    replies = citizen.says("matrícula de la PDA-4521")
    assert replies[0]["text"].startswith("La placa PDA-4521 no está registrada a su nombre.")
    assert replies[-1]["text"].startswith(PEDIR_PLACA)
    assert [b["payload"] for b in replies[-1]["buttons"]] == ["GBC-2468", "/cancelar"]
    assert citizen.texts("GBC-2468")[0].startswith("La matrícula de su vehículo GBC-2468")


def test_cancel_while_asked_for_the_plate(chasqui: Chasqui) -> None:
    citizen = verified(chasqui, "0923456784", "E1333I1222")
    assert citizen.texts("matrícula de la PDA-4521")[-1].startswith(PEDIR_PLACA)
    assert citizen.texts("cancelar")[0].startswith("Listo, cancelé el trámite.")
    assert citizen.texts("cancelar")[0].startswith("No tiene ningún trámite en curso.")


def test_no_vehicles(chasqui: Chasqui) -> None:
    citizen = verified(chasqui, "1311111114", "V1111A2222")
    assert citizen.texts("matrícula del carro")[0].startswith("No encuentro vehículos registrados a su nombre")
    assert citizen.texts("cancelar")[0].startswith("No tiene ningún trámite en curso.")  # the form ended


def test_the_ant_down(chasqui: Chasqui) -> None:
    citizen = verified(chasqui, "1712345675", "V4443V4442")
    with httpx.Client(base_url=chasqui.settings.effective_registros_url, timeout=10) as admin:
        admin.post("/_sandbox/fallas", json={"institucion": "ant", "caida": True})
        try:
            replies = citizen.texts("matrícula del carro")
        finally:
            admin.post("/_sandbox/reset")
    assert replies[0].startswith("Disculpe, la ANT no responde en este momento y no puedo ver la matrícula.")
