"""General actions: exact messages (by template name) and exact events."""

from __future__ import annotations

from typing import Any

import pytest
from rasa_sdk import Tracker
from rasa_sdk.events import ActiveLoop, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.actions.fallback import ActionDatoSinTramite, ActionNoEntendido, unclear_streak
from bot.actions.general import ActionCancelar, ActionMalestar, ActionPedirAgente
from tests.actions.builders import action, bot, tracker, user


def _said(dispatcher: CollectingDispatcher) -> list[object]:
    return [m.get("plantilla") or m.get("custom") for m in dispatcher.messages]


async def test_first_unclear_message_asks_to_rephrase() -> None:
    dispatcher = CollectingDispatcher()
    t = tracker(user("hola", "saludar"), bot("¡Hola!"), user("xqwz", "nlu_fallback", 0.3))
    events = await ActionNoEntendido().run(dispatcher, t, {})
    assert events == []
    assert _said(dispatcher) == ["no_entendido"]
    assert dispatcher.messages[0]["buttons"] == [
        {"title": "Ver los servicios", "payload": "/ayuda"},
        {"title": "Hablar con una persona", "payload": "/hablar_con_agente"},
    ]


async def test_second_unclear_message_in_a_row_asks_for_a_person() -> None:
    dispatcher = CollectingDispatcher()
    t = tracker(
        user("xqwz", "nlu_fallback", 0.3),
        action("action_no_entendido"),
        bot("Disculpe"),
        user("ññññ", "nlu_fallback", 0.2),
    )
    events = await ActionNoEntendido().run(dispatcher, t, {})
    assert events == []
    assert _said(dispatcher) == [
        "no_entendido_pasa_a_persona",
        {"handoff": {"reason": "no_entendido", "team": "general"}},
    ]


async def test_an_understood_message_breaks_the_streak() -> None:
    t = tracker(user("xqwz", "nlu_fallback"), user("ayuda", "ayuda"), user("ññ", "nlu_fallback"))
    assert unclear_streak(t) == 1
    assert unclear_streak(tracker(user("hola", "saludar"))) == 0


async def test_asking_for_a_person_emits_the_handoff_payload() -> None:
    dispatcher = CollectingDispatcher()
    events = await ActionPedirAgente().run(dispatcher, tracker(user("un asesor", "hablar_con_agente")), {})
    assert events == [ActiveLoop(None)]
    assert _said(dispatcher) == [
        "agente_solicitado",
        {"handoff": {"reason": "pedido_ciudadano", "team": "general"}},
    ]


async def test_cancel_without_a_form_says_there_is_nothing_to_cancel() -> None:
    dispatcher = CollectingDispatcher()
    events = await ActionCancelar().run(dispatcher, tracker(user("cancelar", "cancelar")), {})
    assert events == [ActiveLoop(None)]
    assert _said(dispatcher) == ["nada_que_cancelar"]


async def test_cancel_in_a_form_deactivates_it_and_forgets_its_slots() -> None:
    dispatcher = CollectingDispatcher()
    domain = {"forms": {"multas_form": {"required_slots": ["placa", "confirmacion"]}}}
    t = tracker(user("cancelar", "cancelar"), active_loop="multas_form", slots={"placa": "PBX-4821"})
    events = await ActionCancelar().run(dispatcher, t, domain)
    assert events == [
        ActiveLoop(None),
        SlotSet("requested_slot", None),
        SlotSet("placa", None),
        SlotSet("confirmacion", None),
    ]
    assert _said(dispatcher) == ["tramite_cancelado"]


async def test_cancelling_the_deletion_question_says_nothing_was_deleted() -> None:
    dispatcher = CollectingDispatcher()
    domain = {"forms": {"borrado_form": {"required_slots": ["confirmar_borrado"]}}}
    t = tracker(user("no no, mejor déjelo así", "cancelar"), active_loop="borrado_form")
    events = await ActionCancelar().run(dispatcher, t, domain)
    assert events[:2] == [ActiveLoop(None), SlotSet("requested_slot", None)]
    assert _said(dispatcher) == ["borrar_cancelado"]


async def test_asking_for_a_person_mid_form_stops_the_form_and_remembers_it() -> None:
    dispatcher = CollectingDispatcher()
    t = tracker(user("un asesor", "hablar_con_agente"), active_loop="identidad_form")
    events = await ActionPedirAgente().run(dispatcher, t, {})
    assert events == [
        ActiveLoop(None),
        SlotSet("requested_slot", None),
        SlotSet("formulario_interrumpido", "identidad_form"),
    ]


async def test_an_annoyed_question_the_tramite_answers_is_answered_not_apologised_for() -> None:
    dispatcher = CollectingDispatcher()
    t = tracker(user("chuta y eso por que me bajaron?", "quejarse"), slots={"tramite_actual": "puntos_licencia"})
    events = await ActionMalestar().run(dispatcher, t, {})
    [replayed] = [e for e in events if e.get("event") == "user"]  # the message read again as a question
    assert dispatcher.messages == []
    assert replayed["parse_data"]["intent"]["name"] == "preguntar_tramite"


async def test_a_complaint_without_a_question_gets_the_apology() -> None:
    dispatcher = CollectingDispatcher()
    t = tracker(user("esto no sirve para nada", "quejarse"), slots={"tramite_actual": "puntos_licencia"})
    await ActionMalestar().run(dispatcher, t, {})
    assert _said(dispatcher) == ["malestar_disculpa"]


async def test_a_bare_identifier_the_nlu_did_not_understand_is_data_given_up_front() -> None:
    dispatcher = CollectingDispatcher()
    t = tracker(user("ced_ebb25cb1dd", "nlu_fallback"))
    events = await ActionNoEntendido().run(dispatcher, t, {})
    [replayed] = [e for e in events if e.get("event") == "user"]
    assert replayed["parse_data"]["intent"]["name"] == "informar" and dispatcher.messages == []
    other = CollectingDispatcher()
    await ActionNoEntendido().run(other, tracker(user("ced_ebb25cb1dd asdf qwer", "nlu_fallback")), {})
    assert _said(other) == ["no_entendido"]


async def test_a_complaint_that_asks_for_a_person_gets_one() -> None:
    dispatcher = CollectingDispatcher()
    text = "esto no sirve, yo quiero saber por que me quitaron puntos, paseme con alguien"
    t = tracker(user(text, "quejarse"), slots={"tramite_actual": "puntos_licencia"})
    await ActionMalestar().run(dispatcher, t, {})
    assert _said(dispatcher) == ["agente_solicitado", {"handoff": {"reason": "pedido_ciudadano", "team": "general"}}]


async def test_another_institutions_service_read_by_the_fallback_is_remembered_for_follow_ups() -> None:
    dispatcher = CollectingDispatcher()
    t = tracker(user("buenas, como hago para sacar el pasaporte por primera vez?", "nlu_fallback"))
    events = await ActionNoEntendido().run(dispatcher, t, {})
    assert dispatcher.messages[0]["plantilla"].startswith("otra_entidad:")
    assert SlotSet("tramite_actual", None) in events
    assert any(e.get("name") == "entidad_actual" and e.get("value") for e in events)


def _with_relative(text: str, familiar: str, **kwargs: Any) -> Tracker:
    event = user(text, "nlu_fallback", 0.3)
    event["parse_data"]["entities"] = [{"entity": "parentesco", "value": familiar}]
    return tracker(event, **kwargs)


@pytest.mark.parametrize(
    ("actual", "plantilla"), [("matricula", "matricula_de_un_familiar"), ("licencia", "tramite_solo_del_titular")]
)
async def test_a_relatives_vehicle_or_licence_after_the_trámite_is_explained(actual: str, plantilla: str) -> None:
    dispatcher = CollectingDispatcher()
    t = _with_relative("es que esta a nombre de mi papa", "padre", slots={"tramite_actual": actual})
    assert await ActionNoEntendido().run(dispatcher, t, {}) == []
    assert [m.get("plantilla") for m in dispatcher.messages] == [plantilla]


async def test_a_relative_the_trámite_allows_is_not_refused() -> None:
    dispatcher = CollectingDispatcher()
    t = _with_relative("es de mi hijo", "hijo", slots={"tramite_actual": "certificado_nacimiento"})
    await ActionNoEntendido().run(dispatcher, t, {})
    assert "tramite_solo_del_titular" not in [m.get("plantilla") for m in dispatcher.messages]


async def test_a_request_put_as_a_question_the_nlu_missed_starts_the_trámite() -> None:
    t = tracker(user("y el record policial si me pueden dar aqui?", "nlu_fallback", 0.3))
    events = await ActionNoEntendido().run(CollectingDispatcher(), t, {})
    [replayed] = [e for e in events if e.get("event") == "user"]
    assert replayed["parse_data"]["intent"]["name"] == "solicitar_antecedentes_penales"


async def test_a_yes_after_the_payment_link_is_acknowledged() -> None:
    dispatcher = CollectingDispatcher()
    link = bot("Pague USD 5.00 con tarjeta en este enlace seguro: http://x/pagos/ab12?t=cd")
    assert (
        await ActionNoEntendido().run(dispatcher, tracker(link, user("de ley ahorita pago", "nlu_fallback", 0.3)), {})
        == []
    )
    assert [m.get("plantilla") for m in dispatcher.messages] == ["pago_le_espero"]


async def test_a_question_about_ones_own_with_the_identifiers_starts_the_trámite() -> None:
    # «¿se me venció el brevete? cédula … código …»: the NLU torn between a question and the licence; the data
    # given is the citizen's own, so the licence is looked up (the identity form reads the data given).
    event = user("se me vencio el brevete? cedula ced_0123456789 cod dac_0123456789", "nlu_fallback", 0.4)
    event["parse_data"]["entities"] = [
        {"entity": "cedula", "value": "ced_0123456789"},
        {"entity": "codigo_dactilar", "value": "dac_0123456789"},
    ]
    events = await ActionNoEntendido().run(CollectingDispatcher(), tracker(event), {})
    [replayed] = [e for e in events if e.get("event") == "user"]
    assert replayed["parse_data"]["intent"]["name"] == "consultar_licencia"
    assert [e["entity"] for e in replayed["parse_data"]["entities"]] == ["cedula", "codigo_dactilar"]

    # The same question without any data stays a question.
    dispatcher = CollectingDispatcher()
    t = tracker(user("se me vencio el brevete?", "nlu_fallback", 0.4))
    assert not [e for e in await ActionNoEntendido().run(dispatcher, t, {}) if e.get("event") == "user"]


async def test_a_relative_read_as_data_after_the_trámite_is_explained_too() -> None:
    event = user("es que la moto esta a nombre de mi papa", "informar", 0.99)
    event["parse_data"]["entities"] = [{"entity": "parentesco", "value": "padre"}]
    dispatcher = CollectingDispatcher()
    assert await ActionDatoSinTramite().run(dispatcher, tracker(event, slots={"tramite_actual": "matricula"}), {}) == []
    assert [m.get("plantilla") for m in dispatcher.messages] == ["matricula_de_un_familiar"]

    plain = CollectingDispatcher()
    await ActionDatoSinTramite().run(plain, tracker(user("0998877665", "informar")), {})
    assert [m.get("plantilla") for m in plain.messages] == ["dato_sin_tramite"]
