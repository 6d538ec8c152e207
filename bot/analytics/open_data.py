"""Open data: anonymous daily aggregates per trámite, channel and province, published as CSV and JSON.

Rules that keep them anonymous: a row that counts fewer than `THRESHOLD` citizens (distinct chats) is not
published; inside a published row, a count below the threshold, and a median or an average computed over
fewer than the threshold, is left empty. No identifier leaves: chats, cédulas and applications are only
counted; the province is the name that the cédula's first two digits stand for.

The worker regenerates the files every hour (`bot.tramites.worker`): the last `RECOMPUTE_DAYS` days are
computed again from the database, older days are kept from the files already published (the retention
purge removes the rows they came from). The dictionary and the licence are in `data/datos_abiertos.yml`.
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
import os
import statistics
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from pathlib import Path

from bot.analytics.events import EventKind, ServiceEvent
from bot.analytics.journeys import Journey, Step
from bot.analytics.provinces import province_name
from bot.analytics.service import Analytics

THRESHOLD = 10
RECOMPUTE_DAYS = 14
FIRST_RUN_DAYS = 365
LICENSE = "CC BY 4.0"
Cell = str | int | float | None


@dataclass(frozen=True)
class Dataset:
    name: str
    keys: tuple[str, ...]  # the row's dimensions, «dia» first
    measures: tuple[str, ...]
    rows: tuple[dict[str, Cell], ...]

    @property
    def columns(self) -> tuple[str, ...]:
        return (*self.keys, *self.measures)

    def csv(self) -> str:
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(self.columns)
        for row in self.rows:
            writer.writerow(["" if row[c] is None else row[c] for c in self.columns])
        return out.getvalue()

    def json(self, generated: datetime) -> str:
        body = {"conjunto": self.name, "licencia": LICENSE, "generado": generated.isoformat(), "filas": self.rows}
        return json.dumps(body, ensure_ascii=False, indent=1)


def _small(count: int) -> int | None:
    return None if 0 < count < THRESHOLD else count


def _median(values: Sequence[float]) -> float | None:
    return round(float(statistics.median(values)), 1) if len(values) >= THRESHOLD else None


def _mean(values: Sequence[int]) -> float | None:
    return round(statistics.fmean(values), 2) if len(values) >= THRESHOLD else None


def _day(moment: datetime, zone: tzinfo) -> str:
    return moment.astimezone(zone).date().isoformat()


def conversations(events: Sequence[ServiceEvent], zone: tzinfo) -> Dataset:
    """Visits per day, channel and province (of the cédula the chat proved, when it did)."""
    provinces: dict[str, str | None] = {}
    for event in events:
        if event.province and event.conversation_id:
            provinces.setdefault(event.conversation_id, event.province)
    visits: dict[tuple[str, str, str], list[tuple[str, datetime]]] = defaultdict(list)
    handoffs: dict[str, list[datetime]] = defaultdict(list)
    starts: dict[str, list[datetime]] = defaultdict(list)
    for event in events:
        if event.kind is EventKind.CONVERSATION_STARTED:
            key = (_day(event.at, zone), event.channel, province_name(provinces.get(event.conversation_id)))
            visits[key].append((event.conversation_id, event.at))
            starts[event.conversation_id].append(event.at)
        elif event.kind is EventKind.HANDOFF:
            handoffs[event.conversation_id].append(event.at)

    def handed_off(chat: str, at: datetime) -> bool:
        later = [s for s in starts[chat] if s > at]
        end = min(later) if later else None
        return any(at <= h and (end is None or h < end) for h in handoffs.get(chat, ()))

    rows: list[dict[str, Cell]] = []
    for (day, channel, province), found in sorted(visits.items()):
        citizens = len({chat for chat, _ in found})
        if citizens < THRESHOLD:
            continue
        rows.append(
            {
                "dia": day,
                "canal": channel,
                "provincia": province,
                "ciudadanos": citizens,
                "conversaciones": len(found),
                "derivadas_a_persona": _small(sum(1 for chat, at in found if handed_off(chat, at))),
            }
        )
    return Dataset(
        "conversaciones",
        ("dia", "canal", "provincia"),
        ("ciudadanos", "conversaciones", "derivadas_a_persona"),
        tuple(rows),
    )


def tramites(journeys: Sequence[Journey], zone: tzinfo) -> Dataset:
    """Journeys per day they started, trámite, channel and province."""
    groups: dict[tuple[str, str, str, str], list[Journey]] = defaultdict(list)
    for journey in journeys:
        key = (_day(journey.started_at, zone), journey.tramite.clave, journey.channel, province_name(journey.province))
        groups[key].append(journey)
    rows: list[dict[str, Cell]] = []
    for (day, clave, channel, province), group in sorted(groups.items()):
        citizens = len({j.conversation_id for j in group})
        if citizens < THRESHOLD:
            continue
        minutes = [m for j in group if (m := j.minutes_to_document) is not None]
        scores = [s for j in group for s in j.scores]
        rows.append(
            {
                "dia": day,
                "tramite": clave,
                "canal": channel,
                "provincia": province,
                "ciudadanos": citizens,
                "recorridos": len(group),
                "solicitudes": _small(sum(1 for j in group if Step.CONFIRMED in j.reached)),
                "documentos_emitidos": _small(len(minutes)),
                "mediana_minutos_hasta_documento": _median(minutes),
                "calificaciones": _small(len(scores)),
                "satisfaccion_promedio": _mean(scores),
            }
        )
    measures = (
        "ciudadanos",
        "recorridos",
        "solicitudes",
        "documentos_emitidos",
        "mediana_minutos_hasta_documento",
        "calificaciones",
        "satisfaccion_promedio",
    )
    return Dataset("tramites", ("dia", "tramite", "canal", "provincia"), measures, tuple(rows))


def verifications(events: Sequence[ServiceEvent], zone: tzinfo) -> Dataset:
    """Document verifications per day, trámite of the document (when found), way and verdict."""
    counted: dict[tuple[str, str, str, str], int] = defaultdict(int)
    for event in events:
        if event.kind is EventKind.VERIFIED:
            counted[_day(event.at, zone), event.tramite or "desconocido", event.channel, event.detail or ""] += 1
    rows: tuple[dict[str, Cell], ...] = tuple(
        {"dia": day, "tramite": clave, "medio": via, "resultado": verdict, "verificaciones": n}
        for (day, clave, via, verdict), n in sorted(counted.items())
        if n >= THRESHOLD
    )
    return Dataset("verificaciones", ("dia", "tramite", "medio", "resultado"), ("verificaciones",), rows)


DATASETS = ("conversaciones", "tramites", "verificaciones")


def build(events: Sequence[ServiceEvent], journeys: Sequence[Journey], zone: tzinfo) -> list[Dataset]:
    return [conversations(events, zone), tramites(journeys, zone), verifications(events, zone)]


def _write(path: Path, text: str) -> None:
    """Replace ``path`` at once: the page never serves half a file."""
    partial = path.with_suffix(path.suffix + ".parcial")
    partial.write_text(text, encoding="utf-8")
    os.replace(partial, path)


def _kept_rows(folder: Path, name: str, before: str) -> list[dict[str, Cell]]:
    """Rows of days before ``before`` from the file already published (empty on the first run)."""
    try:
        published = json.loads((folder / f"{name}.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    return [row for row in published.get("filas", ()) if isinstance(row, dict) and str(row.get("dia")) < before]


async def publish(analytics: Analytics, folder: Path, *, now: datetime) -> list[Dataset]:
    """Compute the recent days again, keep the older ones, and write ``<name>.csv`` and ``<name>.json``."""
    first_run = not await asyncio.to_thread((folder / "tramites.json").exists)
    today = now.astimezone(analytics.zone).date()
    first_day = today - timedelta(days=FIRST_RUN_DAYS if first_run else RECOMPUTE_DAYS)
    since = datetime.combine(first_day, datetime.min.time(), analytics.zone)
    period = await analytics.period(since, now)
    datasets = build(period.events, period.journeys, analytics.zone)
    return await asyncio.to_thread(_write_all, folder, datasets, first_day.isoformat(), now)


def _write_all(folder: Path, datasets: Sequence[Dataset], first_day: str, now: datetime) -> list[Dataset]:
    folder.mkdir(parents=True, exist_ok=True)
    published = []
    for dataset in datasets:
        kept = _kept_rows(folder, dataset.name, first_day)
        merged = Dataset(dataset.name, dataset.keys, dataset.measures, (*kept, *dataset.rows))
        _write(folder / f"{dataset.name}.csv", merged.csv())
        _write(folder / f"{dataset.name}.json", merged.json(now))
        published.append(merged)
    _write(folder / "generado.txt", now.isoformat())
    return published


def generated_at(folder: Path) -> datetime | None:
    try:
        return datetime.fromisoformat((folder / "generado.txt").read_text(encoding="utf-8").strip())
    except (OSError, ValueError):
        return None
