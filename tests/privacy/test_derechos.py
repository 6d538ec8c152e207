"""Rights carried out at once: a copy of the data, deletion from every store, the retention purge, breaches."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import select, text

from bot.actions.privacy import ActionAskConfirmarBorrado, ActionBorrarMisDatos, ActionExportarMisDatos
from bot.privacy.rights import PrivacyService, Retention
from bot.settings import async_database_url
from bot.storage import conversations as repo
from bot.storage.db import create_engine
from bot.storage.models import Conversation, Message, utcnow
from bot.storage.models_documents import Document
from bot.storage.models_privacy import PurgeLog
from bot.storage.models_tramites import Application, Payment
from bot.tramites.antecedentes_penales.actions import ActionSolicitarAntecedentesPenales
from tests.actions.builders import tracker
from tests.actions.conftest import World, keys_dir, world  # noqa: F401 - fixtures

CEDULA, DACTILAR = "1712345675", "V4443V4442"


async def _citizen_with_history(world: World, sender: str) -> None:  # noqa: F811
    s = world.services
    async with s.identidad._sessions() as session:
        conversation = await repo.get_or_create_conversation(session=session, conversation_id=sender, channel="web")
        await repo.add_inbound(
            session=session,
            conversation=conversation,
            channel_message_id="m1",
            text="hola ced_0000000000",
            payload={"masked": {"ced_0000000000": "17******75"}},
        )
        await session.commit()
    await s.identidad.verify(sender, CEDULA, DACTILAR)
    t = tracker(slots={"motivo_consulta": "para un trabajo nuevo", "confirmar_antecedentes": True}, sender_id=sender)
    await ActionSolicitarAntecedentesPenales().run(CollectingDispatcher(), t, {})


async def test_the_copy_holds_everything_and_no_cedula_in_clear(world: World) -> None:  # noqa: F811
    await _citizen_with_history(world, "web:ana")
    dispatcher = CollectingDispatcher()
    await ActionExportarMisDatos().run(dispatcher, tracker(sender_id="web:ana"), {})
    assert dispatcher.messages[0]["plantilla"] == "exportar_listo"
    token = dispatcher.messages[0]["text"].rsplit("/mis-datos/", 1)[1].split()[0]
    data = json.loads(world.services.exportes.get(token) or b"{}")
    assert data["identidad"]["cedula"] == "17******75"
    assert data["alcance"] == "todas_sus_conversaciones"
    assert [c["id"] for c in data["conversaciones"]] == ["web:ana"]
    assert data["conversaciones"][0]["mensajes"][0]["texto"] == "hola 17******75"
    assert [(a["tramite"], a["estado"]) for a in data["solicitudes"]] == [("antecedentes_penales", "emitida")]
    assert [d["tipo"] for d in data["documentos"]] == ["certificado_antecedentes_penales"]
    assert CEDULA not in json.dumps(data)


async def test_deletion_reaches_every_store_and_keeps_only_what_the_law_requires(world: World, tmp_path: Path) -> None:  # noqa: F811
    s = world.services
    await _citizen_with_history(world, "web:ana")
    [solicitud] = await s.solicitudes.de_ciudadano(CEDULA)
    paid = await s.pagos.crear(solicitud.id, concepto="Prueba", monto=Decimal("1.00"), detalle={})
    confirmacion = s.pagos.proveedor.cobrar(
        pago_id=paid.id, monto=Decimal("1.00"), numero_tarjeta="4111111111111111", vencimiento="12/30", cvv="123"
    )
    await s.pagos.confirmar(confirmacion)
    rasa_url = f"sqlite+aiosqlite:///{tmp_path / 'rasa.db'}"
    rasa = create_engine(rasa_url)
    async with rasa.begin() as connection:
        await connection.execute(text("CREATE TABLE events (id INTEGER PRIMARY KEY, sender_id TEXT, type_name TEXT,"
                                      " timestamp REAL, intent_name TEXT, action_name TEXT, data TEXT)"))  # fmt: skip
        await connection.execute(text("INSERT INTO events (sender_id, type_name, timestamp, data) VALUES "
                                      "('web:ana', 'user', 1.0, '{}'), ('web:otro', 'user', 1.0, '{}')"))  # fmt: skip
    privacy = PrivacyService(
        sessions=s.identidad._sessions,
        rasa_engine=rasa,
        store=s.documents.store,
        protector=s.identidad._protector,
        holder_key=s.documents.issuer.holder_key,
        retention=Retention(anonymous_days=30, identified_days=365),
    )
    [summary] = await s.documents.issuer.of_holder(CEDULA)
    document = await s.documents.issuer.payloads(summary.id)
    document_id, filename = document[0]["document"]["id"], document[0]["document"]["filename"]
    stored_file = s.settings.var_dir / "documentos" / document_id[:2] / document_id / filename
    assert stored_file.exists()
    counts = await privacy.borrar("web:ana")
    assert counts["conversaciones"] == 1 and counts["mensajes"] == 1 and counts["identidad"] == 1
    assert counts["eventos_rasa"] == 1 and counts["documentos_anonimizados"] == 1
    assert counts["solicitudes_anonimizadas_por_pagos"] == 1  # a receipt keeps its anonymous application
    async with s.identidad._sessions() as session:
        assert (await session.scalars(select(Conversation))).all() == []
        assert (await session.scalars(select(Message))).all() == []
        [application] = (await session.scalars(select(Application))).all()
        assert (application.titular_cifrado, application.conversation_id, application.datos) == ("", "[eliminado]", {})
        [payment] = (await session.scalars(select(Payment))).all()
        assert payment.recibo is not None
        [record] = (await session.scalars(select(Document))).all()
        assert (record.holder_name, record.holder_cedula_masked) == ("[eliminado]", "**********")
        [log_entry] = (await session.scalars(select(PurgeLog))).all()
        assert log_entry.motivo == "borrado_solicitado"
    assert await s.identidad.current("web:ana") is None
    assert await s.documents.issuer.of_holder(CEDULA) == []
    assert not stored_file.exists()
    async with rasa.connect() as connection:
        left = (await connection.execute(text("SELECT sender_id FROM events"))).all()
    assert [r[0] for r in left] == ["web:otro"]
    await rasa.dispose()


async def test_the_delete_action_signals_the_gateway_only_after_yes(world: World) -> None:  # noqa: F811
    yes, no = CollectingDispatcher(), CollectingDispatcher()
    await world.services.identidad.verify("web:ana", CEDULA, DACTILAR)
    await ActionBorrarMisDatos().run(yes, tracker(slots={"confirmar_borrado": True}, sender_id="web:ana"), {})
    await ActionBorrarMisDatos().run(no, tracker(slots={"confirmar_borrado": False}, sender_id="web:ana"), {})
    assert [m.get("plantilla") or m.get("custom") for m in yes.messages] == ["borrar_hecho", {"privacidad": "borrar"}]
    assert [m.get("plantilla") for m in no.messages] == ["borrar_cancelado"]


async def test_without_a_current_identity_the_answers_say_this_chat_only(world: World) -> None:  # noqa: F811
    await _citizen_with_history(world, "web:ana")
    await world.services.identidad.unlink("web:ana")  # «cerrar sesión», or the link expired
    asked, done, copy = CollectingDispatcher(), CollectingDispatcher(), CollectingDispatcher()
    await ActionAskConfirmarBorrado().run(asked, tracker(sender_id="web:ana"), {})
    await ActionBorrarMisDatos().run(done, tracker(slots={"confirmar_borrado": True}, sender_id="web:ana"), {})
    await ActionExportarMisDatos().run(copy, tracker(sender_id="web:ana"), {})
    assert [m["plantilla"] for m in asked.messages] == ["borrar_confirmar_sin_identidad"]
    assert "primero confirme su identidad" in asked.messages[0]["text"]
    assert done.messages[0]["plantilla"] == "borrar_hecho_sin_identidad"
    assert copy.messages[0]["plantilla"] == "exportar_listo_sin_identidad"
    token = copy.messages[0]["text"].rsplit("/mis-datos/", 1)[1].split()[0]
    data = json.loads(world.services.exportes.get(token) or b"{}")
    assert (data["alcance"], data["identidad"], data["solicitudes"], data["documentos"]) == (
        "esta_conversacion",
        None,
        [],
        [],
    )
    counts = await world.services.privacidad.borrar("web:ana")  # what the gateway then does
    assert (counts["conversaciones"], counts.get("documentos_anonimizados", 0)) == (1, 0)
    assert [s.tramite for s in await world.services.solicitudes.de_ciudadano(CEDULA)] == ["antecedentes_penales"]


async def test_a_verified_citizen_copy_and_deletion_cover_every_channel(world: World) -> None:  # noqa: F811
    s = world.services
    await _citizen_with_history(world, "web:ana")  # applied and got a document on the web chat
    async with s.identidad._sessions() as session:  # later, the same person on Telegram
        conversation = await repo.get_or_create_conversation(
            session=session, conversation_id="telegram:555", channel="telegram"
        )
        await repo.add_inbound(session=session, conversation=conversation, channel_message_id="t1", text="buenas")
        other = await repo.get_or_create_conversation(session=session, conversation_id="web:otro", channel="web")
        await repo.add_inbound(session=session, conversation=other, channel_message_id="o1", text="no soy Ana")
        await session.commit()
    await s.identidad.verify("telegram:555", CEDULA, DACTILAR)
    copy = CollectingDispatcher()
    await ActionExportarMisDatos().run(copy, tracker(sender_id="telegram:555"), {})
    assert copy.messages[0]["plantilla"] == "exportar_listo" and "sus 2 conversaciones" in copy.messages[0]["text"]
    token = copy.messages[0]["text"].rsplit("/mis-datos/", 1)[1].split()[0]
    data = json.loads(s.exportes.get(token) or b"{}")
    assert [(c["id"], c["canal"]) for c in data["conversaciones"]] == [("telegram:555", "telegram"), ("web:ana", "web")]
    assert [d["tipo"] for d in data["documentos"]] == ["certificado_antecedentes_penales"]
    counts = await s.privacidad.borrar("telegram:555")
    assert counts["conversaciones"] == 2 and counts["documentos_anonimizados"] == 1
    async with s.identidad._sessions() as session:
        assert [c.id for c in (await session.scalars(select(Conversation))).all()] == ["web:otro"]
    assert await s.solicitudes.de_ciudadano(CEDULA) == []


async def test_retention_purge_is_shorter_for_anonymous_chats(world: World) -> None:  # noqa: F811
    s = world.services
    old, very_old = utcnow() - timedelta(days=40), utcnow() - timedelta(days=400)
    async with s.identidad._sessions() as session:
        for conversation_id, when in (("web:anonima", old), ("web:reciente", utcnow()), ("web:antigua", very_old)):
            conversation = await repo.get_or_create_conversation(
                session=session, conversation_id=conversation_id, channel="web"
            )
            conversation.updated_at = when
            message = await repo.add_inbound(
                session=session, conversation=conversation, channel_message_id="x", text="hola"
            )
            message.created_at = when
        await session.commit()
    await s.identidad.verify("web:identificada", CEDULA, DACTILAR)
    async with s.identidad._sessions() as session:
        conversation = await repo.get_or_create_conversation(
            session=session, conversation_id="web:identificada", channel="web"
        )
        conversation.updated_at = old
        message = await repo.add_inbound(
            session=session, conversation=conversation, channel_message_id="y", text="hola"
        )
        message.created_at = old
        await session.commit()
    totals = await s.privacidad.purgar()
    assert (totals["anonimas"], totals["identificadas"]) == (2, 0)
    async with s.identidad._sessions() as session:
        left = sorted(c.id for c in (await session.scalars(select(Conversation))).all())
    assert left == ["web:identificada", "web:reciente"]


async def test_breach_listing_by_window_and_category(world: World) -> None:  # noqa: F811
    await _citizen_with_history(world, "web:ana")
    now = utcnow()
    identities = await world.services.privacidad.brecha(now - timedelta(hours=1), now + timedelta(hours=1), "identidad")
    applications = await world.services.privacidad.brecha(
        now - timedelta(hours=1), now + timedelta(hours=1), "antecedentes"
    )
    assert identities == [{"conversacion": "web:ana", "cedula": "17******75"}]
    assert [(r["conversacion"], r["cedula"]) for r in applications] == [("web:ana", "17******75")]
    assert await world.services.privacidad.brecha(now - timedelta(days=9), now - timedelta(days=8), "identidad") == []


def test_rasa_url_is_mapped_to_the_async_driver() -> None:
    assert async_database_url("sqlite:////tmp/rasa.db") == "sqlite+aiosqlite:////tmp/rasa.db"
