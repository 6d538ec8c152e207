"""Calendar rules against tables written by hand from the law (not computed by the code under test): days off
and business days, the matrícula month and surcharge for every last digit on every day of a year, licence
renewal windows, traffic fines' surcharge and prompt-payment deadline."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from bot import legal_calendar as cal
from bot.legal_calendar import LicenceStatus, RegistrationStatus

# National days of rest, from Código del Trabajo Art. 65 as reformed in 2016 (Tuesday → Monday before,
# Wednesday/Thursday → that Friday, Saturday → Friday before, Sunday → Monday after; 1 Jan, 25 Dec and
# Carnaval move only off a weekend). Easter: 20 Apr 2025, 5 Apr 2026, 28 Mar 2027.
DAYS_OFF = {
    2025: {
        date(2025, 1, 1),  # Wednesday: not moved
        date(2025, 3, 3), date(2025, 3, 4),  # Carnaval
        date(2025, 4, 18),  # Viernes Santo
        date(2025, 5, 2),  # 1 May, a Thursday → Friday
        date(2025, 5, 23),  # 24 May, a Saturday → Friday before
        date(2025, 8, 11),  # 10 Aug, a Sunday → Monday
        date(2025, 10, 10),  # 9 Oct, a Thursday → Friday
        date(2025, 11, 3),  # 3 Nov, a Monday
        date(2025, 11, 4),  # 2 Nov, a Sunday: Monday is 3 Nov's, so Tuesday
        date(2025, 12, 25),  # Thursday: not moved
    },
    2026: {
        date(2026, 1, 1),  # Thursday: not moved
        date(2026, 2, 16), date(2026, 2, 17),  # Carnaval
        date(2026, 4, 3),  # Viernes Santo
        date(2026, 5, 1),  # Friday
        date(2026, 5, 25),  # 24 May, a Sunday → Monday
        date(2026, 8, 10),  # Monday
        date(2026, 10, 9),  # Friday
        date(2026, 11, 2), date(2026, 11, 3),  # Monday and Tuesday
        date(2026, 12, 25),  # Friday
    },
}  # fmt: skip
# 2027, the days whose move the law fixes without doubt.
DAYS_OFF_2027 = {
    date(2027, 1, 1),  # Friday
    date(2027, 2, 8), date(2027, 2, 9),  # Carnaval
    date(2027, 3, 26),  # Viernes Santo
    date(2027, 4, 30),  # 1 May, a Saturday → Friday before
    date(2027, 5, 24),  # Monday
    date(2027, 8, 9),  # 10 Aug, a Tuesday → Monday before
    date(2027, 10, 8),  # 9 Oct, a Saturday → Friday before
    date(2027, 11, 1),  # 2 Nov, a Tuesday → Monday before
    date(2027, 12, 24),  # 25 Dec, a Saturday → Friday before
    date(2027, 12, 31),  # 1 Jan 2028, a Saturday → Friday before
}  # fmt: skip
MOVED_AWAY = [date(2025, 5, 1), date(2025, 10, 9), date(2026, 5, 24), date(2027, 8, 10), date(2027, 11, 2)]


def every_day(year: int) -> list[date]:
    start = date(year, 1, 1)
    return [start + timedelta(days=n) for n in range((date(year + 1, 1, 1) - start).days)]


@pytest.mark.parametrize("year", [2025, 2026])
def test_days_off_follow_the_law(year: int) -> None:
    assert set(cal.days_off(year)) == DAYS_OFF[year]


def test_days_off_of_2027_moved_by_the_rule() -> None:
    assert set(cal.days_off(2027)) >= DAYS_OFF_2027
    assert cal.days_off(2027)[date(2027, 12, 31)] == "Año Nuevo"


def test_a_holiday_moved_away_leaves_a_working_day() -> None:
    assert [cal.is_business_day(d) for d in MOVED_AWAY] == [True, True, False, True, True]  # 24/05/2026 is Sunday


@pytest.mark.parametrize("year", [2025, 2026])
def test_business_days_over_a_whole_year(year: int) -> None:
    expected = [d.weekday() < 5 and d not in DAYS_OFF[year] for d in every_day(year)]
    assert [cal.is_business_day(d) for d in every_day(year)] == expected
    # 261 weekdays, 11 of them days off
    assert cal.business_days_between(date(year - 1, 12, 31), date(year, 12, 31)) == 250


@pytest.mark.parametrize(
    ("start", "days", "end"),
    [
        (date(2026, 5, 22), 3, date(2026, 5, 28)),  # Friday; Monday 25 is 24 May's rest
        (date(2026, 2, 13), 1, date(2026, 2, 18)),  # over Carnaval
        (date(2026, 12, 31), 1, date(2027, 1, 4)),  # over Año Nuevo and a weekend
        (date(2026, 4, 1), 2, date(2026, 4, 6)),  # over Viernes Santo
        (date(2026, 6, 3), 0, date(2026, 6, 3)),
    ],
)
def test_business_days_are_added_over_holidays(start: date, days: int, end: date) -> None:
    assert cal.add_business_days(start, days) == end


# --- Matrícula: the ANT calendar by last digit, and AMT Quito's USD 25 per month late -----------------------

MONTH = {1: 2, 2: 3, 3: 4, 4: 5, 5: 6, 6: 7, 7: 8, 8: 9, 9: 10, 0: 11}  # febrero … noviembre


@pytest.mark.parametrize("digit", range(10))
def test_matricula_on_every_day_of_a_year_for_every_last_digit(digit: int) -> None:
    placa = f"PBX-482{digit}"
    month = MONTH[digit]
    for today in every_day(2026):
        registered_last_year = cal.registration(placa, 2025, today)
        if today.month <= month:
            assert (registered_last_year.status, registered_last_year.surcharge) == (RegistrationStatus.DUE, 0), today
        else:
            late = today.month - month
            assert registered_last_year.status is RegistrationStatus.OVERDUE, today
            assert (registered_last_year.months_late, registered_last_year.surcharge) == (late, 25 * late), today
        assert registered_last_year.month == month
        assert registered_last_year.deadline.month == month and (registered_last_year.deadline + timedelta(1)).day == 1
        two_years = cal.registration(placa, 2024, today)
        late = 12 + today.month - month
        assert (two_years.status, two_years.months_late, two_years.surcharge) == (
            RegistrationStatus.OVERDUE,
            late,
            25 * late,
        )
        this_year = cal.registration(placa, 2026, today)
        assert (this_year.status, this_year.year, this_year.surcharge) == (RegistrationStatus.UP_TO_DATE, 2027, 0)


def test_in_december_every_car_registered_last_year_is_late() -> None:
    december = date(2026, 12, 5)
    surcharges = {d: cal.registration(f"GBC-246{d}", 2025, december).surcharge for d in range(10)}
    assert surcharges == {
        1: Decimal(250), 2: Decimal(225), 3: Decimal(200), 4: Decimal(175), 5: Decimal(150),
        6: Decimal(125), 7: Decimal(100), 8: Decimal(75), 9: Decimal(50), 0: Decimal(25),
    }  # fmt: skip


def test_a_motorcycle_plate_uses_its_last_digit() -> None:
    assert cal.registration_month("IS123H") == 4


# --- Licencia: renewal from 90 days before expiry; driving with it expired costs 50 % SBU and 9 points -------


def test_licence_renewal_over_a_whole_year() -> None:
    expires = date(2026, 7, 15)
    renewable_from = date(2026, 4, 16)  # 90 days before
    for today in every_day(2026):
        renewal = cal.licence_renewal(expires, today)
        expected = (
            LicenceStatus.EXPIRED
            if today > expires
            else LicenceStatus.RENEWABLE
            if today >= renewable_from
            else LicenceStatus.VALID
        )
        assert renewal.status is expected, today
        assert renewal.renewable_from == renewable_from
        assert renewal.days_left == (expires - today).days


@pytest.mark.parametrize(
    ("today", "fine"),
    [
        (date(2024, 6, 1), "230.00"),
        (date(2025, 6, 1), "235.00"),
        (date(2026, 12, 5), "241.00"),
        (date(2027, 3, 1), "241.00"),
    ],
)
def test_the_fine_for_an_expired_licence_is_half_that_years_sbu(today: date, fine: str) -> None:
    assert cal.expired_licence_fine(today) == Decimal(fine)
    assert cal.EXPIRED_LICENCE_POINTS == 9


# --- Multas: 2 % a month after 10 days until the 2021 reform; half price within 20 business days since -----


@pytest.mark.parametrize(
    ("today", "surcharge"),
    [
        (date(2021, 1, 15), "0.00"),  # within the 10 days
        (date(2021, 1, 16), "2.00"),  # a part of a month counts whole
        (date(2021, 2, 15), "2.00"),
        (date(2021, 2, 16), "4.00"),
        (date(2026, 12, 5), "14.00"),  # it stopped growing on 10 Aug 2021: 7 months
    ],
)
def test_an_old_fine_grew_2_percent_a_month_until_the_reform(today: date, surcharge: str) -> None:
    assert cal.fine_surcharge(date(2021, 1, 5), Decimal("100.00"), today) == Decimal(surcharge)


def test_a_fine_after_the_reform_has_no_surcharge_and_is_halved_within_20_business_days() -> None:
    cited = date(2026, 4, 27)  # Monday; 1 May and 25 May rest
    assert cal.fine_surcharge(cited, Decimal("48.20"), date(2026, 12, 5)) == Decimal("0.00")
    assert cal.prompt_payment_deadline(cited) == date(2026, 5, 27)
    assert cal.prompt_payment_amount(cited, Decimal("48.20"), date(2026, 5, 27)) == Decimal("24.10")
    assert cal.prompt_payment_amount(cited, Decimal("48.20"), date(2026, 5, 28)) is None
    assert cal.prompt_payment_deadline(date(2021, 8, 9)) is None
