"""The vault, in memory and on Redis (the production profile): a reference is redeemed only by the conversation
whose message created it; a código dactilar once; a consumed value once, even when two requests race."""

from __future__ import annotations

import asyncio
import os
import secrets
from collections.abc import AsyncIterator

import pytest
import redis.asyncio

from bot.privacy.vault import MemoryVault, RedisVault, Vault

REDIS_URL = os.environ.get("CHASQUI_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


@pytest.fixture(params=["memoria", "redis"])
async def vault(request: pytest.FixtureRequest) -> AsyncIterator[Vault]:
    if request.param == "memoria":
        yield MemoryVault()
        return
    client = redis.asyncio.from_url(REDIS_URL)
    try:
        await client.ping()
    except (redis.exceptions.ConnectionError, OSError) as exc:
        await client.aclose()
        pytest.skip(f"Redis is not reachable at {REDIS_URL}: {exc}")
    yield RedisVault(client, prefix=f"prueba:{secrets.token_hex(4)}:")
    await client.aclose()


async def test_a_reference_is_unknown_to_another_conversation(vault: Vault) -> None:
    reference = await vault.put("cedula", "1712345675", owner="web:ana")
    assert await vault.take(reference, owner="web:beto") is None
    assert await vault.take(reference) is None  # no conversation named: unknown too
    assert await vault.take(reference, owner="web:ana") == "1712345675"
    assert await vault.take(reference, owner="web:ana") == "1712345675"  # a cédula is read while it lasts


async def test_a_codigo_dactilar_is_redeemed_once_and_not_used_up_by_a_stranger(vault: Vault) -> None:
    reference = await vault.put("codigo_dactilar", "V4443V4442", owner="telegram:7")
    assert await vault.take(reference, owner="web:otro") is None
    assert await vault.take(reference, owner="telegram:7") == "V4443V4442"
    assert await vault.take(reference, owner="telegram:7") is None


async def test_a_consumed_value_goes_to_one_of_two_racing_requests(vault: Vault) -> None:
    reference = await vault.put("ruc", "1712345675001", owner="web:ana")
    results = await asyncio.gather(*(vault.take(reference, consume=True, owner="web:ana") for _ in range(2)))
    assert sorted(results, key=str) == ["1712345675001", None]


async def test_a_codigo_dactilar_used_by_a_message_is_read_again_only_by_that_message_retry(vault: Vault) -> None:
    reference = await vault.put("codigo_dactilar", "V4443V4442", owner="web:ana")
    assert await vault.take(reference, owner="web:ana", turn="m-7") == "V4443V4442"
    # A Rasa replica died before saving the check: the same message, retried, is checked again.
    assert await vault.take(reference, owner="web:ana", turn="m-7") == "V4443V4442"
    assert await vault.take(reference, owner="web:ana", turn="m-8") is None  # any other message: used
    assert await vault.take(reference, owner="web:ana") is None  # and without a turn: used
    assert await vault.take(reference, owner="web:ana", turn="m-7") is None  # that used it up for good


async def test_racing_messages_get_a_codigo_dactilar_once(vault: Vault) -> None:
    reference = await vault.put("codigo_dactilar", "V4443V4442", owner="web:ana")
    results = await asyncio.gather(*(vault.take(reference, owner="web:ana", turn=f"m-{i}") for i in range(4)))
    assert sorted(results, key=str) == [None, None, None, "V4443V4442"]
