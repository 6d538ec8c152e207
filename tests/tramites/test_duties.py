"""The workers' periodic duties: with three workers polling at once, each duty runs once per period; one that
failed (or whose worker died) is run again when its lease runs out, not before. SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.tramites.worker import DUTY_LEASE, Duty, run_due_duties


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 12, 6, 10, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


def counting(ran: Counter[str], name: str, every: timedelta, *, fails: list[bool] | None = None) -> Duty:
    async def run() -> None:
        await asyncio.sleep(0.01)  # long enough for the other workers to poll meanwhile
        ran[name] += 1
        if fails and fails.pop(0):
            raise RuntimeError("registro caído")

    return Duty(name, every, run)


async def test_three_workers_run_each_duty_once_per_period(engines: list[async_sessionmaker[AsyncSession]]) -> None:
    ran: Counter[str] = Counter()
    clock = Clock()
    found = [counting(ran, "purga", timedelta(hours=24)), counting(ran, "sellado", timedelta(hours=1))]

    async def poll_all() -> None:
        await asyncio.gather(*(run_due_duties(found, sessions=s, clock=clock) for s in engines))

    await poll_all()
    assert ran == {"purga": 1, "sellado": 1}
    clock.now += timedelta(minutes=30)
    await poll_all()
    assert ran == {"purga": 1, "sellado": 1}  # nothing is due yet
    clock.now += timedelta(minutes=31)
    await poll_all()
    assert ran == {"purga": 1, "sellado": 2}
    clock.now += timedelta(hours=24)
    await poll_all()
    assert ran == {"purga": 2, "sellado": 3}


async def test_a_failed_duty_is_run_again_after_its_lease(engines: list[async_sessionmaker[AsyncSession]]) -> None:
    ran: Counter[str] = Counter()
    clock = Clock()
    found = [counting(ran, "datos_abiertos", timedelta(hours=1), fails=[True, False])]
    assert await run_due_duties(found, sessions=engines[0], clock=clock) == []  # it failed
    clock.now += DUTY_LEASE - timedelta(seconds=1)
    assert await run_due_duties(found, sessions=engines[1], clock=clock) == []  # still held by the first worker
    assert ran["datos_abiertos"] == 1
    clock.now += timedelta(seconds=2)
    assert await run_due_duties(found, sessions=engines[1], clock=clock) == ["datos_abiertos"]
    assert ran["datos_abiertos"] == 2
