"""Certificado de nacimiento in conversation: for a minor child, the payment page, the certificate after it."""

from __future__ import annotations

import re
import time

import httpx
import pytest

from tests.e2e.conftest import Chasqui

pytestmark = pytest.mark.conversation


def test_for_a_minor_child_pay_and_receive_the_certificate(chasqui: Chasqui) -> None:
    citizen = chasqui.citizen()
    assert citizen.texts("necesito la partida de nacimiento de mi hijo")[0].startswith(
        "Para pedir un certificado de nacimiento primero necesito comprobar su identidad"
    )
    citizen.says("1733333338")
    # «de mi hijo» was said with the request and she has one minor child: nothing more is asked.
    summary = citizen.texts("V3322I4411")[1:]
    assert "• Titular: Salazar Villacís Mateo Sebastián (17******26)" in summary[0]
    assert "• Costo: USD 5.00" in summary[0]
    [to_pay] = citizen.says("sí")
    link = re.search(r"(http://\S+/pagos/\w+\?t=\w+)", to_pay["text"])
    assert link is not None, to_pay["text"]
    assert [b["payload"] for b in to_pay["buttons"]] == ["/confirmar_pago", "/cancelar"]

    assert citizen.texts("ya pagué")[0].startswith("Todavía no recibo la confirmación del pago")

    url = link.group(1)
    pago_id, token = re.search(r"/pagos/(\w+)\?t=(\w+)", url).groups()  # type: ignore[union-attr]
    with httpx.Client(base_url=chasqui.url, timeout=10, follow_redirects=True) as browser:
        assert "4111 1111 1111 1111" in browser.get(f"/pagos/{pago_id}?t={token}").text
        declined = browser.post(
            f"/pagos/{pago_id}", data={"t": token, "numero": "4000000000000002", "vencimiento": "12/30", "cvv": "123"}
        )
        assert "fondos insuficientes" in declined.text
        paid = browser.post(
            f"/pagos/{pago_id}",
            data={"t": token, "numero": "4111 1111 1111 1111", "vencimiento": "12/30", "cvv": "123"},
        )
        assert paid.status_code == 200  # followed the redirect to the result page

    deadline = time.monotonic() + 60
    replies: list[str] = []
    while time.monotonic() < deadline:
        replies = citizen.texts("ya pagué")
        if replies and replies[0].startswith("Su pago de la solicitud") and "documento está listo" in replies[0]:
            break
        time.sleep(2)
    assert re.match(
        r"Su pago de la solicitud EC-\d{4}-\d{6} está confirmado \(recibo N\.º R-\d{4}-[0-9A-F]{8}\)", replies[0]
    )
    documents = [m["custom"]["document"] for m in citizen.says("ya pagué") if "custom" in m]
    assert [d["kind"] for d in documents] == ["pdf", "png"]


def test_who_it_is_for_is_asked_when_the_request_does_not_say(chasqui: Chasqui) -> None:
    citizen = chasqui.citizen()
    citizen.says("necesito una partida de nacimiento")
    citizen.says("1733333338")
    asked = citizen.says("V3322I4411")
    assert asked[-1]["text"].startswith("¿Para quién es el certificado de nacimiento?")
    assert [b["title"] for b in asked[-1]["buttons"]][:2] == ["Para mí", "Para Mateo Sebastián"]
    summary = citizen.texts("para Mateo Sebastian")
    assert "• Titular: Salazar Villacís Mateo Sebastián (17******26)" in summary[0]
    refused = citizen.texts("no, es para mi mamá")
    assert refused[0].startswith("Aquí solo puedo pedir la partida de nacimiento para usted o para un hijo menor")
