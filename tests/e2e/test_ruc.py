"""RUC in conversation: identity first then the record and the signed certificate, a suspended RUC, no RUC,
the SRI down."""

from __future__ import annotations

import httpx
import pytest

from tests.e2e.conftest import Chasqui
from tests.e2e.test_certificado_votacion import documents, signed_pdf, verified

pytestmark = pytest.mark.conversation


def test_identity_first_then_the_ruc_and_its_signed_certificate(chasqui: Chasqui) -> None:
    citizen = chasqui.citizen()
    assert citizen.texts("mi ruc")[0].startswith("Para consultar su RUC primero necesito comprobar su identidad")
    citizen.says("0711111112")
    replies = citizen.says("E2233V1144")
    texts = [m["text"] for m in replies if "text" in m]
    assert texts[0].startswith("¡Gracias, Gabriela Alejandra!")
    assert texts[1] == (
        "Su RUC en el SRI:\n"
        "• RUC: 07******12001\n"
        "• Nombre: Romero Calle Gabriela Alejandra\n"
        "• Estado: Activo\n"
        "• Tipo: Persona natural\n"
        "• Obligado a llevar contabilidad: No\n"
        "• Inicio de actividades: 10/06/2019\n"
        "Actividades económicas:\n"
        "• Venta al por menor de gran variedad de productos en tiendas de abarrotes\n"
        "• Elaboración de pan y otros productos de panadería"
    )
    assert texts[2].startswith("Le envío su certificado del RUC firmado, en PDF y como imagen.")
    [pdf, png] = documents(replies)
    assert png["kind"] == "png"
    verdict = signed_pdf(chasqui, pdf)
    assert {"label": "Estado del contribuyente", "value": "Activo"} in verdict["document"]["fields"]


def test_a_suspended_ruc_is_explained(chasqui: Chasqui) -> None:
    citizen = verified(chasqui, "1111111116", "A4411I2233")
    texts = citizen.texts("estado de mi ruc")
    assert "• Estado: Suspendido" in texts[0]
    assert texts[1].startswith("Su RUC está suspendido.")


def test_without_a_ruc_the_citizen_learns_how_to_get_one(chasqui: Chasqui) -> None:
    citizen = verified(chasqui, "0923456784", "E1333I1222")
    [answer] = citizen.texts("mi ruc")
    assert answer.startswith("El SRI no tiene un RUC a su nombre.")
    assert "SRI en Línea (srienlinea.sri.gob.ec)" in answer
    assert "no está confirmado" in answer


def test_the_sri_down_is_an_apology(chasqui: Chasqui) -> None:
    citizen = verified(chasqui, "0711111112", "E2233V1144")
    with httpx.Client(base_url=chasqui.settings.effective_registros_url, timeout=10) as admin:
        admin.post("/_sandbox/fallas", json={"institucion": "sri", "caida": True})
        try:
            [reply] = citizen.texts("mi ruc")
        finally:
            admin.post("/_sandbox/reset")
    assert reply.startswith("Disculpe, el SRI no responde en este momento y no puedo consultar su RUC.")
