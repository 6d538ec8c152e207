"""Certificado de votación: the CNE record at the form's start, a fined voter pays and the worker issues it,
an exempt voter gets it at once, a minor is not on the roll, the CNE down before and after confirming."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.actions.delivery import ActionConfirmarPago
from bot.storage import documents as documents_repo
from bot.storage import tramites as repo
from bot.storage.models import utcnow
from bot.tramites.certificado_votacion.actions import (
    ActionAskConfirmarVotacion,
    ActionIniciarCertificadoVotacion,
    ActionSolicitarCertificadoVotacion,
    ValidateCertificadoVotacionForm,
)
from bot.tramites.worker import retry_due
from tests.actions.builders import tracker, user
from tests.actions.conftest import World, sandbox_fallas

MULTADO, DACTILAR_MULTADO = "0104567896", "A1122E3344"  # GUAMAN TENESACA JUAN PABLO: 2 × 47.00
EXENTA, DACTILAR_EXENTA = "1722222229", "I2211V4433"  # CHICAIZA TOAPANTA ROSA ELVIRA: 65 or over
VOTO, DACTILAR_VOTO = "1712345675", "V4443V4442"  # ANDRADE CEVALLOS MARIA JOSE: voted
MENOR, DACTILAR_MENOR = "1723232326", "A2143E3412"  # SALAZAR VILLACIS MATEO SEBASTIAN: not on the roll
RESET = [SlotSet("confirmar_votacion", None), SlotSet("votacion_registro", None)]
END = [SlotSet("votacion_registro", None), SlotSet("confirmar_votacion", None), SlotSet("requested_slot", None)]


def said(dispatcher: CollectingDispatcher) -> list[Any]:
    return [m.get("plantilla") or m.get("custom") for m in dispatcher.messages]


def registro(situacion: str, multa: str, *rondas: tuple[str, str, str | None, str | None]) -> dict[str, Any]:
    """The slot value for the 2025 rounds: (estado, motivo, multa) per round."""
    fechas = {"primera": "2025-02-09", "segunda": "2025-04-13"}
    return {
        "situacion": situacion,
        "proceso": "Elecciones Generales 2025",
        "multa": multa,
        "rondas": [
            {
                "vuelta": vuelta,
                "fecha": fechas[vuelta],
                "estado": estado,
                "motivo": motivo,
                "multa": valor,
                "pagada": False,
            }
            for vuelta, estado, motivo, valor in rondas
        ],
    }


MULTA = registro("multa", "94.00", ("primera", "multa", None, "47.00"), ("segunda", "multa", None, "47.00"))
EXENTO = registro(
    "exento", "0.00", ("primera", "exento", "edad_65_o_mas", None), ("segunda", "exento", "edad_65_o_mas", None)
)
SUFRAGO = registro("sufrago", "0.00", ("primera", "sufrago", None, None), ("segunda", "sufrago", None, None))


async def _activate(world: World, sender: str, cedula: str, dactilar: str) -> tuple[list[Any], CollectingDispatcher]:
    await world.services.identidad.verify(sender, cedula, dactilar)
    dispatcher = CollectingDispatcher()
    events = await ValidateCertificadoVotacionForm().run(dispatcher, tracker(sender_id=sender), {})
    return events, dispatcher


async def test_without_identity_the_identity_step_comes_first(world: World) -> None:
    dispatcher = CollectingDispatcher()
    events = await ActionIniciarCertificadoVotacion().run(dispatcher, tracker(sender_id="web:nueva"), {})
    assert events == [
        SlotSet("tramite_actual", "certificado_votacion"),
        SlotSet("identidad", "requerida"),
        SlotSet("tramite_pendiente", "certificado_votacion"),
    ]
    assert said(dispatcher) == ["identidad_necesaria"]


async def test_the_form_starts_with_the_cne_record_and_asks_to_confirm(world: World) -> None:
    events, dispatcher = await _activate(world, "web:maria", VOTO, DACTILAR_VOTO)
    assert events == [
        SlotSet("votacion_registro", SUFRAGO),
        SlotSet("confirmar_votacion", None),
        SlotSet("requested_slot", "confirmar_votacion"),
    ]
    assert said(dispatcher) == []
    dispatcher = CollectingDispatcher()
    await ActionAskConfirmarVotacion().run(dispatcher, tracker(slots={"votacion_registro": SUFRAGO}), {})
    assert said(dispatcher) == ["votacion_resumen_sufrago"]
    assert dispatcher.messages[0]["text"] == (
        "Según el CNE, en las Elecciones Generales 2025:\n"
        "• Primera vuelta (09/02/2025): votó.\n"
        "• Segunda vuelta (13/04/2025): votó.\n"
        "Puedo enviarle su certificado de votación firmado, en PDF y como imagen. Es gratuito. ¿Se lo envío?"
    )


async def test_a_minor_is_told_he_is_not_on_the_roll_and_the_form_ends(world: World) -> None:
    events, dispatcher = await _activate(world, "web:mateo", MENOR, DACTILAR_MENOR)
    assert events == END
    assert said(dispatcher) == ["votacion_no_empadronado"]
    assert dispatcher.messages[0]["text"].startswith("Usted no consta en el padrón electoral de las últimas elecciones")


async def test_the_cne_down_at_the_start_is_an_apology_with_a_retry(world: World) -> None:
    await sandbox_fallas(world, institucion="cne", caida=True)
    events, dispatcher = await _activate(world, "web:maria", VOTO, DACTILAR_VOTO)
    assert events == END
    assert said(dispatcher) == ["votacion_no_disponible"]
    assert [b["payload"] for b in dispatcher.messages[0]["buttons"]] == [
        "/solicitar_certificado_votacion",
        "/hablar_con_agente",
    ]


async def test_the_answer_at_the_summary() -> None:
    form = ValidateCertificadoVotacionForm()
    assert await form.validate_confirmar_votacion(True, CollectingDispatcher(), tracker(), {}) == {
        "confirmar_votacion": True
    }
    # The slot holds the NLU's reading («no gracias» → negar → False), never the text.
    assert await form.validate_confirmar_votacion(False, CollectingDispatcher(), tracker(), {}) == {
        "confirmar_votacion": False
    }
    dispatcher = CollectingDispatcher()
    unclear = tracker(user("cuánto cuesta", "informar"))
    assert await form.validate_confirmar_votacion("cuánto cuesta", dispatcher, unclear, {}) == {
        "confirmar_votacion": None
    }
    assert said(dispatcher) == ["confirmar_si_o_no"]


async def test_saying_no_submits_nothing(world: World) -> None:
    await world.services.identidad.verify("web:maria", VOTO, DACTILAR_VOTO)
    dispatcher = CollectingDispatcher()
    t = tracker(slots={"votacion_registro": SUFRAGO, "confirmar_votacion": False}, sender_id="web:maria")
    assert await ActionSolicitarCertificadoVotacion().run(dispatcher, t, {}) == RESET
    assert said(dispatcher) == ["votacion_no_solicitado"]
    assert await world.services.solicitudes.de_ciudadano(VOTO) == []


async def test_an_exempt_voter_is_told_so_and_gets_the_certificate_showing_the_exemption(world: World) -> None:
    s = world.services
    events, _ = await _activate(world, "web:rosa", EXENTA, DACTILAR_EXENTA)
    assert events[0] == SlotSet("votacion_registro", EXENTO)
    dispatcher = CollectingDispatcher()
    await ActionAskConfirmarVotacion().run(dispatcher, tracker(slots={"votacion_registro": EXENTO}), {})
    assert said(dispatcher) == ["votacion_resumen_exento"]
    assert (
        "• Primera vuelta (09/02/2025): no votó; voto facultativo (por edad: 65 años o más)."
        in (dispatcher.messages[0]["text"])
    )
    assert "Como su voto era facultativo, no tiene multa." in dispatcher.messages[0]["text"]

    dispatcher = CollectingDispatcher()
    t = tracker(slots={"votacion_registro": EXENTO, "confirmar_votacion": True}, sender_id="web:rosa")
    assert await ActionSolicitarCertificadoVotacion().run(dispatcher, t, {}) == RESET
    [text, pdf, png] = dispatcher.messages
    assert text["plantilla"] == "votacion_emitido"
    assert (pdf["custom"]["document"]["kind"], png["custom"]["document"]["kind"]) == ("pdf", "png")
    [solicitud] = await s.solicitudes.de_ciudadano(EXENTA)
    assert (solicitud.tramite, solicitud.estado) == ("certificado_votacion", "emitida")
    assert [m.estado for m in await s.solicitudes.historial(solicitud.id)] == [
        "recibida",
        "en_proceso",
        "aprobada",
        "emitida",
    ]
    async with s.identidad._sessions() as session:
        document = await documents_repo.get_document(session=session, document_id=pdf["custom"]["document"]["id"])
    assert document is not None
    assert document.public_fields == {
        "proceso_electoral": "Elecciones Generales 2025",
        "estado": "Primera vuelta: exento, voto facultativo (por edad: 65 años o más); "
        "Segunda vuelta: exento, voto facultativo (por edad: 65 años o más)",
    }


async def test_a_fined_voter_sees_the_fine_pays_and_the_worker_issues_the_certificate(world: World) -> None:
    s = world.services
    events, _ = await _activate(world, "web:juan", MULTADO, DACTILAR_MULTADO)
    assert events[0] == SlotSet("votacion_registro", MULTA)
    dispatcher = CollectingDispatcher()
    await ActionAskConfirmarVotacion().run(dispatcher, tracker(slots={"votacion_registro": MULTA}), {})
    assert said(dispatcher) == ["votacion_resumen_multa"]
    summary = dispatcher.messages[0]
    assert "• Segunda vuelta (13/04/2025): no votó. Multa de USD 47.00." in summary["text"]
    assert "Tiene una multa de USD 94.00 por no votar (el 10 % del salario básico por cada vuelta)." in summary["text"]
    assert "o en persona en una delegación provincial del CNE" in summary["text"]
    assert [b["title"] for b in summary["buttons"]] == ["Sí, pagar USD 94.00", "Ahora no"]

    dispatcher = CollectingDispatcher()
    t = tracker(slots={"votacion_registro": MULTA, "confirmar_votacion": True}, sender_id="web:juan")
    assert await ActionSolicitarCertificadoVotacion().run(dispatcher, t, {}) == RESET
    assert said(dispatcher) == ["votacion_pagar"]
    assert (
        "Pague USD 94.00 con tarjeta en este enlace seguro: https://chasqui.prueba.ec/pagos/"
        in (dispatcher.messages[0]["text"])
    )
    [solicitud] = await s.solicitudes.de_ciudadano(MULTADO)
    assert (solicitud.estado, solicitud.datos) == (
        "pendiente_pago",
        {"proceso": "Elecciones Generales 2025", "multa": "94.00"},
    )
    [pago] = await s.pagos.de_solicitud(solicitud.id)
    assert (pago.concepto, pago.monto) == ("Multa electoral: Elecciones Generales 2025", Decimal("94.00"))

    assert await retry_due(s) == 0  # nothing happens before the payment
    confirmacion = s.pagos.proveedor.cobrar(
        pago_id=pago.id, monto=Decimal("94.00"), numero_tarjeta="4111111111111111", vencimiento="12/30", cvv="123"
    )
    assert (await s.pagos.confirmar(confirmacion)) is not None
    assert await retry_due(s) == 1
    [done] = await s.solicitudes.de_ciudadano(MULTADO)
    assert done.estado == "emitida"
    [document_id] = await s.solicitudes.documentos(done.id)
    async with s.identidad._sessions() as session:
        document = await documents_repo.get_document(session=session, document_id=document_id)
        notifications = [n.plantilla for n in await repo.undelivered_notifications(session=session)]
    assert document is not None
    assert document.public_fields["estado"] == (
        "Primera vuelta: no sufragó, multa pagada; Segunda vuelta: no sufragó, multa pagada"
    )
    assert notifications == ["pago_confirmado", "tramite_emitido_notificacion"]

    dispatcher = CollectingDispatcher()
    await ActionConfirmarPago().run(dispatcher, tracker(sender_id="web:juan"), {})
    assert said(dispatcher)[0] == "pago_y_documento_listos"
    assert [m["custom"]["document"]["kind"] for m in dispatcher.messages[1:]] == ["pdf", "png"]


async def test_the_cne_down_after_confirming_keeps_the_application_for_the_worker(world: World) -> None:
    s = world.services
    await s.identidad.verify("web:maria", VOTO, DACTILAR_VOTO)
    await sandbox_fallas(world, institucion="cne", caida=True)
    dispatcher = CollectingDispatcher()
    t = tracker(slots={"votacion_registro": SUFRAGO, "confirmar_votacion": True}, sender_id="web:maria")
    await ActionSolicitarCertificadoVotacion().run(dispatcher, t, {})
    assert said(dispatcher) == ["tramite_pendiente_registro"]
    assert dispatcher.messages[0]["text"].startswith("Disculpe, el CNE no responde en este momento.")
    [pending] = await s.solicitudes.de_ciudadano(VOTO)
    assert pending.estado == "en_proceso"

    await sandbox_fallas(world, institucion="cne", caida=False)
    s.solicitudes._clock = lambda: utcnow().replace(year=utcnow().year + 1)  # type: ignore[method-assign]
    assert await retry_due(s) == 1
    [done] = await s.solicitudes.de_ciudadano(VOTO)
    assert done.estado == "emitida"
