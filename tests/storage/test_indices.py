"""Every polled query has its index after the migrations, on SQLite and PostgreSQL (migration 0011)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Connection, inspect, text

from bot.storage.db import create_engine, migrate_async

EXPECTED = {
    ("outbox", "ix_outbox_open"): ["status", "conversation_id", "id"],
    ("outbox", "ix_outbox_due"): ["status", "next_attempt_at"],
    ("messages", "ix_messages_unanswered"): ["direction", "status", "conversation_id", "id"],
    ("messages", "ix_messages_reply_to"): ["reply_to_id"],
    ("messages", "ix_messages_conversation_created"): ["conversation_id", "id"],  # the web chat's polling
    ("notifications", "ix_notifications_undelivered"): ["delivered_at", "id"],
    ("applications", "ix_applications_retry"): ["estado", "proximo_intento"],
    ("handoff_cases", "ix_handoff_cases_open"): ["ended_at", "team", "queued_at"],
}


def _indexes(connection: Connection) -> dict[tuple[str, str], list[str]]:
    inspector = inspect(connection)
    tables = {table for table, _ in EXPECTED}
    return {
        (table, str(index["name"])): [str(c) for c in index["column_names"]]
        for table in tables
        for index in inspector.get_indexes(table)
    }


async def test_the_polled_queries_have_their_indexes(database_url: str) -> None:
    engine = create_engine(database_url)
    async with engine.connect() as connection:
        found = await connection.run_sync(_indexes)
    await engine.dispose()
    assert {key: found.get(key) for key in EXPECTED} == EXPECTED


async def test_the_notifications_poll_uses_its_index_on_sqlite(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'plan.db'}"
    await migrate_async(url)
    engine = create_engine(url)
    async with engine.connect() as connection:
        plan = await connection.execute(
            text("EXPLAIN QUERY PLAN SELECT id FROM notifications WHERE delivered_at IS NULL ORDER BY id LIMIT 100")
        )
        details = " ".join(str(row[-1]) for row in plan)
    await engine.dispose()
    assert "ix_notifications_undelivered" in details
