"""The generated month (`builders.month`) in a migrated app database and a Rasa tracker store, on SQLite and on
PostgreSQL: every analytics query runs on both (PostgreSQL: two throwaway databases, the app's and Rasa's, kept
apart as in production; skipped with the reason when the server at 127.0.0.1:5432 is unreachable)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.analytics.service import Analytics
from bot.privacy.encryption import protector_from
from bot.settings import Settings
from bot.storage.db import create_engine, session_factory
from bot.tramites import registry
from tests.analytics.builders import NOW, month, write_month
from tests.conftest import POSTGRES_ADMIN_URL, _create_postgres_database, _drop_postgres_database
from tests.console.conftest import gateway  # noqa: F401  (the console's gateway, for the page's tests)

ECUADOR = ZoneInfo("America/Guayaquil")


@pytest.fixture
async def rasa_url(database_url: str, tmp_path: Path) -> AsyncIterator[str]:
    """Rasa's tracker store on the same kind of server as the app database, in a database of its own."""
    if not database_url.startswith("postgresql"):
        yield f"sqlite+aiosqlite:///{tmp_path / 'rasa.db'}"
        return
    name = await _create_postgres_database()
    base = POSTGRES_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://")
    try:
        yield f"{base}/{name}"
    finally:
        await _drop_postgres_database(name)


@pytest.fixture
async def analytics(settings: Settings, database_url: str, rasa_url: str) -> AsyncIterator[Analytics]:
    engine = create_engine(database_url)
    rasa = create_engine(rasa_url)
    sessions = session_factory(engine)
    protector = protector_from(settings)
    async with sessions() as session:
        await write_month(session, rasa, protector, month())
    yield Analytics(
        sessions=sessions,
        rasa=rasa,
        tramites=registry.TRAMITES,
        zone=ECUADOR,
        protector=protector,
        clock=lambda: NOW,
    )
    await rasa.dispose()
    await engine.dispose()
