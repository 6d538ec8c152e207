"""Identity actions: cédula rules, the código dactilar check against the sandbox Registro Civil, lockout."""

from __future__ import annotations

from typing import Any

import pytest
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.actions.identity import (
    ActionAskCodigoDactilar,
    ActionCerrarSesion,
    ActionIdentidadVerificada,
    ActionIniciarSesion,
    ValidateIdentidadForm,
    cedula_problem,
    given_cedula,
)
from bot.tramites.cedula_digital.actions import ActionVerCedulaDigital
from tests.actions.builders import action, tracker, user
from tests.actions.conftest import World, sandbox_fallas

CEDULA = "1712345675"  # demo identity: ANDRADE CEVALLOS MARIA JOSE, código dactilar V4443V4442
DACTILAR = "V4443V4442"


def said(dispatcher: CollectingDispatcher) -> list[Any]:
    return [m.get("plantilla") or m.get("custom") for m in dispatcher.messages]


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("1712345675", None),
        ("171234567-5", None),
        ("mi cédula es 1712345675", None),
        ("hola", ("cedula_sin_numero", {})),
        ("171234567", ("cedula_longitud", {"cantidad": 9})),
        ("17123456789", ("cedula_longitud", {"cantidad": 11})),
        ("2512345678", ("cedula_provincia", {"provincia": "25"})),
        ("0012345678", ("cedula_provincia", {"provincia": "00"})),
        ("1772345678", ("cedula_tercer_digito", {"digito": "7"})),
        ("1712345670", ("cedula_verificador", {})),
    ],
)
def test_each_cedula_rule_is_named(typed: str, expected: Any) -> None:
    assert cedula_problem(typed) == expected


async def test_a_valid_cedula_keeps_only_the_reference(world: World) -> None:
    reference = await world.typed("cedula", CEDULA)
    dispatcher = CollectingDispatcher()
    result = await ValidateIdentidadForm().validate_cedula(reference, dispatcher, tracker(), {})
    assert result == {"cedula": reference}
    assert dispatcher.messages == []


async def test_an_invalid_cedula_says_which_rule_it_breaks(world: World) -> None:
    reference = await world.typed("cedula", "1712345670")
    dispatcher = CollectingDispatcher()
    result = await ValidateIdentidadForm().validate_cedula(reference, dispatcher, tracker(), {})
    assert result == {"cedula": None}
    assert said(dispatcher) == ["cedula_verificador"]
    assert dispatcher.messages[0]["text"].startswith("El último dígito no coincide")


async def test_the_right_code_proves_the_identity_and_greets_by_first_name(world: World) -> None:
    cedula = await world.typed("cedula", CEDULA)
    code = await world.typed("codigo_dactilar", DACTILAR)
    dispatcher = CollectingDispatcher()
    t = tracker(user(code, "informar"), slots={"cedula": cedula}, sender_id="web:ana")
    result = await ValidateIdentidadForm().validate_codigo_dactilar(code, dispatcher, t, {})
    assert result == {"codigo_dactilar": "-", "identidad_resultado": "verificado"}
    assert said(dispatcher) == ["identidad_verificada"]
    assert dispatcher.messages[0]["text"] == (
        "¡Gracias, María José! Comprobé su identidad con el Registro Civil. "
        "Este chat queda vinculado a usted por 60 minutos."
    )
    identidad = await world.services.identidad.current("web:ana")
    assert identidad is not None and (identidad.cedula, identidad.nombres) == (CEDULA, "María José")
    assert await world.vault.take(code) is None  # the code was redeemed once and is gone


async def test_three_wrong_codes_lock_the_identity_step(world: World) -> None:
    cedula = await world.typed("cedula", CEDULA)
    messages = []
    for _ in range(3):
        code = await world.typed("codigo_dactilar", "A1111A1111")
        dispatcher = CollectingDispatcher()
        t = tracker(slots={"cedula": cedula}, sender_id="web:intruso")
        result = await ValidateIdentidadForm().validate_codigo_dactilar(code, dispatcher, t, {})
        messages.append((result, said(dispatcher)))
    assert messages == [
        ({"codigo_dactilar": None}, ["dactilar_no_coincide"]),
        ({"codigo_dactilar": None}, ["dactilar_no_coincide_ultimo"]),
        ({"codigo_dactilar": "-", "identidad_resultado": "bloqueado"}, ["identidad_bloqueada"]),
    ]
    assert await world.services.identidad.locked_until("web:intruso") is not None
    dispatcher = CollectingDispatcher()
    events = await ActionIniciarSesion().run(dispatcher, tracker(sender_id="web:intruso"), {})
    assert (events, said(dispatcher)) == ([SlotSet("identidad", "bloqueada")], ["identidad_bloqueada"])


async def test_a_malformed_code_is_explained_and_not_counted(world: World) -> None:
    cedula = await world.typed("cedula", CEDULA)
    code = await world.typed("codigo_dactilar", "V444V4442")
    dispatcher = CollectingDispatcher()
    t = tracker(slots={"cedula": cedula}, sender_id="web:x")
    assert await ValidateIdentidadForm().validate_codigo_dactilar(code, dispatcher, t, {}) == {"codigo_dactilar": None}
    assert said(dispatcher) == ["dactilar_formato"]


async def test_registro_civil_down_gets_an_apology_and_a_way_forward(world: World) -> None:
    await sandbox_fallas(world, institucion="registro_civil", caida=True)
    cedula = await world.typed("cedula", CEDULA)
    code = await world.typed("codigo_dactilar", DACTILAR)
    dispatcher = CollectingDispatcher()
    t = tracker(slots={"cedula": cedula}, sender_id="web:y")
    result = await ValidateIdentidadForm().validate_codigo_dactilar(code, dispatcher, t, {})
    assert result == {"codigo_dactilar": "-", "identidad_resultado": "no_disponible"}
    assert said(dispatcher) == ["registro_civil_no_disponible"]
    assert [b["payload"] for b in dispatcher.messages[0]["buttons"]] == ["/iniciar_sesion", "/hablar_con_agente"]


async def test_asking_the_code_tells_the_gateway_a_secret_comes_next() -> None:
    dispatcher = CollectingDispatcher()
    assert await ActionAskCodigoDactilar().run(dispatcher, tracker(), {}) == []
    assert said(dispatcher) == ["pedir_codigo_dactilar", {"secreto": "codigo_dactilar"}]


async def test_a_service_needing_identity_starts_the_identity_step_and_resumes_after_it(world: World) -> None:
    dispatcher = CollectingDispatcher()
    events = await ActionVerCedulaDigital().run(dispatcher, tracker(sender_id="web:rosa"), {})
    assert events == [
        SlotSet("tramite_actual", "cedula_digital"),
        SlotSet("identidad", "requerida"),
        SlotSet("tramite_pendiente", "cedula_digital"),
    ]
    assert said(dispatcher) == ["identidad_necesaria"]

    await world.services.identidad.verify("web:rosa", CEDULA, DACTILAR)
    dispatcher = CollectingDispatcher()
    t = tracker(
        slots={"identidad_resultado": "verificado", "tramite_pendiente": "cedula_digital"}, sender_id="web:rosa"
    )
    events = await ActionIdentidadVerificada().run(dispatcher, t, {})
    assert events == [
        SlotSet("cedula", None),
        SlotSet("codigo_dactilar", None),
        SlotSet("identidad_resultado", None),
        SlotSet("tramite_pendiente", None),
        SlotSet("identidad", "vigente"),
        SlotSet("reanudar", "ninguno"),
    ]
    [datos, documento, pdf, png] = dispatcher.messages
    assert datos["plantilla"] == "cedula_digital_datos"
    assert "Cédula: 17******75" in datos["text"] and "1712345675" not in datos["text"]
    assert documento["plantilla"] == "cedula_digital_documento"
    assert (pdf["custom"]["document"]["kind"], png["custom"]["document"]["kind"]) == ("pdf", "png")
    assert pdf["custom"]["document"]["verification_code"] == png["custom"]["document"]["verification_code"]


async def test_logout_unlinks_the_chat(world: World) -> None:
    await world.services.identidad.verify("web:luis", CEDULA, DACTILAR)
    dispatcher = CollectingDispatcher()
    events = await ActionCerrarSesion().run(dispatcher, tracker(sender_id="web:luis"), {})
    assert SlotSet("cedula", None) in events  # asked again at the next trámite
    await ActionCerrarSesion().run(dispatcher, tracker(sender_id="web:luis"), {})
    assert said(dispatcher) == ["sesion_cerrada", "sin_sesion"]
    assert await world.services.identidad.current("web:luis") is None
    # Only a real logout tells the web chat to forget its id.
    assert [m.get("custom") for m in dispatcher.messages] == [{"sesion": "cerrada"}, {}]


async def test_identifiers_in_clear_are_refused_only_vault_references_count(world: World) -> None:
    """Issue 12: straight to Rasa, a cédula and a código in clear were verified; now only the gateway's vault
    references are accepted, so nothing reaches the Registro Civil that did not come through the gateway."""
    form = ValidateIdentidadForm()
    dispatcher = CollectingDispatcher()
    assert await form.validate_cedula("1712345675", dispatcher, tracker(), {}) == {"cedula": None}
    assert said(dispatcher) == ["cedula_expirada"]
    reference = await world.typed("cedula", "1712345675")
    ok = await form.validate_cedula(reference, CollectingDispatcher(), tracker(), {})
    assert ok == {"cedula": reference}
    dispatcher = CollectingDispatcher()
    t = tracker(slots={"cedula": reference}, sender_id="web:directo")
    assert await form.validate_codigo_dactilar("V4443V4442", dispatcher, t, {}) == {"codigo_dactilar": None}
    assert said(dispatcher) == ["dactilar_de_nuevo"]
    assert await world.services.identidad.current("web:directo") is None


def test_a_cedula_written_before_cerrar_sesion_is_not_reused() -> None:
    with_cedula = user("mi cedula ced_0a1b2c3d4e", "informar")
    with_cedula["parse_data"]["entities"] = [{"entity": "cedula", "value": "ced_0a1b2c3d4e"}]
    assert given_cedula(tracker(with_cedula, user("mis multas", "consultar_multas"))) == "ced_0a1b2c3d4e"
    after_logout = tracker(
        with_cedula,
        user("salga de mi cuenta", "cerrar_sesion"),
        action("action_cerrar_sesion"),
        user("mis multas", "consultar_multas"),
    )
    assert given_cedula(after_logout) is None
