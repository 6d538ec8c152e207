"""Typed SQLAlchemy 2 models of the staff console: staff, sessions, handoff cases, notes, ratings, audit chain."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from bot.storage.models import Base, utcnow


class Rol(enum.StrEnum):
    AGENTE = "agente"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"
    COMUNICACIONES = "comunicaciones"  # writes and sends campaigns; sees no conversation


class StaffMember(Base):
    """A person who works in the console; never deleted (the audit log names them), only deactivated."""

    __tablename__ = "staff"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    usuario: Mapped[str] = mapped_column(String(60), unique=True)
    nombre: Mapped[str] = mapped_column(String(120))
    password_hash: Mapped[str] = mapped_column(String(200))
    rol: Mapped[str] = mapped_column(String(16))
    equipos: Mapped[list[str]] = mapped_column(JSON, default=list)
    activo: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime | None] = mapped_column(default=None)  # the console's heartbeat


class StaffSession(Base):
    """A server-side login session; the cookie holds the token, the table only its SHA-256."""

    __tablename__ = "staff_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id", ondelete="CASCADE"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    ip: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column()


class LoginAttempt(Base):
    """Every login attempt, for the rate limit (failures per user and address) and for audits."""

    __tablename__ = "login_attempts"
    __table_args__ = (Index("ix_login_attempts_usuario_ip_created", "usuario", "ip", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    usuario: Mapped[str] = mapped_column(String(60))
    ip: Mapped[str] = mapped_column(String(64))
    success: Mapped[bool] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class HandoffCase(Base):
    """One episode of a person's attention, from the request until it is handed back or closed.

    ``conversations.owner`` stays the single truth of who answers; the open case says which team and
    which agent hold the conversation while the owner is ``queue`` or ``agent``. ``version`` grows with
    every change, so two agents claiming at once cannot both win (compare-and-set).
    """

    __tablename__ = "handoff_cases"
    __table_args__ = (Index("ix_handoff_cases_open", "ended_at", "team", "queued_at"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"), index=True)
    team: Mapped[str] = mapped_column(String(40))
    reason: Mapped[str] = mapped_column(String(80))
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id", ondelete="SET NULL"), default=None)
    ticket: Mapped[bool] = mapped_column(default=False)  # arrived out of hours
    opens_at: Mapped[datetime | None] = mapped_column(default=None)  # when a ticket's team opens
    requested_at: Mapped[datetime] = mapped_column(default=utcnow)
    queued_at: Mapped[datetime] = mapped_column(default=utcnow)  # entered its current queue
    claimed_at: Mapped[datetime | None] = mapped_column(default=None)
    first_response_at: Mapped[datetime | None] = mapped_column(default=None)
    ended_at: Mapped[datetime | None] = mapped_column(default=None)
    end_owner: Mapped[str | None] = mapped_column(String(16), default=None)  # bot | closed
    end_reason: Mapped[str | None] = mapped_column(String(80), default=None)
    version: Mapped[int] = mapped_column(default=0)


class CaseNote(Base):
    """An internal note or a transfer comment: never sent to the citizen."""

    __tablename__ = "case_notes"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("handoff_cases.id", ondelete="CASCADE"), index=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id"))
    kind: Mapped[str] = mapped_column(String(16))  # nota | transferencia
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class StaffMessage(Base):
    """Which agent wrote an outbound message (the message itself is in ``messages``)."""

    __tablename__ = "staff_messages"

    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"), primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id"))
    case_id: Mapped[int] = mapped_column(ForeignKey("handoff_cases.id", ondelete="CASCADE"), index=True)


class CannedReply(Base):
    """A prepared answer with ``{variables}``; ``equipo`` limits it to one team (none: every team)."""

    __tablename__ = "canned_replies"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    titulo: Mapped[str] = mapped_column(String(80))
    texto: Mapped[str] = mapped_column(Text)
    equipo: Mapped[str | None] = mapped_column(String(40), default=None)
    activo: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class CsatRating(Base):
    """A citizen's 1-5 rating of a person's attention, asked when the case ended."""

    __tablename__ = "csat_ratings"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("handoff_cases.id", ondelete="CASCADE"), unique=True)
    team: Mapped[str] = mapped_column(String(40))
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id", ondelete="SET NULL"), default=None)
    score: Mapped[int] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class AuditEntry(Base):
    """Append-only: everything staff viewed or did. No foreign keys, so no deletion rewrites history."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_conversation", "conversation_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    staff_id: Mapped[int | None] = mapped_column(default=None)
    usuario: Mapped[str] = mapped_column(String(60))
    action: Mapped[str] = mapped_column(String(40))
    conversation_id: Mapped[str | None] = mapped_column(String(160), default=None)
    case_id: Mapped[int | None] = mapped_column(default=None)
    detail: Mapped[dict[str, Any] | None] = mapped_column(default=None)
    ip: Mapped[str | None] = mapped_column(String(64), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    # The hash chain (`bot.storage.audit_chain`): the row's day in the chain, the previous link, this link.
    chain_day: Mapped[str | None] = mapped_column(String(10), default=None, index=True)
    prev_hash: Mapped[str | None] = mapped_column(String(64), default=None)
    row_hash: Mapped[str | None] = mapped_column(String(64), default=None)


class AuditChainHead(Base):
    """The audit chain's one head row: appends lock it, so two processes never fork the chain."""

    __tablename__ = "audit_chain_head"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    last_id: Mapped[int | None] = mapped_column(default=None)
    last_hash: Mapped[str | None] = mapped_column(String(64), default=None)
    day: Mapped[str | None] = mapped_column(String(10), default=None)


class AuditDigest(Base):
    """A closed day of the audit chain, signed with the documents' key (ES256 over its last hash)."""

    __tablename__ = "audit_digests"

    day: Mapped[str] = mapped_column(String(10), primary_key=True)
    first_id: Mapped[int] = mapped_column()
    last_id: Mapped[int] = mapped_column()
    rows: Mapped[int] = mapped_column()
    last_hash: Mapped[str] = mapped_column(String(64))
    key_id: Mapped[str] = mapped_column(String(16))
    signature: Mapped[str] = mapped_column(String(128))
    signed_at: Mapped[datetime] = mapped_column(default=utcnow)


class NluReviewItem(Base):
    """A message the NLU did not understand, put on the training data review list from the analytics page.

    Only its masked text (`bot.analytics.events.mask_utterance`: identifiers replaced by placeholders), never
    the conversation it came from; a reviewer picks the intent it belongs to, `chasqui revision-nlu exportar`
    writes the list as Rasa NLU candidates and a person moves them into ``intents/``.
    """

    __tablename__ = "nlu_review_items"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    text_hash: Mapped[str] = mapped_column(String(64), unique=True)  # SHA-256 of the text: added once
    text: Mapped[str] = mapped_column(Text)
    times_seen: Mapped[int] = mapped_column()  # how often it was not understood in the period it was added from
    intent: Mapped[str | None] = mapped_column(String(80), default=None)  # the reviewer's choice; None: unclassified
    added_by_id: Mapped[int] = mapped_column(ForeignKey("staff.id"))
    added_at: Mapped[datetime] = mapped_column(default=utcnow)
