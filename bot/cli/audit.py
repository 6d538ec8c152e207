"""`chasqui auditoria verificar` (the audit chain's state; exit 1 when broken) and `chasqui auditoria sellar`."""

from __future__ import annotations

import asyncio
import sys
from typing import TextIO

from bot.audit.chain import DigestKey, Report, seal, verify
from bot.documents.settings import document_settings_from
from bot.documents.signing import open_signer
from bot.settings import Settings
from bot.storage.db import create_engine, session_factory

EXIT_INTACT, EXIT_BROKEN = 0, 1
MAX_LISTED = 20


def _n(count: int, singular: str, plural: str) -> str:
    return f"{count} {singular if count == 1 else plural}"


def describe(report: Report) -> list[str]:
    """The report in Spanish, first line a summary, then the findings in chain order."""
    pendientes = f", {len(report.pending)} por firmar" if report.pending else ""
    lines = [
        f"Cadena de auditoría: {_n(report.rows, 'fila', 'filas')} en {_n(report.days, 'día', 'días')} "
        f"({_n(report.sealed, 'firmado', 'firmados')}{pendientes}); "
        f"verificada en {report.seconds:.2f} s."
    ]
    if report.ok:
        lines.append("Íntegra: ninguna fila fue cambiada, insertada ni eliminada.")
    else:
        hallazgos = _n(len(report.findings), "hallazgo", "hallazgos")
        lines.append(f"ROTA: {hallazgos}. El primero: {report.findings[0].describe()}.")
        lines += [f"  - {finding.describe()}" for finding in report.findings[:MAX_LISTED]]
        if len(report.findings) > MAX_LISTED:
            lines.append(f"  … y {len(report.findings) - MAX_LISTED} más.")
    if report.pending:
        lines.append("Días por firmar (el trabajador los firma cada hora): " + ", ".join(sorted(report.pending)))
    return lines


def main_auditoria(settings: Settings, accion: str, *, out: TextIO = sys.stdout) -> int:
    async def _run() -> int:
        key: DigestKey = await asyncio.to_thread(open_signer, document_settings_from(settings))
        engine = create_engine(settings.effective_database_url)
        sessions = session_factory(engine)
        try:
            if accion == "sellar":
                days = await seal(sessions, key)
                print("Días firmados: " + (", ".join(days) if days else "ninguno pendiente."), file=out)
            report = await verify(sessions, key)
        finally:
            await engine.dispose()
        for line in describe(report):
            print(line, file=out)
        return EXIT_INTACT if report.ok else EXIT_BROKEN

    return asyncio.run(_run())
