"""The conversation corpus without Rasa: folding, the matcher, the YAML schema, the corpus itself, and the runner
against a fake web channel (httpx.MockTransport)."""

from __future__ import annotations

import json
import shutil
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import pytest
from fpdf import FPDF
from pydantic import ValidationError

from tests.e2e.corpus import (
    CARPETA,
    ArchivoCorpus,
    Conversacion,
    Documento,
    ResultadoConversacion,
    Resultados,
    ResultadoTurno,
    Tipo,
    Turno,
    cargar,
    correr,
    en_orden,
    plegar,
    revisar_documento,
    revisar_turno,
    ultimo_enlace_pago,
    ultimo_pdf,
)

NO_A_LA_VEZ = (  # the consent corpus' regex: not the consent question and a form question in one reply
    "^(?!(?=.*(acepto|acepta|nos permite|autoriza))"
    "(?=.*(numero de cedula|para que necesita|para quien es|que multas busco|se lo envio)))"
)


def texto(text: str, botones: int = 0, custom: dict[str, Any] | None = None) -> dict[str, Any]:
    mensaje: dict[str, Any] = {"recipient_id": "web:x", "text": text}
    if botones:
        mensaje["buttons"] = [{"title": f"b{i}", "payload": f"/b{i}"} for i in range(botones)]
    if custom is not None:
        mensaje["custom"] = custom
    return mensaje


def turno(**checks: Any) -> Turno:
    return Turno(dice="hola", **checks)


# --- folding


def test_folding_removes_case_accents_quotes_inverted_marks_and_extra_spaces() -> None:
    assert plegar("¿Para QUÉ necesita\n  el «récord»?  ¡Listo!") == "para que necesita el record? listo!"
    assert plegar("Ñaño, cédula") == "nano, cedula"  # ñ decomposes too: expectations fold the same way


# --- the matcher


def test_espera_needs_every_item_in_the_texts_of_all_messages_joined() -> None:
    reply = [texto("¡Gracias, María José!"), texto("¿Para qué necesita el certificado? Motivo…")]
    assert revisar_turno(turno(espera=["para que necesita", "Gracias, María"]), reply) == []
    assert revisar_turno(turno(espera=["para que necesita", "cedula"]), reply) == ["falta «cedula»"]


def test_alguno_needs_one_item() -> None:
    reply = [texto("Es gratuito.")]
    assert revisar_turno(turno(alguno=["gratis", "gratuito"]), reply) == []
    assert revisar_turno(turno(alguno=["usd", "dólares"]), reply) == ["no aparece ninguna de ['usd', 'dólares']"]


def test_no_espera_refuses_every_item() -> None:
    reply = [texto("Escriba su número de cédula, por favor.")]
    assert revisar_turno(turno(no_espera=["cancele"]), reply) == []
    assert revisar_turno(turno(no_espera=["cancele", "escriba su numero de cedula"]), reply) == [
        "no debía decir «escriba su numero de cedula»"
    ]


def test_regex_runs_on_the_folded_text() -> None:
    reply = [texto("¿Me ayuda con su Código Dactilar?")]
    assert revisar_turno(turno(regex=r"(escriba|me ayuda con).{0,20}codigo dactilar"), reply) == []
    assert revisar_turno(turno(regex=r"Código"), reply) == ["no cumple la regex 'Código'"]


def test_the_consent_regex_refuses_the_notice_and_a_form_question_in_one_reply() -> None:
    notice = texto("Sobre sus datos… ¿Nos permite usar datos anónimos? Escriba «acepto».")
    form = texto("Escriba su número de cédula.")
    assert revisar_turno(turno(regex=NO_A_LA_VEZ), [notice]) == []
    assert revisar_turno(turno(regex=NO_A_LA_VEZ), [form]) == []
    assert revisar_turno(turno(regex=NO_A_LA_VEZ), [form, notice]) != []


def test_an_empty_reply_is_never_understood() -> None:
    assert revisar_turno(turno(), []) == ["respuesta vacía"]
    assert revisar_turno(turno(), [texto("  ")]) == ["respuesta vacía"]
    assert revisar_turno(turno(), [{"custom": {"document": {"kind": "pdf", "url": "/d.pdf"}}}]) == []


def test_not_understood_fails_unless_the_turn_allows_it() -> None:
    reply = [texto("Disculpe, no le entendí. ¿Me lo puede decir con otras palabras?")]
    assert revisar_turno(turno(), reply) == ["dice «no le entendi»"]
    assert revisar_turno(turno(permite_no_entendido=True), reply) == []
    assert revisar_turno(turno(), [texto("No entendí para quién es. Elija una opción.")]) == ["dice «no entendi»"]
    assert revisar_turno(turno(), [texto("Disculpe, sigo sin entenderle.")]) == ["dice «sigo sin entenderle»"]


def test_button_limit_and_the_list_exception() -> None:
    limit = turno(max_botones=3)
    assert revisar_turno(limit, [texto("Menú", botones=3)]) == []
    # More than three buttons is a list (WhatsApp numbers them): up to ten rows.
    assert revisar_turno(limit, [texto("Menú", botones=6)]) == []
    assert revisar_turno(limit, [texto("Menú", botones=11)]) == ["un mensaje tiene 11 opciones (máximo 10)"]
    assert revisar_turno(limit, [texto("Servicios", botones=10, custom={"lista": True})]) == []
    assert revisar_turno(limit, [texto("Servicios", botones=11, custom={"lista": True})]) == [
        "un mensaje tiene 11 opciones (máximo 10)"
    ]
    filas = {"lista": {"titulo": "Servicios", "filas": [{"id": str(i)} for i in range(12)]}}
    assert revisar_turno(limit, [texto("Servicios", custom=filas)]) == ["un mensaje tiene 12 opciones (máximo 10)"]
    assert revisar_turno(turno(), [texto("Menú", botones=12)]) == []  # no limit asked


def test_document_checks() -> None:
    documento = Documento(contiene=["Para un trabajo nuevo"], no_contiene=["ya le dije"])
    assert revisar_documento(documento, "MOTIVO DE LA CONSULTA\npara un  trabajo nuevo") == []
    assert revisar_documento(documento, None) == ["no llegó ningún PDF"]
    assert revisar_documento(documento, "Motivo: ya le dije") == [
        "el PDF no dice «Para un trabajo nuevo»",
        "el PDF dice «ya le dije»",
    ]


def test_last_payment_link_and_last_pdf() -> None:
    mensajes = [
        texto("Pague aquí: http://127.0.0.1:8000/pagos/aa11?t=t-1"),
        {"custom": {"document": {"kind": "pdf", "url": "http://x/d1.pdf"}}},
        texto("Otro enlace: http://127.0.0.1:8000/pagos/bb22?t=T_2\nCuando pague…"),
        {"custom": {"document": {"kind": "png", "url": "http://x/d1.png"}}},
    ]
    assert ultimo_enlace_pago(mensajes) == ("bb22", "T_2")
    assert ultimo_pdf(mensajes) == "http://x/d1.pdf"
    assert ultimo_enlace_pago([texto("nada")]) is None and ultimo_pdf([]) is None


# --- the schema


def un_archivo(**conversacion: Any) -> dict[str, Any]:
    base = {"nombre": "récord policial", "tipo": "persona", "turnos": [{"dice": "asesor"}]}
    return {"conversaciones": [{**base, **conversacion}]}


def test_a_minimal_conversation_and_its_defaults() -> None:
    [conversacion] = ArchivoCorpus.model_validate(un_archivo()).conversaciones
    assert (conversacion.canal, conversacion.consentimiento, conversacion.documento) == ("web", "previo", None)
    assert conversacion.tipo is Tipo.PERSONA and not conversacion.paga


@pytest.mark.parametrize(
    "datos",
    [
        {"conversaciones": [], "otra": 1},
        un_archivo(descripcion="algo"),  # unknown key of a conversation
        un_archivo(turnos=[{"dice": "hola", "espere": ["x"]}]),  # unknown key of a turn
        un_archivo(documento={"contiene": ["x"], "contenga": ["y"]}),  # unknown key of the document
        un_archivo(tipo="saludo"),
        un_archivo(canal="telegram"),
        un_archivo(consentimiento="despues"),
        un_archivo(turnos=[]),
        un_archivo(turnos=[{"espera": ["x"]}]),  # neither dice nor accion
        un_archivo(turnos=[{"dice": "hola", "accion": "pagar"}]),
        un_archivo(turnos=[{"accion": "pagar", "espera": ["listo"]}]),
        un_archivo(turnos=[{"accion": "reembolsar"}]),
        un_archivo(turnos=[{"dice": "hola", "regex": "(sin cerrar"}]),
        un_archivo(turnos=[{"dice": "hola", "max_botones": -1}]),
    ],
)
def test_the_schema_refuses(datos: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        ArchivoCorpus.model_validate(datos)


def test_names_must_be_unique_across_files(tmp_path: Path) -> None:
    for nombre in ("a.yml", "b.yml"):
        (tmp_path / nombre).write_text(json.dumps(un_archivo()), encoding="utf-8")  # JSON is YAML
    with pytest.raises(ValueError, match="repetidas"):
        cargar(tmp_path)


def test_conversations_that_pay_run_last() -> None:
    paga = Conversacion.model_validate({"nombre": "paga", "tipo": "entrega", "turnos": [{"accion": "pagar"}]})
    otra = Conversacion.model_validate({"nombre": "otra", "tipo": "menus", "turnos": [{"dice": "hola"}]})
    assert [c.nombre for c in en_orden([paga, otra, paga])] == ["otra", "paga", "paga"]


# --- the corpus itself


def test_the_corpus_loads_covers_every_kind_and_each_file_says_its_theme() -> None:
    conversaciones = cargar()
    assert len(conversaciones) >= 90
    por_tipo = Counter(c.tipo for c in conversaciones)
    assert {t: n for t, n in por_tipo.items() if n < 6} == {}
    assert set(por_tipo) == set(Tipo)
    for ruta in sorted(CARPETA.glob("*.yml")):
        assert ruta.read_text(encoding="utf-8").startswith("# "), ruta.name
    escritas = [x for c in conversaciones for t in c.turnos for x in t.espera + t.alguno + t.no_espera]
    escritas += [x for c in conversaciones if c.documento for x in c.documento.contiene + c.documento.no_contiene]
    assert [x for x in escritas if x != plegar(x)] == []  # written as they are compared: lower case, no accents


# --- results


def test_the_summary_line_and_a_failing_turn() -> None:
    entendido = ResultadoTurno(1, "hola", "una respuesta", "¡Hola!", [])
    fallido = ResultadoTurno(2, "y cuánto cuesta?", "espera ['5']", "¿Para quién es?", ["falta «5»"])
    resultados = Resultados(
        [
            ResultadoConversacion("buena", "menus", "menus", [entendido, entendido]),
            ResultadoConversacion("mala", "pregunta_en_formulario", "partida", [entendido, fallido]),
        ]
    )
    lineas = resultados.resumen().splitlines()
    assert lineas[0] == "Conversaciones: 1/2 pasaron (50.0 %) · turnos entendidos: 3/4 (75.0 %)"
    assert lineas[1:] == [
        "✗ [partida] mala · turno 2: «y cuánto cuesta?»",
        "    esperado: espera ['5']",
        "    falla: falta «5»",
        "    respondió: '¿Para quién es?'",
        "Por tipo: menus 1/1 · pregunta_en_formulario 0/1",
    ]
    assert resultados.porcentajes() == (50.0, 75.0)
    assert Resultados().porcentajes() == (0.0, 0.0)


# --- the runner, against a fake web channel


def pdf_con(texto_pdf: str) -> bytes:
    documento = FPDF()
    documento.add_page()
    documento.set_font("helvetica", size=12)
    documento.cell(text=texto_pdf)
    return bytes(documento.output())


class FakeChasqui:
    """The web channel, the messages the chat fetches, the payment page and a document download."""

    def __init__(self) -> None:
        self.recibidos: list[dict[str, Any]] = []
        self.pagos: list[dict[str, str]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path == "/webhooks/rest/webhook":
            body = json.loads(request.content)
            self.recibidos.append(body)
            return httpx.Response(200, json=self.responder(body["message"]))
        if path == "/webhooks/rest/mensajes":
            nuevos = [] if not self.pagos or request.url.params["despues"] != "0" else [self.documento()]
            return httpx.Response(200, json=nuevos)
        if path == "/pagos/p1" and request.method == "GET":
            return httpx.Response(200, text="Tarjeta de prueba 4111 1111 1111 1111")
        if path == "/pagos/p1" and request.method == "POST":
            self.pagos.append(dict(httpx.QueryParams(request.content.decode())))
            return httpx.Response(303, headers={"location": "/pagos/p1/resultado?t=tk"})
        if path == "/pagos/p1/resultado":
            return httpx.Response(200, text="Pago aprobado")
        if path == "/documentos/d1/certificado.pdf":
            return httpx.Response(200, content=pdf_con("Motivo de la consulta: para un trabajo nuevo"))
        return httpx.Response(404)

    @staticmethod
    def responder(mensaje: str) -> list[dict[str, Any]]:
        if mensaje == "hola":
            return [texto("¡Hola! Soy Chasqui.", botones=12)]
        if mensaje == "/consentimiento_acepto":
            return [texto("Gracias, quedó registrado.")]
        if mensaje.startswith("quiero"):
            return [texto("Pague USD 5.00 aquí: http://127.0.0.1:8000/pagos/p1?t=tk")]
        return [texto("Disculpe, no le entendí.")]  # only «ya pague», which allows it

    @staticmethod
    def documento() -> dict[str, Any]:
        url = "http://chasqui.example/documentos/d1/certificado.pdf?exp=1&sig=s"  # another public address
        return {"id": 7, "autor": "sistema", "text": "Listo.", "custom": {"document": {"kind": "pdf", "url": url}}}


def conversacion(datos: dict[str, Any]) -> Conversacion:
    return Conversacion.model_validate({"nombre": "prueba", "tipo": "entrega", **datos})


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="pdftotext (poppler-utils) is not installed")
def test_the_runner_talks_pays_and_reads_the_pdf() -> None:
    fake = FakeChasqui()
    prueba = conversacion(
        {
            "turnos": [
                {"dice": "quiero la partida", "espera": ["/pagos/", "5.00"]},
                {"accion": "pagar"},
                {"dice": "ya pague", "permite_no_entendido": True},
            ],
            "documento": {"contiene": ["para un trabajo nuevo"], "no_contiene": ["ya le dije"]},
        }
    )
    resultado = correr(prueba, "http://chasqui.test", transporte=httpx.MockTransport(fake))
    assert resultado.problemas == [] and resultado.paso, resultado
    assert [t.numero for t in resultado.turnos] == [1, 3]  # the action is not a turn of the citizen
    assert [m["message"] for m in fake.recibidos] == ["hola", "/consentimiento_acepto", "quiero la partida", "ya pague"]
    assert {m["sender"] for m in fake.recibidos} == {fake.recibidos[0]["sender"]}
    assert fake.recibidos[0]["sender"].startswith("web:corpus-")
    assert len({m["metadata"]["message_id"] for m in fake.recibidos}) == 4
    assert fake.pagos == [{"t": "tk", "numero": "4111 1111 1111 1111", "vencimiento": "12/30", "cvv": "123"}]


def test_each_conversation_is_a_new_chat_and_a_first_contact_starts_with_its_first_turn() -> None:
    fake = FakeChasqui()
    primera = conversacion({"consentimiento": "ninguno", "turnos": [{"dice": "hola", "max_botones": 3}]})
    resultado = correr(primera, "http://chasqui.test", transporte=httpx.MockTransport(fake))
    correr(primera, "http://chasqui.test", transporte=httpx.MockTransport(fake))
    assert [m["message"] for m in fake.recibidos] == ["hola", "hola"]
    assert fake.recibidos[0]["sender"] != fake.recibidos[1]["sender"]
    assert resultado.turnos[0].problemas == ["un mensaje tiene 12 opciones (máximo 10)"]


def test_a_payment_without_a_link_and_a_missing_pdf_fail_the_conversation() -> None:
    prueba = conversacion({"turnos": [{"accion": "pagar"}], "documento": {"contiene": ["x"]}})
    resultado = correr(prueba, "http://chasqui.test", transporte=httpx.MockTransport(FakeChasqui()))
    assert resultado.problemas == ["turno 1 (pagar): no hay enlace de pago en la conversación", "no llegó ningún PDF"]
    assert not resultado.paso


def test_a_gateway_error_is_recorded_as_a_failed_turn() -> None:
    prueba = conversacion({"consentimiento": "ninguno", "turnos": [{"dice": "hola"}, {"dice": "sigue"}]})
    caido = httpx.MockTransport(lambda request: httpx.Response(500, json={"detail": "boom"}))
    resultado = correr(prueba, "http://chasqui.test", transporte=caido)
    assert [t.problemas[0].split(":")[0] for t in resultado.turnos] == ["sin respuesta", "sin respuesta"]
