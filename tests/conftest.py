"""Shared fixtures: settings on a temporary `var/`, and the app database on SQLite and PostgreSQL."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.settings import Settings
from bot.storage.db import create_engine, migrate_async, session_factory

POSTGRES_ADMIN_URL = os.environ.get("CHASQUI_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(
        var_dir=tmp_path / "var",
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'var' / 'app.db'}",
        internal_token="token-interno-de-prueba",
        consentimiento_requerido=False,  # consent has its own tests (tests/gateway/test_consentimiento.py)
    )


async def _create_postgres_database() -> str:
    name = f"chasqui_test_{uuid.uuid4().hex[:10]}"
    try:
        connection = await asyncpg.connect(POSTGRES_ADMIN_URL, timeout=5)
    except (OSError, asyncpg.PostgresError) as exc:
        pytest.skip(f"PostgreSQL is unreachable at {POSTGRES_ADMIN_URL}: {exc}")
    try:
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()
    return name


async def _drop_postgres_database(name: str) -> None:
    connection = await asyncpg.connect(POSTGRES_ADMIN_URL, timeout=5)
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await connection.close()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """A migrated, empty app database: once on SQLite, once on PostgreSQL."""
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'app.db'}"
        await migrate_async(url)
        yield url
        return
    name = await _create_postgres_database()
    base = POSTGRES_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://")
    url = f"{base}/{name}"
    try:
        await migrate_async(url)
        yield url
    finally:
        await _drop_postgres_database(name)


@pytest.fixture
async def sessions(database_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = create_engine(database_url)
    yield session_factory(engine)
    await engine.dispose()


@pytest.fixture
async def engines(database_url: str) -> AsyncIterator[list[async_sessionmaker[AsyncSession]]]:
    """Three engines on one database, as three processes (gateways, workers) have."""
    created = [create_engine(database_url) for _ in range(3)]
    yield [session_factory(engine) for engine in created]
    for engine in created:
        await engine.dispose()


@pytest.fixture
def project_dir() -> Iterator[Path]:
    yield Path(__file__).resolve().parent.parent


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--fuzz", action="store_true", help="run the long fuzzing tests (marker `fuzz`, `make fuzz`)")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests marked ``fuzz`` take minutes: they run only with ``--fuzz``; their short versions always run."""
    if config.getoption("--fuzz"):
        return
    skip = pytest.mark.skip(reason="long fuzzing run: `make fuzz` (pytest --fuzz -m fuzz)")
    for item in items:
        if "fuzz" in item.keywords:
            item.add_marker(skip)
