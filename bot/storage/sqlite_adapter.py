"""SQLite for the asyncio engine with one trip to the database thread per statement.

aiosqlite runs each SQLite connection in a thread of its own and moves every call there and back: SQLAlchemy's
adapter makes four such trips per statement (open a cursor, execute, fetch the rows, close the cursor), each a
wake-up of that thread and then of the event loop. A web turn's nine statements were about thirty trips, the
largest part of the gateway's own time on SQLite. Here a statement is one trip: the cursor is opened, executed,
read and closed by one function in the database thread, and the adapter keeps the rows, the description, the
row count and the last row id.

It uses what SQLAlchemy's own adapter uses of aiosqlite (the connection's queue of calls, `_execute`, and its
sqlite3 connection, `sqlalchemy.dialects.sqlite.aiosqlite`); the versions are pinned in requirements/app.lock, and
tests/storage/test_sqlite_adapter.py checks the behaviour SQLAlchemy relies on. Server-side cursors (streaming)
keep SQLAlchemy's adapter.

Writers of one engine take turns in the event loop (`Writers`), not in SQLite. SQLite lets one transaction write
at a time and a second one waits in its busy handler, which sleeps 1, 2, 5, 10, 15, 20, 25… ms between tries
whatever the first one's progress: with sixteen turns at once, a message's INSERT waited 1.6 ms at the median
and 129 ms at the 95th percentile (433 ms at the 99th) for transactions that hold the lock about a millisecond.
A connection now waits its turn in an `asyncio.Lock` before its first write statement and lets the next one
in at its commit or rollback, first come first served, with no sleeping. Other processes on the same file (the
action server, the worker) still meet SQLite's own lock.
"""

from __future__ import annotations

import asyncio
import collections
import re
import sqlite3
from collections.abc import Sequence
from typing import Any, cast

import aiosqlite
from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_cursor,
    AsyncAdapt_aiosqlite_dbapi,
)
from sqlalchemy.util import immutabledict

_Outcome = tuple[Any, list[Any], int, int | None]  # description, rows, row count, last row id
# The statements before which sqlite3 opens a write transaction (its default, "deferred" transaction control).
_WRITE = re.compile(r"\s*(?:INSERT|UPDATE|DELETE|REPLACE)\b", re.IGNORECASE)
WRITER_WAIT_SECONDS = 30.0  # as the busy timeout (bot.storage.db): then "database is locked", as SQLite says


class Writers:
    """One writing transaction at a time among an engine's connections, in arrival order (see the module)."""

    def __init__(self) -> None:
        self._locks: dict[asyncio.AbstractEventLoop, asyncio.Lock] = {}

    async def acquire(self) -> asyncio.Lock:
        """Wait for the turn to write (then held, to release at the transaction's end)."""
        loop = asyncio.get_running_loop()
        lock = self._locks.get(loop)
        if lock is None:  # one per event loop (tests run several); a loop's own connections share it
            lock = self._locks[loop] = asyncio.Lock()
        try:
            async with asyncio.timeout(WRITER_WAIT_SECONDS):
                await lock.acquire()
        except TimeoutError:
            raise sqlite3.OperationalError("database is locked") from None
        return lock


def _run(connection: sqlite3.Connection, operation: str, parameters: Any, many: bool) -> _Outcome:
    """One statement, whole, in the database thread."""
    cursor = connection.cursor()
    try:
        if many:
            cursor.executemany(operation, parameters)
        elif parameters is None:
            cursor.execute(operation)
        else:
            cursor.execute(operation, parameters)
        description = cursor.description
        rows = cursor.fetchall() if description else []
        return description, rows, cursor.rowcount, cursor.lastrowid
    finally:
        cursor.close()


class OneTripCursor(AsyncAdapt_aiosqlite_cursor):
    """A cursor that holds a finished statement's results (no sqlite3 cursor stays open between calls)."""

    __slots__ = ("_description", "_lastrowid", "_rowcount")

    def __init__(self, adapt_connection: AsyncAdapt_aiosqlite_connection) -> None:  # no trip to open a cursor
        self._adapt_connection = adapt_connection
        self._connection = adapt_connection._connection
        self._soft_closed_memoized = immutabledict()
        self._rows = collections.deque()
        self._description: Any = None
        self._rowcount = -1
        self._lastrowid: int | None = None

    @property
    def description(self) -> Any:
        return self._description

    @property
    def rowcount(self) -> int:
        return self._rowcount

    @property
    def lastrowid(self) -> int:
        return self._lastrowid  # type: ignore[return-value]  # None before an INSERT, as sqlite3's

    @property
    def arraysize(self) -> int:
        return 1

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        pass

    async def _async_soft_close(self) -> None:
        return None  # nothing open: the rows are here already

    def close(self) -> None:
        self._rows.clear()

    async def _execute_async(self, operation: Any, parameters: Any) -> Any:
        return await self._trip(operation, parameters, many=False)

    async def _executemany_async(self, operation: Any, seq_of_parameters: Sequence[Any]) -> Any:
        return await self._trip(operation, seq_of_parameters, many=True)

    async def _trip(self, operation: Any, parameters: Any, *, many: bool) -> None:
        connection = cast(aiosqlite.Connection, self._connection)
        raw = connection._conn
        adapted = cast(OneTripConnection, self._adapt_connection)
        if adapted.writing is None and _WRITE.match(operation):
            adapted.writing = await adapted.dbapi.writers.acquire()
        async with self._adapt_connection._execute_mutex:
            # aiosqlite's own way to queue a call (it refuses a closed connection)
            outcome: _Outcome = await connection._execute(_run, raw, operation, parameters, many)  # type: ignore[no-untyped-call]
        self._description, rows, self._rowcount, self._lastrowid = outcome
        self._rows = collections.deque(rows)

    def nextset(self) -> None:
        return None


class OneTripConnection(AsyncAdapt_aiosqlite_connection):
    """SQLAlchemy's aiosqlite connection with `OneTripCursor` cursors; its writing transaction takes its turn
    among the engine's (`Writers`) and gives it back when it ends."""

    __slots__ = ("writing",)
    _cursor_cls = OneTripCursor  # type: ignore[assignment]  # a subclass of the adapter's own
    dbapi: OneTripDBAPI

    def __init__(self, dbapi: OneTripDBAPI, connection: Any) -> None:
        super().__init__(dbapi, connection)
        self.writing: asyncio.Lock | None = None  # the engine's turn, held while this transaction writes

    def commit(self) -> None:
        try:
            super().commit()
        finally:
            self._end_writing()

    def rollback(self) -> None:
        try:
            super().rollback()
        finally:
            self._end_writing()

    def close(self) -> None:
        try:
            super().close()
        finally:
            self._end_writing()

    def terminate(self) -> None:
        try:
            super().terminate()
        finally:
            self._end_writing()

    def _end_writing(self) -> None:
        turn, self.writing = self.writing, None
        if turn is not None and turn.locked():
            turn.release()


class OneTripDBAPI(AsyncAdapt_aiosqlite_dbapi):
    """aiosqlite as SQLAlchemy's adapter presents it, with `OneTripConnection` connections."""

    def __init__(self, aiosqlite: Any, sqlite: Any) -> None:
        super().__init__(aiosqlite, sqlite)
        self.writers = Writers()

    def connect(self, *arg: Any, **kw: Any) -> OneTripConnection:
        adapted = super().connect(*arg, **kw)
        return OneTripConnection(self, adapted._connection)


def dbapi() -> OneTripDBAPI:
    """The ``module`` argument of `create_async_engine` for a ``sqlite+aiosqlite://`` URL."""
    return OneTripDBAPI(aiosqlite, sqlite3)


__all__ = ["OneTripCursor", "Writers", "dbapi"]
