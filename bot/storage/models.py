"""Typed SQLAlchemy 2 models of the app's own tables (Rasa's tracker store lives elsewhere)."""

from __future__ import annotations

import enum
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, DateTime, Dialect, ForeignKey, Index, String, Text, TypeDecorator, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every database (SQLite keeps no offset and returns naive values)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    type_annotation_map = {dict[str, Any]: JSON, datetime: UTCDateTime}  # noqa: RUF012


class Owner(enum.StrEnum):
    """Who answers a conversation (see `bot.handoff.state` for the allowed transitions)."""

    BOT = "bot"
    QUEUE = "queue"
    AGENT = "agent"
    CLOSED = "closed"


class Direction(enum.StrEnum):
    IN = "in"
    OUT = "out"


class MessageStatus(enum.StrEnum):
    RECEIVED = "received"  # stored, not yet processed
    ANSWERED = "answered"  # the bot's replies are stored
    FAILED = "failed"  # processing failed (Rasa down); the same message id may be retried
    WAITING = "waiting"  # a person owns the conversation; waits in the console
    SENT = "sent"  # outbound, handed to the channel


class Conversation(Base):
    __tablename__ = "conversations"

    id: Mapped[str] = mapped_column(String(160), primary_key=True)  # "<channel>:<channel user id>"
    channel: Mapped[str] = mapped_column(String(16))
    owner: Mapped[str] = mapped_column(String(16), default=Owner.BOT)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    last_inbound_at: Mapped[datetime | None] = mapped_column(default=None)
    # The options last offered as buttons, for channels that answer them by number ("2" or "dos").
    options: Mapped[dict[str, Any] | None] = mapped_column(default=None)


class Message(Base):
    __tablename__ = "messages"
    __table_args__ = (
        UniqueConstraint("conversation_id", "direction", "channel_message_id", name="uq_messages_channel_id"),
        Index("ix_messages_conversation_created", "conversation_id", "id"),
        # Unanswered inbound messages: drained per conversation, recovered at start, counted for the metrics.
        Index("ix_messages_unanswered", "direction", "status", "conversation_id", "id"),
        Index("ix_messages_reply_to", "reply_to_id"),  # a retried message gets its stored answer again
    )

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    direction: Mapped[str] = mapped_column(String(3))
    channel_message_id: Mapped[str | None] = mapped_column(String(120), default=None)
    author: Mapped[str] = mapped_column(String(16))  # citizen | bot | agent | system
    text: Mapped[str | None] = mapped_column(Text, default=None)
    payload: Mapped[dict[str, Any] | None] = mapped_column(default=None)
    status: Mapped[str] = mapped_column(String(16))
    reply_to_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id"), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class OwnerEvent(Base):
    """Append-only history of every change of a conversation's owner."""

    __tablename__ = "owner_events"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"), index=True)
    from_owner: Mapped[str] = mapped_column(String(16))
    to_owner: Mapped[str] = mapped_column(String(16))
    actor: Mapped[str] = mapped_column(String(80))
    reason: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class HandoffRequest(Base):
    """A request for a person, emitted by an action through the `{"handoff": ...}` payload."""

    __tablename__ = "handoff_requests"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"), index=True)
    reason: Mapped[str] = mapped_column(String(80))
    team: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class OutboxStatus(enum.StrEnum):
    """Delivery state of an outbound message; later states never go back (callbacks arrive out of order)."""

    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    DELIVERED = "delivered"
    READ = "read"
    FAILED = "failed"


class OutboxMessage(Base):
    """A message waiting to be sent, or sent, through a channel's API (Telegram, WhatsApp)."""

    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_due", "status", "next_attempt_at"),
        Index("ix_outbox_open", "status", "conversation_id", "id"),  # the first unsent message of each chat
    )

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"), index=True)
    channel: Mapped[str] = mapped_column(String(16))
    message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id", ondelete="SET NULL"), default=None)
    payload: Mapped[dict[str, Any]] = mapped_column()
    status: Mapped[str] = mapped_column(String(16), default=OutboxStatus.PENDING)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_error: Mapped[str | None] = mapped_column(String(300), default=None)
    provider_message_id: Mapped[str | None] = mapped_column(String(80), default=None, unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(default=None)


class Duty(Base):
    """A periodic duty of the workers (purge, sealing, open data, reminders): one row each, so that of several
    workers one runs it per period. ``due_at`` is the next run, or while running the end of the runner's lease."""

    __tablename__ = "duties"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    due_at: Mapped[datetime] = mapped_column()
    runs: Mapped[int] = mapped_column(default=0)


# The other model modules register their tables on the same metadata (Alembic compares against it).
from bot.storage import models_campaigns as _campaigns  # noqa: E402,F401  (registers the campaign tables on Base)
from bot.storage import models_console as _console  # noqa: E402,F401  (registers the console tables on Base)
from bot.storage import models_documents as _documents  # noqa: E402,F401  (registers the documents tables on Base)
from bot.storage import models_identity as _identidad  # noqa: E402,F401  (registers the identity tables on Base)
from bot.storage import models_privacy as _privacidad  # noqa: E402,F401  (registers the privacy tables on Base)
from bot.storage import models_reminders as _recordatorios  # noqa: E402,F401  (registers the reminder tables)
from bot.storage import models_tramites as _tramites  # noqa: E402,F401  (registers the application tables on Base)
