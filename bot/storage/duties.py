"""Repository functions of the workers' periodic duties: each one claimed by one conditional UPDATE with a lease,
so that of several workers exactly one runs it per period, and a worker that dies while running it is replaced
when the lease runs out (never at start)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import insert, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.storage.models import Duty


async def claim(*, sessions: async_sessionmaker[AsyncSession], name: str, now: datetime, lease: timedelta) -> bool:
    """Take ``name`` for running if it is due (its row is created, due, the first time); True for the one winner."""
    async with sessions.begin() as session:
        result = await session.execute(
            update(Duty)
            .where(Duty.name == name, Duty.due_at <= now)
            .values(due_at=now + lease, runs=Duty.runs + 1)
            .returning(Duty.name)
        )
        if result.scalar_one_or_none() is not None:
            return True
        if await session.get(Duty, name) is not None:
            return False
    try:
        async with sessions.begin() as session:
            await session.execute(insert(Duty).values(name=name, due_at=now + lease, runs=1))
    except IntegrityError:  # another worker created it first, and so runs it
        return False
    return True


async def reschedule(*, sessions: async_sessionmaker[AsyncSession], name: str, due_at: datetime) -> None:
    """After a run: the next one is due at ``due_at``."""
    async with sessions.begin() as session:
        await session.execute(update(Duty).where(Duty.name == name).values(due_at=due_at))
