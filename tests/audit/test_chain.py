"""The audit chain: an UPDATE, DELETE or INSERT made directly in the database is named by the verifier."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.audit.chain import Finding, seal, verify
from bot.documents.settings import DocumentSettings
from bot.documents.signing import Signer, open_signer
from bot.storage import audit_chain
from bot.storage.db import alembic_config, create_engine, session_factory

DAY1 = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)
NOW = DAY1 + timedelta(days=3)


@pytest.fixture(scope="session")
def key(tmp_path_factory: pytest.TempPathFactory) -> Signer:
    var = tmp_path_factory.mktemp("auditoria-claves")
    return open_signer(DocumentSettings(var_dir=var, templates_dir=var, public_base_url="https://chasqui.prueba.ec"))


async def append(sessions: async_sessionmaker[AsyncSession], when: datetime, action: str = "ver_cola") -> int:
    async with sessions() as session:
        entry = await audit_chain.append(
            session=session,
            staff_id=1,
            usuario="ana",
            action=action,
            conversation_id="web:abc",
            case_id=7,
            detail={"hasta": 12, "nota": "ñandú", "lista": (1, 2)},
            ip="127.0.0.1",
            now=when,
        )
        await session.commit()
        return entry.id


async def three_days(sessions: async_sessionmaker[AsyncSession]) -> list[int]:
    """Four rows a day on three days: ids 1-4 (day 1), 5-8 (day 2), 9-12 (day 3)."""
    return [await append(sessions, DAY1 + timedelta(days=d, minutes=m)) for d in range(3) for m in range(4)]


async def execute(sessions: async_sessionmaker[AsyncSession], sql: str, **params: object) -> None:
    """Run SQL as a database administrator would, around the application."""
    async with sessions() as session:
        if session.bind.dialect.name == "sqlite":  # SQLAlchemy's own format for SQLite datetimes
            params = {k: f"{v:%Y-%m-%d %H:%M:%S.%f}" if isinstance(v, datetime) else v for k, v in params.items()}
        await session.execute(text(sql), params)
        await session.commit()


async def test_a_clean_chain_passes_and_closed_days_are_sealed(
    sessions: async_sessionmaker[AsyncSession], key: Signer
) -> None:
    await three_days(sessions)
    before = await verify(sessions, key, now=NOW)
    assert (before.ok, sorted(before.pending)) == (True, ["2026-12-01", "2026-12-02", "2026-12-03"])
    assert await seal(sessions, key, now=NOW) == ["2026-12-01", "2026-12-02", "2026-12-03"]
    assert await seal(sessions, key, now=NOW) == []
    report = await verify(sessions, key, now=NOW)
    assert (report.ok, report.rows, report.days, report.sealed, report.pending) == (True, 12, 3, 3, {})


async def test_a_changed_row_is_named(sessions: async_sessionmaker[AsyncSession], key: Signer) -> None:
    ids = await three_days(sessions)
    await seal(sessions, key, now=NOW)
    await execute(sessions, "UPDATE audit_log SET usuario = 'otra' WHERE id = :id", id=ids[5])
    report = await verify(sessions, key, now=NOW)
    assert report.first == Finding("cambiada", row_id=ids[5], day="2026-12-02")


async def test_a_deleted_row_is_named_by_the_row_after_the_gap(
    sessions: async_sessionmaker[AsyncSession], key: Signer
) -> None:
    ids = await three_days(sessions)
    await seal(sessions, key, now=NOW)
    await execute(sessions, "DELETE FROM audit_log WHERE id = :id", id=ids[2])
    report = await verify(sessions, key, now=NOW)
    assert report.findings == [
        Finding("eliminada", row_id=ids[3], previous_id=ids[1]),
        Finding("resumen_distinto", day="2026-12-01"),
    ]
    assert "faltan filas antes de la fila 4" in report.findings[0].describe()


async def test_a_row_inserted_without_links_is_named(sessions: async_sessionmaker[AsyncSession], key: Signer) -> None:
    await three_days(sessions)
    await execute(
        sessions,
        "INSERT INTO audit_log (id, usuario, action, created_at) VALUES (100, 'intruso', 'ver_cola', :t)",
        t=DAY1 + timedelta(days=2, hours=1),
    )
    report = await verify(sessions, key, now=NOW)
    assert report.first == Finding("insertada", row_id=100)


async def test_a_forged_row_with_valid_links_is_named(sessions: async_sessionmaker[AsyncSession], key: Signer) -> None:
    """Someone who knows the algorithm slips a correctly linked row into a gap of ids: the next row skips it."""
    ids = [await append(sessions, DAY1 + timedelta(minutes=m)) for m in range(6)]
    if sessions.kw["bind"].dialect.name == "postgresql":  # a rolled-back append leaves such a gap
        await execute(sessions, "SELECT nextval(pg_get_serial_sequence('audit_log', 'id'))")
        after = await append(sessions, DAY1 + timedelta(minutes=10))
    else:  # SQLite reuses the highest rowid: hold the place while the next row is appended
        await execute(
            sessions,
            "INSERT INTO audit_log (id, usuario, action, created_at) VALUES (:id, 'x', 'x', :t)",
            id=ids[-1] + 1,
            t=DAY1,
        )
        after = await append(sessions, DAY1 + timedelta(minutes=10))
        await execute(sessions, "DELETE FROM audit_log WHERE id = :id", id=ids[-1] + 1)
    gap = ids[-1] + 1
    assert after == gap + 1
    async with sessions() as session:
        rows = [r async for r in audit_chain.chain_rows(session=session)]
    before = next(r for r in rows if r.id == ids[-1])
    when = DAY1 + timedelta(minutes=7)
    forged = {**before.fields, "id": gap, "usuario": "intruso", "created_at": audit_chain.instant(when)}
    link = audit_chain.row_hash(forged, chain_day="2026-12-01", prev_hash=before.row_hash or "")
    await execute(
        sessions,
        "INSERT INTO audit_log (id, staff_id, usuario, action, conversation_id, case_id, detail, ip, created_at,"
        " chain_day, prev_hash, row_hash) VALUES (:id, :staff_id, :usuario, :action, :conversation_id, :case_id,"
        " :detail, :ip, :created_at, '2026-12-01', :prev, :link)",
        **{**forged, "detail": '{"hasta": 12, "lista": [1, 2], "nota": "ñandú"}', "created_at": when},
        prev=before.row_hash,
        link=link,
    )
    report = await verify(sessions, key, now=NOW)
    assert report.findings == [Finding("insertada", row_id=gap, day="2026-12-01")]


async def test_rows_added_or_removed_at_the_end_are_named(
    sessions: async_sessionmaker[AsyncSession], key: Signer
) -> None:
    ids = await three_days(sessions)
    await execute(sessions, "DELETE FROM audit_log WHERE id = :id", id=ids[-1])
    report = await verify(sessions, key, now=NOW)
    assert report.first == Finding("cola", row_id=ids[-2], previous_id=ids[-1])


async def test_digests_deleted_forged_or_outliving_their_day_are_named(
    sessions: async_sessionmaker[AsyncSession], key: Signer
) -> None:
    await three_days(sessions)
    await seal(sessions, key, now=NOW)
    await execute(sessions, "DELETE FROM audit_digests WHERE day = '2026-12-01'")
    await execute(sessions, "UPDATE audit_digests SET rows = 3 WHERE day = '2026-12-02'")
    report = await verify(sessions, key, now=NOW)
    assert report.findings == [
        Finding("resumen_falta", day="2026-12-01"),
        Finding("resumen_firma", day="2026-12-02"),
    ]
    await execute(sessions, "DELETE FROM audit_log WHERE chain_day = '2026-12-03'")
    await execute(
        sessions, "UPDATE audit_chain_head SET last_id = 8, last_hash = (SELECT row_hash FROM audit_log WHERE id = 8)"
    )
    report = await verify(sessions, key, now=NOW)
    assert Finding("dia_eliminado", day="2026-12-03") in report.findings


async def test_a_day_rewritten_whole_breaks_its_signed_digest(
    sessions: async_sessionmaker[AsyncSession], key: Signer
) -> None:
    """Rehashing a whole closed day (and the links after it) keeps the chain consistent, not the signature."""
    await three_days(sessions)
    await seal(sessions, key, now=NOW)
    await execute(sessions, "UPDATE audit_log SET usuario = 'otra' WHERE id = 2")
    async with sessions() as session:
        rows = [r async for r in audit_chain.chain_rows(session=session)]
        previous: str | None = None
        for row in rows:
            prev = audit_chain.day_genesis(row.chain_day or "", previous) if row.id in (1, 5, 9) else previous or ""
            link = audit_chain.row_hash(row.fields, chain_day=row.chain_day or "", prev_hash=prev)
            await session.execute(
                text("UPDATE audit_log SET prev_hash = :p, row_hash = :h WHERE id = :id"),
                {"p": prev, "h": link, "id": row.id},
            )
            previous = link
        await session.execute(text("UPDATE audit_chain_head SET last_hash = :h"), {"h": previous})
        await session.commit()
    report = await verify(sessions, key, now=NOW)
    assert report.findings == [Finding("resumen_distinto", day=d) for d in ("2026-12-01", "2026-12-02", "2026-12-03")]


async def test_sealing_never_signs_a_broken_day(sessions: async_sessionmaker[AsyncSession], key: Signer) -> None:
    ids = await three_days(sessions)
    await execute(sessions, "UPDATE audit_log SET action = 'nada' WHERE id = :id", id=ids[5])
    assert await seal(sessions, key, now=NOW) == ["2026-12-01"]


async def test_concurrent_appends_from_two_engines_keep_one_chain(database_url: str, key: Signer) -> None:
    """Two engines stand for two processes: their appends interleave at the database, never fork the chain."""
    engines = [create_engine(database_url), create_engine(database_url)]
    try:
        factories = [session_factory(e) for e in engines]
        now = datetime.now(UTC)
        await asyncio.gather(*(append(factories[i % 2], now, action=f"accion_{i}") for i in range(40)))
        report = await verify(factories[0], key, now=now)
    finally:
        for engine in engines:
            await engine.dispose()
    assert (report.ok, report.rows) == (True, 40)


async def test_the_migration_chains_rows_written_before_it(database_url: str, key: Signer, tmp_path: Path) -> None:
    config = alembic_config(database_url)
    await asyncio.to_thread(command.downgrade, config, "0005")
    engine = create_engine(database_url)
    sessions = session_factory(engine)
    try:
        for i in range(5):
            await execute(
                sessions,
                "INSERT INTO audit_log (staff_id, usuario, action, detail, created_at)"
                " VALUES (1, 'ana', 'entrar', :d, :t)",
                d=f'{{"i": {i}}}',
                t=DAY1 + timedelta(hours=10 * i),
            )
        await asyncio.to_thread(command.upgrade, config, "heads")
        await append(sessions, NOW - timedelta(hours=1))
        assert (await seal(sessions, key, now=NOW)) == ["2026-12-01", "2026-12-02", "2026-12-03"]
        report = await verify(sessions, key, now=NOW)
    finally:
        await engine.dispose()
    assert (report.ok, report.rows, report.sealed) == (True, 6, 3)
