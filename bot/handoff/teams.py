"""Teams, working hours and holidays of the staff console (`data/consola/*.yml`), in local time."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import yaml

from bot import legal_calendar
from bot.tramites.declaration import Tramite

DAYS = ("lunes", "martes", "miercoles", "jueves", "viernes", "sabado", "domingo")
DEFAULT_TEAM = "general"
_INTERVAL = re.compile(r"^(\d{2}):(\d{2})-(\d{2}):(\d{2})$")
_HIDDEN_PARTS = ("dactilar", "token", "secreto")


class ConfigError(Exception):
    """A file of `data/consola/` is missing a field or holds a malformed value."""


@dataclass(frozen=True)
class Interval:
    start: time
    end: time


@dataclass(frozen=True)
class Team:
    code: str
    nombre: str
    horario: str
    atencion_minutos: int
    sla_minutos: int


@dataclass(frozen=True)
class Resumable:
    """How a citizen resumes an interrupted form: the intent that starts it and its name."""

    intent: str
    nombre: str


@dataclass(frozen=True)
class Equipos:
    """Everything the handoff and the console read from `data/consola/`."""

    zone: ZoneInfo
    teams: Mapping[str, Team]
    schedules: Mapping[str, Mapping[int, tuple[Interval, ...]]]  # weekday (0 = Monday) -> intervals
    holidays: frozenset[date]
    team_holidays: Mapping[str, frozenset[date]]
    close_reasons: Mapping[str, str]
    forms: Mapping[str, Resumable]
    hidden_slots: frozenset[str]
    day_names: tuple[str, ...]
    month_names: tuple[str, ...]
    canned_seed: tuple[Mapping[str, str], ...] = field(default=())

    def team(self, code: str) -> Team:
        """The team ``code``, or the general team when the code is unknown."""
        return self.teams.get(code) or self.teams[DEFAULT_TEAM]

    def is_holiday(self, team: str, day: date) -> bool:
        return day in self.holidays or day in self.team_holidays.get(team, frozenset())

    def is_open(self, team: str, at: datetime) -> bool:
        """Whether ``team`` attends at the instant ``at`` (timezone-aware)."""
        local = at.astimezone(self.zone)
        if self.is_holiday(team, local.date()):
            return False
        now = local.time().replace(tzinfo=None)
        return any(i.start <= now < i.end for i in self._intervals(team, local.weekday()))

    def next_opening(self, team: str, at: datetime) -> datetime:
        """The first instant after ``at`` when ``team`` opens (or ``at`` itself while it is open).

        Raises:
            ConfigError: the team never opens in the coming year.
        """
        if self.is_open(team, at):
            return at
        local = at.astimezone(self.zone)
        for offset in range(370):
            day = local.date() + timedelta(days=offset)
            if self.is_holiday(team, day):
                continue
            for interval in self._intervals(team, day.weekday()):
                opening = datetime.combine(day, interval.start, tzinfo=self.zone)
                if opening > local:
                    return opening
        raise ConfigError(f"team {team} has no working hours in the coming year")

    def spoken(self, moment: datetime) -> tuple[str, str, str, str]:
        """Day name, day number, month name and HH:MM of ``moment`` in local time, for a citizen."""
        local = moment.astimezone(self.zone)
        return (
            self.day_names[local.weekday()],
            str(local.day),
            self.month_names[local.month - 1],
            local.strftime("%H:%M"),
        )

    def slot_is_hidden(self, name: str) -> bool:
        return name in self.hidden_slots or any(part in name for part in _HIDDEN_PARTS)

    def resumable(self, form: str) -> Resumable | None:
        return self.forms.get(form)

    def _intervals(self, team: str, weekday: int) -> tuple[Interval, ...]:
        return self.schedules[self.team(team).horario].get(weekday, ())


def _read(path: Path) -> dict[str, Any]:
    try:
        content = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except FileNotFoundError as exc:
        raise ConfigError(f"{path} is missing") from exc
    if not isinstance(content, dict):
        raise ConfigError(f"{path} must hold a mapping")
    return content


def _interval(text: str, where: str) -> Interval:
    match = _INTERVAL.match(str(text).strip())
    if match is None:
        raise ConfigError(f"{where}: {text!r} is not HH:MM-HH:MM")
    h1, m1, h2, m2 = (int(g) for g in match.groups())
    start, end = time(h1, m1), time(h2, m2)
    if end <= start:
        raise ConfigError(f"{where}: {text!r} ends before it starts")
    return Interval(start, end)


def _dates(values: Any, where: str) -> frozenset[date]:
    days: set[date] = set()
    for value in values or ():
        if not isinstance(value, date):
            raise ConfigError(f"{where}: {value!r} is not a date (YYYY-MM-DD)")
        days.add(value)
    return frozenset(days)


# National days off come from the law's calendar (`bot.legal_calendar`), for every year its 2016 rules cover
# that a running process may meet; `feriados.yml` adds the days the Government decrees on top of them.
NATIONAL_CALENDAR_YEARS = range(2017, 2041)


def national_days_off() -> frozenset[date]:
    """Every national day of rest of `NATIONAL_CALENDAR_YEARS`, on the day it is rested."""
    return frozenset(day for year in NATIONAL_CALENDAR_YEARS for day in legal_calendar.days_off(year))


def load_equipos(directory: Path, *, tramites: Iterable[Tramite] = ()) -> Equipos:
    """Read and check `equipos.yml`, `horarios.yml`, `feriados.yml` and `respuestas.yml` of ``directory``.

    Args:
        directory: usually ``data/consola``.
        tramites: the declared trámites; their forms become resumable.

    Raises:
        ConfigError: a file is missing or malformed, or a team names an unknown schedule.
    """
    raw_teams = _read(directory / "equipos.yml")
    raw_hours = _read(directory / "horarios.yml")
    raw_holidays = _read(directory / "feriados.yml")
    raw_canned = _read(directory / "respuestas.yml")

    schedules: dict[str, dict[int, tuple[Interval, ...]]] = {}
    for name, days in (raw_hours.get("horarios") or {}).items():
        schedule: dict[int, tuple[Interval, ...]] = {}
        for day, intervals in (days or {}).items():
            if day not in DAYS:
                raise ConfigError(f"horarios.{name}: unknown day {day!r} (use {', '.join(DAYS)})")
            schedule[DAYS.index(day)] = tuple(_interval(i, f"horarios.{name}.{day}") for i in intervals)
        if not any(schedule.values()):
            raise ConfigError(f"horarios.{name} has no working hours")
        schedules[str(name)] = schedule

    teams: dict[str, Team] = {}
    for code, entry in (raw_teams.get("equipos") or {}).items():
        try:
            team = Team(
                code=str(code),
                nombre=str(entry["nombre"]),
                horario=str(entry["horario"]),
                atencion_minutos=int(entry["atencion_minutos"]),
                sla_minutos=int(entry["sla_minutos"]),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ConfigError(f"equipos.{code}: {exc}") from exc
        if team.horario not in schedules:
            raise ConfigError(f"equipos.{code}: unknown schedule {team.horario!r}")
        teams[team.code] = team
    if DEFAULT_TEAM not in teams:
        raise ConfigError(f"equipos.yml must define the {DEFAULT_TEAM!r} team")

    forms: dict[str, Resumable] = {}
    for tramite in tramites:
        if tramite.formulario:
            forms[tramite.formulario] = Resumable(intent=tramite.intent, nombre=tramite.nombre)
    for form, entry in (raw_teams.get("formularios") or {}).items():
        forms[str(form)] = Resumable(intent=str(entry["intent"]), nombre=str(entry["nombre"]))

    day_names = tuple(str(d) for d in raw_hours.get("nombres_dias") or ())
    month_names = tuple(str(m) for m in raw_hours.get("nombres_meses") or ())
    if len(day_names) != 7 or len(month_names) != 12:
        raise ConfigError("horarios.yml needs 7 nombres_dias and 12 nombres_meses")
    canned = tuple(
        {k: str(v) for k, v in entry.items()}
        for entry in raw_canned.get("respuestas") or ()
        if isinstance(entry, dict) and entry.get("titulo") and entry.get("texto")
    )
    return Equipos(
        zone=ZoneInfo(str(raw_hours.get("zona_horaria") or "America/Guayaquil")),
        teams=teams,
        schedules=schedules,
        holidays=national_days_off() | _dates(raw_holidays.get("nacionales"), "feriados.nacionales"),
        team_holidays={
            str(team): _dates(days, f"feriados.equipos.{team}")
            for team, days in (raw_holidays.get("equipos") or {}).items()
        },
        close_reasons={str(k): str(v) for k, v in (raw_teams.get("motivos_cierre") or {}).items()},
        forms=forms,
        hidden_slots=frozenset(str(s) for s in raw_teams.get("ranuras_ocultas") or ()),
        day_names=day_names,
        month_names=month_names,
        canned_seed=canned,
    )
