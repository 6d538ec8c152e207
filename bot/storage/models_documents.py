"""Typed SQLAlchemy 2 models of issued documents, their share links and verifications (`bot.documents`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bot.storage.models import Base, utcnow


class Document(Base):
    """A signed document as issued: never its files (those live in the document store), never a cédula.

    The holder's cédula is kept only as a keyed hash (to find a citizen's documents) and masked (to show).
    ``public_fields`` holds the fields its template lists as shown to verifiers (``verificador``), nothing more.
    """

    __tablename__ = "documents"
    __table_args__ = (UniqueConstraint("idempotency_key", name="uq_documents_idempotency_key"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    kind: Mapped[str] = mapped_column(String(48))
    verification_code: Mapped[str] = mapped_column(String(32), unique=True)
    holder_cedula_hash: Mapped[str] = mapped_column(String(64), index=True)
    holder_cedula_masked: Mapped[str] = mapped_column(String(16))
    holder_name: Mapped[str] = mapped_column(String(200))
    public_fields: Mapped[dict[str, Any]] = mapped_column()
    issued_at: Mapped[datetime] = mapped_column()
    expires_at: Mapped[datetime] = mapped_column()
    pdf_filename: Mapped[str] = mapped_column(String(120))
    pdf_sha256: Mapped[str] = mapped_column(String(64))
    pdf_size: Mapped[int] = mapped_column()
    png_filename: Mapped[str] = mapped_column(String(120))
    png_sha256: Mapped[str] = mapped_column(String(64))
    png_size: Mapped[int] = mapped_column()
    signer_kid: Mapped[str] = mapped_column(String(16))
    sandbox: Mapped[bool] = mapped_column()
    conversation_id: Mapped[str | None] = mapped_column(String(160), default=None)
    # The turn that issued it, with kind and holder: a retried turn (a Rasa replica died before saving it) finds
    # this document instead of issuing a second one (bot.documents.service.ISSUING_TURN).
    idempotency_key: Mapped[str | None] = mapped_column(String(200), default=None)
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)
    revocation_reason: Mapped[str | None] = mapped_column(String(200), default=None)
    revoked_by: Mapped[str | None] = mapped_column(String(80), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class DocumentShareLink(Base):
    """A short-lived link that shows one document to a third party; only the token's hash is kept."""

    __tablename__ = "document_share_links"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    document_id: Mapped[str] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    expires_at: Mapped[datetime] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class DocumentVerification(Base):
    """One verification's outcome, for the open data's daily counts: never the code or the document asked about."""

    __tablename__ = "document_verifications"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    kind: Mapped[str | None] = mapped_column(String(48), default=None)  # the document's kind, when one was found
    via: Mapped[str] = mapped_column(String(16))  # codigo | pdf | imagen | token | enlace
    verdict: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
