"""A turn retried after its gateway died between Rasa's answer and storing it (the web chat retrying on another
gateway, a Telegram message recovered at start) reuses Rasa's answer from the tracker: Rasa never processes one
message twice (a cédula given twice, a document issued twice). A message Rasa never got is sent as usual, and a
first attempt never reads the tracker."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.channels.base import ChannelRegistry
from bot.conversations.messages import InboundMessage
from bot.conversations.rasa_client import RasaClient
from bot.conversations.router import ConversationRouter, Outcome
from bot.privacy.vault import MemoryVault
from bot.storage.models import Message, MessageStatus
from bot.texts import load_textos
from tests.conversations.test_turns import Chat, Messenger

PROJECT = Path(__file__).resolve().parents[2]


@dataclass
class TrackingRasa:
    """Rasa's signed REST channel and tracker: each message is appended to the sender's events with its answer."""

    events: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    processed: list[str] = field(default_factory=list)
    tracker_reads: int = 0
    fail_after_processing: bool = False  # answer 503 once processed, as a gateway dying in between would see

    def handler(self, request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/tracker"):
            self.tracker_reads += 1
            sender = request.url.path.split("/")[2]
            return httpx.Response(200, json={"events": self.events.get(sender, [])})
        body = json.loads(request.content)
        text, sender = body["message"], body["sender"]
        self.processed.append(text)
        answer = [
            {"text": f"Recibí «{text}».", "buttons": [{"title": "Sí", "payload": "/afirmar"}]},
            {"custom": {"documento": "D-1"}},
        ]
        self.events.setdefault(sender, []).append(
            {"event": "user", "text": text, "metadata": body.get("metadata") or {}}
        )
        for reply in answer:
            self.events[sender].append(
                {"event": "bot", "text": reply.get("text"), "data": {k: v for k, v in reply.items() if k != "text"}}
            )
        if self.fail_after_processing:
            self.fail_after_processing = False
            return httpx.Response(503)
        return httpx.Response(200, json=answer)


@pytest.fixture
async def rasa_and_router(
    sessions: async_sessionmaker[AsyncSession],
) -> AsyncIterator[tuple[TrackingRasa, ConversationRouter]]:
    rasa = TrackingRasa()
    channels = ChannelRegistry()
    channels.register(Chat())
    channels.register(Messenger())
    transport = httpx.MockTransport(rasa.handler)
    async with httpx.AsyncClient(base_url="http://rasa.invalid", transport=transport) as http:
        yield (
            rasa,
            ConversationRouter(
                sessions=sessions,
                rasa=RasaClient(http),
                textos=load_textos(PROJECT / "dialogs" / "textos"),
                channels=channels,
                vault=MemoryVault(),
            ),
        )


def message(conversation_id: str, text: str, message_id: str) -> InboundMessage:
    return InboundMessage(
        conversation_id=conversation_id,
        channel=conversation_id.split(":", 1)[0],
        channel_message_id=message_id,
        text=text,
    )


async def test_the_web_chat_retrying_a_message_rasa_answered_gets_that_answer_without_a_second_turn(
    rasa_and_router: tuple[TrackingRasa, ConversationRouter],
) -> None:
    rasa, router = rasa_and_router
    first = await router.handle(message("chat:ana", "hola", "w1"))
    assert first.outcome is Outcome.ANSWERED and rasa.tracker_reads == 0  # a first attempt asks Rasa directly

    rasa.fail_after_processing = True  # Rasa answers «1712345675», the gateway never stores it
    lost = await router.handle(message("chat:ana", "mi cedula es la que le di", "w2"))
    assert lost.outcome is Outcome.UNAVAILABLE

    retried = await router.handle(message("chat:ana", "mi cedula es la que le di", "w2"))  # the same id again
    assert retried.outcome is Outcome.ANSWERED
    assert rasa.processed == ["hola", "mi cedula es la que le di"]  # not twice
    assert [r.text for r in retried.replies] == ["Recibí «mi cedula es la que le di».", None]
    assert [b.payload for b in retried.replies[0].buttons] == ["/afirmar"]
    assert retried.replies[1].custom == {"documento": "D-1"}


async def test_a_retried_message_rasa_never_got_is_sent_to_it(
    rasa_and_router: tuple[TrackingRasa, ConversationRouter], sessions: async_sessionmaker[AsyncSession]
) -> None:
    rasa, router = rasa_and_router
    await router.handle(message("chat:luis", "hola", "w1"))
    accepted = await router.accept(message("msg:luis", "quiero mi licencia", "t7"))  # stored, then a crash

    result = await router.process(accepted.message_id, retry=True)  # recovered at start

    assert result.outcome is Outcome.ANSWERED
    assert rasa.processed == ["hola", "quiero mi licencia"]
    assert rasa.tracker_reads == 1
    async with sessions() as session:
        stored = await session.scalar(select(Message).where(Message.id == accepted.message_id))
        assert stored is not None and stored.status == MessageStatus.ANSWERED


async def test_a_retry_waits_while_a_rasa_replica_still_processes_the_first_attempt(
    rasa_and_router: tuple[TrackingRasa, ConversationRouter],
) -> None:
    rasa, router = rasa_and_router
    await router.handle(message("chat:eva", "hola", "w1"))
    rasa.fail_after_processing = True
    await router.handle(message("chat:eva", "quiero mi licencia", "w2"))
    finished = rasa.events["chat:eva"][-3:]  # the first attempt's events are saved only when Rasa finishes
    del rasa.events["chat:eva"][-3:]
    checks = 0

    async def busy(sender: str) -> bool:  # Rasa's lock for the conversation, held for three more looks
        nonlocal checks
        checks += 1
        if checks == 3:
            rasa.events[sender].extend(finished)
        return checks < 3

    router_rasa = router._rasa  # the client the router's stages use
    router_rasa.busy = busy
    retried = await router.handle(message("chat:eva", "quiero mi licencia", "w2"))

    assert rasa.processed == ["hola", "quiero mi licencia"]
    assert retried.replies[0].text == "Recibí «quiero mi licencia»."
