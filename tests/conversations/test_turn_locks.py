"""Turns of one chat never overlap, in one process or across processes (each with its own Redis client, as two
gateways have); turns of different chats run side by side; a dead holder only delays a chat until the lock
expires."""

from __future__ import annotations

import asyncio
import itertools
import time

from bot.conversations.turn_locks import LocalTurnLocks, RedisTurnLocks, TurnLocks
from tests.redis_support import redis_client, unique_prefix


async def turns(locks: list[TurnLocks], chats: list[str], per_lock: int) -> list[tuple[str, float, float]]:
    """Run ``per_lock`` turns of every chat through each of ``locks`` at once; (chat, start, end) of each."""
    spans: list[tuple[str, float, float]] = []

    async def turn(lock: TurnLocks, chat: str) -> None:
        async with lock(chat):
            start = time.monotonic()
            await asyncio.sleep(0.01)
            spans.append((chat, start, time.monotonic()))

    await asyncio.gather(*(turn(lock, chat) for lock in locks for chat in chats for _ in range(per_lock)))
    return spans


def overlapping(spans: list[tuple[str, float, float]], chat: str) -> bool:
    mine = sorted((s, e) for c, s, e in spans if c == chat)
    return any(later < earlier_end for (_, earlier_end), (later, _) in itertools.pairwise(mine))


async def test_in_one_process_turns_of_a_chat_queue_and_chats_run_side_by_side() -> None:
    spans = await turns([LocalTurnLocks()], [f"tg:{n}" for n in range(10)], per_lock=3)
    assert not any(overlapping(spans, f"tg:{n}") for n in range(10))
    first = next((s, e) for c, s, e in spans if c == "tg:0")
    assert any(c != "tg:0" and s < first[1] and first[0] < e for c, s, e in spans)  # others ran meanwhile


async def test_two_gateways_never_run_turns_of_one_chat_at_once() -> None:
    prefix = unique_prefix()
    async with redis_client(prefix) as one, redis_client(prefix) as two:
        gateways: list[TurnLocks] = [RedisTurnLocks(one, prefix=prefix), RedisTurnLocks(two, prefix=prefix)]
        spans = await turns(gateways, ["tg:1", "wa:2", "web:3"], per_lock=4)
    assert len(spans) == 2 * 3 * 4
    for chat in ("tg:1", "wa:2", "web:3"):
        assert not overlapping(spans, chat), chat


async def test_a_lock_left_by_a_dead_gateway_expires_and_the_chat_goes_on() -> None:
    prefix = unique_prefix()
    async with redis_client(prefix) as one, redis_client(prefix) as two:
        dead = RedisTurnLocks(one, prefix=prefix, expire=0.5)
        assert await one.lock(dead.key("tg:9"), timeout=0.5).acquire()  # taken, never released
        alive = RedisTurnLocks(two, prefix=prefix, expire=0.5, wait=5)
        started = time.monotonic()
        async with alive("tg:9"):
            waited = time.monotonic() - started
            assert await two.get(alive.key("tg:9")) is not None  # its own now, not a timeout without the lock
        assert waited >= 0.3, waited  # it did wait for the dead one's lock to expire
        assert await two.exists(alive.key("tg:9")) == 0  # released after the turn


async def test_a_turn_longer_than_the_expiry_keeps_its_lock() -> None:
    prefix = unique_prefix()
    async with redis_client(prefix) as one:
        locks = RedisTurnLocks(one, prefix=prefix, expire=0.3)
        async with locks("tg:5"):
            await asyncio.sleep(1.0)  # more than three expiries
            assert await one.get(locks.key("tg:5")) is not None
        assert await one.exists(locks.key("tg:5")) == 0
