"""A worker that dies in the middle of a round, before or right after a chat's commit: once restarted, every
reminder of the day is recorded exactly once, and a second worker racing on the same chats records nothing."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest

from integrations.registros.sandbox.model import CitacionRegistrada
from tests.actions.conftest import sandbox_fallas
from tests.reminders import test_year
from tests.reminders.conftest import Reminders
from tests.reminders.test_year import START, SUBSCRIBERS, Subscriber

CHATS = SUBSCRIBERS[:3]


class Crash(Exception):
    """The process dies here."""


class CrashingSessions:
    """The real session factory, except that its ``at``-th commit dies (before writing, or right after)."""

    def __init__(self, real: Any, *, at: int, after: bool) -> None:
        self._real = real
        self._at = at
        self._after = after
        self.commits = 0

    def __call__(self) -> Any:
        session = self._real()
        commit = session.commit

        async def dying_commit() -> None:
            self.commits += 1
            if self.commits == self._at:
                if self._after:
                    await commit()
                raise Crash
            await commit()

        session.commit = dying_commit
        return session


class LateCommits:
    """The real session factory, whose commits take the clock to 20:01 (a round running late)."""

    def __init__(self, r: Reminders) -> None:
        self._r = r

    def __call__(self) -> Any:
        session = self._r.sessions()
        commit = session.commit

        async def late_commit() -> None:
            await commit()
            self._r.clock.set(START, 20, 1)

        session.commit = late_commit
        return session


async def subscribed(r: Reminders) -> None:
    for subscriber in CHATS:
        await r.open_chat(subscriber.sender)
        r.clock.set(START, 8, 30)
        await r.subscribe(subscriber.sender, subscriber.clave, *subscriber.kinds)
    r.clock.set(START, 9)


async def todays(r: Reminders, subscriber: Subscriber) -> list[tuple[str, dict[str, str]]]:
    """What the day-by-day listing of tests/reminders/test_year.py expects on the first day."""
    poblacion = r.world.sandbox.state.poblacion
    test_year.ORIGINAL_LAST.update({p: v.anio_ultima_matricula for p, v in poblacion.vehiculos.items()})
    later = CitacionRegistrada("C-NINGUNA", "", test_year.NEW_FINE_DAY, "", 1, "", Decimal(0), Decimal(0), False, None)
    events = await test_year.expected(r, subscriber, later)
    return [(p, v) for day, p, v in events if day == START]


async def expected_today(r: Reminders) -> Counter[tuple[str, str, str]]:
    found: Counter[tuple[str, str, str]] = Counter()
    for subscriber in CHATS:
        found.update((subscriber.sender, p, repr(sorted(v.items()))) for p, v in await todays(r, subscriber))
    return found


async def recorded(r: Reminders) -> Counter[tuple[str, str, str]]:
    return Counter((n.conversation_id, n.plantilla, repr(sorted(n.valores.items()))) for n in await r.notifications())


@pytest.mark.parametrize("after", [False, True], ids=["before-commit", "after-commit"])
async def test_a_restart_in_the_middle_records_nothing_twice(reminders: Reminders, after: bool) -> None:
    r = reminders
    await subscribed(r)
    dying = r.build_service(CrashingSessions(r.sessions, at=2, after=after))
    with pytest.raises(Crash):
        await dying.run()
    assert len({n.conversation_id for n in await r.notifications()}) == (2 if after else 1)

    restarted = r.build_service()
    await restarted.run()
    assert (await restarted.run()).recorded == 0  # the day is done
    expected = await expected_today(r)
    assert sum(expected.values()) >= 3  # the first day has reminders in each of these chats
    assert await recorded(r) == expected


async def test_two_workers_racing_record_each_reminder_once(reminders: Reminders) -> None:
    r = reminders
    await subscribed(r)
    first, second = r.build_service(), r.build_service()
    rounds = await asyncio.gather(first.run(), second.run())
    expected = await expected_today(r)
    assert await recorded(r) == expected
    assert sum(round.recorded for round in rounds) == sum(expected.values())


async def test_a_registry_down_leaves_the_chat_for_the_next_round(reminders: Reminders) -> None:
    r = reminders
    await subscribed(r)
    await sandbox_fallas(r.world, institucion="ant", caida=True)
    down = await r.service.run()
    assert (down.failed, down.recorded) == (3, 0)  # each of the three chats asks the ANT
    assert await r.notifications() == []
    await sandbox_fallas(r.world, institucion="ant", caida=False)
    r.clock.set(START, 9, 15)  # the worker's next round, a quarter of an hour later
    back = await r.service.run()
    assert back.failed == 0
    assert await recorded(r) == await expected_today(r)


async def test_a_round_that_reaches_20_00_stops(reminders: Reminders) -> None:
    r = reminders
    await subscribed(r)
    r.clock.set(START, 19, 59)
    late = r.build_service(LateCommits(r))
    result = await late.run()
    assert result.chats == 1  # the first chat's registry calls took the clock past 20:00
    r.clock.set(START + timedelta(days=1), 8, 0)
    assert (await r.service.run()).chats == 3  # the next morning: every chat, the first one for the new day too
