"""The antecedentes penales trámite in conversation: web channel, real Rasa, sandbox registries."""

from __future__ import annotations

import re

import httpx
import pytest

from tests.e2e.conftest import Chasqui, Citizen

pytestmark = pytest.mark.conversation

PEDIR_MOTIVO = "¿Para qué necesita el certificado de antecedentes penales?"


def verified(chasqui: Chasqui, cedula: str = "1712345675", dactilar: str = "V4443V4442") -> Citizen:
    citizen = chasqui.citizen()
    citizen.says("/iniciar_sesion")
    citizen.says(cedula)
    assert citizen.texts(dactilar)[0].startswith("¡Gracias,")
    return citizen


def test_identity_first_then_the_form_resumes_and_the_certificate_arrives(chasqui: Chasqui) -> None:
    citizen = chasqui.citizen()
    first = citizen.texts("necesito sacar el récord policial")
    assert first[0].startswith(
        "Para pedir su certificado de antecedentes penales primero necesito comprobar su identidad"
    )
    citizen.says("1712345675")
    after_identity = citizen.texts("V4443V4442")
    assert after_identity[0].startswith("¡Gracias, María José!")
    assert after_identity[-1].startswith(PEDIR_MOTIVO)
    summary = citizen.says("para un trabajo nuevo")
    assert summary[0]["text"].startswith(
        "Voy a pedir su certificado de antecedentes penales:\n• Titular: María José (17******75)"
    )
    assert [b["payload"] for b in summary[0]["buttons"]] == ["/afirmar", "/negar", "/cancelar"]
    done = citizen.says("sí, confirmo")
    assert re.match(r"Listo\. Su solicitud EC-\d{4}-\d{6} fue atendida", done[0]["text"])
    documents = [m["custom"]["document"] for m in done if "custom" in m]
    assert [d["kind"] for d in documents] == ["pdf", "png"]
    pdf = httpx.get(documents[0]["url"], timeout=10)
    assert pdf.headers["content-type"] == "application/pdf"


def test_a_short_reason_and_a_correction_without_restarting(chasqui: Chasqui) -> None:
    citizen = verified(chasqui)
    assert citizen.texts("quiero mi record policial")[-1].startswith(PEDIR_MOTIVO)
    short = citizen.texts("trabajo")
    assert short[0].startswith("Cuénteme un poco más, por favor: el motivo debe tener al menos 10 letras.")
    assert citizen.texts("para un trabajo nuevo")[0].startswith("Voy a pedir su certificado")
    corrected = citizen.texts("no, es para un viaje al exterior")
    assert "• Motivo: para un viaje al exterior" in corrected[0]


def test_cancel_midway(chasqui: Chasqui) -> None:
    citizen = verified(chasqui)
    citizen.says("quiero mi record policial")
    assert citizen.texts("cancelar")[0].startswith("Listo, cancelé el trámite.")
    assert citizen.texts("cancelar")[0].startswith("No tiene ningún trámite en curso.")


def test_the_ministry_down_keeps_the_application(chasqui: Chasqui) -> None:
    citizen = verified(chasqui)
    with httpx.Client(base_url=chasqui.settings.effective_registros_url, timeout=10) as admin:
        admin.post("/_sandbox/fallas", json={"institucion": "ministerio_interior", "caida": True})
        try:
            citizen.says("quiero mi record policial")
            citizen.says("para un trabajo nuevo")
            [reply] = citizen.texts("si")
        finally:
            admin.post("/_sandbox/reset")
    assert reply.startswith("Disculpe, el Ministerio del Interior no responde en este momento.")
    assert re.search(r"Su solicitud EC-\d{4}-\d{6} quedó registrada", reply)
