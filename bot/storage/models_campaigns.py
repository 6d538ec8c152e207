"""Models of campaigns from the console: a templated message to a segment of citizens subscribed to reminders.

A campaign is written, previewed, then sent: sending freezes its recipients (one row per citizen, by the keyed
hash of the cédula, so nobody gets it twice), and a worker hands them to the outbox at the campaign's pace.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, Float, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bot.storage.models import Base, utcnow


class CampaignState(enum.StrEnum):
    """``borrador`` → ``enviando`` → ``terminada``; ``borrador`` or ``enviando`` → ``cancelada``."""

    BORRADOR = "borrador"
    ENVIANDO = "enviando"
    TERMINADA = "terminada"
    CANCELADA = "cancelada"


class RecipientState(enum.StrEnum):
    PENDIENTE = "pendiente"  # waits for the campaign's pace (and for the morning, in quiet hours)
    ENCOLADO = "encolado"  # handed to the outbox (``outbox_id``); its delivery state is the outbox row's
    OMITIDO = "omitido"  # not sent: ``motivo`` says why (withdrew, outside the window without template…)
    CANCELADO = "cancelado"  # the campaign was cancelled before its turn


class Campaign(Base):
    """A message written in the console for the chats subscribed to reminders of some kinds, on some channels.

    ``tipos`` and ``canales`` empty mean every kind and every channel; ``institucion`` narrows the kinds to the
    institution's. ``por_minuto`` is the campaign's own pace (the channels' limits apply on top, in the outbox);
    ``cupo`` and ``cupo_at`` are its token bucket. ``plantilla`` names the channel's approved template sent to
    chats outside the channel's session window (none: those chats are left out).
    """

    __tablename__ = "campaigns"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    titulo: Mapped[str] = mapped_column(String(120))
    texto: Mapped[str] = mapped_column(Text)
    institucion: Mapped[str | None] = mapped_column(String(40), default=None)
    tipos: Mapped[list[str]] = mapped_column(JSON, default=list)
    canales: Mapped[list[str]] = mapped_column(JSON, default=list)
    por_minuto: Mapped[int] = mapped_column(default=60)
    plantilla: Mapped[str | None] = mapped_column(String(80), default=None)
    horas_respuesta: Mapped[int] = mapped_column(default=48)  # a citizen's message this long after counts as reply
    estado: Mapped[str] = mapped_column(String(16), default=CampaignState.BORRADOR)
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id", ondelete="SET NULL"), default=None)
    usuario: Mapped[str] = mapped_column(String(60))  # who wrote it (kept if the account goes)
    cupo: Mapped[float] = mapped_column(Float, default=0.0)
    cupo_at: Mapped[datetime | None] = mapped_column(default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(default=None)
    finished_at: Mapped[datetime | None] = mapped_column(default=None)
    cancelled_at: Mapped[datetime | None] = mapped_column(default=None)


class CampaignRecipient(Base):
    """One citizen of a campaign: the chat it goes to, and what became of it. Unique per citizen and campaign:
    the idempotency key (a worker that stops halfway and runs again, or two workers, queue it once)."""

    __tablename__ = "campaign_recipients"
    __table_args__ = (
        UniqueConstraint("campaign_id", "cedula_hash", name="uq_campaign_recipients_citizen"),
        Index("ix_campaign_recipients_state", "campaign_id", "estado", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    conversation_id: Mapped[str] = mapped_column(String(160), index=True)
    canal: Mapped[str] = mapped_column(String(16))
    cedula_hash: Mapped[str] = mapped_column(String(64))
    estado: Mapped[str] = mapped_column(String(16), default=RecipientState.PENDIENTE)
    motivo: Mapped[str | None] = mapped_column(String(40), default=None)
    outbox_id: Mapped[int | None] = mapped_column(ForeignKey("outbox.id", ondelete="SET NULL"), default=None)
    queued_at: Mapped[datetime | None] = mapped_column(default=None)
