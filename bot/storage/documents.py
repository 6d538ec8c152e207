"""Repository functions for issued documents, their revocation and their share links."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage.models_documents import Document, DocumentShareLink


@dataclass(frozen=True)
class NewDocument:
    """What the issuer records about a document it has just signed and stored."""

    id: str
    kind: str
    verification_code: str
    holder_cedula_hash: str
    holder_cedula_masked: str
    holder_name: str
    public_fields: dict[str, Any]
    issued_at: datetime
    expires_at: datetime
    pdf_filename: str
    pdf_sha256: str
    pdf_size: int
    png_filename: str
    png_sha256: str
    png_size: int
    signer_kid: str
    sandbox: bool
    conversation_id: str | None = None
    idempotency_key: str | None = None


async def add_document(*, session: AsyncSession, document: NewDocument) -> Document:
    row = Document(
        id=document.id,
        kind=document.kind,
        verification_code=document.verification_code,
        holder_cedula_hash=document.holder_cedula_hash,
        holder_cedula_masked=document.holder_cedula_masked,
        holder_name=document.holder_name,
        public_fields=document.public_fields,
        issued_at=document.issued_at,
        expires_at=document.expires_at,
        pdf_filename=document.pdf_filename,
        pdf_sha256=document.pdf_sha256,
        pdf_size=document.pdf_size,
        png_filename=document.png_filename,
        png_sha256=document.png_sha256,
        png_size=document.png_size,
        signer_kid=document.signer_kid,
        sandbox=document.sandbox,
        conversation_id=document.conversation_id,
        idempotency_key=document.idempotency_key,
    )
    session.add(row)
    await session.flush()
    return row


async def by_idempotency_key(*, session: AsyncSession, key: str) -> Document | None:
    return await session.scalar(select(Document).where(Document.idempotency_key == key))


async def get_document(*, session: AsyncSession, document_id: str) -> Document | None:
    return await session.get(Document, document_id)


async def find_by_code(*, session: AsyncSession, verification_code: str) -> Document | None:
    """The document with this verification code (canonical form, without separators)."""
    return await session.scalar(select(Document).where(Document.verification_code == verification_code))


async def documents_of_holder(*, session: AsyncSession, holder_cedula_hash: str) -> Sequence[Document]:
    """A citizen's documents, newest first, found by the keyed hash of the cédula."""
    result = await session.scalars(
        select(Document)
        .where(Document.holder_cedula_hash == holder_cedula_hash)
        .order_by(Document.issued_at.desc(), Document.id)
    )
    return result.all()


async def revoke_document(
    *, session: AsyncSession, document_id: str, reason: str, actor: str, at: datetime
) -> Document | None:
    """Mark the document revoked; revoking twice keeps the first time and reason.

    Returns:
        The document, or None when there is none with that id.
    """
    document = await session.get(Document, document_id, with_for_update=True)
    if document is None:
        return None
    if document.revoked_at is None:
        document.revoked_at = at
        document.revocation_reason = reason
        document.revoked_by = actor
        await session.flush()
    return document


async def add_share_link(
    *, session: AsyncSession, document_id: str, token_hash: str, expires_at: datetime
) -> DocumentShareLink:
    link = DocumentShareLink(document_id=document_id, token_hash=token_hash, expires_at=expires_at)
    session.add(link)
    await session.flush()
    return link


async def find_share_link(*, session: AsyncSession, token_hash: str) -> DocumentShareLink | None:
    return await session.scalar(select(DocumentShareLink).where(DocumentShareLink.token_hash == token_hash))


async def delete_expired_share_links(*, session: AsyncSession, now: datetime) -> int:
    """Remove share links that expired before ``now``; returns how many."""
    result = await session.execute(
        delete(DocumentShareLink).where(DocumentShareLink.expires_at < now).returning(DocumentShareLink.id)
    )
    return len(result.all())
