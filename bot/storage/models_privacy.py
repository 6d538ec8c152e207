"""Models of the consent ledger and the log of deletions and retention purges (no personal data in it)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from bot.storage.models import Base, utcnow


class ConsentRecord(Base):
    """Append-only: every consent given, refused or withdrawn; the latest per purpose is in force."""

    __tablename__ = "consent_records"
    __table_args__ = (Index("ix_consent_conversation_purpose", "conversation_id", "proposito", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    conversation_id: Mapped[str] = mapped_column(String(160))
    proposito: Mapped[str] = mapped_column(String(40))  # transferencia_internacional | analitica
    otorgado: Mapped[bool] = mapped_column()
    version_aviso: Mapped[str] = mapped_column(String(20))
    canal: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class PurgeLog(Base):
    """What a deletion request or a retention purge removed: counts only."""

    __tablename__ = "purge_log"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    motivo: Mapped[str] = mapped_column(String(40))  # borrado_solicitado | retencion
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(default=None)
    conteos: Mapped[dict[str, Any]] = mapped_column(default=dict)


class ContactAddress(Base):
    """Where to reply in a conversation whose id is a pseudonym (a WhatsApp number), encrypted."""

    __tablename__ = "contact_addresses"

    conversation_id: Mapped[str] = mapped_column(String(160), primary_key=True)
    address_cifrada: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
