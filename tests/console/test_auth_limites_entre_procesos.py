"""The console's login limit holds across gateway processes: the failures are rows in the shared database, so a
limit reached through one gateway (its own engine, as another process has) holds on another."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from argon2 import PasswordHasher
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.console.auth import InvalidCredentials, StaffAuth, TooManyAttempts
from bot.storage.db import create_engine, session_factory
from tests.console.test_auth_limites import PASSWORD, Clock, auth_with, fail


@pytest.fixture
async def other_process(database_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = create_engine(database_url)
    yield session_factory(engine)
    await engine.dispose()


async def test_a_login_limit_reached_on_one_gateway_holds_on_another(
    sessions: async_sessionmaker[AsyncSession], other_process: async_sessionmaker[AsyncSession]
) -> None:
    clock = Clock()
    first = await auth_with(sessions, clock)  # creates the accounts, once, in the shared database
    second = StaffAuth(
        sessions=other_process, hasher=PasswordHasher(time_cost=1, memory_cost=8, parallelism=1), clock=clock
    )
    for n in range(5):
        assert await fail(first, "ana", f"10.0.0.{n}") is InvalidCredentials
        clock.later(60)  # past each pause
    with pytest.raises(TooManyAttempts):  # the right password, through the other gateway
        await second.login(usuario="ana", password=PASSWORD, ip="10.0.0.99")
    assert (await second.login(usuario="beto", password=PASSWORD, ip="10.0.0.99")).agent.usuario == "beto"
