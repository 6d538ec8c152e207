"""The conversation router: store first, deduplicate, gate by owner, ask Rasa, store the answer.

Messages of one conversation are processed one at a time, in arrival order; a message id seen
before is answered from the stored replies instead of reaching Rasa twice.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from enum import StrEnum

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.conversations.messages import BotMessage, HandoffSignal, InboundMessage
from bot.conversations.rasa_client import RasaClient, RasaUnavailable
from bot.handoff.state import bot_answers, check_transition
from bot.storage import conversations as repo
from bot.storage.models import Message, MessageStatus, Owner
from bot.textos import Textos

log = structlog.get_logger(__name__)


class Outcome(StrEnum):
    ANSWERED = "answered"  # the bot answered now
    DUPLICATE = "duplicate"  # seen before: the stored answer is returned again
    WAITING = "waiting"  # a person owns the conversation; the message waits in the console
    UNAVAILABLE = "unavailable"  # Rasa is down or loading: the citizen got an apology


@dataclass(frozen=True)
class RouteResult:
    outcome: Outcome
    replies: tuple[BotMessage, ...]


class ConversationRouter:
    """Routes inbound messages of every channel; the single owner of conversation state."""

    def __init__(self, *, sessions: async_sessionmaker[AsyncSession], rasa: RasaClient, textos: Textos) -> None:
        self._sessions = sessions
        self._rasa = rasa
        self._textos = textos
        self._locks: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()

    @asynccontextmanager
    async def _conversation_lock(self, conversation_id: str) -> AsyncIterator[None]:
        lock = self._locks.get(conversation_id)
        if lock is None:
            lock = asyncio.Lock()
            self._locks[conversation_id] = lock
        async with lock:
            yield

    async def handle(self, message: InboundMessage) -> RouteResult:
        """Process one inbound message and return what the citizen should receive now."""
        async with self._conversation_lock(message.conversation_id):
            return await self._handle_locked(message)

    async def _handle_locked(self, message: InboundMessage) -> RouteResult:
        bound = log.bind(conversation=message.conversation_id, channel_message_id=message.channel_message_id)
        async with self._sessions() as session:
            conversation = await repo.get_or_create_conversation(
                session=session, conversation_id=message.conversation_id, channel=message.channel
            )
            stored = await repo.find_inbound(
                session=session,
                conversation_id=message.conversation_id,
                channel_message_id=message.channel_message_id,
            )
            if stored is not None and stored.status in (MessageStatus.ANSWERED, MessageStatus.WAITING):
                earlier = await repo.replies_to(session=session, message=stored)
                bound.info("inbound.duplicate")
                return RouteResult(Outcome.DUPLICATE, tuple(BotMessage.from_payload(r.payload or {}) for r in earlier))
            if stored is None:
                stored = await repo.add_inbound(
                    session=session,
                    conversation=conversation,
                    channel_message_id=message.channel_message_id,
                    text=message.text,
                )
            if conversation.owner == Owner.CLOSED:
                check_transition(conversation.owner, Owner.BOT)
                await repo.record_owner_change(
                    session=session,
                    conversation=conversation,
                    to_owner=Owner.BOT,
                    actor="ciudadano",
                    reason="nuevo_mensaje",
                )
            if not bot_answers(conversation.owner):
                stored.status = MessageStatus.WAITING
                await session.commit()
                bound.info("inbound.waiting_for_person", owner=conversation.owner)
                return RouteResult(Outcome.WAITING, ())
            inbound_id = stored.id
            await session.commit()

        try:
            replies = await self._rasa.send(
                sender=message.conversation_id,
                message=message.text,
                metadata={"channel": message.channel, "message_id": message.channel_message_id},
            )
        except RasaUnavailable as exc:
            bound.warning("rasa.unavailable", error=str(exc))
            await self._mark(inbound_id, MessageStatus.FAILED)
            return RouteResult(Outcome.UNAVAILABLE, (self._texto("rasa_no_disponible"),))

        if not replies:
            bound.warning("rasa.empty_reply")
            replies = [self._texto("respuesta_vacia")]
        visible, handoffs = split_signals(replies)
        await self._store_answer(inbound_id, message.conversation_id, visible, handoffs)
        bound.info("inbound.answered", replies=len(visible), handoffs=len(handoffs))
        return RouteResult(Outcome.ANSWERED, tuple(visible))

    def _texto(self, key: str) -> BotMessage:
        return BotMessage(text=self._textos.render(key).text)

    async def _mark(self, message_id: int, status: MessageStatus) -> None:
        async with self._sessions() as session:
            stored = await session.get(Message, message_id)
            if stored is not None:
                stored.status = status
                await session.commit()

    async def _store_answer(
        self, inbound_id: int, conversation_id: str, replies: list[BotMessage], handoffs: list[HandoffSignal]
    ) -> None:
        async with self._sessions() as session:
            inbound = await session.get(Message, inbound_id)
            for reply in replies:
                await repo.add_outbound(
                    session=session,
                    conversation_id=conversation_id,
                    reply_to=inbound,
                    author="bot",
                    text=reply.text,
                    payload=reply.as_payload(),
                )
            for handoff in handoffs:
                await repo.add_handoff_request(
                    session=session, conversation_id=conversation_id, reason=handoff.reason, team=handoff.team
                )
            if inbound is not None:
                inbound.status = MessageStatus.ANSWERED
            await session.commit()


def split_signals(replies: list[BotMessage]) -> tuple[list[BotMessage], list[HandoffSignal]]:
    """Separate what the citizen sees from the signals actions send to the gateway."""
    visible: list[BotMessage] = []
    handoffs: list[HandoffSignal] = []
    for reply in replies:
        custom = reply.custom or {}
        handoff = custom.get("handoff")
        if isinstance(handoff, dict):
            handoffs.append(
                HandoffSignal(reason=str(handoff.get("reason", "sin_motivo")), team=str(handoff.get("team", "general")))
            )
            if reply.text or reply.buttons:
                visible.append(BotMessage(text=reply.text, buttons=reply.buttons))
            continue
        visible.append(reply)
    return visible, handoffs
