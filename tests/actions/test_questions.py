"""Side questions answered from the trámites' declarations, the FAQ, the directory of other institutions,
delivery problems, and the partida for relatives (the rule said, never a document for the wrong person)."""

from __future__ import annotations

from typing import Any

import pytest
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.actions.delivery import ActionConfirmarPago
from bot.actions.directory import ActionOtraEntidad
from bot.actions.fallback import ActionNoEntendido
from bot.actions.questions import ActionResponderPregunta, best_answer, directory
from bot.documents.service import Holder
from bot.documents.templates import DocumentKind
from bot.tramites import registry
from bot.tramites.certificado_nacimiento.actions import ValidateCertificadoNacimientoForm
from tests.actions.builders import tracker, user
from tests.actions.conftest import World
from tests.documents.builders import FIELDS


async def ask(text: str, intent: str, **kwargs: Any) -> list[dict[str, Any]]:
    dispatcher = CollectingDispatcher()
    events = await ActionResponderPregunta().run(dispatcher, tracker(user(text, intent), **kwargs), {})
    assert all(e.get("event") == "slot" for e in events), events  # an answer, never a replay
    return dispatcher.messages


async def test_the_cost_inside_a_form_comes_from_the_declaration_without_buttons() -> None:
    [message] = await ask("¿y cuánto cuesta?", "preguntar_costo", active_loop="certificado_nacimiento_form")
    assert message["plantilla"] == "pregunta_costo_pago"
    assert "USD 5.00" in message["text"]
    assert message["buttons"] == []  # the form's question follows with its own buttons


async def test_a_free_service_says_so() -> None:
    [message] = await ask("eso cuesta algo?", "preguntar_costo", active_loop="antecedentes_penales_form")
    assert message["plantilla"] == "pregunta_costo_gratis"
    assert "gratis" in message["text"]


async def test_the_trámite_named_in_the_question_wins() -> None:
    [message] = await ask("cuanto cuesta la partida de nacimiento", "preguntar_costo")
    assert "USD 5.00" in message["text"]


async def test_without_a_trámite_the_cost_of_everything_that_costs() -> None:
    [message] = await ask("cuanto cobran", "preguntar_costo")
    assert message["plantilla"] == "pregunta_costo_todos"
    assert "Certificado de nacimiento: USD 5.00" in message["text"]


async def test_safety_and_payment_without_a_trámite() -> None:
    [safety] = await ask("esto es seguro?", "preguntar_seguridad")
    assert "código dactilar" in safety["text"] and "No se guarda" in safety["text"]
    [payment] = await ask("no tengo tarjeta", "preguntar_formas_pago", active_loop="certificado_nacimiento_form")
    assert "Si no tiene tarjeta" in payment["text"]


@pytest.mark.parametrize(
    ("text", "kwargs"),
    [
        ("es seguro este link? https://sri-devoluciones.com/pago", {"active_loop": "certificado_nacimiento_form"}),
        ("me llego un mensaje del registro civil pidiendo mi codigo, es seguro?", {}),
    ],
    ids=["a link, even in a form", "a message received, outside a form"],
)
async def test_safety_of_something_received_is_a_message_to_check(text: str, kwargs: dict[str, Any]) -> None:
    dispatcher = CollectingDispatcher()
    events = await ActionResponderPregunta().run(dispatcher, tracker(user(text, "preguntar_seguridad"), **kwargs), {})
    assert dispatcher.messages == []
    assert events[-1]["parse_data"]["intent"]["name"] == "verificar_mensaje"


async def test_safety_of_something_received_in_a_form_without_a_link_is_answered_here() -> None:
    # The check would send it back (nothing to check, a form under way): answered here, never back and forth.
    [message] = await ask("me llego un mensaje, es seguro?", "preguntar_seguridad", active_loop="licencia_form")
    assert "Chasqui es el asistente oficial" in message["text"]


async def test_a_particular_question_gets_the_declared_answer() -> None:
    [message] = await ask("como hago para recuperar mis puntos", "preguntar_tramite", active_loop="identidad_form",
                          slots={"tramite_pendiente": "puntos_licencia"})  # fmt: skip
    assert message["plantilla"].startswith("pregunta:puntos_licencia:")


def test_every_declared_example_finds_its_own_answer() -> None:
    for tramite in registry.TRAMITES:
        for pregunta in tramite.preguntas:
            for ejemplo in pregunta.ejemplos:
                found = best_answer(ejemplo, (tramite,))
                assert found is not None and found[1].tema == pregunta.tema, (tramite.clave, ejemplo)


async def test_an_unknown_question_is_admitted_with_where_to_ask() -> None:
    [message] = await ask("se puede pagar con bitcoin la papeleta azul", "preguntar_tramite",
                          active_loop="certificado_votacion_form")  # fmt: skip
    assert message["plantilla"] in ("pregunta_sin_respuesta",) or message["plantilla"].startswith("pregunta:")


async def test_other_institutions_are_answered_in_one_message_never_a_form() -> None:
    for text, site_or_name in (
        ("quiero sacar el pasaporte", "Registro Civil"),
        ("como me afilio al iess", "IESS"),
        ("necesito hacer la declaracion del impuesto a la renta", "SRI"),
    ):
        dispatcher = CollectingDispatcher()
        events = await ActionOtraEntidad().run(dispatcher, tracker(user(text, "consultar_otra_entidad")), {})
        assert SlotSet("tramite_actual", None) in events or events == []
        [message] = dispatcher.messages
        assert message["plantilla"].startswith("otra_entidad"), text
        assert message["plantilla"] != "otra_entidad_desconocida", text
        assert site_or_name in message["text"], text


def test_the_directory_prefers_the_longest_phrase() -> None:
    found = directory().find("quiero hacer mi declaracion de impuesto a la renta")
    assert found is not None and found.institucion.clave == "sri"


async def test_nothing_to_deliver_says_where_to_look(world: World) -> None:
    dispatcher = CollectingDispatcher()
    await ActionConfirmarPago().run(
        dispatcher, tracker(user("no me llega", "problema_entrega"), sender_id="web:nadie"), {}
    )
    assert [m["plantilla"] for m in dispatcher.messages] == ["entrega_sin_identidad"]


async def test_a_document_from_a_look_up_is_resent_when_it_does_not_open(world: World) -> None:
    await world.services.identidad.verify("web:maria", "1712345675", "V4443V4442")
    holder = Holder(cedula="1712345675", name="María José Andrade Cevallos")
    issued = await world.services.documents.issuer.issue(DocumentKind.CEDULA_DIGITAL, holder, FIELDS["cedula_digital"])
    dispatcher = CollectingDispatcher()
    t = tracker(user("el pdf no me abre, me la manda en foto?", "problema_entrega"), sender_id="web:maria")
    await ActionConfirmarPago().run(dispatcher, t, {})
    said = [m.get("plantilla") or m["custom"]["document"]["kind"] for m in dispatcher.messages]
    assert said == ["entrega_reenvio_documento", "pdf", "png", "entrega_como_abrir"]
    assert dispatcher.messages[0]["text"] == "Le envío de nuevo su Cédula de identidad digital."
    assert dispatcher.messages[1]["custom"]["document"]["id"] == issued.id


async def test_how_the_document_of_the_form_in_progress_arrives_is_a_question_not_a_complaint() -> None:
    # «¿me llega al correo?» read as a delivery problem while the récord is being asked for: nothing of this
    # trámite was issued yet, so it is the side question (answered, then the form asks again), never a resend.
    t = tracker(
        user("y ese certificado me llega al correo o por aqui mismo?", "problema_entrega"),
        slots={"requested_slot": "motivo_consulta"},
        active_loop="antecedentes_penales_form",
    )
    dispatcher = CollectingDispatcher()
    events = await ActionConfirmarPago().run(dispatcher, t, {})
    [user_event] = [e for e in events if e.get("event") == "user"]
    assert user_event["parse_data"]["intent"]["name"] == "preguntar_tramite" and dispatcher.messages == []
    answered = CollectingDispatcher()
    await ActionResponderPregunta().run(answered, tracker(user(user_event["text"], "preguntar_tramite")), {})
    assert answered.messages[0]["text"].startswith("Le llega por este mismo chat")


async def partida_para(world: World, text: str, intent: str = "informar", **entities: str) -> tuple[Any, list[str]]:
    await world.services.identidad.verify("web:andrea", "1733333338", "V3322I4411")
    event = user(text, intent)
    event["parse_data"]["entities"] = [{"entity": k, "value": v} for k, v in entities.items()]
    dispatcher = CollectingDispatcher()
    result = await ValidateCertificadoNacimientoForm().validate_nacimiento_para(
        text, dispatcher, tracker(event, sender_id="web:andrea"), {}
    )
    return result["nacimiento_para"], [m["plantilla"] for m in dispatcher.messages]


async def test_for_my_son_is_the_minor_child_not_the_mother(world: World) -> None:
    assert await partida_para(world, "para mi hijo", parentesco="hijo") == ("hijo:0", [])
    assert await partida_para(world, "es pa mi guagua") == ("hijo:0", [])
    assert await partida_para(world, "para Mateo") == ("hijo:0", [])
    assert await partida_para(world, "para mí mismo") == ("propio", [])


async def test_an_adult_relative_is_refused_with_the_reason(world: World) -> None:
    assert await partida_para(world, "para mi mamá", parentesco="madre") == (None, ["nacimiento_solo_propio_o_hijo"])
    assert await partida_para(world, "es de mi esposo") == (None, ["nacimiento_solo_propio_o_hijo"])


async def test_how_the_document_arrives_is_answered_for_every_trámite() -> None:
    for form in ("antecedentes_penales_form", "certificado_nacimiento_form", "certificado_votacion_form"):
        [answer] = await ask("y eso me llega al correo o por aqui mismo?", "preguntar_tramite", active_loop=form)
        assert answer["plantilla"].endswith(":como_llega"), form
        assert answer["text"].startswith("Le llega por este mismo chat")


@pytest.mark.parametrize(
    ("text", "intent", "replayed"),
    [
        ("ya esta pagado, por donde me llega?", "preguntar_tramite", "confirmar_pago"),
        ("entonces el certificado del ruc", "preguntar_tramite", "consultar_ruc"),
        ("y el record policial si me puede sacar usted?", "preguntar_tramite", "solicitar_antecedentes_penales"),
    ],
)
async def test_what_is_not_a_question_goes_where_it_belongs(text: str, intent: str, replayed: str) -> None:
    dispatcher = CollectingDispatcher()
    events = await ActionResponderPregunta().run(dispatcher, tracker(user(text, intent)), {})
    [user_event] = [e for e in events if e.get("event") == "user"]
    assert user_event["parse_data"]["intent"]["name"] == replayed and dispatcher.messages == []


async def test_a_bare_trámite_name_inside_a_form_is_a_change_of_mind() -> None:
    dispatcher = CollectingDispatcher()
    t = tracker(user("entonces el certificado del ruc", "preguntar_tramite"), active_loop="mis_documentos_form")
    events = await ActionResponderPregunta().run(dispatcher, t, {})
    [user_event] = [e for e in events if e.get("event") == "user"]
    assert user_event["parse_data"]["intent"]["name"] == "consultar_ruc" and dispatcher.messages == []


@pytest.mark.parametrize("text", ["ya esta pagado, por donde me llega?", "ya pague, y ahora que?"])
async def test_a_payment_already_made_is_not_answered_by_the_faq_from_the_fallback(text: str) -> None:
    dispatcher = CollectingDispatcher()
    events = await ActionNoEntendido().run(dispatcher, tracker(user(text, "nlu_fallback")), {})
    [user_event] = [e for e in events if e.get("event") == "user"]
    assert user_event["parse_data"]["intent"]["name"] == "confirmar_pago" and dispatcher.messages == []


async def test_a_question_about_another_institutions_service_is_answered_as_such() -> None:
    [answer] = await ask("que necesito para renovar la cedula?", "preguntar_requisitos")
    assert answer["plantilla"].startswith("otra_entidad:"), answer


@pytest.mark.parametrize(
    ("text", "replayed"),
    [
        ("necesito saber cuanto pago de matricula", "consultar_matricula"),
        ("cuanto debo de multas?", "consultar_multas"),
    ],
)
async def test_how_much_one_owes_is_answered_by_the_look_up(text: str, replayed: str) -> None:
    dispatcher = CollectingDispatcher()
    events = await ActionResponderPregunta().run(dispatcher, tracker(user(text, "preguntar_costo")), {})
    [user_event] = [e for e in events if e.get("event") == "user"]
    assert user_event["parse_data"]["intent"]["name"] == replayed
    assert [m.get("plantilla") for m in dispatcher.messages] == ["costo_segun_registro"]


async def test_a_fixed_fee_is_still_answered_from_the_declaration() -> None:
    [answer] = await ask("cuanto cuesta la partida de nacimiento?", "preguntar_costo")
    assert "5" in answer["text"]


async def test_a_follow_up_after_another_institutions_answer_stays_with_that_service() -> None:
    first = tracker(user("como hago para sacar el pasaporte por primera vez?", "preguntar_requisitos"))
    events = await ActionResponderPregunta().run(CollectingDispatcher(), first, {})
    [entidad] = [e["value"] for e in events if e.get("name") == "entidad_actual"]
    assert entidad
    dispatcher = CollectingDispatcher()
    follow = tracker(
        user("y eso no lo pueden hacer ustedes por aqui?", "preguntar_tramite"), slots={"entidad_actual": entidad}
    )
    await ActionResponderPregunta().run(dispatcher, follow, {})
    assert [m.get("plantilla") for m in dispatcher.messages] == ["otra_entidad_seguimiento"]


def test_a_word_sharing_five_letters_is_not_the_same_word() -> None:
    # «oficial» is not «oficina»: «¿y este chat sí es oficial?» is not «¿tengo que ir a alguna oficina?».
    assert best_answer("y este chat si es oficial?", registry.TRAMITES) is None
    found = best_answer("tengo que ir a alguna ofisina para matricular", registry.TRAMITES)
    assert found is not None and found[1].tema == "lugar_horario", found


async def test_whether_this_chat_is_official_is_the_safety_answer_whatever_the_intent() -> None:
    for text, intent in (
        ("y este chat si es oficial?", "preguntar_tramite"),
        ("y este chat si es oficial?", "preguntar_lugar_horario"),
        ("ustedes son de verdad del gobierno o es estafa", "preguntar_tramite"),
    ):
        [message] = await ask(text, intent)
        assert message["plantilla"] == "pregunta_seguridad", (text, intent, message)
        assert "asistente oficial del Gobierno" in message["text"]
    [office] = await ask("donde queda la oficina para matricular", "preguntar_lugar_horario")
    assert office["plantilla"] != "pregunta_seguridad"
