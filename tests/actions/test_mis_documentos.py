"""Mis documentos: the list newest first, a choice by number, kind or "el último", resend with fresh links,
a share link, revoked and expired documents, no documents at all."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import select

from bot.documents.service import Holder, utcnow
from bot.documents.templates import DocumentKind
from bot.storage.models_documents import DocumentShareLink
from bot.tramites.mis_documentos.actions import (
    ActionAskDocumentoElegido,
    ActionEntregarMisDocumentos,
    ActionIniciarMisDocumentos,
    Eleccion,
    ValidateMisDocumentosForm,
    elegir,
)
from tests.actions.builders import tracker, user
from tests.actions.conftest import World
from tests.documents.builders import FIELDS

MARIA, DACTILAR = "1712345675", "V4443V4442"
SENDER = "web:maria"
END = [SlotSet("documento_elegido", None), SlotSet("requested_slot", None)]
RESET = [SlotSet("documento_elegido", None)]
KINDS = ["certificado_votacion", "certificado_ruc", "cedula_digital"]  # newest first, as issued below


def said(dispatcher: CollectingDispatcher) -> list[Any]:
    return [m.get("plantilla") or m.get("custom", {}).get("document", {}).get("kind") for m in dispatcher.messages]


async def _issue(world: World, kind: DocumentKind, days_ago: int) -> str:
    issued = await world.services.documents.issuer.issue(
        kind,
        Holder(cedula=MARIA, name="Andrade Cevallos Maria Jose"),
        FIELDS[kind],
        issued_at=utcnow() - timedelta(days=days_ago),
    )
    return issued.id


async def _three_documents(world: World) -> list[str]:
    """A cédula digital 60 days old, a RUC certificate 40 days old (expired: 30 days) and a voting certificate."""
    await world.services.identidad.verify(SENDER, MARIA, DACTILAR)
    oldest = await _issue(world, DocumentKind.CEDULA_DIGITAL, 60)
    expired = await _issue(world, DocumentKind.CERTIFICADO_RUC, 40)
    newest = await _issue(world, DocumentKind.CERTIFICADO_VOTACION, 1)
    return [newest, expired, oldest]


@pytest.mark.parametrize(
    ("texto", "eleccion"),
    [
        ("2", Eleccion("reenviar", 2)),
        ("reenvíeme el 3 por favor", Eleccion("reenviar", 3)),
        ("el tres", Eleccion("reenviar", 3)),
        ("compartir 1", Eleccion("compartir", 1)),
        ("quiero compartir el de votación", Eleccion("compartir", 1)),
        ("mándeme la cédula", Eleccion("reenviar", 3)),
        ("el último", Eleccion("reenviar", 1)),
        ("hola qué tal", None),
        ("compartir el 2 por 1 hora", Eleccion("compartir", 2, 60)),
        ("compártame por 24 horas el 3", Eleccion("compartir", 3, 1440)),  # 24 is the hours, 3 the document
        ("el de votación, compartir por un día", Eleccion("compartir", 1, 1440)),
        ("compartir 1 por media hora", Eleccion("compartir", 1, 60)),  # rounded up to an offered lifetime
        ("compartir 1 por 3 dias", Eleccion("compartir", 1, 1440)),  # never longer than 24 hours
        ("reenvíeme el 2 en 5 minutos", Eleccion("reenviar", 2)),  # a resend has no lifetime
    ],
)
def test_reading_the_choice(texto: str, eleccion: Eleccion | None) -> None:
    assert elegir(texto, KINDS) == eleccion


async def test_without_identity_the_identity_step_comes_first(world: World) -> None:
    dispatcher = CollectingDispatcher()
    events = await ActionIniciarMisDocumentos().run(dispatcher, tracker(sender_id="web:nueva"), {})
    assert events == [
        SlotSet("tramite_actual", "mis_documentos"),
        SlotSet("identidad", "requerida"),
        SlotSet("tramite_pendiente", "mis_documentos"),
    ]


async def test_no_documents_is_said_and_the_form_ends(world: World) -> None:
    await world.services.identidad.verify(SENDER, MARIA, DACTILAR)
    dispatcher = CollectingDispatcher()
    assert await ValidateMisDocumentosForm().run(dispatcher, tracker(sender_id=SENDER), {}) == END
    assert said(dispatcher) == ["mis_documentos_ninguno"]


async def test_the_list_is_numbered_newest_first_with_a_button_per_document(world: World) -> None:
    await _three_documents(world)
    dispatcher = CollectingDispatcher()
    assert await ValidateMisDocumentosForm().run(dispatcher, tracker(sender_id=SENDER), {}) == [
        SlotSet("documento_elegido", None),
        SlotSet("requested_slot", "documento_elegido"),
    ]
    dispatcher = CollectingDispatcher()
    await ActionAskDocumentoElegido().run(dispatcher, tracker(sender_id=SENDER), {})
    assert said(dispatcher) == ["mis_documentos_lista"]
    [message] = dispatcher.messages
    lines = message["text"].split("\n")
    assert lines[0] == "Estos son sus documentos, del más reciente al más antiguo:"
    assert lines[1].startswith("1. Certificado de votación: emitido el ")
    assert lines[2].startswith("2. Certificado de Registro Único de Contribuyentes (RUC): emitido el ")
    assert ", venció el " in lines[2]
    assert lines[3].startswith("3. Cédula de identidad digital: emitido el ")
    assert [b["payload"] for b in message["buttons"]] == ["1", "2", "3", "compartir 1", "/agradecer"]
    assert [b["title"] for b in message["buttons"]][:3] == ["Reenviar el 1", "Reenviar el 2", "Reenviar el 3"]


async def test_choices_are_validated_against_the_list(world: World) -> None:
    await _three_documents(world)
    form = ValidateMisDocumentosForm()
    t = tracker(sender_id=SENDER)
    assert await form.validate_documento_elegido("1", CollectingDispatcher(), t, {}) == {
        "documento_elegido": "reenviar:1"
    }
    assert await form.validate_documento_elegido("compartir el 2", CollectingDispatcher(), t, {}) == {
        "documento_elegido": "compartir:2"
    }
    dispatcher = CollectingDispatcher()
    assert await form.validate_documento_elegido("9", dispatcher, t, {}) == {"documento_elegido": None}
    assert said(dispatcher) == ["mis_documentos_numero_fuera"]
    dispatcher = CollectingDispatcher()
    assert await form.validate_documento_elegido("hola", dispatcher, t, {}) == {"documento_elegido": None}
    assert said(dispatcher) == ["mis_documentos_no_entendido"]
    thanks = tracker(user("/agradecer", "agradecer"), sender_id=SENDER)
    assert await form.validate_documento_elegido("/agradecer", CollectingDispatcher(), thanks, {}) == {
        "documento_elegido": "ninguno"
    }


async def _deliver(choice: str) -> CollectingDispatcher:
    dispatcher = CollectingDispatcher()
    t = tracker(slots={"documento_elegido": choice}, sender_id=SENDER)
    assert await ActionEntregarMisDocumentos().run(dispatcher, t, {}) == RESET
    return dispatcher


async def test_the_chosen_document_is_sent_again_with_fresh_links(world: World) -> None:
    [newest, _, _] = await _three_documents(world)
    dispatcher = await _deliver("reenviar:1")
    assert said(dispatcher) == ["mis_documentos_reenvio", "pdf", "png"]
    assert dispatcher.messages[0]["text"].startswith("Le envío de nuevo su Certificado de votación, emitido el ")
    assert dispatcher.messages[1]["custom"]["document"]["id"] == newest


async def test_an_expired_document_is_sent_with_a_warning(world: World) -> None:
    await _three_documents(world)
    dispatcher = await _deliver("reenviar:2")
    assert said(dispatcher) == ["mis_documentos_reenvio_vencido", "pdf", "png"]


async def test_a_share_link_says_how_long_it_lasts_and_offers_longer(world: World) -> None:
    await _three_documents(world)
    dispatcher = await _deliver("compartir:1")
    assert said(dispatcher) == ["mis_documentos_compartir"]
    text = dispatcher.messages[0]["text"]
    assert "https://chasqui.prueba.ec/compartido/" in text
    assert re.search(r"Funciona durante 10 minutos, hasta las \d\d:\d\d;", text)
    assert [(b["title"], b["payload"]) for b in dispatcher.messages[0]["buttons"]][:2] == [
        ("Que dure 1 hora", "compartir el 1 por 1 hora"),
        ("Que dure 24 horas", "compartir el 1 por 24 horas"),
    ]
    assert elegir(dispatcher.messages[0]["buttons"][1]["payload"], KINDS) == Eleccion("compartir", 1, 1440)
    longer = await _deliver("compartir:1:1440")
    text = longer.messages[0]["text"]
    assert re.search(r"Funciona durante 24 horas, hasta las \d\d:\d\d del \d\d/\d\d/\d{4};", text)
    assert not any(b["title"].startswith("Que dure") for b in longer.messages[0].get("buttons", []))
    async with world.services.identidad._sessions() as session:
        expiries = sorted((await session.scalars(select(DocumentShareLink.expires_at))).all())
    # 24 hours against the first link's 10 minutes
    assert timedelta(hours=23, minutes=49) < expiries[1] - expiries[0] <= timedelta(hours=23, minutes=50)


async def test_a_revoked_document_is_neither_sent_nor_shared(world: World) -> None:
    [_, _, oldest] = await _three_documents(world)
    await world.services.documents.issuer.revoke(oldest, reason="prueba", actor="consola")
    for choice in ("reenviar:3", "compartir:3"):
        dispatcher = await _deliver(choice)
        assert said(dispatcher) == ["mis_documentos_revocado"]


async def test_nothing_more(world: World) -> None:
    await world.services.identidad.verify(SENDER, MARIA, DACTILAR)
    assert said(await _deliver("ninguno")) == ["mis_documentos_fin"]
    assert said(await _deliver("")) == []


async def test_only_the_five_newest_are_listed(world: World) -> None:
    await world.services.identidad.verify(SENDER, MARIA, DACTILAR)
    for days_ago in range(7):
        await _issue(world, DocumentKind.CEDULA_DIGITAL, days_ago)
    dispatcher = CollectingDispatcher()
    await ActionAskDocumentoElegido().run(dispatcher, tracker(sender_id=SENDER), {})
    assert said(dispatcher) == ["mis_documentos_lista_parcial"]
    assert dispatcher.messages[0]["text"].startswith("Tiene 7 documentos. Estos son los 5 más recientes:")
    assert [b["payload"] for b in dispatcher.messages[0]["buttons"]] == [
        "1",
        "2",
        "3",
        "4",
        "5",
        "compartir 1",
        "/agradecer",
    ]
