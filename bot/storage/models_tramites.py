"""Models of applications (trámites): number, status history, documents issued, payments, notifications."""

from __future__ import annotations

import enum
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import ForeignKey, Index, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from bot.storage.models import Base, utcnow


class EstadoSolicitud(enum.StrEnum):
    """recibida → en_proceso → aprobada / rechazada → emitida (pendiente_pago waits for a fee)."""

    RECIBIDA = "recibida"
    PENDIENTE_PAGO = "pendiente_pago"
    EN_PROCESO = "en_proceso"
    APROBADA = "aprobada"
    RECHAZADA = "rechazada"
    EMITIDA = "emitida"
    CANCELADA = "cancelada"


class EstadoPago(enum.StrEnum):
    PENDIENTE = "pendiente"
    PAGADO = "pagado"
    RECHAZADO = "rechazado"


class Application(Base):
    """One trámite a citizen applied for; ``numero`` (EC-2026-000123) is what the citizen sees."""

    __tablename__ = "applications"
    __table_args__ = (
        Index("ix_applications_titular", "titular_hash", "id"),
        Index("ix_applications_retry", "estado", "proximo_intento"),  # the worker's poll
    )

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    numero: Mapped[str | None] = mapped_column(String(20), unique=True, default=None)
    tramite: Mapped[str] = mapped_column(String(40))
    conversation_id: Mapped[str] = mapped_column(String(160), index=True)
    titular_hash: Mapped[str] = mapped_column(String(64))  # keyed hash of the applicant's cédula
    titular_cifrado: Mapped[str] = mapped_column(Text)  # the cédula, encrypted: background retries need it
    estado: Mapped[str] = mapped_column(String(20), default=EstadoSolicitud.RECIBIDA)
    datos: Mapped[dict[str, Any]] = mapped_column(default=dict)  # non-sensitive details, for the citizen
    intentos: Mapped[int] = mapped_column(default=0)  # background retries after a registry error
    proximo_intento: Mapped[datetime | None] = mapped_column(default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class ApplicationEvent(Base):
    """Append-only status history of an application."""

    __tablename__ = "application_events"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id", ondelete="CASCADE"), index=True)
    estado: Mapped[str] = mapped_column(String(20))
    nota: Mapped[str | None] = mapped_column(String(200), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ApplicationDocument(Base):
    """A document issued for an application."""

    __tablename__ = "application_documents"

    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id", ondelete="CASCADE"), primary_key=True)
    document_id: Mapped[str] = mapped_column(String(32), primary_key=True)


class Payment(Base):
    """A fee or fine paid through the payment provider; ``recibo`` is the receipt shown to the citizen."""

    __tablename__ = "payments"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id", ondelete="CASCADE"), index=True)
    concepto: Mapped[str] = mapped_column(String(200))
    monto: Mapped[Decimal] = mapped_column(Numeric(10, 2))
    estado: Mapped[str] = mapped_column(String(16), default=EstadoPago.PENDIENTE)
    proveedor: Mapped[str] = mapped_column(String(32))
    referencia_proveedor: Mapped[str | None] = mapped_column(String(64), default=None)
    recibo: Mapped[str | None] = mapped_column(String(32), default=None, unique=True)
    detalle: Mapped[dict[str, Any]] = mapped_column(default=dict)  # e.g. which fines it pays; card last 4
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    paid_at: Mapped[datetime | None] = mapped_column(default=None)


class Notification(Base):
    """Something to tell a citizen outside the conversation's turn (an application finished)."""

    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_undelivered", "delivered_at", "id"),)  # every gateway's poll

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    conversation_id: Mapped[str] = mapped_column(String(160), index=True)
    application_id: Mapped[int | None] = mapped_column(ForeignKey("applications.id", ondelete="CASCADE"))
    plantilla: Mapped[str] = mapped_column(String(60))
    valores: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column(default=None)
