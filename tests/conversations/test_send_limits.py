"""The outbox's send limits: in one process, and shared through Redis so that a limit reached through one
gateway holds on another (two limiters with their own Redis clients stand for two gateway processes)."""

from __future__ import annotations

import socket

import pytest
import redis.asyncio

from bot.conversations.send_limits import LocalSendLimiter, RedisSendLimits
from tests.redis_support import redis_client, unique_prefix


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_one_process_keeps_the_pause_per_chat_and_the_overall_rate() -> None:
    clock = Clock()
    limiter = LocalSendLimiter(per_second=2.0, per_chat_interval=1.0, clock=clock)
    asked = [await limiter.try_reserve(chat) for chat in ("tg:1", "tg:2", "tg:1", "tg:3")]
    # tg:1's pause does not hold tg:3 back: it takes the channel's next instant, after tg:2's.
    assert asked == [(True, 0.0), (True, 0.5), (False, 1.0), (True, 1.0)]
    clock.now += 10
    assert await limiter.try_reserve("tg:1") == (True, 0.0)


async def test_two_processes_with_local_limits_do_not_know_of_each_other() -> None:
    """Why several gateways need Redis: each would give the same chat its own first slot."""
    clock = Clock()
    first, second = (LocalSendLimiter(per_second=30, per_chat_interval=60, clock=clock) for _ in range(2))
    assert (await first.try_reserve("tg:7"), await second.try_reserve("tg:7")) == ((True, 0.0), (True, 0.0))


async def test_a_chat_pause_reached_through_one_gateway_holds_on_another() -> None:
    prefix = unique_prefix()
    async with redis_client(prefix) as one, redis_client(prefix) as two:
        first = RedisSendLimits(one, prefix=prefix)("telegram", 30.0, 60.0)
        second = RedisSendLimits(two, prefix=prefix)("telegram", 30.0, 60.0)
        assert await first.try_reserve("tg:7") == (True, 0.0)
        granted, waits = await second.try_reserve("tg:7")
        assert not granted and 55.0 < waits <= 60.0  # the pause from the first gateway's message (minus the calls)
        granted, waits = await second.try_reserve("tg:8")
        assert granted and waits < 1.0  # another chat only waits its turn in the overall rate (1/30 s)
        keys = {key.decode() async for key in one.scan_iter(match=f"{prefix}*")}
        assert "tg:7" not in "".join(keys)  # chats are named by a hash in Redis


async def test_the_overall_rate_is_shared_by_every_gateway() -> None:
    prefix = unique_prefix()
    async with redis_client(prefix) as one, redis_client(prefix) as two:
        first = RedisSendLimits(one, prefix=prefix)("whatsapp", 0.1, 0.0)  # one message every 10 s
        second = RedisSendLimits(two, prefix=prefix)("whatsapp", 0.1, 0.0)
        asked = [await limiter.try_reserve(f"wa:{n}") for n, limiter in enumerate((first, second, first, second))]
        assert [(granted, round(wait)) for granted, wait in asked] == [(True, 0), (True, 10), (True, 20), (True, 30)]
        other_channel = RedisSendLimits(two, prefix=prefix)("telegram", 0.1, 0.0)
        assert await other_channel.try_reserve("tg:1") == (True, 0.0)  # each channel has its own limits


async def test_without_redis_a_gateway_keeps_its_own_limits() -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = redis.asyncio.from_url(f"redis://127.0.0.1:{port}/0", socket_connect_timeout=0.5)
    try:
        limiter = RedisSendLimits(client)("telegram", 30.0, 60.0)
        assert await limiter.try_reserve("tg:7") == (True, 0.0)
        granted, waits = await limiter.try_reserve("tg:7")
        assert not granted and waits == pytest.approx(60.0, abs=1.0)
    finally:
        await client.aclose()
