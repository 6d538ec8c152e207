"""A turn through the router's stages on a real database: what it stores, how many transactions and look-ups
it takes, and that nothing in it blocks the event loop (asyncio's debug mode reports slow callbacks)."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import event, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.channels.base import ChannelAdapter, ChannelRegistry
from bot.conversations.messages import InboundMessage
from bot.conversations.rasa_client import RasaClient
from bot.conversations.router import ConversationRouter, Outcome
from bot.conversations.state import ConversationState
from bot.handoff.events import EventBus
from bot.handoff.service import HandoffService
from bot.handoff.teams import load_equipos
from bot.privacy.vault import MemoryVault
from bot.storage.models import Conversation, Message, OutboxMessage
from bot.texts import load_textos
from bot.tramites import registry

PROJECT = Path(__file__).resolve().parent.parent.parent
SLOW = 0.1  # seconds: a callback this long without yielding is blocking work on the loop (e.g. sync I/O)


class Chat(ChannelAdapter):
    """A synchronous channel: the answer goes in the HTTP response."""

    code = "chat"
    max_text_length = 4000

    def parse(self, payload: Any) -> InboundMessage | None:
        return None


class Messenger(ChannelAdapter):
    """An asynchronous channel with numbered options: answers go through the outbox."""

    code = "msg"
    max_text_length = 4000
    asynchronous = True
    numbered_options = True

    def __init__(self, typing: Callable[[], None] = lambda: None) -> None:
        self.on_typing = typing

    def parse(self, payload: Any) -> InboundMessage | None:
        return None

    async def typing(self, chat_id: str) -> None:
        self.on_typing()


def rasa_reply(body: dict[str, Any]) -> list[dict[str, Any]]:
    """Rasa's REST answer: options for «trámites», a person for «asesor», an echo otherwise."""
    text = body["message"]
    if text == "trámites":
        return [{"text": "¿Qué trámite?", "buttons": [{"title": "Licencia", "payload": "/licencia"}] * 2}]
    if text == "asesor":
        return [{"text": "Le comunico."}, {"custom": {"handoff": {"reason": "pedido", "team": "general"}}}]
    return [{"text": f"eco: {text}"}]


def fake_rasa(request: httpx.Request) -> httpx.Response:
    if request.url.path.endswith("/tracker"):
        return httpx.Response(200, json={"active_loop": {}})
    return httpx.Response(200, json=rasa_reply(json.loads(request.content)))


class Counter:
    """Commits and SELECTs on the conversations table, per engine (SQLAlchemy events)."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.commits = 0
        self.conversation_reads = 0
        self.conversation_writes = 0
        self.statements = 0
        engine = sessions.kw["bind"].sync_engine
        event.listen(engine, "commit", self._commit)
        event.listen(engine, "before_cursor_execute", self._statement)

    def _commit(self, _: Any) -> None:
        self.commits += 1

    def _statement(self, _c: Any, _cu: Any, statement: str, *_: Any) -> None:
        self.statements += 1
        if statement.lstrip().upper().startswith("SELECT") and "FROM conversations" in statement:
            self.conversation_reads += 1
        if statement.lstrip().upper().startswith("UPDATE CONVERSATIONS"):
            self.conversation_writes += 1

    @contextmanager
    def counting(self) -> Iterator[Counter]:
        self.commits = self.conversation_reads = self.conversation_writes = self.statements = 0
        yield self


@pytest.fixture
async def router_parts(
    sessions: async_sessionmaker[AsyncSession],
) -> AsyncIterator[tuple[ConversationRouter, Messenger]]:
    textos = load_textos(PROJECT / "dialogs" / "textos")
    equipos = load_equipos(PROJECT / "data" / "consola", tramites=registry.TRAMITES)
    channels = ChannelRegistry()
    channels.register(Chat())
    messenger = Messenger()
    channels.register(messenger)
    async with httpx.AsyncClient(base_url="http://rasa.invalid", transport=httpx.MockTransport(fake_rasa)) as http:
        router = ConversationRouter(
            sessions=sessions,
            rasa=RasaClient(http),
            textos=textos,
            channels=channels,
            vault=MemoryVault(),
            handoff=HandoffService(equipos=equipos, textos=textos, bus=EventBus()),
        )
        yield router, messenger


def inbound(conversation_id: str, text: str, number: int) -> InboundMessage:
    return InboundMessage(
        conversation_id=conversation_id,
        channel=conversation_id.split(":", 1)[0],
        channel_message_id=f"m{number}",
        text=text,
    )


async def test_a_web_turn_is_two_transactions_and_one_look_up_of_the_conversation(
    sessions: async_sessionmaker[AsyncSession], router_parts: tuple[ConversationRouter, Messenger]
) -> None:
    router, _ = router_parts
    counter = Counter(sessions)
    await router.handle(inbound("chat:ana", "hola", 1))  # the conversation is created on the first turn
    with counter.counting():
        result = await router.handle(inbound("chat:ana", "trámites", 2))
    assert (result.outcome, [r.text for r in result.replies]) == (Outcome.ANSWERED, ["¿Qué trámite?"])
    assert (counter.commits, counter.conversation_reads) == (2, 1)  # inbound side, outbound side
    # The conversation written once, by the answer's commit: its state and the time of the citizen's message.
    assert counter.conversation_writes == 1
    # Read the conversation, store the message | store the answer, mark the message answered, write the
    # conversation (no consent gate in this router; the commits are not statements).
    assert counter.statements == 5
    with counter.counting():
        again = await router.handle(inbound("chat:ana", "trámites", 2))  # the channel retried
    assert (again.outcome, again.replies) == (Outcome.DUPLICATE, result.replies)
    assert (counter.commits, counter.conversation_reads) == (0, 1)
    async with sessions() as session:
        conversation = await session.get(Conversation, "chat:ana")
        assert conversation is not None
        state = ConversationState.load(conversation.options)
    assert [b.payload for b in state.options] == ["/licencia", "/licencia"]


async def test_the_conversation_keeps_the_time_of_the_citizens_latest_message(
    sessions: async_sessionmaker[AsyncSession], router_parts: tuple[ConversationRouter, Messenger]
) -> None:
    """Written with the answer (web) or with the stored message (channels that answer later), never moved back
    by a retried message; the messaging channels' session window is counted from it."""
    router, _ = router_parts

    async def times(conversation_id: str) -> tuple[Any, Any]:
        async with sessions() as session:
            conversation = await session.get(Conversation, conversation_id)
            latest = await session.scalar(
                select(Message.created_at)
                .where(Message.conversation_id == conversation_id, Message.direction == "in")
                .order_by(Message.id.desc())
            )
        assert conversation is not None
        return conversation.last_inbound_at, latest

    await router.handle(inbound("chat:eva", "hola", 1))
    await router.handle(inbound("chat:eva", "trámites", 2))
    stored, latest = await times("chat:eva")
    assert stored == latest
    await router.handle(inbound("chat:eva", "hola", 1))  # the first message again: a duplicate
    assert await times("chat:eva") == (stored, latest)

    accepted = await router.accept(inbound("msg:fer", "hola", 1))
    stored, latest = await times("msg:fer")
    assert stored == latest  # before any answer: an agent may write within the window right away
    await router.process(accepted.message_id, conversation_id="msg:fer")
    assert await times("msg:fer") == (stored, latest)


async def test_an_asynchronous_turn_picks_by_number_queues_and_asks_for_a_person(
    sessions: async_sessionmaker[AsyncSession], router_parts: tuple[ConversationRouter, Messenger]
) -> None:
    router, _ = router_parts
    for number, text in enumerate(("trámites", "2", "asesor"), start=1):
        accepted = await router.accept(inbound("msg:beto", text, number))
        result = await router.process(accepted.message_id, conversation_id="msg:beto")
        assert result.outcome is Outcome.ANSWERED
    accepted = await router.accept(inbound("msg:beto", "¿sigue ahí?", 4))
    waiting = await router.process(accepted.message_id)
    assert waiting.outcome is Outcome.WAITING
    async with sessions() as session:
        sent = (await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))).all()
        statuses = (
            await session.scalars(select(Message.status).where(Message.direction == "in").order_by(Message.id))
        ).all()
    texts = [row.payload.get("text", "") for row in sent]
    assert texts[:3] == ["¿Qué trámite?", "eco: /licencia", "Le comunico."]  # «2» was the second option
    # the place in the queue, or when the team opens (the test runs at any hour)
    assert texts[3].startswith(("Un asesor le atenderá en breve.", "En este momento estamos fuera de horario."))
    assert texts[4].startswith("Recibí su mensaje")  # the message waiting for the person, acknowledged
    assert statuses == ["answered", "answered", "answered", "waiting"]


@contextmanager
def slow_callbacks(caplog: pytest.LogCaptureFixture) -> Iterator[list[str]]:
    """asyncio's debug mode on the running loop: the callbacks that held it longer than `SLOW`."""
    loop = asyncio.get_running_loop()
    found: list[str] = []
    loop.set_debug(True)
    loop.slow_callback_duration = SLOW
    try:
        with caplog.at_level(logging.WARNING, logger="asyncio"):
            caplog.clear()
            yield found
            found.extend(r.getMessage() for r in caplog.records if r.name == "asyncio" and "took" in r.getMessage())
    finally:
        loop.set_debug(False)


async def test_nothing_in_a_turn_blocks_the_event_loop(
    router_parts: tuple[ConversationRouter, Messenger], caplog: pytest.LogCaptureFixture
) -> None:
    """Not a speed test: with a generous threshold, only blocking work (sync I/O, sleeps) on the loop shows."""
    router, messenger = router_parts
    with slow_callbacks(caplog) as found:
        await router.handle(inbound("chat:carla", "hola", 1))
        await router.handle(inbound("chat:carla", "trámites", 2))
        for number, text in enumerate(("trámites", "1", "asesor", "¿sigue ahí?"), start=1):
            accepted = await router.accept(inbound("msg:carla", text, number))
            await router.process(accepted.message_id, conversation_id="msg:carla")
    assert found == []

    # The detector sees blocking work: the same turn with a channel that blocks the loop while «typing».
    messenger.on_typing = lambda: time.sleep(SLOW * 2)
    with slow_callbacks(caplog) as found:
        accepted = await router.accept(inbound("msg:dario", "gracias", 1))
        await router.process(accepted.message_id, conversation_id="msg:dario")
    assert found and "Executing" in found[0]
