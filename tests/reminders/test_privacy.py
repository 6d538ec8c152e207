"""Subscriptions are the citizen's data: in the copy of their data, gone with their deletion in every channel,
and the cédula never stored in clear; reminders recorded but not yet sent go with «no más avisos»."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select, text

from bot.storage import privacy as privacy_repo
from bot.storage.models_reminders import ReminderSent, ReminderSubscription
from bot.storage.models_tramites import Notification
from tests.reminders.conftest import Reminders, demo
from tests.reminders.test_year import START

CHAT, OTHER = "tg:1001", "wa:p2002"


async def test_the_copy_of_the_data_holds_the_subscription_and_the_reminders(reminders: Reminders) -> None:
    r = reminders
    await r.open_chat(CHAT)
    r.clock.set(START, 8, 30)
    await r.subscribe(CHAT, "licencia_por_vencer", "licencia", "matricula")
    r.clock.set(START, 9)
    assert (await r.service.run()).recorded == 2  # the licence's 90-day step and the late matrícula

    data = await r.world.services.privacidad.exportar(CHAT)
    [chat] = data["conversaciones"]
    assert chat["recordatorios"] == {
        "tipos": ["licencia", "matricula"],
        "canal": "tg",
        "desde": r.clock().astimezone(UTC).replace(hour=13, minute=30).isoformat(),
    }
    assert [(e["tipo"], e["fecha"]) for e in chat["recordatorios_enviados"]] == [
        ("licencia", r.clock().astimezone(UTC).isoformat()),
        ("matricula", r.clock().astimezone(UTC).isoformat()),
    ]
    assert [(c["proposito"], c["otorgado"]) for c in chat["consentimientos"]] == [("recordatorios", True)]
    cedula, _ = demo("licencia_por_vencer")
    assert cedula not in json.dumps(data)
    async with r.sessions() as session:  # nor in the tables
        rows = (await session.execute(text("SELECT * FROM reminder_subscriptions"))).all()
        keys = (await session.execute(text("SELECT clave FROM reminders_sent"))).scalars().all()
    assert rows and cedula not in repr(rows)
    assert keys and not any("TAB" in k or "3579" in k for k in keys)  # the plate only as a keyed hash


async def test_deletion_reaches_the_subscriptions_of_every_channel(reminders: Reminders) -> None:
    r = reminders
    for chat in (CHAT, OTHER):
        await r.open_chat(chat)
        await r.subscribe(chat, "multas_de_transito", "multas")
    await r.service.run()
    await r.world.services.identidad.unlink(OTHER)  # the WhatsApp chat's identity link is gone; its reminders stay
    counts = await r.world.services.privacidad.borrar(CHAT)
    # Two subscriptions; in each chat one message about three overdue citations, one key per citation.
    assert counts["recordatorios"] == 2 and counts["recordatorios_enviados"] == 6
    async with r.sessions() as session:
        for model in (ReminderSubscription, ReminderSent):
            assert await session.scalar(select(func.count()).select_from(model)) == 0


async def test_reminders_not_yet_sent_go_with_no_más_avisos(reminders: Reminders) -> None:
    r = reminders
    await r.open_chat(CHAT, last_inbound=datetime.now(UTC) - timedelta(minutes=5))
    await r.subscribe(CHAT, "multas_de_transito", "multas", "matricula")
    await r.service.run()  # recorded; the gateway has not delivered them yet
    assert len(await r.notifications()) == 2
    await r.stop(CHAT)
    assert await r.notifications() == []
    assert await r.dispatcher().deliver_pending() == 0
    assert await r.outbox(CHAT) == []
    async with r.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Notification)) == 0


async def test_no_reminder_carries_data_abroad_once_that_consent_is_withdrawn(reminders: Reminders) -> None:
    r = reminders
    await r.open_chat(OTHER)
    await r.subscribe(OTHER, "multas_de_transito", "multas")

    async def transfer(granted: bool) -> None:
        async with r.sessions() as session:
            await privacy_repo.record_consent(
                session=session, conversation_id=OTHER, proposito="transferencia_internacional",
                otorgado=granted, version_aviso="2026-11-27", canal="wa",
            )  # fmt: skip
            await session.commit()

    await transfer(False)  # «retirar consentimiento» on WhatsApp
    assert (await r.service.run()).recorded == 0
    assert await r.notifications() == []
    await transfer(True)  # accepted again: what is due goes, once
    assert (await r.service.run()).recorded == 1
    assert (await r.service.run()).recorded == 0
