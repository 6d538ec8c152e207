"""Licencia de conducir and its points in conversation: identity first, the licence with a signed copy, renewal
when due, expired, no licence, the points and their deductions, the ANT down."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.e2e.conftest import Chasqui, Citizen

pytestmark = pytest.mark.conversation


def verified(chasqui: Chasqui, cedula: str, dactilar: str) -> Citizen:
    citizen = chasqui.citizen()
    citizen.says("/iniciar_sesion")
    citizen.says(cedula)
    assert citizen.texts(dactilar)[0].startswith("¡Gracias,")
    return citizen


def documents(replies: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [m["custom"]["document"] for m in replies if "custom" in m and "document" in m["custom"]]


def signed_pdf(chasqui: Chasqui, document: dict[str, Any]) -> dict[str, Any]:
    """Download a delivered PDF and have the verifier check its signature; returns the verdict."""
    assert document["kind"] == "pdf"
    pdf = httpx.get(document["url"], timeout=10)
    assert pdf.headers["content-type"] == "application/pdf"
    answer = httpx.post(
        f"{chasqui.url}/api/verificar", files={"archivo": ("doc.pdf", pdf.content, "application/pdf")}, timeout=30
    ).json()
    assert (answer["verdict"], answer["via"]) == ("valido", "pdf"), answer
    return answer  # type: ignore[no-any-return]


def test_identity_first_then_the_licence_and_its_signed_copy(chasqui: Chasqui) -> None:
    citizen = chasqui.citizen()
    assert citizen.texts("quiero ver mi licencia de conducir")[0].startswith(
        "Para consultar su licencia de conducir primero necesito comprobar su identidad"
    )
    citizen.says("1712345675")
    replies = citizen.says("V4443V4442")
    texts = [m["text"] for m in replies if "text" in m]
    assert texts[0].startswith("¡Gracias, María José!")
    assert texts[1].startswith("Su licencia de conducir:\n• Tipo: B (no profesional)\n• Vigente hasta: ")
    assert texts[1].endswith("• Puntos: 30 de 30")
    assert texts[2].startswith("Todavía no puede renovarla: se renueva desde 90 días antes de que venza")
    assert texts[3].startswith("Le envío una copia digital firmada de su licencia, en PDF y como imagen.")
    [pdf, png] = documents(replies)
    assert png["kind"] == "png"
    assert signed_pdf(chasqui, pdf)["verdict"] == "valido"


def test_a_licence_about_to_expire_can_be_renewed_with_its_fee(chasqui: Chasqui) -> None:
    citizen = verified(chasqui, "1811111119", "I3344E1122")
    texts = citizen.texts("hasta cuándo es válida mi licencia")
    assert "• Tipo: C (profesional)" in texts[0]
    assert texts[1].startswith("Su licencia vence pronto, el ")
    assert "ya puede renovarla" in texts[1] and "Cuesta USD 110.00 (licencia profesional)." in texts[1]


def test_an_expired_licence_is_said_clearly_without_a_copy(chasqui: Chasqui) -> None:
    citizen = verified(chasqui, "0611111113", "V2424I1313")
    replies = citizen.says("mi licencia está caducada?")
    assert replies[0]["text"].startswith("Su licencia de conducir tipo B venció el ")
    assert "No puede conducir con ella" in replies[0]["text"]
    assert "Cuesta USD 68.00 (licencia no profesional)." in replies[0]["text"]
    assert documents(replies) == []


def test_no_licence(chasqui: Chasqui) -> None:
    citizen = verified(chasqui, "1311111114", "V1111A2222")
    assert citizen.texts("ver mi licencia")[0].startswith(
        "No encuentro una licencia de conducir a su nombre en la ANT."
    )


def test_the_points_and_the_citation_that_took_them(chasqui: Chasqui) -> None:
    citizen = verified(chasqui, "0923456784", "E1333I1222")
    texts = citizen.texts("cuántos puntos me quedan en la licencia")
    assert texts[0] == "Su licencia tiene 21 de 30 puntos."
    assert texts[1].startswith("Le restaron 9 puntos por estas citaciones:\n• ")
    assert "Conducir con licencia caducada (COIP Art. 387): 9 puntos" in texts[1]


def test_the_ant_down(chasqui: Chasqui) -> None:
    citizen = verified(chasqui, "1712345675", "V4443V4442")
    with httpx.Client(base_url=chasqui.settings.effective_registros_url, timeout=10) as admin:
        admin.post("/_sandbox/fallas", json={"institucion": "ant", "caida": True})
        try:
            [reply] = citizen.says("quiero ver mi licencia de conducir")
        finally:
            admin.post("/_sandbox/reset")
    assert reply["text"].startswith("Disculpe, la ANT no responde en este momento y no puedo ver su licencia.")
    assert [b["payload"] for b in reply["buttons"]] == ["/consultar_licencia", "/hablar_con_agente"]
