"""The console over HTTP against the real gateway and a fake Rasa: handoff, queues, actions, context, audit."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from bot.storage import conversations as conversations_repo
from bot.storage import documents as documents_repo
from bot.storage import identity as identidad_repo
from bot.storage.models import Conversation, Message, Owner
from bot.storage.models_console import AuditEntry, CsatRating
from tests.console.conftest import HANDOFF_TRIGGER, Gateway, query, run_in_app

COLA = "Un asesor le atenderá en breve. Usted es el número 1 en la fila"


def owner(gateway: Gateway, conversation_id: str = "web:ciudadano") -> str:
    async def _owner(session: Any) -> str:
        conversation = await session.get(Conversation, conversation_id)
        return str(conversation.owner)

    return str(query(gateway.settings, _owner))


def audit(gateway: Gateway) -> list[tuple[str, str, int | None]]:
    async def _rows(session: Any) -> list[tuple[str, str, int | None]]:
        entries = (await session.scalars(select(AuditEntry).order_by(AuditEntry.id))).all()
        return [(e.usuario, e.action, e.case_id) for e in entries]

    return list(query(gateway.settings, _rows))


def texts(messages: list[dict[str, Any]]) -> list[str]:
    return [m["text"] for m in messages if "text" in m]


def test_a_handoff_payload_queues_the_conversation_and_the_web_chat_gets_its_place(gateway: Gateway) -> None:
    answer = gateway.says(HANDOFF_TRIGGER)
    assert texts(answer) == ["Entendido. He pedido que una persona le atienda."]  # the payload is not shown
    assert owner(gateway) == Owner.QUEUE
    [notice] = gateway.news()
    assert (notice["autor"], notice["recipient_id"]) == ("sistema", "web:ciudadano")
    assert notice["text"].startswith(COLA)
    assert gateway.news(after=notice["id"]) == []
    assert gateway.news(sender="web:otra_persona") == []  # one citizen never sees another's messages
    assert gateway.citizen.get("/webhooks/rest/mensajes", params={"sender": "web:a b"}).status_code == 422


def test_nothing_reaches_rasa_while_a_person_owns_the_conversation(gateway: Gateway) -> None:
    ana = gateway.staff("ana")
    gateway.says("hola")
    gateway.says(HANDOFF_TRIGGER)
    case = gateway.open_case()
    # Queued: the message waits for a person, and the citizen learns their place and wait (never silence).
    before = [n["id"] for n in gateway.news()]
    [queued] = texts(gateway.says("¿sigue ahí?"))
    assert queued.startswith("Recibí su mensaje y lo verá el asesor. Usted es el número 1 en la fila"), queued
    assert [n["id"] for n in gateway.news()] == before  # given in the answer: the chat's polling does not repeat it
    assert ana.act(case, "tomar") == "tomada"
    # With an agent who has not written yet: the message waits too, and the citizen is told so.
    assert texts(gateway.says("necesito mi partida")) == [
        "Recibí su mensaje. El asesor que le atiende le responderá por aquí en cuanto pueda."
    ]
    assert ana.act(case, "responder", texto="Con gusto, ¿para quién es?") == "enviada"
    assert gateway.says("para mi hija") == []  # the agent is writing now: no bot note in between
    page = ana.client.get(f"/consola/atenciones/{case}").text
    assert "¿sigue ahí?" in page and "necesito mi partida" in page and "para mi hija" in page
    assert gateway.rasa.received == ["hola", HANDOFF_TRIGGER]

    assert ana.act(case, "devolver") == "devuelta"
    assert texts(gateway.says("gracias por todo")) == ["eco: gracias por todo"]
    assert gateway.rasa.received == ["hola", HANDOFF_TRIGGER, "gracias por todo"]


def test_replies_canned_replies_and_notes_reach_only_who_they_should(gateway: Gateway) -> None:
    ana = gateway.staff("ana")
    gateway.says(HANDOFF_TRIGGER)
    case = gateway.open_case()
    assert ana.act(case, "responder", texto="Hola") == "no_es_su_atencion"  # claim first
    assert ana.act(case, "tomar") == "tomada"
    assert ana.act(case, "responder", texto="   ") == "texto_vacio"
    assert ana.act(case, "responder", texto="Buenos días, ¿en qué le ayudo?") == "enviada"
    canned = {
        title: ident
        for ident, title in re.findall(
            r'<option value="(\d+)">([^<]+)</option>', ana.client.get(f"/consola/atenciones/{case}").text
        )
    }
    assert ana.act(case, "predefinida", respuesta=canned["Saludo"]) == "enviada"
    missing = ana.post(f"/consola/atenciones/{case}/predefinida", {"respuesta": canned["Número de trámite"]})
    assert "aviso=falta_dato&dato=numero_tramite" in missing.headers["location"]
    assert (
        "necesita un dato que la conversación no tiene: numero_tramite"
        in ana.client.get(missing.headers["location"]).text
    )
    assert ana.act(case, "nota", texto="Ciudadano molesto, tratar con paciencia") == "nota_guardada"

    news = gateway.news()
    assert texts(news)[1:] == [
        "Ya le atiende Ana, del equipo de Atención general.",
        "Buenos días, ¿en qué le ayudo?",
        "Hola. Le saluda Ana, del equipo de atención de Chasqui. ¿En qué le puedo ayudar?",
    ]
    assert [m["autor"] for m in news] == ["sistema", "sistema", "agente", "agente"]
    assert "paciencia" not in str(news)
    page = ana.client.get(f"/consola/atenciones/{case}").text
    assert "Nota interna" in page and "tratar con paciencia" in page
    assert "Ana Pérez" in page  # who wrote each reply


def test_a_second_agents_claim_fails_and_a_supervisor_takes_over(gateway: Gateway) -> None:
    ana, beto = gateway.staff("ana"), gateway.staff("beto")
    jefa = gateway.staff("jefa", rol="supervisor", equipos=())
    gateway.says(HANDOFF_TRIGGER)
    case = gateway.open_case()
    assert ana.act(case, "tomar") == "tomada"
    refused = beto.post(f"/consola/atenciones/{case}/tomar")
    page = beto.client.get(refused.headers["location"]).text
    assert "No pudo tomarla: otra persona ya atiende esta conversación." in page
    assert "Le atiende Ana Pérez" in page
    assert "Tomar el control" in jefa.client.get(f"/consola/atenciones/{case}").text
    assert jefa.act(case, "tomar") == "tomada"
    assert ana.act(case, "responder", texto="hola") == "no_es_su_atencion"
    assert ("beto", "tomar_rechazado", case) in audit(gateway)


def test_transfer_to_a_colleague_who_hands_it_back_and_the_rating_never_reaches_rasa(gateway: Gateway) -> None:
    ana, beto = gateway.staff("ana"), gateway.staff("beto")
    gateway.rasa.slots = {"formulario_interrumpido": "certificado_nacimiento_form"}
    gateway.says(HANDOFF_TRIGGER)
    case = gateway.open_case()
    ana.act(case, "tomar")
    beto_id = re.search(
        r'<option value="agente:(\d+)">Beto Pérez</option>', ana.client.get(f"/consola/atenciones/{case}").text
    )
    assert beto_id is not None
    assert (
        ana.act(case, "transferir", destino=f"agente:{beto_id.group(1)}", comentario="Ve su partida") == "transferida"
    )
    mine = beto.client.get("/consola/cola?vista=mias").text
    assert f"/consola/atenciones/{case}" in mine
    assert "Ve su partida" in beto.client.get(f"/consola/atenciones/{case}").text
    assert beto.act(case, "devolver") == "devuelta"
    assert texts(gateway.news())[-3:] == [
        "Ya le atiende Beto, del equipo de Atención general.",
        "La atención con el asesor terminó. Ahora le atiende de nuevo Chasqui, el asistente virtual.",
        "¿Cómo calificaría la atención que recibió? Elija un número del 1 (muy mala) al 5 (excelente).",
    ]
    rated = gateway.says("5")
    assert texts(rated) == [
        "Gracias por su calificación. Nos ayuda a mejorar.",
        "Antes de hablar con el asesor usted estaba en este trámite: Certificado de nacimiento. "
        "¿Quiere continuar donde se quedó?",
    ]
    assert rated[1]["buttons"] == [
        {"title": "Continuar el trámite", "payload": "/solicitar_certificado_nacimiento"},
        {"title": "Ver otros servicios", "payload": "/ayuda"},
    ]
    assert gateway.says("/solicitar_certificado_nacimiento")[0]["text"] == "eco: /solicitar_certificado_nacimiento"
    assert gateway.rasa.received == [HANDOFF_TRIGGER, "/solicitar_certificado_nacimiento"]

    async def _ratings(session: Any) -> list[tuple[int, int]]:
        return [(r.case_id, r.score) for r in (await session.scalars(select(CsatRating))).all()]

    assert query(gateway.settings, _ratings) == [(case, 5)]


def test_closing_with_a_reason_and_the_citizen_writing_again(gateway: Gateway) -> None:
    ana = gateway.staff("ana")
    gateway.says(HANDOFF_TRIGGER)
    case = gateway.open_case()
    ana.act(case, "tomar")
    assert ana.act(case, "cerrar", motivo="inventado") == "motivo_desconocido"
    assert ana.act(case, "cerrar", motivo="resuelto") == "cerrada"
    assert owner(gateway) == Owner.CLOSED
    assert ana.act(case, "responder", texto="hola") == "no_encontrada"  # it has ended
    assert texts(gateway.says("otra consulta")) == ["eco: otra consulta"]  # not a rating: to Rasa
    assert owner(gateway) == Owner.BOT

    async def _history(session: Any) -> list[tuple[str, str, str]]:
        events = await conversations_repo.owner_history(session=session, conversation_id="web:ciudadano")
        return [(e.from_owner, e.to_owner, e.reason) for e in events]

    assert query(gateway.settings, _history) == [
        ("bot", "queue", "pedido_ciudadano"),
        ("queue", "agent", "tomada"),
        ("agent", "closed", "resuelto"),
        ("closed", "bot", "nuevo_mensaje"),
    ]


def test_a_citizens_script_is_shown_as_text(gateway: Gateway) -> None:
    ana = gateway.staff("ana")
    gateway.says(HANDOFF_TRIGGER)
    gateway.says('<script>alert(1)</script><img src=x onerror="alert(2)">')
    case = gateway.open_case()
    page = ana.client.get(f"/consola/atenciones/{case}").text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=&#34;alert(2)&#34;&gt;" in page
    assert "<script>alert" not in page and "<img src=x" not in page
    fragment = ana.client.get(f"/consola/atenciones/{case}/mensajes", params={"despues": 0}).text
    assert "&lt;script&gt;" in fragment and "<script>alert" not in fragment


def test_the_context_panel_shows_identity_and_slots_masked(gateway: Gateway) -> None:
    ana = gateway.staff("ana")
    gateway.says("mi cédula es 1712345675")

    async def _reference(session: Any) -> str:
        message = (await session.scalars(select(Message).where(Message.direction == "in"))).first()
        return re.search(r"ced_[0-9a-f]{10}", message.text).group(0)  # type: ignore[union-attr]

    reference = query(gateway.settings, _reference)
    protector = gateway.consola.protector
    assert protector is not None
    now = datetime.now(UTC)

    async def _link(session: Any) -> None:
        await identidad_repo.save_link(
            session=session,
            conversation_id="web:ciudadano",
            cedula_hash=protector.lookup_hash("1712345675"),
            cedula_cifrada=protector.encrypt("1712345675"),
            nombres_cifrados=protector.encrypt("María José"),
            nivel="dactilar",
            verified_at=now,
            expires_at=now + timedelta(hours=1),
        )
        await session.commit()

    query(gateway.settings, _link)
    gateway.rasa.active_loop = "certificado_nacimiento_form"
    gateway.rasa.slots = {
        "cedula": reference,
        "codigo_dactilar": "dac_0123456789",
        "requested_slot": "motivo",
        "motivo": "para el trabajo, mi teléfono es +593991234567",
        "vacio": None,
    }
    gateway.says(HANDOFF_TRIGGER)
    case = gateway.open_case()
    page = ana.client.get(f"/consola/atenciones/{case}").text
    assert "María José" in page and "17******75" in page
    assert "1712345675" not in page and "+593991234567" not in page
    assert "<dt>cedula</dt><dd>17******75</dd>" in page
    assert "<dt>motivo</dt><dd>para el trabajo, mi teléfono es +593*******67</dd>" in page
    assert "codigo_dactilar" not in page.split("titulo-tramite")[1].split("titulo-solicitudes")[0]
    assert "<code>certificado_nacimiento_form</code>" in page
    assert "mi cédula es 17******75" in page  # the transcript, unmasked from the vault reference to its mask


def test_an_issued_document_is_resent_with_a_fresh_link(gateway: Gateway) -> None:
    ana = gateway.staff("ana")
    gateway.says(HANDOFF_TRIGGER)
    now = datetime.now(UTC)

    async def _document(session: Any) -> None:
        await documents_repo.add_document(
            session=session,
            document=documents_repo.NewDocument(
                id="doc0123456789abcdef",
                kind="certificado_nacimiento",
                verification_code="ABCD2345EFGH",
                holder_cedula_hash="h" * 64,
                holder_cedula_masked="17******75",
                holder_name="MARIA JOSE",
                public_fields={},
                issued_at=now,
                expires_at=now + timedelta(days=60),
                pdf_filename="partida.pdf",
                pdf_sha256="0" * 64,
                pdf_size=1,
                png_filename="partida.png",
                png_sha256="0" * 64,
                png_size=1,
                signer_kid="k",
                sandbox=True,
                conversation_id="web:ciudadano",
            ),
        )
        await session.commit()

    query(gateway.settings, _document)
    case = gateway.open_case()
    assert "Reenviar PDF" not in ana.client.get(f"/consola/atenciones/{case}").text  # only who holds it
    ana.act(case, "tomar")
    assert "certificado nacimiento" in ana.client.get(f"/consola/atenciones/{case}").text
    assert ana.act(case, "reenviar", documento="otro", archivo="pdf") == "documento_invalido"
    assert ana.act(case, "reenviar", documento="doc0123456789abcdef", archivo="pdf") == "reenviado"
    document = gateway.news()[-1]["custom"]["document"]
    assert {k: document[k] for k in ("id", "kind", "filename", "verification_code")} == {
        "id": "doc0123456789abcdef",
        "kind": "pdf",
        "filename": "partida.pdf",
        "verification_code": "ABCD2345EFGH",
    }
    assert re.search(r"/documentos/doc0123456789abcdef/partida\.pdf\?exp=\d+&sig=", document["url"])


def test_agents_see_only_their_teams_and_supervisors_see_all(gateway: Gateway) -> None:
    sri = gateway.staff("sara", equipos=("sri",))
    ana = gateway.staff("ana")
    jefa = gateway.staff("jefa", rol="supervisor", equipos=())
    gateway.says(HANDOFF_TRIGGER)
    case = gateway.open_case()
    assert f"/consola/atenciones/{case}" not in sri.client.get("/consola/cola").text
    assert sri.client.get(f"/consola/atenciones/{case}").status_code == 404
    assert sri.act(case, "tomar") == "no_encontrada"
    assert f"/consola/atenciones/{case}" in ana.client.get("/consola/cola").text
    assert "vista=todas" not in ana.client.get("/consola/cola").text
    assert f"/consola/atenciones/{case}" in jefa.client.get("/consola/cola?vista=todas").text
    assert ana.client.get("/consola/tablero").status_code == 403


def test_every_view_and_action_is_audited_and_only_admins_read_the_audit(gateway: Gateway) -> None:
    ana = gateway.staff("ana")
    admin = gateway.staff("admin", rol="admin", equipos=())
    gateway.says(HANDOFF_TRIGGER)
    case = gateway.open_case()
    ana.client.get("/consola/cola")
    ana.client.get(f"/consola/atenciones/{case}")
    ana.act(case, "tomar")
    ana.act(case, "responder", texto="Hola")
    ana.act(case, "nota", texto="nota")
    gateway.says("una pregunta más")
    ana.client.get(f"/consola/atenciones/{case}/mensajes", params={"despues": 0})
    ana.act(case, "cerrar", motivo="resuelto")
    assert [(u, a) for u, a, _ in audit(gateway) if u == "ana"] == [
        ("ana", "entrar"),
        ("ana", "ver_cola"),  # the login lands on the queue
        ("ana", "ver_cola"),
        ("ana", "ver_conversacion"),
        ("ana", "tomar"),
        ("ana", "responder"),
        ("ana", "nota"),
        ("ana", "ver_mensajes"),
        ("ana", "cerrar"),
    ]
    assert ana.client.get("/consola/auditoria").status_code == 403
    page = admin.client.get("/consola/auditoria", params={"usuario": "ana"}).text
    assert "Vio la conversación" in page and "Cerró" in page and "motivo: resuelto" in page
    assert audit(gateway)[-1][:2] == ("admin", "ver_auditoria")


def test_the_dashboard_counts_queue_sla_agents_online_and_rating(gateway: Gateway) -> None:
    ana = gateway.staff("ana")
    jefa = gateway.staff("jefa", rol="supervisor", equipos=())
    ana.client.post("/consola/latido", headers={"X-CSRF-Token": ana.csrf})
    gateway.says(HANDOFF_TRIGGER)
    case = gateway.open_case()
    ana.act(case, "tomar")
    ana.act(case, "responder", texto="Hola")
    ana.act(case, "devolver")
    gateway.says("4")
    gateway.says(HANDOFF_TRIGGER, sender="web:otra")
    board = jefa.client.get("/consola/tablero").text
    row = board.split('<th scope="row">Atención general</th>')[1].split("</tr>")[0]
    cells = re.findall(r"<td>(.*?)</td>", row, re.S)
    assert cells == ["1", "0", "0", "0 min", "0 min", "100 % de 1 (meta 5 min)", "1", "4,0 (1)"]


def test_canned_replies_are_seeded_once_and_managed_by_admins(gateway: Gateway) -> None:
    admin = gateway.staff("admin", rol="admin", equipos=())
    page = admin.client.get("/consola/respuestas").text
    assert page.count("<strong>") == 6 and "Saludo" in page
    created = admin.post("/consola/respuestas", {"titulo": "Horario", "texto": "Atendemos de 8 a 17.", "equipo": "sri"})
    assert created.headers["location"] == "/consola/respuestas?aviso=respuesta_creada"
    bad = admin.post("/consola/respuestas", {"titulo": "Mala", "texto": "Hola {nombre_agente.__class__} {"})
    assert bad.headers["location"] == "/consola/respuestas?aviso=variables_invalidas"
    from bot.console.service import canned_text_ok, seed_canned_replies

    assert [canned_text_ok(t) for t in ("Hola {nombre_agente}", "{x}", "{equipo!r}", "{equipo:>9}", "a } b")] == [
        True,
        False,
        False,
        False,
        False,
    ]

    assert run_in_app(gateway, seed_canned_replies(gateway.consola.sessions, gateway.consola.equipos)) == 0
    assert admin.client.get("/consola/respuestas").text.count("<strong>") == 7


def test_channel_ids_are_shown_masked() -> None:
    from bot.console.views import visible_user

    assert [
        visible_user(c) for c in ("wa:+593991234567", "wa:7c1e9b0d4a2f6e8b3c5d", "tg:4242", "web:3f1c9a27d0b84e55")
    ] == [
        "+593*******67",
        "…8b3c5d",
        "4242",
        "…b84e55",
    ]
