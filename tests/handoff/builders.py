"""Builders for handoff tests: the shipped team configuration, always open or at a fixed moment."""

from __future__ import annotations

import dataclasses
from datetime import datetime, time
from pathlib import Path

from bot.handoff.teams import Equipos, Interval, load_equipos
from bot.tramites.registry import TRAMITES

PROJECT = Path(__file__).resolve().parent.parent.parent


def shipped_equipos() -> Equipos:
    return load_equipos(PROJECT / "data" / "consola", tramites=TRAMITES)


def always_open(equipos: Equipos) -> Equipos:
    """Every team attends every day at any hour, without holidays (tests that are not about hours)."""
    whole_day = (Interval(time(0, 0), time(23, 59, 59, 999999)),)
    schedules = {name: dict.fromkeys(range(7), whole_day) for name in equipos.schedules}
    return dataclasses.replace(equipos, schedules=schedules, holidays=frozenset(), team_holidays={})


class Clock:
    """A clock tests move by hand."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now
