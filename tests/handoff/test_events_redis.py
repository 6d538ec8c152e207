"""The console's live updates across gateway processes: two Redis buses (as two gateways) on the real Redis."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager

import pytest

from bot.handoff.events import CaseEvent, EventBus, EventKind, RedisEventBus
from tests.redis_support import REDIS_URL, redis_client, unique_prefix

WAIT = 10.0  # seconds before a missing event fails the test (never reached when it works)


@asynccontextmanager
async def gateways(count: int, *, client_name: str = "") -> AsyncIterator[list[RedisEventBus]]:
    """``count`` buses, each with its own Redis client, sharing one channel."""
    prefix = unique_prefix()
    async with AsyncExitStack() as stack:
        buses = []
        for _ in range(count):
            url = f"{REDIS_URL}?client_name={client_name}" if client_name else REDIS_URL
            client = await stack.enter_async_context(redis_client(prefix, url=url))
            bus = RedisEventBus(client, channel=f"{prefix}eventos", retry_seconds=0.1)
            await bus.start()
            stack.push_async_callback(bus.close)
            buses.append(bus)
        yield buses


async def received(queue: asyncio.Queue[CaseEvent], count: int) -> list[CaseEvent]:
    return [await asyncio.wait_for(queue.get(), timeout=WAIT) for _ in range(count)]


EVENTS = [
    CaseEvent(EventKind.NUEVA, 7, "ant"),
    CaseEvent(EventKind.TOMADA, 7, "ant", agent_id=3),
    CaseEvent(EventKind.MENSAJE, 7, "ant", agent_id=3),
    CaseEvent(EventKind.TRANSFERIDA, 8, "registro_civil", agent_id=None),
]


async def test_an_event_published_on_one_gateway_reaches_consoles_on_every_gateway_in_order() -> None:
    async with gateways(2) as (first, second):
        with first.subscribe() as on_first, second.subscribe() as also_on_second:
            for event in EVENTS:
                second.publish(event)
            assert await received(on_first, len(EVENTS)) == EVENTS
            assert await received(also_on_second, len(EVENTS)) == EVENTS  # its own consoles too
            assert (on_first.qsize(), also_on_second.qsize()) == (0, 0)  # each event once


async def test_the_in_process_bus_reaches_only_its_own_process() -> None:
    first, second = EventBus(), EventBus()
    with first.subscribe() as on_first, second.subscribe() as on_second:
        second.publish(EVENTS[0])
        assert (on_first.qsize(), on_second.get_nowait()) == (0, EVENTS[0])


def test_an_event_crosses_the_wire_unchanged_and_foreign_messages_are_refused() -> None:
    for event in EVENTS:
        assert CaseEvent.from_wire(event.to_wire().encode()) == event
    for foreign in (b"hola", b"{}", b'{"tipo": "otra", "caso": 1, "equipo": "x", "agente": null, "en": ""}'):
        with pytest.raises(ValueError, match="not a handoff event"):
            CaseEvent.from_wire(foreign)


async def test_live_updates_resume_after_redis_drops_the_subscription() -> None:
    name = f"chasqui-prueba-{unique_prefix().split(':')[1]}"
    async with gateways(2, client_name=name) as (first, second), redis_client("ninguno:") as admin:
        with first.subscribe() as on_first:
            clients = await admin.client_list(_type="pubsub")
            subscribers = [c["id"] for c in clients if c.get("name") == name]
            assert len(subscribers) == 2
            for client_id in subscribers:
                await admin.client_kill_filter(_id=client_id)
            # Events published while a gateway is away are lost (live updates are hints); later ones arrive.
            probe = CaseEvent(EventKind.NUEVA, 99, "general")
            for _ in range(100):
                second.publish(probe)
                try:
                    await asyncio.wait_for(on_first.get(), timeout=0.1)
                    break
                except TimeoutError:
                    continue
            else:
                pytest.fail("no event reached the gateway after its connection was dropped")
            second.publish(EVENTS[1])
            late_probes = []
            while (event := await asyncio.wait_for(on_first.get(), timeout=WAIT)) != EVENTS[1]:
                late_probes.append(event)
            assert set(late_probes) <= {probe}
