"""Rasa's SQL tracker store (table ``events``), read and pruned for data protection only.

Rasa creates and writes this table; the app's Alembic migrations never touch it. Deleting a sender's
rows is how a deletion request and the retention purge reach Rasa's copy of a conversation.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Column, Float, Integer, MetaData, String, Table, Text, delete, func, inspect, select
from sqlalchemy.ext.asyncio import AsyncEngine

_metadata = MetaData()
EVENTS = Table(
    "events",
    _metadata,
    Column("id", Integer, primary_key=True),
    Column("sender_id", String(255)),
    Column("type_name", String(255)),
    Column("timestamp", Float),
    Column("intent_name", String(255)),
    Column("action_name", String(255)),
    Column("data", Text),
)


async def _has_events(engine: AsyncEngine) -> bool:
    async with engine.connect() as connection:
        return await connection.run_sync(lambda sync: inspect(sync).has_table("events"))


async def delete_sender(engine: AsyncEngine, sender_id: str) -> int:
    """Remove every event of ``sender_id``; returns how many rows went."""
    if not await _has_events(engine):
        return 0
    async with engine.begin() as connection:
        result = await connection.execute(delete(EVENTS).where(EVENTS.c.sender_id == sender_id))
    return int(result.rowcount or 0)


async def senders_idle_since(engine: AsyncEngine, before_timestamp: float) -> Sequence[str]:
    """Senders whose latest event is older than ``before_timestamp`` (seconds since the epoch)."""
    if not await _has_events(engine):
        return []
    async with engine.connect() as connection:
        rows = await connection.execute(
            select(EVENTS.c.sender_id)
            .group_by(EVENTS.c.sender_id)
            .having(func.max(EVENTS.c.timestamp) < before_timestamp)
        )
        return [str(r[0]) for r in rows]


async def events_text(engine: AsyncEngine, sender_id: str) -> list[str]:
    """The raw JSON of a sender's events (tests and audits search it)."""
    if not await _has_events(engine):
        return []
    async with engine.connect() as connection:
        rows = await connection.execute(select(EVENTS.c.data).where(EVENTS.c.sender_id == sender_id))
        return [str(r[0]) for r in rows]
