"""Several outbox dispatchers (gateway processes) on one database: each message is sent once, in order per
chat; a message a dead dispatcher was sending is taken over when its lease runs out, not before. On SQLite and
on PostgreSQL (each dispatcher with an engine of its own, as separate processes have)."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Sequence
from datetime import timedelta
from typing import Any, ClassVar

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.channels.base import ChannelAdapter, ChannelRegistry, Delivery, InboundMessage
from bot.conversations.messages import BotMessage
from bot.conversations.outbox import OutboxDispatcher
from bot.storage import conversations as repo
from bot.storage.models import OutboxMessage, OutboxStatus, utcnow

CHATS = [f"tg:{n}" for n in range(1, 9)]
PER_CHAT = 6


class Recorder(ChannelAdapter):
    """A Telegram-like channel that records what it was asked to send, taking a little while each time."""

    code: ClassVar[str] = "tg"
    max_text_length: ClassVar[int] = 4096
    asynchronous: ClassVar[bool] = True
    messages_per_second: ClassVar[float] = 1000.0

    def __init__(self, sent: list[tuple[str, str]]) -> None:
        self.sent = sent

    def parse(self, payload: Any) -> InboundMessage | None:
        return None

    async def send(self, chat_id: str, message: BotMessage, *, conversation_options: bool = False) -> Delivery:
        await asyncio.sleep(random.uniform(0.0, 0.01))
        self.sent.append((chat_id, message.text or ""))
        return Delivery(provider_message_id=None)


async def queue(sessions: async_sessionmaker[AsyncSession], chats: Sequence[str], per_chat: int) -> None:
    async with sessions() as session:
        for chat in chats:
            await repo.get_or_create_conversation(session=session, conversation_id=chat, channel="tg")
        for index in range(per_chat):  # interleaved, as replies to many chats arrive
            for chat in chats:
                await repo.enqueue_outbox(
                    session=session, conversation_id=chat, channel="tg", messages=[BotMessage(text=f"{chat}#{index}")]
                )
        await session.commit()


async def run_until_idle(dispatchers: Sequence[OutboxDispatcher]) -> None:
    tasks = [asyncio.create_task(d.run()) for d in dispatchers]
    try:
        await asyncio.gather(*(d.idle(within=60) for d in dispatchers))
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for dispatcher in dispatchers:
            await dispatcher.close()


def dispatcher(
    sessions: async_sessionmaker[AsyncSession], sent: list[tuple[str, str]], **kwargs: Any
) -> OutboxDispatcher:
    channels = ChannelRegistry()
    channels.register(Recorder(sent))
    return OutboxDispatcher(sessions=sessions, channels=channels, idle_seconds=0.05, **kwargs)


async def test_three_dispatchers_send_each_message_once_and_in_order_per_chat(
    engines: list[async_sessionmaker[AsyncSession]],
) -> None:
    await queue(engines[0], CHATS, PER_CHAT)
    sent: list[tuple[str, str]] = []
    await run_until_idle([dispatcher(sessions, sent) for sessions in engines])

    assert len(sent) == len(CHATS) * PER_CHAT, "a message was sent twice or not at all"
    for chat in CHATS:
        chat_id = chat.split(":", 1)[1]
        assert [text for to, text in sent if to == chat_id] == [f"{chat}#{i}" for i in range(PER_CHAT)], chat


async def test_a_message_left_sending_by_a_dead_dispatcher_waits_for_its_lease_then_is_sent_once(
    engines: list[async_sessionmaker[AsyncSession]],
) -> None:
    await queue(engines[0], ["tg:77"], 2)
    async with engines[0]() as session:  # a dispatcher claimed the first message for a minute, then died
        first = await session.scalar(select(OutboxMessage).order_by(OutboxMessage.id).limit(1))
        assert first is not None
        await session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == first.id)
            .values(status=OutboxStatus.SENDING, attempts=1, next_attempt_at=utcnow() + timedelta(minutes=1))
        )
        await session.commit()

    sent: list[tuple[str, str]] = []
    alive = dispatcher(engines[1], sent, lease=timedelta(seconds=30))
    task = asyncio.create_task(alive.run())
    await asyncio.sleep(0.5)  # a restarted gateway does not reset it, and the chat's next message waits behind it
    assert sent == []

    async with engines[0]() as session:  # the lease runs out
        await session.execute(
            update(OutboxMessage).where(OutboxMessage.id == first.id).values(next_attempt_at=utcnow())
        )
        await session.commit()
    alive.notify()
    try:
        await alive.idle(within=30)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await alive.close()
    assert sent == [("77", "tg:77#0"), ("77", "tg:77#1")]
    async with engines[2]() as session:
        rows = (await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))).all()
    assert [(r.status, r.attempts) for r in rows] == [(OutboxStatus.SENT, 2), (OutboxStatus.SENT, 1)]
