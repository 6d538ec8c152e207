"""Certificado de votación in conversation: a fined voter pays and gets it, an exempt voter gets it at once,
a minor is not on the roll, the CNE down, saying no and cancelling at the summary."""

from __future__ import annotations

import re
import time
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import Chasqui, Citizen

pytestmark = pytest.mark.conversation

RESUMEN = "Según el CNE, en las Elecciones Generales 2025:\n"


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


def test_a_fined_voter_sees_the_fine_pays_and_receives_the_certificate(chasqui: Chasqui) -> None:
    citizen = chasqui.citizen()
    assert citizen.texts("necesito la papeleta de votación")[0].startswith(
        "Para pedir su certificado de votación primero necesito comprobar su identidad"
    )
    citizen.says("0104567896")
    after_identity = citizen.says("A1122E3344")
    assert after_identity[0]["text"].startswith("¡Gracias, Juan Pablo!")
    summary = after_identity[-1]
    assert summary["text"].startswith(
        RESUMEN + "• Primera vuelta (09/02/2025): no votó. Multa de USD 47.00.\n"
        "• Segunda vuelta (13/04/2025): no votó. Multa de USD 47.00.\n"
        "Tiene una multa de USD 94.00 por no votar"
    )
    assert [b["title"] for b in summary["buttons"]] == ["Sí, pagar USD 94.00", "Ahora no"]

    [to_pay] = citizen.says("sí")
    assert re.match(r"Su solicitud EC-\d{4}-\d{6} quedó registrada\. Pague USD 94\.00 con tarjeta", to_pay["text"])
    pago_id, token = re.search(r"/pagos/(\w+)\?t=(\w+)", to_pay["text"]).groups()  # type: ignore[union-attr]
    assert citizen.texts("ya pagué")[0].startswith("Todavía no recibo la confirmación del pago de USD 94.00")
    with httpx.Client(base_url=chasqui.url, timeout=10, follow_redirects=True) as browser:
        paid = browser.post(
            f"/pagos/{pago_id}",
            data={"t": token, "numero": "4111 1111 1111 1111", "vencimiento": "12/30", "cvv": "123"},
        )
        assert paid.status_code == 200

    deadline = time.monotonic() + 60
    replies: list[dict[str, Any]] = []
    while time.monotonic() < deadline:
        replies = citizen.says("ya pagué")
        if "documento está listo" in replies[0].get("text", ""):
            break
        time.sleep(2)
    assert re.match(r"Su pago de la solicitud EC-\d{4}-\d{6} está confirmado \(recibo N\.º R-", replies[0]["text"])
    [pdf, png] = documents(replies)
    assert png["kind"] == "png"
    verdict = signed_pdf(chasqui, pdf)
    assert verdict["document"]["fields"] == [
        {"label": "Proceso electoral", "value": "Elecciones Generales 2025"},
        {
            "label": "Estado",
            "value": "Primera vuelta: no sufragó, multa pagada; Segunda vuelta: no sufragó, multa pagada",
        },
    ]


def test_an_exempt_voter_is_told_so_and_gets_the_certificate_at_once(chasqui: Chasqui) -> None:
    citizen = verified(chasqui, "1722222229", "I2211V4433")
    [summary] = citizen.texts("certificado de votación")
    assert summary.startswith(
        RESUMEN + "• Primera vuelta (09/02/2025): no votó; voto facultativo (por edad: 65 años o más)."
    )
    assert "Como su voto era facultativo, no tiene multa." in summary
    done = citizen.says("sí")
    assert re.match(r"Listo\. Su solicitud EC-\d{4}-\d{6} fue atendida\.", done[0]["text"])
    [pdf, png] = documents(done)
    assert png["kind"] == "png"
    assert signed_pdf(chasqui, pdf)["document"]["fields"][1]["value"].startswith("Primera vuelta: exento")


def test_a_minor_is_told_clearly_that_he_is_not_on_the_roll(chasqui: Chasqui) -> None:
    citizen = verified(chasqui, "1723232326", "A2143E3412")
    [answer] = citizen.texts("certificado de votación")
    assert answer.startswith("Usted no consta en el padrón electoral de las últimas elecciones")
    assert citizen.texts("cancelar")[0].startswith("No tiene ningún trámite en curso.")


def test_saying_no_or_cancelling_at_the_summary_submits_nothing(chasqui: Chasqui) -> None:
    citizen = verified(chasqui, "1712345675", "V4443V4442")
    assert citizen.texts("certificado de votación")[0].startswith(RESUMEN + "• Primera vuelta (09/02/2025): votó.")
    assert citizen.texts("no")[0].startswith("Está bien, no pedí nada.")
    assert citizen.texts("certificado de votación")[0].startswith(RESUMEN)
    assert citizen.texts("cancelar")[0].startswith("Listo, cancelé el trámite.")


def test_the_cne_down_is_an_apology_and_a_way_forward(chasqui: Chasqui) -> None:
    citizen = verified(chasqui, "1712345675", "V4443V4442")
    with httpx.Client(base_url=chasqui.settings.effective_registros_url, timeout=10) as admin:
        admin.post("/_sandbox/fallas", json={"institucion": "cne", "caida": True})
        try:
            [reply] = citizen.says("certificado de votación")
        finally:
            admin.post("/_sandbox/reset")
    assert reply["text"].startswith("Disculpe, el CNE no responde en este momento")
    assert [b["payload"] for b in reply["buttons"]] == ["/solicitar_certificado_votacion", "/hablar_con_agente"]
