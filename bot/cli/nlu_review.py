"""`chasqui revision-nlu exportar`: the console's NLU review list as a Rasa NLU file of candidate examples."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import TextIO

from bot.analytics.nlu_review import export_yaml
from bot.settings import Settings
from bot.storage import nlu_review
from bot.storage.db import create_engine, session_factory
from bot.storage.models import utcnow

DEFAULT_FILE = "revision_nlu.yml"


def main_revision_nlu(settings: Settings, accion: str, *, salida: Path | None = None, out: TextIO = sys.stdout) -> int:
    """Write the list (``var/revision_nlu.yml`` unless ``salida``); never into ``intents/`` by itself."""
    target = salida or settings.var_dir / DEFAULT_FILE
    if accion != "exportar":
        print(f"Acción desconocida: {accion}.", file=out)
        return 2

    async def _read() -> list[nlu_review.ReviewRow]:
        engine = create_engine(settings.effective_database_url)
        try:
            async with session_factory(engine)() as session:
                return await nlu_review.items(session=session)
        finally:
            await engine.dispose()

    rows = asyncio.run(_read())
    today = utcnow().astimezone(settings.zona_horaria).date()
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(export_yaml(rows, today=today), encoding="utf-8")
    classified = sum(1 for row in rows if row.intent)
    print(
        f"{len(rows)} mensajes escritos en {target}: {classified} con intención, "
        f"{len(rows) - classified} sin clasificar (comentados).",
        file=out,
    )
    print("Revíselos y páselos a mano a intents/.", file=out)
    return 0
