"""`chasqui purgar` (retention) and `chasqui brecha` (breach readiness: who a window and a category touched)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from bot.documents.runtime import build_documents
from bot.documents.settings import document_settings_from
from bot.privacy.rights import PrivacyService, build_privacy
from bot.settings import Settings
from bot.storage.db import create_engine, session_factory

DEADLINES = (
    "Plazos (LOPDP): a la Superintendencia de Protección de Datos y a ARCOTEL en 5 días desde que se conoció "
    "la brecha (Art. 43); a las personas afectadas en 3 días cuando sus derechos estén en riesgo (Art. 46)."
)


async def _with_privacy(settings: Settings) -> tuple[PrivacyService, object]:
    engine = create_engine(settings.effective_database_url)
    sessions = session_factory(engine)
    documents = await asyncio.to_thread(build_documents, document_settings_from(settings), sessions=sessions)
    return build_privacy(settings, sessions, documents), engine


def main_purgar(settings: Settings) -> int:
    async def _run() -> dict[str, int]:
        privacy, engine = await _with_privacy(settings)
        try:
            return await privacy.purgar()
        finally:
            await engine.dispose()  # type: ignore[attr-defined]

    totals = asyncio.run(_run())
    print("Purga por plazo de conservación: " + ", ".join(f"{k}={v}" for k, v in totals.items()))
    return 0


def _instant(text: str) -> datetime:
    value = datetime.fromisoformat(text)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def main_brecha(settings: Settings, *, desde: str, hasta: str, categoria: str) -> int:
    async def _run() -> list[dict[str, str]]:
        privacy, engine = await _with_privacy(settings)
        try:
            return await privacy.brecha(_instant(desde), _instant(hasta), categoria)
        finally:
            await engine.dispose()  # type: ignore[attr-defined]

    rows = asyncio.run(_run())
    print(f"Categoría {categoria}, del {desde} al {hasta}: {len(rows)} registros afectados.")
    for row in rows:
        print("  " + "  ".join(f"{k}={v}" for k, v in row.items()))
    print(DEADLINES)
    return 0
