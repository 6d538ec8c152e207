"""Models of the reminders a citizen asked for: the subscription of one chat, and every reminder recorded."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bot.storage.models import Base, utcnow


class ReminderSubscription(Base):
    """One chat's reminders (the chat is the channel): which kinds, for whom. The consent itself is in the
    consent ledger (purpose ``recordatorios``); this row goes when the consent is withdrawn."""

    __tablename__ = "reminder_subscriptions"

    conversation_id: Mapped[str] = mapped_column(String(160), primary_key=True)
    canal: Mapped[str] = mapped_column(String(16))
    cedula_hash: Mapped[str] = mapped_column(String(64), index=True)  # keyed hash: finds a citizen's chats
    cedula_cifrada: Mapped[str] = mapped_column(Text)  # the periodic job asks the registries with it
    tipos: Mapped[list[str]] = mapped_column(JSON)  # licencia | matricula | multas | documentos
    revisada_el: Mapped[date | None] = mapped_column(default=None)  # the Ecuador day the job last went through it
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class ReminderSent(Base):
    """A reminder recorded for a chat. ``clave`` names its kind and period (a plate or citation only as a keyed
    hash); unique per chat, so a job that stops halfway and runs again records nothing twice."""

    __tablename__ = "reminders_sent"
    __table_args__ = (UniqueConstraint("conversation_id", "clave", name="uq_reminders_sent_chat_clave"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    conversation_id: Mapped[str] = mapped_column(String(160))
    tipo: Mapped[str] = mapped_column(String(20))
    clave: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
