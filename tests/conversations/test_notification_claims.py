"""Every gateway process polls the notifications trámites record; each one reaches the citizen once, however
many poll at the same moment (SQLite and PostgreSQL, one engine per dispatcher as separate processes have)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.channels.base import ChannelRegistry
from bot.conversations.notifications import NotificationDispatcher
from bot.storage import conversations as conversations_repo
from bot.storage import tramites as repo
from bot.storage.models import OutboxMessage
from bot.texts import load_textos
from tests.conversations.test_outbox_claims import Recorder

PROJECT = Path(__file__).resolve().parents[2]
CHATS = [f"tg:{n}" for n in range(1, 6)]


async def test_gateways_polling_at_once_deliver_each_notification_once(
    engines: list[async_sessionmaker[AsyncSession]],
) -> None:
    async with engines[0]() as session:
        for chat in CHATS:
            await conversations_repo.get_or_create_conversation(session=session, conversation_id=chat, channel="tg")
            for numero in ("SOL-1", "SOL-2", "SOL-3"):
                await repo.add_notification(
                    session=session,
                    conversation_id=chat,
                    application_id=None,
                    plantilla="tramite_rechazado_notificacion",
                    valores={"numero": numero},
                )
        await session.commit()
    textos = load_textos(PROJECT / "dialogs" / "textos")

    def dispatcher(sessions: async_sessionmaker[AsyncSession]) -> NotificationDispatcher:
        channels = ChannelRegistry()
        channels.register(Recorder([]))
        return NotificationDispatcher(sessions=sessions, channels=channels, textos=textos, outbox_notify=lambda: None)

    delivered = await asyncio.gather(*(dispatcher(sessions).deliver_pending() for sessions in engines))

    assert sum(delivered) == len(CHATS) * 3
    async with engines[0]() as session:
        assert await session.scalar(select(func.count()).select_from(OutboxMessage)) == len(CHATS) * 3
        assert await repo.undelivered_notifications(session=session) == []
