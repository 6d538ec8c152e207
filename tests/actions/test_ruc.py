"""RUC: the citizen's own record and the signed certificate, a suspended RUC, no RUC, the SRI down."""

from __future__ import annotations

from typing import Any

from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.tramites.ruc.actions import ActionConsultarRuc, mask_ruc
from tests.actions.builders import tracker
from tests.actions.conftest import World, sandbox_fallas

ACTIVO, DACTILAR_ACTIVO = "0711111112", "E2233V1144"  # ROMERO CALLE GABRIELA ALEJANDRA: two activities
SUSPENDIDO, DACTILAR_SUSPENDIDO = "1111111116", "A4411I2233"  # ARMIJOS OCHOA LUIS ALFREDO
SIN_RUC, DACTILAR_SIN_RUC = "0923456784", "E1333I1222"  # ZAMBRANO MENDOZA CARLOS ALBERTO
VIGENTE = [SlotSet("tramite_actual", "ruc"), SlotSet("identidad", "vigente")]


def said(dispatcher: CollectingDispatcher) -> list[Any]:
    return [m.get("plantilla") or m.get("custom", {}).get("document", {}).get("kind") for m in dispatcher.messages]


async def _consult(world: World, sender: str, cedula: str, dactilar: str, *events: dict[str, Any]) -> Any:
    await world.services.identidad.verify(sender, cedula, dactilar)
    dispatcher = CollectingDispatcher()
    assert await ActionConsultarRuc().run(dispatcher, tracker(*events, sender_id=sender), {}) == VIGENTE
    return dispatcher


def test_the_ruc_is_shown_with_the_cedula_inside_it_masked() -> None:
    assert mask_ruc("0711111112001") == "07******12001"


async def test_without_identity_the_identity_step_comes_first(world: World) -> None:
    dispatcher = CollectingDispatcher()
    events = await ActionConsultarRuc().run(dispatcher, tracker(sender_id="web:nueva"), {})
    assert events == [
        SlotSet("tramite_actual", "ruc"),
        SlotSet("identidad", "requerida"),
        SlotSet("tramite_pendiente", "ruc"),
    ]


async def test_an_active_ruc_with_its_activities_and_the_certificate(world: World) -> None:
    dispatcher = await _consult(world, "web:gabriela", ACTIVO, DACTILAR_ACTIVO)
    assert said(dispatcher) == ["ruc_datos", "ruc_certificado", "pdf", "png"]
    assert dispatcher.messages[0]["text"] == (
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
    assert "0711111112" not in " ".join(m.get("text") or "" for m in dispatcher.messages)
    assert dispatcher.messages[1]["text"].startswith("Le envío su certificado del RUC firmado, en PDF y como imagen.")
    summaries = await world.services.documents.issuer.of_holder(ACTIVO)
    assert [d.kind for d in summaries] == ["certificado_ruc"]
    assert await world.services.solicitudes.de_ciudadano(ACTIVO) == []  # a look-up: no application


async def test_a_suspended_ruc_is_explained(world: World) -> None:
    dispatcher = await _consult(world, "web:luis", SUSPENDIDO, DACTILAR_SUSPENDIDO)
    assert said(dispatcher) == ["ruc_datos", "ruc_suspendido", "ruc_certificado", "pdf", "png"]
    assert "• Estado: Suspendido" in dispatcher.messages[0]["text"]


async def test_no_ruc_says_how_to_get_one_and_what_is_not_confirmed(world: World) -> None:
    dispatcher = await _consult(world, "web:carlos", SIN_RUC, DACTILAR_SIN_RUC)
    assert said(dispatcher) == ["ruc_sin_ruc"]
    text = dispatcher.messages[0]["text"]
    assert text.startswith("El SRI no tiene un RUC a su nombre.")
    assert "según fuentes públicas (confírmelo con el SRI, porque puede cambiar)" in text
    assert "Costo: no encontramos un dato oficial. Parece ser gratuito, pero no está confirmado." in text


async def test_the_sri_down_is_an_apology_with_a_retry(world: World) -> None:
    await sandbox_fallas(world, institucion="sri", caida=True)
    dispatcher = await _consult(world, "web:gabriela", ACTIVO, DACTILAR_ACTIVO)
    assert said(dispatcher) == ["ruc_no_disponible"]
    assert [b["payload"] for b in dispatcher.messages[0]["buttons"]] == ["/consultar_ruc", "/hablar_con_agente"]


async def test_someone_elses_ruc_is_not_shown(world: World) -> None:
    reference = await world.typed("ruc", "1790012345001")
    message = {
        "event": "user",
        "text": f"consultar el ruc {reference}",
        "parse_data": {
            "intent": {"name": "consultar_ruc", "confidence": 0.9},
            "entities": [{"entity": "ruc", "value": reference}],
            "text": f"consultar el ruc {reference}",
        },
    }
    dispatcher = await _consult(world, "web:gabriela", ACTIVO, DACTILAR_ACTIVO, message)
    assert said(dispatcher) == ["ruc_solo_propio", "ruc_datos", "ruc_certificado", "pdf", "png"]

    own = await world.typed("ruc", "0711111112001")
    message["parse_data"]["entities"] = [{"entity": "ruc", "value": own}]  # type: ignore[index]
    dispatcher = await _consult(world, "web:gabriela", ACTIVO, DACTILAR_ACTIVO, message)
    assert said(dispatcher)[0] == "ruc_datos"
