"""The audit log's hash chain: canonical rows, serialized appends, the chain head and the signed daily digests.

Each row stores ``row_hash = SHA-256(canonical(fields + prev_hash))``. Rows belong to a chain day (UTC); the
first row of a day links to ``day_genesis(day, last hash of the previous day)``, so a day can be checked
from its predecessor's digest alone and a day deleted whole breaks the next one. The one row of
``audit_chain_head`` holds the last link; an append starts with an ``UPDATE … RETURNING`` of that row,
which takes its row lock on PostgreSQL (a second process waits, then reads the new head) and the
database's write lock on SQLite, so concurrent appends queue instead of forking the chain.

Closed days are sealed in ``audit_digests`` (`bot.audit`), signed with the documents' key. This module
holds the SQL and the hashing only; it never signs.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage.models import utcnow
from bot.storage.models_console import AuditChainHead, AuditDigest, AuditEntry

HEAD_ID = 1
VERSION = "chasqui-auditoria-v1"
HASHED_FIELDS = ("id", "staff_id", "usuario", "action", "conversation_id", "case_id", "detail", "ip", "created_at")


class ChainHeadMissing(RuntimeError):
    """The chain's head row is gone: someone deleted it; appending would start a second chain."""


def canonical(value: Mapping[str, Any]) -> bytes:
    """The one serialization that is hashed and signed: sorted keys, no spaces, UTF-8."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode()


def instant(moment: datetime) -> str:
    """A UTC instant as hashed (microseconds, ``Z``); a naive value is read as UTC, as SQLite returns it."""
    aware = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    return aware.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def day_of(moment: datetime) -> str:
    return instant(moment)[:10]


def normalized_detail(detail: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """The detail as the JSON column gives it back (tuples as lists, keys as strings)."""
    return None if detail is None else json.loads(json.dumps(detail, ensure_ascii=False, allow_nan=False))


def day_genesis(day: str, previous_hash: str | None) -> str:
    """The link a day's first row points to: the day and the last hash of the day before it."""
    return hashlib.sha256(f"{VERSION}|{day}|{previous_hash or ''}".encode()).hexdigest()


def row_hash(fields: Mapping[str, Any], *, chain_day: str, prev_hash: str) -> str:
    """The link of a row from its ``HASHED_FIELDS`` (``created_at`` already formatted by `instant`)."""
    body = {name: fields[name] for name in HASHED_FIELDS}
    return hashlib.sha256(canonical({**body, "chain_day": chain_day, "prev_hash": prev_hash})).hexdigest()


def next_link(*, day: str, head_day: str | None, head_hash: str | None) -> tuple[str, str]:
    """The chain day and previous link of a row appended now (a day never goes back: clocks differ)."""
    chain_day = max(day, head_day) if head_day else day
    if head_day == chain_day and head_hash is not None:
        return chain_day, head_hash
    return chain_day, day_genesis(chain_day, head_hash)


def digest_message(*, day: str, first_id: int, last_id: int, rows: int, last_hash: str) -> bytes:
    """What a daily digest signs."""
    return canonical(
        {"version": VERSION, "dia": day, "primera": first_id, "ultima": last_id, "filas": rows, "hash": last_hash}
    )


@dataclass(frozen=True)
class ChainRow:
    """A row as the verifier reads it: the hashed fields (formatted) and the stored links."""

    fields: dict[str, Any]
    chain_day: str | None
    prev_hash: str | None
    row_hash: str | None

    @property
    def id(self) -> int:
        return int(self.fields["id"])


def _chain_row(entry: AuditEntry) -> ChainRow:
    return ChainRow(
        fields={
            "id": entry.id,
            "staff_id": entry.staff_id,
            "usuario": entry.usuario,
            "action": entry.action,
            "conversation_id": entry.conversation_id,
            "case_id": entry.case_id,
            "detail": entry.detail,
            "ip": entry.ip,
            "created_at": instant(entry.created_at),
        },
        chain_day=entry.chain_day,
        prev_hash=entry.prev_hash,
        row_hash=entry.row_hash,
    )


async def append(
    *,
    session: AsyncSession,
    staff_id: int | None,
    usuario: str,
    action: str,
    conversation_id: str | None = None,
    case_id: int | None = None,
    detail: Mapping[str, Any] | None = None,
    ip: str | None = None,
    now: datetime | None = None,
) -> AuditEntry:
    """Append a row at the end of the chain, in the caller's transaction (the head stays locked until commit).

    Raises:
        ChainHeadMissing: the head row was deleted.
    """
    head = (
        await session.execute(
            update(AuditChainHead)
            .where(AuditChainHead.id == HEAD_ID)
            .values(last_id=AuditChainHead.last_id)
            .returning(AuditChainHead.last_hash, AuditChainHead.day)
        )
    ).one_or_none()
    if head is None:
        raise ChainHeadMissing("audit_chain_head has no row: the audit chain cannot be extended")
    created_at = now or utcnow()
    entry = AuditEntry(
        staff_id=staff_id,
        usuario=usuario,
        action=action,
        conversation_id=conversation_id,
        case_id=case_id,
        detail=normalized_detail(detail),
        ip=ip,
        created_at=created_at,
    )
    session.add(entry)
    await session.flush()  # the id is part of the link
    chain_day, prev = next_link(day=day_of(created_at), head_day=head.day, head_hash=head.last_hash)
    entry.chain_day, entry.prev_hash = chain_day, prev
    entry.row_hash = row_hash(_chain_row(entry).fields, chain_day=chain_day, prev_hash=prev)
    await session.execute(
        update(AuditChainHead)
        .where(AuditChainHead.id == HEAD_ID)
        .values(last_id=entry.id, last_hash=entry.row_hash, day=chain_day)
    )
    await session.flush()
    return entry


async def chain_rows(*, session: AsyncSession, batch: int = 2000) -> AsyncIterator[ChainRow]:
    """Every audit row in chain order (by id), read in batches."""
    after = 0
    while True:
        entries = (
            await session.scalars(select(AuditEntry).where(AuditEntry.id > after).order_by(AuditEntry.id).limit(batch))
        ).all()
        for entry in entries:
            yield _chain_row(entry)
        if len(entries) < batch:
            return
        after = entries[-1].id
        session.expunge_all()  # the verifier reads a long log once; keep memory flat


async def head(*, session: AsyncSession) -> AuditChainHead | None:
    return await session.get(AuditChainHead, HEAD_ID, populate_existing=True)


async def digests(*, session: AsyncSession) -> dict[str, AuditDigest]:
    result = await session.scalars(select(AuditDigest).order_by(AuditDigest.day))
    return {d.day: d for d in result.all()}


async def newest_digest_day(*, session: AsyncSession) -> str | None:
    return await session.scalar(select(func.max(AuditDigest.day)))


async def add_digest(
    *,
    session: AsyncSession,
    day: str,
    first_id: int,
    last_id: int,
    rows: int,
    last_hash: str,
    key_id: str,
    signature: str,
) -> AuditDigest:
    digest = AuditDigest(
        day=day,
        first_id=first_id,
        last_id=last_id,
        rows=rows,
        last_hash=last_hash,
        key_id=key_id,
        signature=signature,
    )
    session.add(digest)
    await session.flush()
    return digest
