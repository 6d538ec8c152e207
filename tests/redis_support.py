"""Redis for tests of shared state: the machine's server (``CHASQUI_TEST_REDIS_URL``), skipped with the reason
when it does not answer. Each test gets its own key prefix (pub/sub channels ignore the DB number) and its keys
are deleted afterwards."""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
import redis.asyncio
import redis.exceptions

REDIS_URL = os.environ.get("CHASQUI_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def unique_prefix() -> str:
    return f"prueba:{secrets.token_hex(6)}:"


@asynccontextmanager
async def redis_client(prefix: str, *, url: str = REDIS_URL) -> AsyncIterator[redis.asyncio.Redis]:
    """A client of its own (as a second process would have); deletes ``prefix*`` keys when done."""
    client = redis.asyncio.from_url(url)
    try:
        await client.ping()
    except (redis.exceptions.ConnectionError, OSError) as exc:
        await client.aclose()
        pytest.skip(f"Redis is not reachable at {url}: {exc}")
    try:
        yield client
    finally:
        keys = [key async for key in client.scan_iter(match=f"{prefix}*")]
        if keys:
            await client.delete(*keys)
        await client.aclose()
