"""SQLite through `bot.storage.sqlite_adapter`: one trip to the database thread per statement, and everything
SQLAlchemy reads of a cursor (rows, RETURNING, row counts, row ids, errors, streaming) as with its own adapter."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import aiosqlite
import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, insert, select, text, update
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.storage import db
from bot.storage.sqlite_adapter import OneTripCursor

metadata = MetaData()
items = Table(
    "items",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String, unique=True, nullable=False),
)


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    created = db.create_engine(f"sqlite+aiosqlite:///{tmp_path / 'adapter.db'}")
    async with created.begin() as connection:
        await connection.run_sync(metadata.create_all)
    yield created
    await created.dispose()


class Counting:
    """A connection's queue of calls to its database thread, counting what is queued."""

    def __init__(self, queue: object) -> None:
        self.queue = queue
        self.queued = 0

    def put_nowait(self, item: object) -> None:
        self.queued += 1
        self.queue.put_nowait(item)  # type: ignore[attr-defined]


async def test_a_statement_is_one_trip_to_the_database_thread(engine: AsyncEngine) -> None:
    async with engine.connect() as connection:
        raw = await connection.get_raw_connection()
        assert isinstance(raw.dbapi_connection.cursor(), OneTripCursor)  # type: ignore[union-attr]
        driver = raw.driver_connection
        assert isinstance(driver, aiosqlite.Connection)
        counting = Counting(driver._tx)
        driver._tx = counting  # type: ignore[assignment]
        rows = (await connection.execute(select(items))).all()
        inserted = await connection.execute(insert(items).values(name="cedula").returning(items.c.id))
        assert inserted.scalar_one() == 1
        assert rows == []
        assert counting.queued == 2  # SQLAlchemy's own adapter: 8 (open, execute, fetch, close)
        driver._tx = counting.queue  # type: ignore[assignment]


async def test_what_sqlalchemy_reads_of_a_cursor(engine: AsyncEngine) -> None:
    async with engine.begin() as connection:
        first = await connection.execute(insert(items).values(name="uno"))
        assert first.inserted_primary_key == (1,)  # the last row id
        await connection.execute(insert(items), [{"name": "dos"}, {"name": "tres"}])  # executemany
        changed = await connection.execute(update(items).where(items.c.id > 1).values(name=items.c.name + "!"))
        assert changed.rowcount == 2
        returned = await connection.execute(insert(items).values(name="cuatro").returning(items.c.id, items.c.name))
        assert returned.one() == (4, "cuatro")
        names = (await connection.execute(select(items.c.name).order_by(items.c.id))).scalars().all()
        assert names == ["uno", "dos!", "tres!", "cuatro"]
        one = await connection.execute(select(items.c.name).order_by(items.c.id))
        assert one.fetchone() == ("uno",)
        assert one.fetchmany(2) == [("dos!",), ("tres!",)]
        assert one.fetchall() == [("cuatro",)]
        streamed = await connection.stream(select(items.c.id).order_by(items.c.id))  # server-side cursor
        assert [row.id async for row in streamed] == [1, 2, 3, 4]


async def test_errors_and_rollback_as_before(engine: AsyncEngine) -> None:
    async with engine.connect() as connection:
        await connection.execute(insert(items).values(name="repetido"))
        await connection.commit()
        with pytest.raises(IntegrityError):
            await connection.execute(insert(items).values(name="repetido"))
        await connection.rollback()
        with pytest.raises(OperationalError):
            await connection.execute(text("SELECT * FROM no_existe"))
        await connection.rollback()
        await connection.execute(insert(items).values(name="deshecho"))
        await connection.rollback()
        names = (await connection.execute(select(items.c.name))).scalars().all()
        assert names == ["repetido"]


async def test_a_closed_connection_refuses_at_once(engine: AsyncEngine) -> None:
    async with engine.connect() as connection:
        raw = await connection.get_raw_connection()
        driver = raw.driver_connection
        assert isinstance(driver, aiosqlite.Connection)
        await driver.close()
        with pytest.raises(OperationalError):  # not a statement queued to a thread that has stopped
            await asyncio.wait_for(connection.execute(select(items)), timeout=5)


# ------------------------------------------------------------------------- writers take turns in the event loop


async def test_a_second_writer_waits_for_the_first_to_commit_not_for_sqlite(engine: AsyncEngine) -> None:
    """Two writing transactions at once: the second's INSERT waits in the event loop until the first commits
    (SQLite's busy handler never runs: its sleeps made the tail of a busy gateway), and both commit."""
    order: list[str] = []
    first_wrote = asyncio.Event()
    release_first = asyncio.Event()

    async def first() -> None:
        async with engine.connect() as connection:
            await connection.execute(insert(items).values(name="primero"))
            order.append("first wrote")
            first_wrote.set()
            await release_first.wait()
            order.append("first commits")
            await connection.commit()

    async def second() -> None:
        await first_wrote.wait()
        async with engine.connect() as connection:
            assert (await connection.execute(select(items))).all() == []  # reading takes no turn
            order.append("second read")
            await connection.execute(text("PRAGMA busy_timeout=0"))  # SQLite waiting would fail at once
            await connection.execute(insert(items).values(name="segundo"))
            order.append("second wrote")
            await connection.commit()

    waiting = asyncio.create_task(second())
    writing = asyncio.create_task(first())
    await first_wrote.wait()
    for _ in range(20):  # the second transaction gets every chance to write before the first commits
        await asyncio.sleep(0.005)
    assert order == ["first wrote", "second read"]
    release_first.set()
    await asyncio.gather(writing, waiting)
    assert order == ["first wrote", "second read", "first commits", "second wrote"]
    async with engine.connect() as connection:
        assert (await connection.execute(select(items.c.name).order_by(items.c.id))).scalars().all() == [
            "primero",
            "segundo",
        ]


async def test_the_turn_is_given_back_on_rollback_and_after_a_failed_write(engine: AsyncEngine) -> None:
    async with engine.connect() as connection:
        await connection.execute(insert(items).values(name="cedula"))
        await connection.rollback()
    async with engine.connect() as connection:
        await connection.execute(insert(items).values(name="cedula"))
        await connection.commit()
    async with engine.connect() as connection:
        with pytest.raises(IntegrityError):
            await connection.execute(insert(items).values(name="cedula"))
    async with asyncio.timeout(5):  # the failed transaction's turn was given back when its connection closed
        async with engine.begin() as connection:
            await connection.execute(update(items).values(name="ruc"))
    async with engine.connect() as connection:
        assert (await connection.execute(select(items.c.name))).scalars().all() == ["ruc"]


async def test_a_writer_waiting_too_long_gets_sqlites_own_error(
    engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("bot.storage.sqlite_adapter.WRITER_WAIT_SECONDS", 0.05)
    async with engine.connect() as holder:
        await holder.execute(insert(items).values(name="placa"))
        async with engine.connect() as late:
            with pytest.raises(OperationalError, match="database is locked"):
                await late.execute(insert(items).values(name="matricula"))
        await holder.commit()
    async with engine.begin() as connection:  # nothing left held
        await connection.execute(insert(items).values(name="matricula"))
