"""PostgreSQL's pooled connections: pinged only after sitting idle, and replaced when the server dropped them."""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import pytest
from sqlalchemy import text
from sqlalchemy.dialects.postgresql.asyncpg import AsyncAdapt_asyncpg_connection
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.storage import db
from tests.conftest import POSTGRES_ADMIN_URL


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    if not database_url.startswith("postgresql"):
        pytest.skip("PostgreSQL's pool only: SQLite has no server to lose")
    created = db.create_engine(database_url)
    yield created
    await created.dispose()


@pytest.fixture
def pings(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    counted: list[int] = []
    original = AsyncAdapt_asyncpg_connection.ping

    def ping(self: AsyncAdapt_asyncpg_connection) -> None:
        counted.append(1)
        original(self)

    monkeypatch.setattr(AsyncAdapt_asyncpg_connection, "ping", ping)
    return counted


async def _backend_pid(engine: AsyncEngine) -> int:
    async with engine.connect() as connection:
        return int((await connection.execute(text("SELECT pg_backend_pid()"))).scalar_one())


async def test_a_connection_used_a_moment_ago_is_not_pinged(engine: AsyncEngine, pings: list[int]) -> None:
    first = await _backend_pid(engine)  # a new connection: pinged once, as any connection never used
    for _ in range(5):
        assert await _backend_pid(engine) == first  # the same pooled connection each time
    assert len(pings) == 1


async def test_an_idle_connection_the_server_dropped_is_replaced(
    engine: AsyncEngine, pings: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    dropped = await _backend_pid(engine)
    other = await asyncpg.connect(POSTGRES_ADMIN_URL)  # the server ends the pooled connection's session
    try:
        await other.execute("SELECT pg_terminate_backend($1)", dropped)
    finally:
        await other.close()
    monkeypatch.setattr(db, "PING_IDLE_SECONDS", 0.0)  # every connection is idle now: each is pinged

    pids = {await _backend_pid(engine) for _ in range(3)}

    assert dropped not in pids  # the dead one failed its ping and was replaced; no statement met it
    assert len(pings) >= 3
