"""The console's service report: funnels, abandonment, containment, handoff reasons, CSAT, times, fallbacks.

Every figure is a `Table` (column keys and rows of plain values); the page shows the table beside its chart
and the CSV download writes the very same cells (`Table.cells`). Column labels are worded in the template.
Percentiles use the nearest-rank method: p90 is the smallest value with at least 90 % of them at or below it.
"""

from __future__ import annotations

import csv
import io
import math
import statistics
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo

from bot.analytics.events import EventKind, ServiceEvent
from bot.analytics.journeys import Journey, Status, Step, possible_steps
from bot.tramites.declaration import Tramite

Value = str | int | float | None
NOT_APPLICABLE = "—"
TOP_UTTERANCES = 20
STEP_COLUMNS = {
    Step.STARTED: "iniciados",
    Step.IDENTITY: "con_identidad",
    Step.CONFIRMED: "confirmados",
    Step.PAID: "pagados",
    Step.ISSUED: "emitidos",
}


def nearest_rank(values: Sequence[float], fraction: float) -> float:
    """The ``fraction`` percentile of ``values`` by nearest rank (``values`` not empty)."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


def cell(value: Value) -> str:
    """How a value is written, in the page's table and in the CSV alike."""
    if value is None:
        return NOT_APPLICABLE
    if isinstance(value, float):
        return f"{value:.1f}"
    return str(value)


@dataclass(frozen=True)
class Table:
    name: str
    columns: tuple[str, ...]
    rows: tuple[tuple[Value, ...], ...]

    def cells(self) -> list[list[str]]:
        return [[cell(v) for v in row] for row in self.rows]

    def column(self, key: str) -> list[Value]:
        index = self.columns.index(key)
        return [row[index] for row in self.rows]

    def csv(self) -> str:
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(self.columns)
        writer.writerows(self.cells())
        return out.getvalue()


@dataclass(frozen=True)
class Report:
    since: datetime
    until: datetime
    tables: dict[str, Table]

    def __getitem__(self, name: str) -> Table:
        return self.tables[name]


def _pct(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


def funnel(journeys: Sequence[Journey], tramites: Sequence[Tramite]) -> Table:
    """Per trámite and channel: journeys reaching each step (— where a step does not apply), their outcome and
    containment (ended journeys served without a person)."""
    groups: dict[tuple[str, str], list[Journey]] = defaultdict(list)
    for journey in journeys:
        groups[journey.tramite.clave, journey.channel].append(journey)
    order = {t.clave: i for i, t in enumerate(tramites)}
    rows = []
    for (clave, channel), group in sorted(groups.items(), key=lambda item: (order.get(item[0][0], 99), item[0][1])):
        applicable = possible_steps(group[0].tramite)
        reached = [sum(1 for j in group if s in j.reached) if s in applicable else None for s in Step]
        ended = [j for j in group if j.status is not Status.IN_PROGRESS]
        rows.append(
            (
                clave,
                channel,
                *reached,
                sum(1 for j in group if j.status is Status.COMPLETED),
                sum(1 for j in group if j.status is Status.REJECTED),
                sum(1 for j in group if j.status is Status.ABANDONED),
                sum(1 for j in group if j.status is Status.IN_PROGRESS),
                _pct(sum(1 for j in ended if j.contained), len(ended)),
            )
        )
    columns = ("tramite", "canal", *STEP_COLUMNS.values())
    return Table(
        "embudo", (*columns, "completados", "rechazados", "abandonados", "en_curso", "contencion_pct"), tuple(rows)
    )


def abandonment(journeys: Sequence[Journey]) -> Table:
    """Per trámite and channel: where abandoned journeys stopped (the first step they did not reach)."""
    counted = Counter(
        (j.tramite.clave, j.channel, j.abandoned_before) for j in journeys if j.abandoned_before is not None
    )
    steps = list(Step)
    rows = sorted(counted.items(), key=lambda item: (item[0][0], item[0][1], steps.index(item[0][2])))
    return Table(
        "abandono",
        ("tramite", "canal", "abandona_antes_de", "recorridos"),
        tuple((clave, channel, step.value, n) for (clave, channel, step), n in rows),
    )


def containment(events: Sequence[ServiceEvent]) -> Table:
    """Per channel: visits, and those that never reached a person (a visit ends at the next one)."""
    visits: dict[str, list[tuple[datetime, str]]] = defaultdict(list)
    handoffs: dict[str, list[datetime]] = defaultdict(list)
    for event in events:
        if event.kind is EventKind.CONVERSATION_STARTED:
            visits[event.conversation_id].append((event.at, event.channel))
        elif event.kind is EventKind.HANDOFF:
            handoffs[event.conversation_id].append(event.at)
    totals: Counter[str] = Counter()
    served: Counter[str] = Counter()
    for chat, started in visits.items():
        for i, (at, channel) in enumerate(started):
            end = started[i + 1][0] if i + 1 < len(started) else None
            totals[channel] += 1
            if not any(at <= h and (end is None or h < end) for h in handoffs.get(chat, ())):
                served[channel] += 1
    rows = tuple((c, totals[c], served[c], _pct(served[c], totals[c])) for c in sorted(totals))
    return Table("contencion", ("canal", "visitas", "sin_persona", "contencion_pct"), rows)


def handoff_reasons(events: Sequence[ServiceEvent]) -> Table:
    counted = Counter((e.detail or "", e.channel) for e in events if e.kind is EventKind.HANDOFF)
    rows = sorted(counted.items(), key=lambda item: (-item[1], item[0]))
    return Table("derivaciones", ("motivo", "canal", "casos"), tuple((r, c, n) for (r, c), n in rows))


def satisfaction(events: Sequence[ServiceEvent], journeys: Sequence[Journey]) -> Table:
    """CSAT per trámite (the journey the rated case belonged to; ``sin_tramite`` otherwise): ratings, average
    score (1–5), share of 4 and 5, and how many of each score."""
    tramite_of_case = {case: j.tramite.clave for j in journeys for case in j.cases}
    scores: dict[str, list[int]] = defaultdict(list)
    for event in events:
        if event.kind is EventKind.RATED and event.score is not None and event.case_id is not None:
            scores[tramite_of_case.get(event.case_id, "sin_tramite")].append(event.score)
    rows = []
    for clave in sorted(scores):
        given = scores[clave]
        rows.append(
            (
                clave,
                len(given),
                round(statistics.fmean(given), 1),
                _pct(sum(1 for s in given if s >= 4), len(given)),
                *(given.count(score) for score in range(1, 6)),
            )
        )
    return Table(
        "satisfaccion",
        ("tramite", "calificaciones", "promedio", "satisfechos_pct", "con_1", "con_2", "con_3", "con_4", "con_5"),
        tuple(rows),
    )


def times(journeys: Sequence[Journey]) -> Table:
    """Per trámite and channel: documents issued, median and p90 minutes from the first message to the document."""
    minutes: dict[tuple[str, str], list[float]] = defaultdict(list)
    for journey in journeys:
        if journey.minutes_to_document is not None:
            minutes[journey.tramite.clave, journey.channel].append(journey.minutes_to_document)
    rows = tuple(
        (clave, channel, len(values), float(statistics.median(values)), float(nearest_rank(values, 0.9)))
        for (clave, channel), values in sorted(minutes.items())
    )
    return Table("tiempos", ("tramite", "canal", "documentos", "mediana_min", "p90_min"), rows)


def fallbacks_per_day(events: Sequence[ServiceEvent], zone: tzinfo) -> Table:
    counted = Counter(e.at.astimezone(zone).date() for e in events if e.kind is EventKind.NOT_UNDERSTOOD)
    return Table(
        "no_entendidos_por_dia", ("dia", "mensajes"), tuple((d.isoformat(), n) for d, n in sorted(counted.items()))
    )


def frequent_fallbacks(events: Sequence[ServiceEvent], *, top: int = TOP_UTTERANCES) -> Table:
    """The masked messages most often not understood (each already masked by `events.mask_utterance`)."""
    counted = Counter(e.detail for e in events if e.kind is EventKind.NOT_UNDERSTOOD and e.detail)
    rows = sorted(counted.items(), key=lambda item: (-item[1], item[0]))[:top]
    return Table("no_entendidos_frecuentes", ("mensaje", "veces"), tuple(rows))


def build_report(
    events: Sequence[ServiceEvent],
    journeys: Sequence[Journey],
    *,
    tramites: Sequence[Tramite],
    since: datetime,
    until: datetime,
    zone: tzinfo,
) -> Report:
    tables = (
        funnel(journeys, tramites),
        abandonment(journeys),
        containment(events),
        handoff_reasons(events),
        satisfaction(events, journeys),
        times(journeys),
        fallbacks_per_day(events, zone),
        frequent_fallbacks(events),
    )
    return Report(since=since, until=until, tables={t.name: t for t in tables})
