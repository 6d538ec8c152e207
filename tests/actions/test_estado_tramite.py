"""Estado de trámite: none, one or several applications, a number typed or given at the start, only the
citizen's own, and the details of each status (history, payment link, documents)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.documents.service import Holder
from bot.documents.templates import DocumentKind
from bot.storage.models_tramites import EstadoSolicitud
from bot.tramites.estado_tramite.actions import (
    ActionAskNumeroTramite,
    ActionIniciarEstadoTramite,
    ActionMostrarEstadoTramite,
    ValidateEstadoTramiteForm,
    numero_en,
)
from bot.tramites.solicitudes import Solicitud
from tests.actions.builders import tracker, user
from tests.actions.conftest import World
from tests.documents.builders import FIELDS

MARIA, DACTILAR = "1712345675", "V4443V4442"
OTRO = "0923456784"
SENDER = "web:maria"
END = [SlotSet("numero_tramite", None), SlotSet("requested_slot", None)]
RESET = [SlotSet("numero_tramite", None)]


def said(dispatcher: CollectingDispatcher) -> list[Any]:
    return [m.get("plantilla") or m.get("custom", {}).get("document", {}).get("kind") for m in dispatcher.messages]


async def _solicitud(world: World, tramite: str, *, cedula: str = MARIA) -> Solicitud:
    return await world.services.solicitudes.crear(
        tramite=tramite, conversation_id=SENDER, cedula=cedula, datos={"motivo": "para un trabajo nuevo"}
    )


async def _emitida(world: World) -> Solicitud:
    s = world.services
    solicitud = await _solicitud(world, "antecedentes_penales")
    await s.solicitudes.cambiar_estado(solicitud.id, EstadoSolicitud.EN_PROCESO)
    issued = await s.documents.issuer.issue(
        DocumentKind.CERTIFICADO_ANTECEDENTES_PENALES,
        Holder(cedula=MARIA, name="Andrade Cevallos Maria Jose"),
        FIELDS[DocumentKind.CERTIFICADO_ANTECEDENTES_PENALES],
    )
    await s.solicitudes.adjuntar_documento(solicitud.id, issued.id)
    return await s.solicitudes.cambiar_estado(solicitud.id, EstadoSolicitud.EMITIDA)


async def _por_pagar(world: World) -> Solicitud:
    solicitud = await _solicitud(world, "certificado_nacimiento")
    await world.services.pagos.crear(
        solicitud.id, concepto="Certificado de nacimiento", monto=Decimal("5.00"), detalle={}
    )
    return solicitud


async def _activate(*events: dict[str, Any], slots: dict[str, Any] | None = None) -> tuple[list[Any], Any]:
    dispatcher = CollectingDispatcher()
    result = await ValidateEstadoTramiteForm().run(dispatcher, tracker(*events, slots=slots, sender_id=SENDER), {})
    return result, dispatcher


def test_reading_an_application_number() -> None:
    assert numero_en("cómo va la ec 2026 000123?") == "EC-2026-000123"
    assert numero_en("EC-2026-000045") == "EC-2026-000045"
    assert numero_en("el trámite 458921") is None


async def test_without_identity_the_identity_step_comes_first(world: World) -> None:
    dispatcher = CollectingDispatcher()
    events = await ActionIniciarEstadoTramite().run(dispatcher, tracker(sender_id="web:nueva"), {})
    assert events == [
        SlotSet("tramite_actual", "estado_tramite"),
        SlotSet("identidad", "requerida"),
        SlotSet("tramite_pendiente", "estado_tramite"),
    ]


async def test_no_applications_is_said_and_the_form_ends(world: World) -> None:
    await world.services.identidad.verify(SENDER, MARIA, DACTILAR)
    await _solicitud(world, "antecedentes_penales", cedula=OTRO)  # someone else's
    events, dispatcher = await _activate()
    assert events == END
    assert said(dispatcher) == ["estado_tramite_sin_solicitudes"]


async def test_a_single_application_is_shown_at_once(world: World) -> None:
    await world.services.identidad.verify(SENDER, MARIA, DACTILAR)
    solicitud = await _solicitud(world, "antecedentes_penales")
    events, dispatcher = await _activate()
    assert events == [SlotSet("numero_tramite", solicitud.numero), SlotSet("requested_slot", None)]
    assert said(dispatcher) == []


async def test_a_number_in_the_first_message_is_shown_at_once_if_it_is_theirs(world: World) -> None:
    await world.services.identidad.verify(SENDER, MARIA, DACTILAR)
    mine = await _solicitud(world, "antecedentes_penales")
    await _solicitud(world, "certificado_votacion")
    other = await _solicitud(world, "antecedentes_penales", cedula=OTRO)
    events, _ = await _activate(slots={"numero_tramite": mine.numero})
    assert events == [SlotSet("numero_tramite", mine.numero), SlotSet("requested_slot", None)]
    events, dispatcher = await _activate(slots={"numero_tramite": other.numero})
    assert events == [SlotSet("numero_tramite", None), SlotSet("requested_slot", "numero_tramite")]
    assert said(dispatcher) == ["estado_tramite_no_encontrado"]


async def test_several_applications_are_listed_and_one_is_chosen(world: World) -> None:
    await world.services.identidad.verify(SENDER, MARIA, DACTILAR)
    first = await _solicitud(world, "antecedentes_penales")
    second = await _por_pagar(world)
    other = await _solicitud(world, "antecedentes_penales", cedula=OTRO)
    events, _ = await _activate()
    assert events == [SlotSet("numero_tramite", None), SlotSet("requested_slot", "numero_tramite")]

    dispatcher = CollectingDispatcher()
    await ActionAskNumeroTramite().run(dispatcher, tracker(sender_id=SENDER), {})
    assert said(dispatcher) == ["estado_tramite_lista"]
    lines = dispatcher.messages[0]["text"].split("\n")
    assert lines[1].startswith(f"1. {second.numero}, Certificado de nacimiento: Esperando el pago (último cambio: ")
    assert lines[2].startswith(f"2. {first.numero}, Certificado de antecedentes penales: Recibida (último cambio: ")
    assert [b["payload"] for b in dispatcher.messages[0]["buttons"]] == [second.numero, first.numero, "/agradecer"]

    form = ValidateEstadoTramiteForm()
    t = tracker(sender_id=SENDER)
    assert await form.validate_numero_tramite("2", CollectingDispatcher(), t, {}) == {"numero_tramite": first.numero}
    typed = first.numero.lower().replace("-", " ")
    assert await form.validate_numero_tramite(typed, CollectingDispatcher(), t, {}) == {"numero_tramite": first.numero}
    dispatcher = CollectingDispatcher()
    assert await form.validate_numero_tramite(other.numero, dispatcher, t, {}) == {"numero_tramite": None}
    assert said(dispatcher) == ["estado_tramite_no_encontrado"]
    dispatcher = CollectingDispatcher()
    assert await form.validate_numero_tramite("el de ayer", dispatcher, t, {}) == {"numero_tramite": None}
    assert said(dispatcher) == ["estado_tramite_no_entendido"]
    thanks = tracker(user("gracias", "agradecer"), sender_id=SENDER)
    assert await form.validate_numero_tramite("gracias", CollectingDispatcher(), thanks, {}) == {
        "numero_tramite": "ninguno"
    }


async def _show(numero: str) -> CollectingDispatcher:
    dispatcher = CollectingDispatcher()
    t = tracker(slots={"numero_tramite": numero}, sender_id=SENDER)
    assert await ActionMostrarEstadoTramite().run(dispatcher, t, {}) == RESET
    return dispatcher


async def test_an_application_waiting_for_its_payment_shows_the_link(world: World) -> None:
    await world.services.identidad.verify(SENDER, MARIA, DACTILAR)
    solicitud = await _por_pagar(world)
    dispatcher = await _show(solicitud.numero)
    assert said(dispatcher) == ["estado_tramite_detalle", "estado_tramite_pagar"]
    text = dispatcher.messages[0]["text"]
    assert text.startswith(f"Solicitud {solicitud.numero}: Certificado de nacimiento\nEstado: Esperando el pago\n")
    assert "\nHistorial:\n• " in text
    assert ": Recibida\n• " in text
    assert text.endswith("Pagos:\n• Certificado de nacimiento: USD 5.00, pendiente de pago.")
    assert "https://chasqui.prueba.ec/pagos/" in dispatcher.messages[1]["text"]


async def test_an_issued_application_lists_and_resends_its_document(world: World) -> None:
    await world.services.identidad.verify(SENDER, MARIA, DACTILAR)
    solicitud = await _emitida(world)
    dispatcher = await _show(solicitud.numero)
    assert said(dispatcher) == ["estado_tramite_detalle", "estado_tramite_documentos", "pdf", "png"]
    assert "Estado: Lista, documento emitido" in dispatcher.messages[0]["text"]
    assert (
        "Documentos:\n• Certificado de antecedentes penales. Código de verificación: "
        in (dispatcher.messages[0]["text"])
    )


async def test_in_process_and_rejected_applications_say_what_comes_next(world: World) -> None:
    s = world.services
    await s.identidad.verify(SENDER, MARIA, DACTILAR)
    solicitud = await _solicitud(world, "antecedentes_penales")
    await s.solicitudes.cambiar_estado(solicitud.id, EstadoSolicitud.EN_PROCESO)
    await s.solicitudes.reintentar_despues(solicitud.id, nota="ministerio_no_disponible")
    await s.solicitudes.cambiar_estado(solicitud.id, EstadoSolicitud.EN_PROCESO)  # the retry: shown once
    dispatcher = await _show(solicitud.numero)
    assert said(dispatcher) == ["estado_tramite_detalle", "estado_tramite_en_proceso"]
    assert [line.split(": ", 1)[1] for line in dispatcher.messages[0]["text"].split("\n") if line.startswith("• ")] == [
        "Recibida",
        "En proceso",
    ]
    await s.solicitudes.cambiar_estado(solicitud.id, EstadoSolicitud.RECHAZADA)
    assert said(await _show(solicitud.numero)) == ["estado_tramite_detalle", "estado_tramite_rechazada"]


async def test_someone_elses_number_is_never_shown(world: World) -> None:
    await world.services.identidad.verify(SENDER, MARIA, DACTILAR)
    other = await _solicitud(world, "antecedentes_penales", cedula=OTRO)
    assert said(await _show(other.numero)) == ["estado_tramite_no_encontrado"]
    assert said(await _show("ninguno")) == ["estado_tramite_fin"]
