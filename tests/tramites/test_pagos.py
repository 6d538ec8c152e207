"""Payments: the sandbox provider's test cards, the payment page, and the signed, idempotent callback."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from datetime import date
from decimal import Decimal

import httpx
import pytest
from fastapi.testclient import TestClient

from bot.gateway.app import create_app
from bot.privacy.encryption import protector_from
from bot.settings import Settings
from bot.storage import tramites as repo
from bot.storage.db import create_engine, migrate, session_factory
from bot.tramites.payments import build_pagos
from bot.tramites.solicitudes import SolicitudesService
from integrations.pagos.base import CallbackInvalido, TarjetaRechazada
from integrations.pagos.sandbox import SandboxProveedor

HOY = date(2026, 11, 27)


@pytest.mark.parametrize(
    ("numero", "vencimiento", "cvv", "codigo"),
    [
        ("4000 0000 0000 0002", "12/28", "123", "fondos_insuficientes"),
        ("4000000000000069", "12/28", "123", "tarjeta_vencida"),
        ("4111 1111 1111 1112", "12/28", "123", "numero_invalido"),
        ("4111 1111 1111 1111", "10/26", "123", "tarjeta_vencida"),
        ("4111 1111 1111 1111", "13/28", "123", "vencimiento_invalido"),
        ("4111 1111 1111 1111", "12/28", "12", "cvv_invalido"),
        ("4242 4242 4242 4242", "12/28", "123", "tarjeta_desconocida"),
    ],
)
def test_declined_cards_say_why(numero: str, vencimiento: str, cvv: str, codigo: str) -> None:
    proveedor = SandboxProveedor(secreto=b"s" * 32, hoy=HOY)
    with pytest.raises(TarjetaRechazada) as caught:
        proveedor.cobrar(pago_id="p1", monto=Decimal("5.00"), numero_tarjeta=numero, vencimiento=vencimiento, cvv=cvv)
    assert caught.value.code == codigo


def test_an_approved_charge_is_confirmed_by_a_signed_callback_that_cannot_be_forged() -> None:
    proveedor = SandboxProveedor(secreto=b"s" * 32, hoy=HOY)
    confirmacion = proveedor.cobrar(
        pago_id="p1", monto=Decimal("5.00"), numero_tarjeta="4111 1111 1111 1111", vencimiento="12/28", cvv="123"
    )
    body = proveedor.cuerpo_callback(confirmacion)
    assert proveedor.verificar_callback(body, proveedor.firmar(body)) == confirmacion
    with pytest.raises(CallbackInvalido):
        proveedor.verificar_callback(body.replace(b"5.00", b"0.01"), proveedor.firmar(body))
    with pytest.raises(CallbackInvalido):
        SandboxProveedor(secreto=b"x" * 32).verificar_callback(body, proveedor.firmar(body))


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    migrate(settings.effective_database_url)
    app = create_app(settings, rasa_transport=httpx.MockTransport(lambda r: httpx.Response(200, json=[])))
    with TestClient(app) as test_client:
        yield test_client


def new_payment(settings: Settings) -> tuple[str, str, int]:
    async def _create() -> tuple[str, str, int]:
        engine = create_engine(settings.effective_database_url)
        sessions = session_factory(engine)
        solicitudes = SolicitudesService(sessions=sessions, protector=protector_from(settings))
        solicitud = await solicitudes.crear(
            tramite="certificado_nacimiento", conversation_id="web:ana", cedula="1712345675", datos={}
        )
        pagos = build_pagos(settings, sessions)
        pago = await pagos.crear(solicitud.id, concepto="Certificado de nacimiento", monto=Decimal("5.00"), detalle={})
        await engine.dispose()
        return pago.id, pagos.url(pago.id), solicitud.id

    return asyncio.run(_create())


def notifications(settings: Settings) -> list[tuple[str, dict[str, object]]]:
    async def _read() -> list[tuple[str, dict[str, object]]]:
        engine = create_engine(settings.effective_database_url)
        async with session_factory(engine)() as session:
            rows = await repo.undelivered_notifications(session=session)
            found = [(n.plantilla, dict(n.valores)) for n in rows]
        await engine.dispose()
        return found

    return asyncio.run(_read())


def test_paying_on_the_page_confirms_the_payment_and_moves_the_application_on(
    client: TestClient, settings: Settings
) -> None:
    pago_id, url, _ = new_payment(settings)
    path = url.removeprefix(settings.effective_public_base_url)
    token = path.split("t=")[1]
    page = client.get(path)
    assert page.status_code == 200
    assert "USD 5.00" in page.text and "4111 1111 1111 1111" in page.text  # documented test cards

    declined = client.post(
        f"/pagos/{pago_id}", data={"t": token, "numero": "4000 0000 0000 0002", "vencimiento": "12/29", "cvv": "123"}
    )
    assert declined.status_code == 422
    assert "fondos insuficientes" in declined.text

    paid = client.post(
        f"/pagos/{pago_id}",
        data={"t": token, "numero": "4111 1111 1111 1111", "vencimiento": "12/29", "cvv": "123"},
        follow_redirects=False,
    )
    assert paid.status_code == 303
    # The provider's callback arrives by HTTP; here the test delivers it like the provider would.
    proveedor = client.app.state.gateway.pagos.proveedor  # type: ignore[attr-defined]
    confirmacion = proveedor.cobrar(
        pago_id=pago_id, monto=Decimal("5.00"), numero_tarjeta="4111111111111111", vencimiento="12/29", cvv="123"
    )
    body = proveedor.cuerpo_callback(confirmacion)
    assert (
        client.post("/pagos/notificacion", content=body, headers={"X-Chasqui-Firma": "sha256=falsa"}).status_code == 403
    )
    assert (
        client.post(
            "/pagos/notificacion", content=body, headers={"X-Chasqui-Firma": proveedor.firmar(body)}
        ).status_code
        == 204
    )
    assert (
        client.post(
            "/pagos/notificacion", content=body, headers={"X-Chasqui-Firma": proveedor.firmar(body)}
        ).status_code
        == 204
    )
    result = client.get(f"/pagos/{pago_id}/resultado?t={token}")
    receipt = re.search(r"Recibo N\.º <strong>(R-\d{4}-[0-9A-F]{8})</strong>", result.text)
    assert receipt is not None
    assert [n[0] for n in notifications(settings)] == ["pago_confirmado"]  # once, despite two callbacks


def test_a_payment_link_without_its_token_is_not_found(client: TestClient, settings: Settings) -> None:
    pago_id, _, _ = new_payment(settings)
    assert client.get(f"/pagos/{pago_id}").status_code == 404
    assert client.get(f"/pagos/{pago_id}?t=0000").status_code == 404
