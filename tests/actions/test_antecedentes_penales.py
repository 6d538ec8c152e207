"""Antecedentes penales: the reason, corrections at confirmation, issue, a record, the ministry down."""

from __future__ import annotations

import re
from typing import Any

import pytest
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.actions.forms import Verdict, read_answer
from bot.tramites.antecedentes_penales.actions import (
    ActionIniciarAntecedentesPenales,
    ActionSolicitarAntecedentesPenales,
    ValidateAntecedentesPenalesForm,
)
from tests.actions.builders import tracker, user
from tests.actions.conftest import World, sandbox_fallas

RESET = [SlotSet("motivo_consulta", None), SlotSet("confirmar_antecedentes", None)]


def said(dispatcher: CollectingDispatcher) -> list[Any]:
    return [m.get("plantilla") or m.get("custom") for m in dispatcher.messages]


async def test_without_identity_the_identity_step_comes_first(world: World) -> None:
    dispatcher = CollectingDispatcher()
    events = await ActionIniciarAntecedentesPenales().run(dispatcher, tracker(sender_id="web:nueva"), {})
    assert events == [
        SlotSet("tramite_actual", "antecedentes_penales"),
        SlotSet("identidad", "requerida"),
        SlotSet("tramite_pendiente", "antecedentes_penales"),
    ]


async def test_a_short_reason_is_refused_with_the_rule() -> None:
    dispatcher = CollectingDispatcher()
    form = ValidateAntecedentesPenalesForm()
    assert await form.validate_motivo_consulta("trabajo", dispatcher, tracker(), {}) == {"motivo_consulta": None}
    assert said(dispatcher) == ["antecedentes_motivo_corto"]
    ok = await form.validate_motivo_consulta("  para un   trabajo nuevo ", CollectingDispatcher(), tracker(), {})
    assert ok == {"motivo_consulta": "para un trabajo nuevo"}


async def test_a_correction_at_confirmation_replaces_the_reason_without_restarting() -> None:
    form = ValidateAntecedentesPenalesForm()
    t = tracker(user("no, es para un viaje al exterior", "negar"), slots={"motivo_consulta": "para un trabajo"})
    assert await form.validate_confirmar_antecedentes(False, CollectingDispatcher(), t, {}) == {
        "motivo_consulta": "para un viaje al exterior",
        "confirmar_antecedentes": None,
    }
    dispatcher = CollectingDispatcher()
    plain_no = tracker(user("no", "negar"), slots={"motivo_consulta": "para un trabajo"})
    assert await form.validate_confirmar_antecedentes(False, dispatcher, plain_no, {}) == {
        "motivo_consulta": None,
        "confirmar_antecedentes": None,
    }
    assert said(dispatcher) == ["antecedentes_corregir"]


async def _submit(world: World, sender: str, cedula: str, dactilar: str) -> CollectingDispatcher:
    await world.services.identidad.verify(sender, cedula, dactilar)
    dispatcher = CollectingDispatcher()
    t = tracker(slots={"motivo_consulta": "para un trabajo nuevo", "confirmar_antecedentes": True}, sender_id=sender)
    assert await ActionSolicitarAntecedentesPenales().run(dispatcher, t, {}) == RESET
    return dispatcher


async def test_the_certificate_is_issued_with_an_application_number_and_documents(world: World) -> None:
    dispatcher = await _submit(world, "web:maria", "1712345675", "V4443V4442")
    [text, pdf, png] = dispatcher.messages
    assert text["plantilla"] == "antecedentes_emitido"
    assert re.search(r"Su solicitud EC-\d{4}-\d{6} fue atendida: su certificado dice que NO registra", text["text"])
    assert (pdf["custom"]["document"]["kind"], png["custom"]["document"]["kind"]) == ("pdf", "png")
    [solicitud] = await world.services.solicitudes.de_ciudadano("1712345675")
    assert (solicitud.tramite, solicitud.estado) == ("antecedentes_penales", "emitida")
    history = [m.estado for m in await world.services.solicitudes.historial(solicitud.id)]
    assert history == ["recibida", "en_proceso", "aprobada", "emitida"]


async def test_a_citizen_with_a_record_is_told_so(world: World) -> None:
    dispatcher = await _submit(world, "web:wilson", "0922222229", "E4321A1234")
    assert said(dispatcher)[0] == "antecedentes_emitido_con_registro"


async def test_the_ministry_down_keeps_the_application_pending_for_a_retry(world: World) -> None:
    await world.services.identidad.verify("web:rosa", "1712345675", "V4443V4442")
    await sandbox_fallas(world, institucion="ministerio_interior", caida=True)
    dispatcher = CollectingDispatcher()
    t = tracker(
        slots={"motivo_consulta": "para un trabajo nuevo", "confirmar_antecedentes": True}, sender_id="web:rosa"
    )
    await ActionSolicitarAntecedentesPenales().run(dispatcher, t, {})
    assert said(dispatcher) == ["tramite_pendiente_registro"]
    assert "quedó registrada y la procesaremos apenas responda" in dispatcher.messages[0]["text"]
    [solicitud] = await world.services.solicitudes.de_ciudadano("1712345675")
    assert solicitud.estado == "en_proceso"


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("ya, dice que es para el tramite de la residencia en chile", "estado_tramite"),
        ("pa la chamba, es para un trabajo de bodeguero", "fuera_de_alcance"),
    ],
)
def test_a_reason_told_at_length_is_data_whatever_the_nlu_reads(text: str, intent: str) -> None:
    spec = ValidateAntecedentesPenalesForm.slots["motivo_consulta"]
    assert read_answer(tracker(user(text, intent)), spec) is Verdict.DATA
    assert read_answer(tracker(user("y eso para que es?", "preguntar_tramite")), spec) is not Verdict.DATA
