"""The generic form machinery with built trackers: only data fills a slot; interruptions are rejected to the
rules; «no sé» gets a hint; data given with the request is kept; a second request is offered at the end."""

from __future__ import annotations

from typing import Any

import pytest
from rasa_sdk.events import ActiveLoop, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.actions.forms import SlotKind, SlotSpec, Verdict, read_answer
from bot.actions.general import ActionAfirmar, ActionMalestar, ActionNegar
from bot.actions.tramites import begin, current_tramite, offer_next
from bot.tramites import registry
from bot.tramites.antecedentes_penales.actions import (
    MOTIVO,
    ActionIniciarAntecedentesPenales,
    ValidateAntecedentesPenalesForm,
    motivo_en_pedido,
)
from bot.tramites.registry import mentioned_tramites
from tests.actions.builders import bot, tracker, user
from tests.actions.conftest import World

FORM = "antecedentes_penales_form"
DOMAIN: dict[str, Any] = {
    "forms": {FORM: {"required_slots": ["motivo_consulta", "confirmar_antecedentes"]}},
    "slots": {"motivo_consulta": {"mappings": [{"type": "custom"}]}},
}
TEXT = SlotSpec(SlotKind.TEXT, hint="antecedentes_motivo_ayuda", accepts=MOTIVO)
CONFIRM = SlotSpec(SlotKind.CONFIRM, hint="confirmar_si_o_no")


def said(dispatcher: CollectingDispatcher) -> list[Any]:
    return [m.get("plantilla") or m.get("custom") for m in dispatcher.messages]


def asking(slot: str, *events: dict[str, Any], sender_id: str = "web:prueba") -> Any:
    return tracker(*events, slots={"requested_slot": slot}, active_loop=FORM, sender_id=sender_id)


@pytest.mark.parametrize(
    ("text", "intent", "spec", "verdict"),
    [
        ("¿y cuánto cuesta?", "preguntar_costo", TEXT, Verdict.INTERRUPTION),
        ("ya le dije", "quejarse", TEXT, Verdict.INTERRUPTION),
        ("¿y el de votación?", "solicitar_certificado_votacion", TEXT, Verdict.INTERRUPTION),
        ("pasenme con alguien que sepa", "hablar_con_agente", TEXT, Verdict.INTERRUPTION),
        ("para un trabajo nuevo", "informar", TEXT, Verdict.DATA),
        ("es para sacar la licencia en españa", "consultar_licencia", TEXT, Verdict.DATA),  # a reason, whatever intent
        ("me piden en la empresa de seguridad", "nlu_fallback", TEXT, Verdict.DATA),
        ("no se", "negar", TEXT, Verdict.NOT_DATA),
        ("viaje", "afirmar", TEXT, Verdict.DATA),  # the NLU's yes, but no word of it says yes
        ("ok", "afirmar", TEXT, Verdict.NOT_DATA),  # a yes is not a reason
        ("ya no", "negar", TEXT, Verdict.NOT_DATA),
        ("¿para qué es eso?", "nlu_fallback", TEXT, Verdict.INTERRUPTION),  # a question is never printed
        ("simón", "afirmar", CONFIRM, Verdict.DATA),
        ("no, es para un viaje", "negar", CONFIRM, Verdict.DATA),
        ("no tengo tarjeta", "preguntar_formas_pago", CONFIRM, Verdict.INTERRUPTION),
        ("¿es seguro pagar por aquí?", "preguntar_seguridad", CONFIRM, Verdict.INTERRUPTION),
        ("mmm", "nlu_fallback", CONFIRM, Verdict.NOT_DATA),
        ("dac_0123456789", "informar", SlotSpec(SlotKind.SECRET), Verdict.DATA),
        ("¿qué es el código dactilar?", "preguntar_tramite", SlotSpec(SlotKind.SECRET), Verdict.INTERRUPTION),
    ],
)
def test_a_message_is_read_by_its_intent_and_the_kind_of_slot(
    text: str, intent: str, spec: SlotSpec, verdict: Verdict
) -> None:
    assert read_answer(tracker(user(text, intent)), spec) is verdict


def test_an_entity_of_the_slot_is_data_whatever_the_intent() -> None:
    event = user("la matrícula de la PBX-4821", "consultar_matricula")
    event["parse_data"]["entities"] = [{"entity": "placa", "value": "PBX-4821"}]
    assert read_answer(tracker(event), SlotSpec(SlotKind.CHOICE, entity="placa")) is Verdict.DATA


async def test_a_question_at_the_reason_is_rejected_so_a_rule_answers_it() -> None:
    form = ValidateAntecedentesPenalesForm()
    events = await form.run(
        CollectingDispatcher(), asking("motivo_consulta", user("¿y cuánto cuesta?", "preguntar_costo")), DOMAIN
    )
    assert events == []  # nothing validated: Rasa's form rejects the turn


async def test_a_reason_fills_the_slot_and_is_validated() -> None:
    form = ValidateAntecedentesPenalesForm()
    t = asking("motivo_consulta", user("  para un   trabajo nuevo ", "informar"))
    events = await form.run(CollectingDispatcher(), t, DOMAIN)
    assert SlotSet("motivo_consulta", "para un trabajo nuevo") in events


async def test_not_data_gets_a_hint_and_the_same_question() -> None:
    dispatcher = CollectingDispatcher()
    events = await ValidateAntecedentesPenalesForm().run(
        dispatcher, asking("motivo_consulta", user("no sé", "negar")), DOMAIN
    )
    assert events == [SlotSet("motivo_consulta", None)]
    assert said(dispatcher) == ["antecedentes_motivo_ayuda"]


async def test_a_new_reason_at_the_summary_corrects_it_without_a_no() -> None:
    t = asking("confirmar_antecedentes", user("es para un viaje al exterior", "informar"))
    events = await ValidateAntecedentesPenalesForm().run(CollectingDispatcher(), t, DOMAIN)
    assert events == [
        SlotSet("motivo_consulta", "es para un viaje al exterior"),
        SlotSet("confirmar_antecedentes", None),
    ]


def test_a_reason_written_with_the_request_is_found() -> None:
    assert motivo_en_pedido("necesito el record policial para un trabajo nuevo") == "para un trabajo nuevo"
    assert motivo_en_pedido("quiero el récord policial") is None
    assert motivo_en_pedido("para que sirve el record?") is None
    assert motivo_en_pedido("/solicitar_antecedentes_penales") is None


async def test_the_reason_in_the_request_is_kept_for_the_form(world: World) -> None:
    await world.services.identidad.verify("web:maria", "1712345675", "V4443V4442")
    t = tracker(
        user("hola necesito el record policial para un trabajo nuevo", "solicitar_antecedentes_penales"),
        sender_id="web:maria",
    )
    events = await ActionIniciarAntecedentesPenales().run(CollectingDispatcher(), t, {})
    assert events == [
        SlotSet("tramite_actual", "antecedentes_penales"),
        SlotSet("identidad", "vigente"),
        SlotSet("motivo_consulta", "para un trabajo nuevo"),
    ]


def test_trámites_are_found_in_a_sentence_despite_typos() -> None:
    claves = [t.clave for t in mentioned_tramites("quiero el recor policial y tb el sertificado de votasion")]
    assert claves == ["antecedentes_penales", "certificado_votacion"]
    assert mentioned_tramites("quiero sacar el pasaporte") == []


@pytest.mark.parametrize(
    ("text", "claves"),
    [
        ("cuantos puntitos me quedan en la licencia pana", ["puntos_licencia"]),
        ("quiero ver los puntos de mi licencia de manejar", ["puntos_licencia"]),
        ("la licencia y los puntos", ["licencia", "puntos_licencia"]),
        ("los puntos y tambien la licencia", ["puntos_licencia", "licencia"]),
        ("cuanto debo de multa por no ir a votar?", ["certificado_votacion"]),
        ("deme pasando el papel de la policia para la chamba", ["antecedentes_penales"]),
        ("tengo multas de transito y la multa del cne", ["multas", "certificado_votacion"]),
    ],
)
def test_a_name_inside_another_trámites_name_is_not_a_second_request(text: str, claves: list[str]) -> None:
    assert [t.clave for t in mentioned_tramites(text)] == claves


def test_the_trámite_a_question_is_about() -> None:
    in_form = tracker(user("¿cuánto cuesta?", "preguntar_costo"), active_loop="certificado_nacimiento_form")
    assert current_tramite(in_form) == registry.by_clave("certificado_nacimiento")
    named = tracker(user("¿cuánto cuesta la licencia?", "preguntar_costo"), active_loop="certificado_nacimiento_form")
    assert current_tramite(named) == registry.by_clave("licencia")
    identity = tracker(
        user("¿es seguro?", "preguntar_seguridad"), slots={"tramite_pendiente": "multas"}, active_loop="identidad_form"
    )
    assert current_tramite(identity) == registry.by_clave("multas")


async def test_a_second_request_is_noted_and_offered_at_the_end(world: World) -> None:
    await world.services.identidad.verify("web:maria", "1712345675", "V4443V4442")
    request = user("quiero el record policial y tambien el certificado de votacion", "solicitar_antecedentes_penales")
    events = await begin(CollectingDispatcher(), tracker(request, sender_id="web:maria"), registry.TRAMITES[1])
    assert SlotSet("tramite_siguiente", "certificado_votacion") in events
    dispatcher = CollectingDispatcher()
    offered = offer_next(
        dispatcher, tracker(slots={"tramite_siguiente": "certificado_votacion"}), done="antecedentes_penales"
    )
    assert offered == [SlotSet("tramite_siguiente", None), SlotSet("oferta", "solicitar_certificado_votacion")]
    assert said(dispatcher) == ["ofrecer_siguiente"]


async def test_a_trámite_left_mid_form_is_paused_and_offered_again(world: World) -> None:
    await world.services.identidad.verify("web:maria", "1712345675", "V4443V4442")
    t = tracker(user("mejor quiero mi licencia", "consultar_licencia"), active_loop=FORM, sender_id="web:maria")
    dispatcher = CollectingDispatcher()
    events = await begin(dispatcher, t, registry.by_clave("licencia"))  # type: ignore[arg-type]
    assert SlotSet("tramite_en_pausa", "antecedentes_penales") in events
    assert said(dispatcher) == ["tramite_en_pausa"]


async def test_yes_takes_up_the_offer_just_made_and_only_that() -> None:
    offer = {"event": "slot", "name": "oferta", "value": "solicitar_certificado_votacion"}
    fresh = tracker(
        user("record", "solicitar_antecedentes_penales"),
        offer,
        bot("¿Seguimos?"),
        user("simon", "afirmar"),
        slots={"oferta": "solicitar_certificado_votacion"},
    )
    events = await ActionAfirmar().run(CollectingDispatcher(), fresh, {})
    injected = [e for e in events if e.get("event") == "user"]
    assert injected[0]["text"] == "/solicitar_certificado_votacion"
    assert injected[0]["parse_data"]["intent"]["name"] == "solicitar_certificado_votacion"
    stale = tracker(
        offer, user("gracias", "agradecer"), user("si", "afirmar"), slots={"oferta": "solicitar_certificado_votacion"}
    )
    dispatcher = CollectingDispatcher()
    assert await ActionAfirmar().run(dispatcher, stale, {}) == [SlotSet("oferta", None)]
    assert said(dispatcher) == ["en_que_ayudo"]
    dispatcher = CollectingDispatcher()
    await ActionNegar().run(dispatcher, fresh, {})
    assert said(dispatcher) == ["oferta_rechazada"]


async def test_frustration_gets_an_apology_then_a_person_and_an_insult_a_person_at_once() -> None:
    dispatcher = CollectingDispatcher()
    first = tracker(user("ya le dije", "quejarse"), active_loop=FORM)
    # One question at a time: the offer of a person is the question now; the form waits for the answer.
    assert await ActionMalestar().run(dispatcher, first, {}) == [
        SlotSet("oferta", "hablar_con_agente"),
        ActiveLoop(FORM),
        FollowupAction("action_listen"),
    ]
    assert said(dispatcher) == ["malestar_disculpa"]
    assert [b["payload"] for b in dispatcher.messages[0]["buttons"]] == ["/afirmar", "/negar"]
    dispatcher = CollectingDispatcher()
    again = tracker(user("ya le dije", "quejarse"), user("esto no sirve", "quejarse"), active_loop=FORM)
    events = await ActionMalestar().run(dispatcher, again, {})
    assert said(dispatcher) == ["malestar_persona", {"handoff": {"reason": "frustracion", "team": "general"}}]
    assert SlotSet("formulario_interrumpido", FORM) in events
    dispatcher = CollectingDispatcher()
    await ActionMalestar().run(dispatcher, tracker(user("bot inutil", "insultar")), {})
    assert said(dispatcher) == ["malestar_insulto", {"handoff": {"reason": "insulto", "team": "general"}}]


async def test_another_service_asked_as_an_addition_is_noted_and_the_form_goes_on() -> None:
    dispatcher = CollectingDispatcher()
    t = asking("motivo_consulta", user("y el de votacion? tambien lo necesito", "solicitar_certificado_votacion"))
    events = await ValidateAntecedentesPenalesForm().run(dispatcher, t, DOMAIN)
    assert events == [SlotSet("tramite_siguiente", "certificado_votacion"), SlotSet("motivo_consulta", None)]
    assert said(dispatcher) == ["tramite_anotado"]
    change = asking("motivo_consulta", user("mejor no, quiero es ver mi licencia", "consultar_licencia"))
    assert await ValidateAntecedentesPenalesForm().run(CollectingDispatcher(), change, DOMAIN) == []  # to the rules


async def test_inside_a_form_a_yes_to_the_offer_just_made_goes_to_the_rules() -> None:
    offer = {"event": "slot", "name": "oferta", "value": "hablar_con_agente"}
    t = tracker(
        user("esto no sirve", "quejarse"),
        offer,
        user("bueno", "afirmar"),
        slots={"requested_slot": "motivo_consulta", "oferta": "hablar_con_agente"},
        active_loop=FORM,
    )
    assert await ValidateAntecedentesPenalesForm().run(CollectingDispatcher(), t, DOMAIN) == []


async def test_a_yes_in_any_words_takes_the_offer() -> None:
    from bot.actions.questions import ActionResponderPregunta

    offer = {"event": "slot", "name": "oferta", "value": "consultar_puntos_licencia"}
    t = tracker(
        user("ninguna por ahora", "informar"),
        offer,
        bot("¿Seguimos con eso ahora?"),
        user("si, los puntos", "preguntar_tramite"),
        slots={"oferta": "consultar_puntos_licencia"},
    )
    events = await ActionResponderPregunta().run(CollectingDispatcher(), t, {})
    assert [e["text"] for e in events if e.get("event") == "user"] == ["/consultar_puntos_licencia"]


async def test_data_that_opens_with_ya_does_not_take_the_offer() -> None:
    from bot.actions.fallback import ActionNoEntendido

    offer = {"event": "slot", "name": "oferta", "value": "hablar_con_agente"}
    t = tracker(
        user("espere que le pregunto", "quejarse"),
        offer,
        bot("¿Quiere que le comunique con una persona de nuestro equipo?"),
        user("ya, dice que es para el tramite de la residencia en chile", "informar"),
        slots={"oferta": "hablar_con_agente"},
    )
    events = await ActionNoEntendido().run(CollectingDispatcher(), t, {})
    assert not [e for e in events if e.get("event") == "user"]  # not replayed as «/hablar_con_agente»


async def test_a_trámite_named_only_inside_another_ones_name_hands_over_to_it(world: World) -> None:
    multas = registry.by_clave("multas")
    assert multas is not None
    request = user("cuanto debo de multa por no votar?", "consultar_multas")
    events = await begin(CollectingDispatcher(), tracker(request), multas)
    [replayed] = [e for e in events if e.get("event") == "user"]
    assert replayed["parse_data"]["intent"]["name"] == "solicitar_certificado_votacion"


@pytest.mark.parametrize(
    ("text", "verdict"),
    [
        ("ya mijo, mandemelo nomas", Verdict.DATA),
        ("dale nomas", Verdict.DATA),
        ("ya, cancele nomas", Verdict.INTERRUPTION),
        ("ya no, dejelo asi", Verdict.INTERRUPTION),
        ("mejor otro dia", Verdict.INTERRUPTION),
    ],
)
def test_a_yes_the_nlu_read_as_cancel_confirms_unless_it_says_stop(text: str, verdict: Verdict) -> None:
    spec = SlotSpec(SlotKind.CONFIRM)
    assert read_answer(tracker(user(text, "cancelar")), spec) is verdict


@pytest.mark.parametrize(("text", "verdict"), [("trabajo", Verdict.DATA), ("para que sirve?", Verdict.INTERRUPTION)])
def test_a_one_word_reason_the_nlu_read_as_a_question_is_data(text: str, verdict: Verdict) -> None:
    spec = SlotSpec(SlotKind.TEXT)
    assert read_answer(tracker(user(text, "preguntar_tramite")), spec) is verdict


def unsure(text: str, *ranking: tuple[str, float]) -> dict[str, Any]:
    """A message the NLU was too unsure to name (``nlu_fallback``), with its ranking of real intents."""
    event = user(text, "nlu_fallback", 0.55)
    event["parse_data"]["intent_ranking"] = [{"name": "nlu_fallback", "confidence": 0.55}] + [
        {"name": name, "confidence": confidence} for name, confidence in ranking
    ]
    return event


async def test_an_unsure_no_or_cancel_at_a_summary_is_a_no_and_nothing_else_is() -> None:
    refused = asking("confirmar_antecedentes", unsure("no, ya no pago nada hoy", ("cancelar", 0.548), ("negar", 0.21)))
    assert read_answer(refused, CONFIRM) is Verdict.DATA
    form = ValidateAntecedentesPenalesForm()
    events = await form.get_extraction_events(CollectingDispatcher(), refused, DOMAIN)
    assert SlotSet("confirmar_antecedentes", False) in events

    for message in (
        unsure("no tengo plata ahorita, el otro mes le pago", ("preguntar_costo", 0.54), ("confirmar_pago", 0.07)),
        unsure("¿no será mejor cancelar?", ("cancelar", 0.5)),  # a question is never an answer
    ):
        t = asking("confirmar_antecedentes", message)
        assert read_answer(t, CONFIRM) is Verdict.NOT_DATA
        extracted = await form.get_extraction_events(CollectingDispatcher(), t, DOMAIN)
        assert not [e for e in extracted if e.get("name") == "confirmar_antecedentes"]

    # A yes the NLU was unsure of, with cancel as its best guess («ya mijo, mándemelo nomás»): still a yes.
    agreed = asking("confirmar_antecedentes", unsure("si mandelo nomas", ("cancelar", 0.5), ("afirmar", 0.3)))
    assert read_answer(agreed, CONFIRM) is Verdict.DATA
    extracted = await form.get_extraction_events(CollectingDispatcher(), agreed, DOMAIN)
    assert SlotSet("confirmar_antecedentes", True) in extracted
