"""Certificado de nacimiento: for the citizen or a minor child, the USD 5 payment, issue after payment."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.actions.delivery import ActionConfirmarPago
from bot.storage import tramites as repo
from bot.tramites.certificado_nacimiento.actions import (
    ActionAskNacimientoPara,
    ActionSolicitarCertificadoNacimiento,
    ValidateCertificadoNacimientoForm,
)
from bot.tramites.worker import retry_due
from tests.actions.builders import tracker
from tests.actions.conftest import World

MADRE, DACTILAR_MADRE = "1733333338", "V3322I4411"  # SALAZAR VILLACIS ANDREA CAROLINA, son MATEO SEBASTIAN


def said(dispatcher: CollectingDispatcher) -> list[Any]:
    return [m.get("plantilla") or m.get("custom") for m in dispatcher.messages]


async def test_the_options_name_the_minor_children(world: World) -> None:
    await world.services.identidad.verify("web:andrea", MADRE, DACTILAR_MADRE)
    dispatcher = CollectingDispatcher()
    await ActionAskNacimientoPara().run(dispatcher, tracker(sender_id="web:andrea"), {})
    assert said(dispatcher) == ["nacimiento_para_quien"]
    assert dispatcher.messages[0]["buttons"] == [
        {"title": "Para mí", "payload": "para mí"},
        {"title": "Para Mateo Sebastián", "payload": "para Mateo Sebastián"},
    ]
    form = ValidateCertificadoNacimientoForm()
    t = tracker(sender_id="web:andrea")
    assert await form.validate_nacimiento_para("para mateo", CollectingDispatcher(), t, {}) == {
        "nacimiento_para": "hijo:0"
    }
    assert await form.validate_nacimiento_para("para mí", CollectingDispatcher(), t, {}) == {
        "nacimiento_para": "propio"
    }
    dispatcher = CollectingDispatcher()
    assert await form.validate_nacimiento_para("para el vecino", dispatcher, t, {}) == {"nacimiento_para": None}
    assert said(dispatcher) == ["nacimiento_para_no_entendido"]


async def test_pay_then_the_worker_issues_the_childs_certificate_and_notifies(world: World) -> None:
    s = world.services
    await s.identidad.verify("web:andrea", MADRE, DACTILAR_MADRE)
    dispatcher = CollectingDispatcher()
    t = tracker(slots={"nacimiento_para": "hijo:0", "confirmar_nacimiento": True}, sender_id="web:andrea")
    events = await ActionSolicitarCertificadoNacimiento().run(dispatcher, t, {})
    assert events == [SlotSet("nacimiento_para", None), SlotSet("confirmar_nacimiento", None)]
    assert said(dispatcher) == ["nacimiento_pagar"]
    assert (
        "pague USD 5.00 con tarjeta en este enlace seguro: https://chasqui.prueba.ec/pagos/"
        in dispatcher.messages[0]["text"]
    )
    [solicitud] = await s.solicitudes.de_ciudadano(MADRE)
    assert solicitud.estado == "pendiente_pago"

    dispatcher = CollectingDispatcher()
    await ActionConfirmarPago().run(dispatcher, tracker(sender_id="web:andrea"), {})
    assert said(dispatcher) == ["pago_pendiente"]

    [pago] = await s.pagos.de_solicitud(solicitud.id)
    confirmacion = s.pagos.proveedor.cobrar(
        pago_id=pago.id, monto=Decimal("5.00"), numero_tarjeta="4111111111111111", vencimiento="12/30", cvv="123"
    )
    assert (await s.pagos.confirmar(confirmacion)) is not None
    assert await retry_due(s) == 1
    [done] = await s.solicitudes.de_ciudadano(MADRE)
    assert done.estado == "emitida"
    [document_id] = await s.solicitudes.documentos(done.id)
    summaries = await s.documents.issuer.of_holder("1723232326")  # the child's certificate
    assert [d.id for d in summaries] == [document_id]

    async with s.identidad._sessions() as session:
        notifications = [(n.plantilla, n.valores) for n in await repo.undelivered_notifications(session=session)]
    assert notifications == [
        ("pago_confirmado", {"numero": done.numero, "recibo": notifications[0][1]["recibo"], "monto": "5.00"}),
        ("tramite_emitido_notificacion", {"numero": done.numero, "documentos": [document_id]}),
    ]

    dispatcher = CollectingDispatcher()
    await ActionConfirmarPago().run(dispatcher, tracker(sender_id="web:andrea"), {})
    assert said(dispatcher)[0] == "pago_y_documento_listos"
    assert [m["custom"]["document"]["kind"] for m in dispatcher.messages[1:]] == ["pdf", "png"]
