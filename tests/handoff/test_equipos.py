"""Working hours and holidays per team, in Guayaquil time, from data/consola."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.handoff.teams import ConfigError, load_equipos
from tests.handoff.builders import PROJECT, shipped_equipos

GYE = ZoneInfo("America/Guayaquil")


def local(year: int, month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=GYE)


@pytest.mark.parametrize(
    ("team", "moment", "open_"),
    [
        ("registro_civil", local(2026, 11, 30, 10), True),  # Monday morning
        ("registro_civil", local(2026, 11, 30, 7, 59), False),  # before opening
        ("registro_civil", local(2026, 11, 30, 17, 0), False),  # closes at 17:00
        ("general", local(2026, 11, 30, 18, 30), True),  # the general team works until 19:00
        ("general", local(2026, 11, 28, 12), True),  # and on Saturday mornings
        ("registro_civil", local(2026, 11, 28, 12), False),  # Saturday
        ("general", local(2026, 11, 29, 12), False),  # Sunday
        ("general", local(2026, 12, 25, 10), False),  # Christmas, a Friday
        ("sri", local(2026, 11, 2, 10), False),  # Día de los Difuntos, a Monday
        ("ant", local(2026, 5, 25, 10), False),  # 24 May fell on a Sunday: rested on Monday
        ("ant", local(2027, 8, 9, 10), False),  # 10 August 2027, a Tuesday, rested on Monday 9
        ("ant", local(2027, 8, 10, 10), True),  # and the Tuesday is a working day
        ("general", local(2030, 1, 1, 10), False),  # years no list was written for
        ("desconocido", local(2026, 11, 30, 18, 30), True),  # an unknown team is the general team
    ],
)
def test_working_hours_and_holidays(team: str, moment: datetime, open_: bool) -> None:
    assert shipped_equipos().is_open(team, moment) is open_


def test_the_instant_is_read_in_guayaquil_time() -> None:
    # 13:30 UTC is 08:30 in Guayaquil (UTC-5 all year): open; 12:30 UTC is 07:30: closed.
    equipos = shipped_equipos()
    assert equipos.is_open("ant", datetime(2026, 11, 30, 13, 30, tzinfo=UTC))
    assert not equipos.is_open("ant", datetime(2026, 11, 30, 12, 30, tzinfo=UTC))


@pytest.mark.parametrize(
    ("team", "moment", "opening"),
    [
        ("registro_civil", local(2026, 11, 28, 15), local(2026, 11, 30, 8)),  # Saturday → Monday
        ("registro_civil", local(2026, 11, 30, 18), local(2026, 12, 1, 8)),  # evening → next morning
        ("registro_civil", local(2026, 11, 30, 6), local(2026, 11, 30, 8)),  # early → same morning
        ("general", local(2026, 11, 28, 14), local(2026, 11, 30, 7)),  # Saturday afternoon → Monday 07:00
        ("cne", local(2026, 11, 1, 10), local(2026, 11, 4, 8)),  # Sunday before two holidays → Wednesday
        ("ant", local(2026, 12, 24, 18), local(2026, 12, 28, 8)),  # Christmas Eve → Monday after Christmas
    ],
)
def test_next_opening_skips_closed_days_and_holidays(team: str, moment: datetime, opening: datetime) -> None:
    assert shipped_equipos().next_opening(team, moment) == opening


def test_while_open_the_next_opening_is_now() -> None:
    now = local(2026, 11, 30, 10)
    assert shipped_equipos().next_opening("ant", now) == now


def test_an_opening_is_spoken_in_spanish() -> None:
    assert shipped_equipos().spoken(local(2026, 11, 30, 8)) == ("lunes", "30", "noviembre", "08:00")
    assert shipped_equipos().spoken(local(2026, 11, 4, 8)) == ("miércoles", "4", "noviembre", "08:00")


def test_secret_slots_are_hidden() -> None:
    equipos = shipped_equipos()
    assert [
        s for s in ("cedula", "codigo_dactilar", "requested_slot", "token_pago", "placa") if equipos.slot_is_hidden(s)
    ] == [
        "codigo_dactilar",
        "requested_slot",
        "token_pago",
    ]


def test_catalogue_forms_can_be_resumed_with_their_intent() -> None:
    equipos = shipped_equipos()
    resumable = equipos.resumable("certificado_nacimiento_form")
    assert resumable is not None
    assert (resumable.intent, resumable.nombre) == ("solicitar_certificado_nacimiento", "Certificado de nacimiento")
    identity = equipos.resumable("identidad_form")
    assert identity is not None and identity.intent == "iniciar_sesion"
    assert equipos.resumable("formulario_inexistente") is None


def test_every_team_of_the_catalogue_exists() -> None:
    from bot.tramites.registry import TRAMITES

    teams = {tramite.equipo for tramite in TRAMITES}
    assert teams - set(shipped_equipos().teams) == set()
    assert set(shipped_equipos().teams) == {"general", "registro_civil", "ant", "ministerio_interior", "cne", "sri"}
    assert shipped_equipos().holidays >= {date(2026, 12, 25), date(2027, 1, 1)}


def test_malformed_hours_are_refused(tmp_path: Path) -> None:
    for name in ("equipos.yml", "feriados.yml", "respuestas.yml"):
        (tmp_path / name).write_text((PROJECT / "data" / "consola" / name).read_text(encoding="utf-8"))
    hours = (PROJECT / "data" / "consola" / "horarios.yml").read_text(encoding="utf-8")
    (tmp_path / "horarios.yml").write_text(hours.replace('"08:00-17:00"', '"17:00-08:00"', 1))
    with pytest.raises(ConfigError, match="ends before it starts"):
        load_equipos(tmp_path)
    (tmp_path / "horarios.yml").write_text(hours.replace("    lunes:", "    lunez:", 1))
    with pytest.raises(ConfigError, match="unknown day 'lunez'"):
        load_equipos(tmp_path)
