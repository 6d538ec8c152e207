"""Messages a gateway stored and then died with, for good (its host is gone), are answered by another gateway's
sweep once they have waited `TAKE_OVER_AFTER`: once, through the tracker look-up of a retried turn; fresh ones
are left to the gateway that stored them."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.conversations.inbound import InboundProcessor
from bot.conversations.router import ConversationRouter
from bot.storage.models import Message, MessageStatus
from tests.conversations.test_retried_turns import TrackingRasa, message, rasa_and_router  # noqa: F401 - fixture


async def test_a_dead_gateways_messages_are_answered_once_by_another_gateways_sweep(
    rasa_and_router: tuple[TrackingRasa, ConversationRouter],  # noqa: F811
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    rasa, router = rasa_and_router
    await router.handle(message("chat:ana", "hola", "w1"))  # a synchronous channel: never swept
    first = await router.accept(message("msg:luis", "quiero mi licencia", "t1"))  # stored by the gateway that died
    second = await router.accept(message("msg:luis", "y la matricula", "t2"))
    other = InboundProcessor(router=router, sessions=sessions)

    assert await other.sweep(["msg"], older_than=timedelta(minutes=2)) == 0  # the other may still be on them
    assert rasa.processed == ["hola"]

    assert await other.sweep(["msg"], older_than=timedelta(0)) == 1
    await other.idle()
    assert rasa.processed == ["hola", "quiero mi licencia", "y la matricula"]  # in order, once each
    assert rasa.tracker_reads == 1  # the first one may have reached Rasa: looked up first
    async with sessions() as session:
        statuses = (
            await session.scalars(select(Message.status).where(Message.id.in_([first.message_id, second.message_id])))
        ).all()
    assert statuses == [MessageStatus.ANSWERED, MessageStatus.ANSWERED]

    assert await other.sweep(["msg"], older_than=timedelta(0)) == 0  # nothing left
    await other.close()
