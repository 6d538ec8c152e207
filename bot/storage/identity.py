"""Repository functions for proven identities and failed attempts (values arrive already protected)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage.models_identity import CedulaAttempts, IdentityAttempts, IdentityLink


async def current_link(*, session: AsyncSession, conversation_id: str, now: datetime) -> IdentityLink | None:
    link = await session.get(IdentityLink, conversation_id)
    if link is None or link.expires_at <= now:
        return None
    return link


async def save_link(
    *,
    session: AsyncSession,
    conversation_id: str,
    cedula_hash: str,
    cedula_cifrada: str,
    nombres_cifrados: str,
    nivel: str,
    verified_at: datetime,
    expires_at: datetime,
) -> IdentityLink:
    link = await session.get(IdentityLink, conversation_id)
    if link is None:
        link = IdentityLink(conversation_id=conversation_id)
        session.add(link)
    link.cedula_hash = cedula_hash
    link.cedula_cifrada = cedula_cifrada
    link.nombres_cifrados = nombres_cifrados
    link.nivel = nivel
    link.verified_at = verified_at
    link.expires_at = expires_at
    await session.flush()
    return link


async def delete_link(*, session: AsyncSession, conversation_id: str) -> bool:
    result = await session.execute(delete(IdentityLink).where(IdentityLink.conversation_id == conversation_id))
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def attempts(*, session: AsyncSession, conversation_id: str) -> IdentityAttempts:
    row = await session.get(IdentityAttempts, conversation_id)
    if row is None:
        row = IdentityAttempts(conversation_id=conversation_id, failures=0)
        session.add(row)
        await session.flush()
    return row


async def clear_attempts(*, session: AsyncSession, conversation_id: str) -> None:
    await session.execute(delete(IdentityAttempts).where(IdentityAttempts.conversation_id == conversation_id))


async def cedula_attempts(*, session: AsyncSession, cedula_hash: str, now: datetime) -> CedulaAttempts:
    row = await session.get(CedulaAttempts, cedula_hash)
    if row is None:
        row = CedulaAttempts(cedula_hash=cedula_hash, failures=0, first_failure_at=now)
        session.add(row)
        await session.flush()
    return row


async def clear_cedula_attempts(*, session: AsyncSession, cedula_hash: str) -> None:
    await session.execute(delete(CedulaAttempts).where(CedulaAttempts.cedula_hash == cedula_hash))


async def delete_expired_links(*, session: AsyncSession, now: datetime) -> int:
    """Remove links past their expiry (a shared computer must not keep the previous citizen's identity)."""
    result = await session.execute(delete(IdentityLink).where(IdentityLink.expires_at <= now))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
