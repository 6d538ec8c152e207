"""Models of proven identities: which chat proved which cédula until when, and failed attempts."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from bot.storage.models import Base, utcnow


class IdentityLink(Base):
    """A chat linked to the identity it proved; personal values encrypted, looked up by keyed hash."""

    __tablename__ = "identity_links"

    conversation_id: Mapped[str] = mapped_column(String(160), primary_key=True)
    cedula_hash: Mapped[str] = mapped_column(String(64), index=True)
    cedula_cifrada: Mapped[str] = mapped_column(Text)
    nombres_cifrados: Mapped[str] = mapped_column(Text)
    nivel: Mapped[str] = mapped_column(String(16))
    verified_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column()


class IdentityAttempts(Base):
    """Failed identity checks of one chat, for the lockout (brute-force protection)."""

    __tablename__ = "identity_attempts"

    conversation_id: Mapped[str] = mapped_column(String(160), primary_key=True)
    failures: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None] = mapped_column(default=None)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class CedulaAttempts(Base):
    """Failed identity checks of one cédula across every chat and channel (keyed hash, never the number).

    Guessing a código dactilar by opening new chats is slowed here: past a few failures the cédula pauses for
    minutes (the owner's next correct attempt waits at most that), and one staff case is opened per cédula.
    The same counters serve web clients, keyed by the hash of ``cliente|<client key>`` (never an address).
    """

    __tablename__ = "cedula_attempts"

    cedula_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(default=0)
    first_failure_at: Mapped[datetime] = mapped_column(default=utcnow)
    paused_until: Mapped[datetime | None] = mapped_column(default=None)
    case_at: Mapped[datetime | None] = mapped_column(default=None)  # when a staff case was opened for it
