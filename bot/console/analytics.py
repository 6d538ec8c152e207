"""The console's analytics page: the period asked for, and the figures its charts draw (the tables are the report's)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo

from bot.analytics.report import STEP_COLUMNS, Report

DEFAULT_DAYS = 30
MAX_DAYS = 366


@dataclass(frozen=True)
class Period:
    first: date
    last: date  # included

    def bounds(self, zone: tzinfo) -> tuple[datetime, datetime]:
        """``[since, until)`` in UTC-aware datetimes: from the first day's midnight to the day after the last."""
        since = datetime.combine(self.first, time(0), zone)
        return since, datetime.combine(self.last + timedelta(days=1), time(0), zone)


def period_of(desde: str, hasta: str, *, today: date) -> Period:
    """The days asked for (``YYYY-MM-DD``); the last 30 days when missing or malformed; at most a year."""
    try:
        last = date.fromisoformat(hasta) if hasta else today
    except ValueError:
        last = today
    try:
        first = date.fromisoformat(desde) if desde else last - timedelta(days=DEFAULT_DAYS - 1)
    except ValueError:
        first = last - timedelta(days=DEFAULT_DAYS - 1)
    if first > last:
        first, last = last, first
    return Period(max(first, last - timedelta(days=MAX_DAYS - 1)), last)


Bars = list[tuple[str, float | int]]


@dataclass(frozen=True)
class Charts:
    embudos: list[tuple[tuple[str, str], list[tuple[str, int]]]]  # (trámite, channel), [(step column, journeys)]
    contencion: Bars
    derivaciones: Bars
    satisfaccion: Bars
    mediana: Bars
    p90: Bars
    no_entendidos: Bars


def _bars(report: Report, table: str, label: tuple[str, ...], value: str) -> Bars:
    t = report[table]
    labels = zip(*(t.column(c) for c in label), strict=True)
    return [
        (" · ".join(str(p) for p in parts), v)
        for parts, v in zip(labels, t.column(value), strict=True)
        if isinstance(v, int | float)
    ]


def charts(report: Report) -> Charts:
    funnel = report["embudo"]
    embudos = []
    for row in funnel.rows:
        values = dict(zip(funnel.columns, row, strict=True))
        steps = [(c, v) for c in STEP_COLUMNS.values() if isinstance(v := values[c], int)]
        embudos.append(((str(values["tramite"]), str(values["canal"])), steps))
    return Charts(
        embudos=embudos,
        contencion=_bars(report, "contencion", ("canal",), "contencion_pct"),
        derivaciones=_bars(report, "derivaciones", ("motivo", "canal"), "casos"),
        satisfaccion=_bars(report, "satisfaccion", ("tramite",), "promedio"),
        mediana=_bars(report, "tiempos", ("tramite", "canal"), "mediana_min"),
        p90=_bars(report, "tiempos", ("tramite", "canal"), "p90_min"),
        no_entendidos=_bars(report, "no_entendidos_por_dia", ("dia",), "mensajes"),
    )
