"""A migrated SQLite app database and a Rasa tracker store holding the generated month (`builders.month`)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.analytics.service import Analytics
from bot.privacy.encryption import protector_from
from bot.settings import Settings
from bot.storage.db import create_engine, migrate_async, session_factory
from bot.tramites import registry
from tests.analytics.builders import NOW, month, write_month
from tests.console.conftest import gateway  # noqa: F401  (the console's gateway, for the page's tests)

ECUADOR = ZoneInfo("America/Guayaquil")


@pytest.fixture
async def analytics(settings: Settings, tmp_path: Path) -> AsyncIterator[Analytics]:
    url = settings.effective_database_url
    await migrate_async(url)
    engine = create_engine(url)
    rasa = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'rasa.db'}")
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
