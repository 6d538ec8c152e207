"""Repository functions for conversations, their messages, owner history and handoff requests."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value

from bot.storage.models import (
    Conversation,
    Direction,
    HandoffRequest,
    Message,
    MessageStatus,
    OutboxMessage,
    Owner,
    OwnerEvent,
    utcnow,
)

_MESSAGES = cast(Table, Message.__table__)  # Core statements of the hot path (a turn's messages)
_CONVERSATIONS = cast(Table, Conversation.__table__)


async def get_or_create_conversation(*, session: AsyncSession, conversation_id: str, channel: str) -> Conversation:
    """Return the conversation, creating it owned by the bot on first contact."""
    conversation = await session.get(Conversation, conversation_id)
    if conversation is None:
        conversation = Conversation(id=conversation_id, channel=channel, owner=Owner.BOT)
        session.add(conversation)
        await session.flush()
    return conversation


async def find_inbound(*, session: AsyncSession, conversation_id: str, channel_message_id: str) -> Message | None:
    return await session.scalar(
        select(Message).where(
            Message.conversation_id == conversation_id,
            Message.direction == Direction.IN,
            Message.channel_message_id == channel_message_id,
        )
    )


def _inbound(
    conversation: Conversation, channel_message_id: str, text: str, payload: dict[str, Any] | None
) -> dict[str, Any]:
    """The columns of a citizen's message as it is first stored."""
    return {
        "conversation_id": conversation.id,
        "direction": Direction.IN,
        "channel_message_id": channel_message_id,
        "author": "citizen",
        "text": text,
        "payload": payload,
        "status": MessageStatus.RECEIVED,
    }


async def add_inbound(
    *,
    session: AsyncSession,
    conversation: Conversation,
    channel_message_id: str,
    text: str,
    payload: dict[str, Any] | None = None,
    received_at: datetime | None = None,
) -> Message:
    message = Message(**_inbound(conversation, channel_message_id, text, payload))
    conversation.last_inbound_at = received_at or utcnow()
    session.add(message)
    await session.flush()
    return message


async def add_inbound_once(
    *,
    session: AsyncSession,
    conversation: Conversation,
    channel_message_id: str,
    text: str,
    payload: dict[str, Any] | None = None,
) -> Message | None:
    """Store an inbound message unless its channel id was stored before (None then): one INSERT … ON CONFLICT DO
    NOTHING, so that a new message, the usual case, costs no look-up first; concurrent copies store one.

    The statement returns the new id only and the message joins the session as if loaded: the ORM's own
    INSERT … RETURNING of whole rows cost a web turn more than the statement itself.
    """
    now = utcnow()
    values = _inbound(conversation, channel_message_id, text, payload) | {"created_at": now, "reply_to_id": None}
    statement = _insert_once(session.get_bind().dialect.name, tuple(values))
    connection = await session.connection()
    new_id = (await connection.execute(statement, values)).scalar()
    if new_id is None:
        return None
    # The conversation's ``last_inbound_at`` is the caller's to write (`update_conversation`), with whatever else
    # of the conversation changes in the transaction that takes it: a statement less where nothing else does.
    return _loaded(session, Message(id=new_id, **values))


async def update_conversation(*, session: AsyncSession, conversation: Conversation, values: dict[str, Any]) -> None:
    """Write ``values`` (columns of ``conversations``) and ``updated_at`` with one Core UPDATE, and keep the loaded
    row in step without marking it changed: the commit then has nothing of it to flush.

    The ORM's unit of work (an attribute set, then the flush at the commit) cost a web turn about twice the
    statement it sends, once per commit; this is the statement alone.
    """
    values = values | {"updated_at": utcnow()}
    connection = await session.connection()
    await connection.execute(_update_statement(_CONVERSATIONS, tuple(values)), values | {"_id": conversation.id})
    for column, value in values.items():
        set_committed_value(conversation, column, value)


async def set_status(*, session: AsyncSession, message: Message, status: MessageStatus) -> None:
    """Mark ``message`` with ``status`` in one Core UPDATE, the loaded row kept in step (`update_conversation`)."""
    if message.status == status:
        return
    connection = await session.connection()
    await connection.execute(_update_statement(_MESSAGES, ("status",)), {"status": status, "_id": message.id})
    set_committed_value(message, "status", status)


@functools.cache
def _update_statement(table: Table, columns: tuple[str, ...]) -> Any:
    """``UPDATE <table> SET <columns> WHERE id = :_id``, built once per table and set of columns."""
    return update(table).where(table.c.id == bindparam("_id")).values({c: bindparam(c) for c in columns})


def _loaded(session: AsyncSession, message: Message) -> Message:
    """``message``, every column set, in ``session`` as a row just read: later changes flush as UPDATEs."""
    make_transient_to_detached(message)
    session.add(message)
    return message


@functools.cache
def _insert_once(dialect: str, columns: tuple[str, ...]) -> Any:
    """`add_inbound_once`'s statement for these columns, built once per dialect (building it took longer than
    running it); each message binds its values."""
    insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    return (
        insert(_MESSAGES)
        .values({column: bindparam(column) for column in columns})
        .on_conflict_do_nothing(index_elements=["conversation_id", "direction", "channel_message_id"])
        .returning(_MESSAGES.c.id)
    )


async def add_outbound(
    *,
    session: AsyncSession,
    conversation_id: str,
    reply_to: Message | None,
    author: str,
    text: str | None,
    payload: dict[str, Any] | None,
) -> Message:
    message = Message(
        conversation_id=conversation_id,
        direction=Direction.OUT,
        author=author,
        text=text,
        payload=payload,
        status=MessageStatus.SENT,
        reply_to_id=reply_to.id if reply_to else None,
    )
    session.add(message)
    await session.flush()
    return message


async def add_outbound_many(
    *,
    session: AsyncSession,
    conversation_id: str,
    reply_to: Message | None,
    author: str,
    messages: Sequence[tuple[str | None, dict[str, Any] | None]],
) -> tuple[int, ...]:
    """Store several outbound messages (text, payload) in one statement, in order; their ids.

    A Core INSERT … RETURNING id: the ORM's unit of work (add_all + flush) cost about 0.15 ms more per call, for
    rows nothing in the turn reads back.
    """
    if not messages:
        return ()
    now = utcnow()
    rows = [
        {
            "conversation_id": conversation_id,
            "direction": Direction.OUT,
            "channel_message_id": None,
            "author": author,
            "text": text,
            "payload": payload,
            "status": MessageStatus.SENT,
            "reply_to_id": reply_to.id if reply_to else None,
            "created_at": now,
        }
        for text, payload in messages
    ]
    connection = await session.connection()
    if len(rows) == 1:
        return ((await connection.execute(_INSERT_MESSAGE, rows[0])).scalar_one(),)
    result = await connection.execute(_INSERT_MESSAGES, rows)
    return tuple(result.scalars().all())


_INSERT_MESSAGE = insert(_MESSAGES).returning(_MESSAGES.c.id)
# Several rows: insertmanyvalues with the ids in the order of the rows given.
_INSERT_MESSAGES = insert(_MESSAGES).returning(_MESSAGES.c.id, sort_by_parameter_order=True)


async def latest_outbound(*, session: AsyncSession, conversation_id: str) -> Message | None:
    """The conversation's latest message to the citizen (from the bot, a person or the system)."""
    result = await session.scalars(
        select(Message)
        .where(Message.conversation_id == conversation_id, Message.direction == Direction.OUT)
        .order_by(Message.id.desc())
        .limit(1)
    )
    return result.first()


async def latest_outbound_messages(*, session: AsyncSession, conversation_id: str, limit: int) -> Sequence[Message]:
    """The conversation's latest messages to the citizen, newest first."""
    result = await session.scalars(
        select(Message)
        .where(Message.conversation_id == conversation_id, Message.direction == Direction.OUT)
        .order_by(Message.id.desc())
        .limit(limit)
    )
    return result.all()


async def replies_to(*, session: AsyncSession, message: Message) -> Sequence[Message]:
    """The outbound messages stored as the answer to ``message``, in order."""
    result = await session.scalars(
        select(Message)
        .where(Message.reply_to_id == message.id, Message.direction == Direction.OUT)
        .order_by(Message.id)
    )
    return result.all()


async def transcript(*, session: AsyncSession, conversation_id: str, limit: int = 500) -> Sequence[Message]:
    result = await session.scalars(
        select(Message).where(Message.conversation_id == conversation_id).order_by(Message.id).limit(limit)
    )
    return result.all()


async def record_owner_change(
    *, session: AsyncSession, conversation: Conversation, to_owner: Owner, actor: str, reason: str
) -> OwnerEvent:
    """Append the transition to the owner history and apply it (validity is checked by `bot.handoff`)."""
    event = OwnerEvent(
        conversation_id=conversation.id,
        from_owner=conversation.owner,
        to_owner=to_owner,
        actor=actor,
        reason=reason,
    )
    conversation.owner = to_owner
    session.add(event)
    await session.flush()
    return event


async def owner_history(*, session: AsyncSession, conversation_id: str) -> Sequence[OwnerEvent]:
    result = await session.scalars(
        select(OwnerEvent).where(OwnerEvent.conversation_id == conversation_id).order_by(OwnerEvent.id)
    )
    return result.all()


async def add_handoff_request(*, session: AsyncSession, conversation_id: str, reason: str, team: str) -> HandoffRequest:
    request = HandoffRequest(conversation_id=conversation_id, reason=reason, team=team)
    session.add(request)
    await session.flush()
    return request


async def handoff_requests(*, session: AsyncSession, conversation_id: str) -> Sequence[HandoffRequest]:
    result = await session.scalars(
        select(HandoffRequest).where(HandoffRequest.conversation_id == conversation_id).order_by(HandoffRequest.id)
    )
    return result.all()


async def enqueue_outbox(
    *, session: AsyncSession, conversation_id: str, channel: str, messages: Sequence[Any]
) -> list[OutboxMessage]:
    """Queue bot messages (anything with ``as_payload()``) for delivery through the channel's API."""
    queued = [
        OutboxMessage(conversation_id=conversation_id, channel=channel, payload=message.as_payload())
        for message in messages
    ]
    session.add_all(queued)
    await session.flush()
    return queued


async def pending_inbound(*, session: AsyncSession, conversation_id: str) -> Sequence[Message]:
    """Inbound messages stored but not answered yet, oldest first."""
    result = await session.scalars(
        select(Message)
        .where(
            Message.conversation_id == conversation_id,
            Message.direction == Direction.IN,
            Message.status.in_((MessageStatus.RECEIVED, MessageStatus.FAILED)),
        )
        .order_by(Message.id)
    )
    return result.all()


async def conversations_with_pending_inbound(
    *, session: AsyncSession, channels: Sequence[str], stored_before: datetime | None = None
) -> Sequence[str]:
    """Conversations of ``channels`` with inbound messages not answered yet (stored before ``stored_before``)."""
    query = (
        select(Message.conversation_id)
        .join(Conversation, Conversation.id == Message.conversation_id)
        .where(
            Conversation.channel.in_(channels),
            Message.direction == Direction.IN,
            Message.status.in_((MessageStatus.RECEIVED, MessageStatus.FAILED)),
        )
        .group_by(Message.conversation_id)
        .order_by(func.min(Message.id))
    )
    if stored_before is not None:
        query = query.where(Message.created_at < stored_before)
    result = await session.scalars(query)
    return result.all()
