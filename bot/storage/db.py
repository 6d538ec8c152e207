"""Engine and session factory; schema changes only through Alembic (see `migrate`)."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import event, exc
from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
# A pooled PostgreSQL connection idle this long is pinged before use (see `_ping_if_idle`).
PING_IDLE_SECONDS = 10.0
# SQLite connections kept open (each a thread of aiosqlite's): SQLAlchemy's default five made every turn beyond
# the fifth at once open a connection (a thread, four PRAGMAs) and close it after.
SQLITE_POOL_SIZE = 20


def create_engine(url: str, *, echo: bool = False) -> AsyncEngine:
    """Create the async engine for ``url`` (``sqlite+aiosqlite://`` or ``postgresql+asyncpg://``)."""
    if url.startswith("sqlite"):
        path = url.split(":///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        from bot.storage.sqlite_adapter import dbapi

        engine = create_async_engine(
            url, echo=echo, module=dbapi(), connect_args={"timeout": 30}, pool_size=SQLITE_POOL_SIZE, max_overflow=10
        )
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    engine = create_async_engine(url, echo=echo, pool_size=10, max_overflow=10)
    event.listen(engine.sync_engine.pool, "checkout", _ping_if_idle)
    event.listen(engine.sync_engine.pool, "checkin", _mark_checked_in)
    return engine


def _mark_checked_in(_dbapi_connection: object, record: Any) -> None:
    if record is not None:
        record.info["checked_in_at"] = time.monotonic()


def _ping_if_idle(dbapi_connection: Any, record: Any, _proxy: object) -> None:
    """Ping a pooled connection that sat idle, before it is used; a dead one is replaced (the pool retries).

    SQLAlchemy's ``pool_pre_ping`` pings at every checkout, and asyncpg's ping is three round trips (BEGIN, a
    query, ROLLBACK): six of a turn's twenty. A connection used in the last ``PING_IDLE_SECONDS`` is alive
    unless the server restarted in that window; then its first statement fails, SQLAlchemy discards the
    whole pool, and the turn ends with the apology (the web chat and the channels retry it).
    """
    last = record.info.get("checked_in_at")
    if last is not None and time.monotonic() - last < PING_IDLE_SECONDS:
        return
    try:
        dbapi_connection.ping()
    except Exception as error:
        raise exc.DisconnectionError() from error


def _sqlite_pragmas(dbapi_connection: object, _: object) -> None:
    # WAL lets the gateway and the action server share the file; foreign keys are off by default.
    cursor = dbapi_connection.cursor()  # type: ignore[attr-defined]
    cursor.execute("PRAGMA journal_mode=WAL")
    # In WAL mode NORMAL syncs at checkpoints, not at every commit (0.5 ms each here, two a turn): a commit
    # survives the process crashing; only the operating system failing may lose the last ones, never corrupt
    # the file. SQLite's own advice for WAL; the production profile is PostgreSQL.
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


def alembic_config(url: str) -> Config:
    # Alembic (with Mako) only where migrations run (`chasqui migrate`, the tests): about 8 MB the gateway, the
    # action server and the worker would otherwise hold.
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def migrate(url: str, revision: str = "heads") -> None:
    """Upgrade the database at ``url`` to ``revision`` (blocking; call from a thread inside a loop)."""
    from alembic import command

    command.upgrade(alembic_config(url), revision)


async def migrate_async(url: str, revision: str = "heads") -> None:
    await asyncio.to_thread(migrate, url, revision)


def sync_engine_of(engine: AsyncEngine) -> Engine:
    return engine.sync_engine
