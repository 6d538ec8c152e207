"""Repository tests, run on SQLite and on PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import event
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.storage import conversations as repo
from bot.storage import privacy
from bot.storage.models import Conversation, MessageStatus, Owner


async def test_first_contact_creates_a_conversation_owned_by_the_bot(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions() as session:
        created = await repo.get_or_create_conversation(session=session, conversation_id="web:abc", channel="web")
        await session.commit()
    async with sessions() as session:
        again = await repo.get_or_create_conversation(session=session, conversation_id="web:abc", channel="web")
    assert (created.id, created.owner) == ("web:abc", Owner.BOT)
    assert (again.id, again.channel, again.owner) == ("web:abc", "web", "bot")


async def test_the_same_channel_message_id_cannot_be_stored_twice(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions() as session:
        conversation = await repo.get_or_create_conversation(session=session, conversation_id="tg:42", channel="tg")
        await repo.add_inbound(session=session, conversation=conversation, channel_message_id="m1", text="hola")
        await session.commit()
    async with sessions() as session:
        conversation = await repo.get_or_create_conversation(session=session, conversation_id="tg:42", channel="tg")
        with pytest.raises(IntegrityError):
            await repo.add_inbound(session=session, conversation=conversation, channel_message_id="m1", text="hola")
    async with sessions() as session:
        found = await repo.find_inbound(session=session, conversation_id="tg:42", channel_message_id="m1")
    assert found is not None
    assert (found.text, found.status, found.author) == ("hola", MessageStatus.RECEIVED, "citizen")


async def test_replies_are_kept_in_order_and_linked_to_their_message(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions() as session:
        conversation = await repo.get_or_create_conversation(session=session, conversation_id="web:x", channel="web")
        inbound = await repo.add_inbound(
            session=session, conversation=conversation, channel_message_id="a", text="hola"
        )
        for text in ("uno", "dos", "tres"):
            await repo.add_outbound(
                session=session,
                conversation_id="web:x",
                reply_to=inbound,
                author="bot",
                text=text,
                payload={"text": text},
            )
        await session.commit()
    async with sessions() as session:
        replies = await repo.replies_to(session=session, message=inbound)
        transcript = await repo.transcript(session=session, conversation_id="web:x")
    assert [r.text for r in replies] == ["uno", "dos", "tres"]
    assert [(m.direction, m.text) for m in transcript] == [
        ("in", "hola"),
        ("out", "uno"),
        ("out", "dos"),
        ("out", "tres"),
    ]


async def test_owner_changes_are_appended_to_the_history(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with sessions() as session:
        conversation = await repo.get_or_create_conversation(session=session, conversation_id="wa:+593", channel="wa")
        await repo.record_owner_change(
            session=session,
            conversation=conversation,
            to_owner=Owner.QUEUE,
            actor="bot",
            reason="pedido_ciudadano",
        )
        await repo.record_owner_change(
            session=session,
            conversation=conversation,
            to_owner=Owner.AGENT,
            actor="agente:1",
            reason="tomada",
        )
        await session.commit()
    async with sessions() as session:
        history = await repo.owner_history(session=session, conversation_id="wa:+593")
        conversation = await repo.get_or_create_conversation(session=session, conversation_id="wa:+593", channel="wa")
    assert [(e.from_owner, e.to_owner, e.actor, e.reason) for e in history] == [
        ("bot", "queue", "bot", "pedido_ciudadano"),
        ("queue", "agent", "agente:1", "tomada"),
    ]
    assert conversation.owner == "agent"


async def test_handoff_requests_are_recorded(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with sessions() as session:
        await repo.get_or_create_conversation(session=session, conversation_id="web:h", channel="web")
        await repo.add_handoff_request(session=session, conversation_id="web:h", reason="no_entendido", team="general")
        await session.commit()
    async with sessions() as session:
        requests = await repo.handoff_requests(session=session, conversation_id="web:h")
    assert [(r.reason, r.team) for r in requests] == [("no_entendido", "general")]


async def test_a_stored_message_joins_the_session_and_its_answers_keep_their_order(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    """The turn's own path: the message inserted once (Core, its id returned), then changed like any loaded row;
    several answers inserted in one statement, their ids in the order given."""
    async with sessions() as session:
        conversation = await repo.get_or_create_conversation(session=session, conversation_id="web:y", channel="web")
        stored = await repo.add_inbound_once(
            session=session, conversation=conversation, channel_message_id="m1", text="hola", payload={"kind": "text"}
        )
        assert stored is not None
        assert conversation.last_inbound_at is None  # the caller's to write, with the rest of the conversation
        ids = await repo.add_outbound_many(
            session=session,
            conversation_id="web:y",
            reply_to=stored,
            author="bot",
            messages=[("uno", {"text": "uno"}), ("dos", None), ("tres", {"text": "tres"})],
        )
        stored.status = MessageStatus.ANSWERED  # flushed as an UPDATE at the commit
        await session.commit()
    async with sessions() as session:
        conversation = await repo.get_or_create_conversation(session=session, conversation_id="web:y", channel="web")
        assert conversation.last_inbound_at is None
        again = await repo.add_inbound_once(
            session=session, conversation=conversation, channel_message_id="m1", text="hola"
        )
        found = await repo.find_inbound(session=session, conversation_id="web:y", channel_message_id="m1")
        replies = await repo.replies_to(session=session, message=found) if found else []
    assert again is None  # the same channel id: stored before
    assert found is not None
    assert (found.id, found.status, found.payload, found.reply_to_id) == (
        stored.id,
        MessageStatus.ANSWERED,
        {"kind": "text"},
        None,
    )
    assert [(r.id, r.text, r.payload, r.status) for r in replies] == [
        (ids[0], "uno", {"text": "uno"}, MessageStatus.SENT),
        (ids[1], "dos", None, MessageStatus.SENT),
        (ids[2], "tres", {"text": "tres"}, MessageStatus.SENT),
    ]
    assert list(ids) == sorted(ids)


async def test_core_updates_write_the_row_and_leave_it_clean(sessions: async_sessionmaker[AsyncSession]) -> None:
    """The turn's commits: the conversation's changed columns and the message's status in one UPDATE each, the
    loaded rows kept in step and not marked changed (the commit flushes nothing of them, so nothing twice)."""
    received = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
    async with sessions() as session:
        conversation = await repo.get_or_create_conversation(session=session, conversation_id="web:z", channel="web")
        created = conversation.updated_at
        stored = await repo.add_inbound_once(
            session=session, conversation=conversation, channel_message_id="m1", text="hola"
        )
        assert stored is not None
        await repo.update_conversation(
            session=session,
            conversation=conversation,
            values={"options": {"buttons": [{"title": "Sí", "payload": "/si"}]}, "last_inbound_at": received},
        )
        await repo.set_status(session=session, message=stored, status=MessageStatus.ANSWERED)
        assert conversation.options == {"buttons": [{"title": "Sí", "payload": "/si"}]}
        assert conversation.last_inbound_at == received
        assert stored.status == MessageStatus.ANSWERED
        assert conversation.updated_at > created
        assert not session.dirty  # nothing left for the unit of work
        await session.commit()
    async with sessions() as session:
        found = await session.get(Conversation, "web:z")
        message = await repo.find_inbound(session=session, conversation_id="web:z", channel_message_id="m1")
    assert found is not None and message is not None
    assert (found.options, found.last_inbound_at, message.status) == (
        {"buttons": [{"title": "Sí", "payload": "/si"}]},
        received,
        MessageStatus.ANSWERED,
    )


async def test_a_conversation_and_its_consents_are_read_in_one_statement(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    """The web turn's first read: the conversation (created on first contact) with its latest consent record per
    purpose, whatever the history before it."""
    async with sessions() as session:
        first, none = await privacy.conversation_and_consents(session=session, conversation_id="web:c", channel="web")
        assert (first.id, first.owner, none) == ("web:c", Owner.BOT, {})
        for purpose, given in (("analitica", True), ("transferencia", False), ("analitica", False)):
            await privacy.record_consent(
                session=session,
                conversation_id="web:c",
                proposito=purpose,
                otorgado=given,
                version_aviso="2026-01",
                canal="web",
            )
        await repo.get_or_create_conversation(session=session, conversation_id="web:otra", channel="web")
        await privacy.record_consent(
            session=session,
            conversation_id="web:otra",
            proposito="analitica",
            otorgado=True,
            version_aviso="v",
            canal="web",
        )
        await session.commit()
    statements: list[str] = []
    engine = sessions.kw["bind"].sync_engine
    event.listen(engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
    async with sessions() as session:
        conversation, consents = await privacy.conversation_and_consents(
            session=session, conversation_id="web:c", channel="web"
        )
    assert conversation.id == "web:c"
    assert {purpose: record.otorgado for purpose, record in consents.items()} == {
        "analitica": False,  # the latest of the two
        "transferencia": False,
    }
    assert len(statements) == 1
