"""Verify the audit chain and seal its closed days (the hashing and SQL live in `bot.storage.audit_chain`).

What the verifier finds, walking the rows in id order:

- ``cambiada``: a row's fields no longer give its stored hash (an UPDATE);
- ``insertada``: a row without links, or one that the next row skips over (an INSERT);
- ``eliminada``: a row links to something other than the row before it (a DELETE, or the row before was
  changed and rehashed: either way the gap is named);
- ``cola``: the head says the chain ends elsewhere than the last row (rows added or removed at the end);
- ``resumen_falta``: a closed day older than the newest digest has none (a digest deleted);
- ``resumen_firma``: a digest whose signature does not verify with the documents' key;
- ``resumen_distinto``: a day's rows no longer match what its digest signed (a day rewritten whole);
- ``dia_eliminado``: a digest whose day has no rows left.

Closed days after the newest digest are *pending* (the worker seals them within the hour), not a break.
Sealing verifies first and never signs a day at or after the first finding.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

import structlog
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.storage import audit_chain
from bot.storage.models import utcnow
from bot.storage.models_console import AuditDigest

log = structlog.get_logger(__name__)

DESCRIPTIONS = {
    "cambiada": "la fila {fila} fue cambiada: sus datos ya no dan su hash",
    "insertada": "la fila {fila} fue insertada: la cadena no pasa por ella",
    "eliminada": "faltan filas antes de la fila {fila} (o la fila {anterior} fue cambiada y recalculada)",
    "cola": "el final de la cadena no coincide con su cabeza (última fila registrada: {anterior}; hallada: {fila})",
    "resumen_falta": "el día {dia} no tiene su resumen firmado",
    "resumen_firma": "la firma del resumen del día {dia} no es válida con la clave de los documentos",
    "resumen_distinto": "las filas del día {dia} no coinciden con su resumen firmado",
    "dia_eliminado": "el día {dia} tiene resumen firmado pero ya no tiene filas",
}


class DigestKey(Protocol):
    """The documents' signing key as the chain uses it (`bot.documents.signing.Signer` fits)."""

    @property
    def kid(self) -> bytes: ...

    @property
    def public_key(self) -> ec.EllipticCurvePublicKey: ...

    def sign_es256(self, data: bytes) -> bytes: ...


@dataclass(frozen=True)
class Finding:
    """One break of the chain, in chain order."""

    kind: str
    row_id: int | None = None
    previous_id: int | None = None
    day: str | None = None

    def describe(self) -> str:
        return DESCRIPTIONS[self.kind].format(
            fila=self.row_id if self.row_id is not None else "—",
            anterior=self.previous_id if self.previous_id is not None else "—",
            dia=self.day or "—",
        )


@dataclass(frozen=True)
class DaySpan:
    first_id: int
    last_id: int
    rows: int
    last_hash: str


@dataclass
class Report:
    """The state of the chain: rows and days walked, days sealed or pending, findings, time taken."""

    rows: int = 0
    days: int = 0
    sealed: int = 0
    pending: dict[str, DaySpan] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.findings

    @property
    def first(self) -> Finding | None:
        return self.findings[0] if self.findings else None


def verify_signature(key: DigestKey, digest: AuditDigest) -> bool:
    if digest.key_id != key.kid.hex():
        return False
    try:
        raw = bytes.fromhex(digest.signature)
    except ValueError:
        return False
    if len(raw) != 64:
        return False
    der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
    message = audit_chain.digest_message(
        day=digest.day, first_id=digest.first_id, last_id=digest.last_id, rows=digest.rows, last_hash=digest.last_hash
    )
    try:
        key.public_key.verify(der, message, ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        return False
    return True


class _Walk:
    """The verifier's state while it walks the rows once."""

    def __init__(self, key: DigestKey, digests: dict[str, AuditDigest], today: str) -> None:
        self.key, self.digests, self.today = key, digests, today
        self.newest_digest = max(digests) if digests else None
        self.report = Report()
        self.previous: audit_chain.ChainRow | None = None
        self.previous_expected: str | None = None
        self.span: dict[str, DaySpan] = {}

    def row(self, row: audit_chain.ChainRow) -> None:
        self.report.rows += 1
        if row.row_hash is None or row.prev_hash is None or row.chain_day is None:
            self.report.findings.append(Finding("insertada", row_id=row.id))
            return
        previous = self.previous
        if previous is None or row.chain_day != previous.chain_day:
            if previous is not None and previous.chain_day is not None:
                self.close_day(previous.chain_day)
            expected = audit_chain.day_genesis(row.chain_day, previous.row_hash if previous else None)
        else:
            expected = previous.row_hash or ""
        computed = audit_chain.row_hash(row.fields, chain_day=row.chain_day, prev_hash=row.prev_hash)
        if computed != row.row_hash:
            self.report.findings.append(Finding("cambiada", row_id=row.id, day=row.chain_day))
        elif row.prev_hash != expected:
            if previous is not None and row.prev_hash == self.previous_expected:
                self.report.findings.append(Finding("insertada", row_id=previous.id, day=previous.chain_day))
            else:
                self.report.findings.append(
                    Finding("eliminada", row_id=row.id, previous_id=previous.id if previous else None)
                )
        span = self.span.get(row.chain_day)
        self.span[row.chain_day] = DaySpan(
            first_id=span.first_id if span else row.id,
            last_id=row.id,
            rows=(span.rows if span else 0) + 1,
            last_hash=row.row_hash,
        )
        self.previous, self.previous_expected = row, expected

    def close_day(self, day: str) -> None:
        self.report.days += 1
        span = self.span[day]
        if day >= self.today:
            return  # the open day: its rows are chained; its digest comes after midnight
        digest = self.digests.get(day)
        if digest is None:
            if self.newest_digest is None or day > self.newest_digest:
                self.report.pending[day] = span
            else:
                self.report.findings.append(Finding("resumen_falta", day=day))
            return
        self.report.sealed += 1
        if not verify_signature(self.key, digest):
            self.report.findings.append(Finding("resumen_firma", day=day))
        elif (digest.first_id, digest.last_id, digest.rows, digest.last_hash) != (
            span.first_id,
            span.last_id,
            span.rows,
            span.last_hash,
        ):
            self.report.findings.append(Finding("resumen_distinto", day=day))

    def finish(self, head_last_id: int | None, head_hash: str | None) -> Report:
        last = self.previous
        if last is not None and last.chain_day is not None:
            self.close_day(last.chain_day)
        for day in sorted(set(self.digests) - set(self.span)):
            self.report.findings.append(Finding("dia_eliminado", day=day))
        last_id = last.id if last else None
        if (head_last_id, head_hash) != (last_id, last.row_hash if last else None):
            self.report.findings.append(Finding("cola", row_id=last_id, previous_id=head_last_id))
        return self.report  # findings are in chain order: the walk met them in that order


async def verify(sessions: async_sessionmaker[AsyncSession], key: DigestKey, *, now: datetime | None = None) -> Report:
    """Walk the whole chain once and check every closed day's digest.

    Args:
        sessions: the app database's session factory.
        key: the documents' signing key (its public half checks the digests).
        now: the current instant; its UTC day is the open one.
    """
    started = time.perf_counter()
    today = audit_chain.day_of(now or utcnow())
    async with sessions() as session:
        walk = _Walk(key, await audit_chain.digests(session=session), today)
        head = await audit_chain.head(session=session)
        head_id, head_hash = (head.last_id, head.last_hash) if head else (None, None)
        async for row in audit_chain.chain_rows(session=session):
            walk.row(row)
    report = walk.finish(head_id, head_hash)
    if head is None:
        report.findings.insert(0, Finding("cola", row_id=None, previous_id=None))
    report.seconds = time.perf_counter() - started
    return report


async def seal(
    sessions: async_sessionmaker[AsyncSession],
    key: DigestKey,
    *,
    now: datetime | None = None,
) -> list[str]:
    """Sign the closed days after the newest digest, up to the first finding (never a broken day).

    Returns:
        The days sealed now.
    """
    report = await verify(sessions, key, now=now)
    first_bad_day = min((f.day or "" for f in report.findings if f.day), default=None)
    first_bad_row = min((f.row_id for f in report.findings if f.row_id is not None), default=None)
    sealed: list[str] = []
    for day, span in sorted(report.pending.items()):
        if (first_bad_day is not None and day >= first_bad_day) or (
            first_bad_row is not None and span.last_id >= first_bad_row
        ):
            break
        message = audit_chain.digest_message(
            day=day, first_id=span.first_id, last_id=span.last_id, rows=span.rows, last_hash=span.last_hash
        )
        signature = await asyncio.to_thread(key.sign_es256, message)
        async with sessions() as session:
            try:
                await audit_chain.add_digest(
                    session=session,
                    day=day,
                    first_id=span.first_id,
                    last_id=span.last_id,
                    rows=span.rows,
                    last_hash=span.last_hash,
                    key_id=key.kid.hex(),
                    signature=signature.hex(),
                )
                await session.commit()
            except IntegrityError:  # another process sealed it first
                await session.rollback()
                continue
        sealed.append(day)
    if report.findings:
        log.error("auditoria.cadena_rota", hallazgos=len(report.findings), primero=report.findings[0].kind)
    return sealed
