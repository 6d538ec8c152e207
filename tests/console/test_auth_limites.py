"""Console login limits (issue 12): per account from any address and per address to any account, with a pause
that grows after each failure; the lock never says whether an account exists.

Regression: the limit was per account *and* address, so from one address every other account could be tried,
and the right password was accepted from a second address while the first was locked.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from argon2 import PasswordHasher
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.console.auth import InvalidCredentials, StaffAuth, TooManyAttempts
from bot.storage.models import utcnow

PASSWORD = "una-clave-larga-de-prueba"


class Clock:
    def __init__(self) -> None:
        self.now = utcnow()

    def __call__(self) -> datetime:
        return self.now

    def later(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


async def auth_with(sessions: async_sessionmaker[AsyncSession], clock: Clock, *, per_ip: int = 20) -> StaffAuth:
    hasher = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    auth = StaffAuth(sessions=sessions, hasher=hasher, clock=clock, max_failures_per_ip=per_ip)
    for usuario in ("ana", "beto"):
        await auth.create_staff(usuario=usuario, nombre=usuario.title(), password=PASSWORD, rol="agente", equipos=())
    return auth


async def fail(auth: StaffAuth, usuario: str, ip: str) -> type[Exception]:
    try:
        await auth.login(usuario=usuario, password="equivocada-1234", ip=ip)
    except (InvalidCredentials, TooManyAttempts) as exc:
        return type(exc)
    raise AssertionError("a wrong password logged in")


async def test_an_account_locks_whatever_the_address(sessions: async_sessionmaker[AsyncSession]) -> None:
    clock = Clock()
    auth = await auth_with(sessions, clock)
    for n in range(5):
        assert await fail(auth, "ana", f"10.0.0.{n}") is InvalidCredentials
        clock.later(60)  # past each pause
    with pytest.raises(TooManyAttempts):  # the right password, from yet another address
        await auth.login(usuario="ana", password=PASSWORD, ip="10.0.0.99")
    clock.later(16 * 60)
    assert (await auth.login(usuario="ana", password=PASSWORD, ip="10.0.0.99")).agent.usuario == "ana"


async def test_an_address_locks_whatever_the_account(sessions: async_sessionmaker[AsyncSession]) -> None:
    clock = Clock()
    auth = await auth_with(sessions, clock, per_ip=10)
    for n in range(10):
        assert await fail(auth, f"cuenta{n}", "10.9.9.9") is InvalidCredentials
        clock.later(61)
    with pytest.raises(TooManyAttempts):
        await auth.login(usuario="beto", password=PASSWORD, ip="10.9.9.9")
    assert (await auth.login(usuario="beto", password=PASSWORD, ip="10.1.1.1")).agent.usuario == "beto"


async def test_the_pause_grows_after_each_failure(sessions: async_sessionmaker[AsyncSession]) -> None:
    clock = Clock()
    auth = await auth_with(sessions, clock)
    assert [await fail(auth, "ana", "10.0.0.1") for _ in range(3)] == [InvalidCredentials] * 3
    assert await fail(auth, "ana", "10.0.0.1") is TooManyAttempts  # 2 s after the third
    clock.later(2)
    assert await fail(auth, "ana", "10.0.0.1") is InvalidCredentials
    clock.later(2)
    assert await fail(auth, "ana", "10.0.0.1") is TooManyAttempts  # 4 s after the fourth


async def test_the_lock_says_the_same_for_accounts_that_do_not_exist(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    clock = Clock()
    auth = await auth_with(sessions, clock)
    for usuario in ("ana", "fantasma"):
        for n in range(5):
            assert await fail(auth, usuario, f"10.2.{n}.1") is InvalidCredentials
            clock.later(60)
        assert await fail(auth, usuario, "10.3.0.1") is TooManyAttempts
