"""Calendar rules from Ecuador's law: national days off and business days, the matrícula month and its late
surcharge, licence renewal windows, and traffic fines' deadlines and surcharges.

Every function is pure and takes the day it is asked about (``today``), so callers decide the clock: actions
take today's date in Ecuador's time zone from `bot.services.Servicios.today`, tests pass any date. Each rule
names its source; the references are in ``../shared/reference/ecuador.md`` (S-numbers there), marked [V]
verified or [P] one secondary source.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from functools import lru_cache

import holidays

CENTS = Decimal("0.01")

# --- National days off and business days -----------------------------------------------------------------
#
# Código del Trabajo Art. 65 and LOSEP, as reformed by the Ley Orgánica Reformatoria a la LOSEP y al Código del
# Trabajo (RO-S 906, 20 Dec 2016), in force from 2017: 1 Jan, Carnaval (the Monday and Tuesday before Ash
# Wednesday), Viernes Santo, 1 and 24 May, 10 Aug, 9 Oct, 2 and 3 Nov, 25 Dec. The day of rest moves: a Tuesday
# holiday to the Monday before, a Wednesday or Thursday one to that week's Friday, a Saturday one to the Friday
# before and a Sunday one to the Monday after; 1 Jan, 25 Dec and Carnaval move only off a weekend.
# The `holidays` package (vacanza/holidays, MIT) keeps these dates, Easter included, checked against the
# Ministerio de Turismo's official calendars of 2018-2025; it also follows the Government's practice for 2 and
# 3 November, which are never moved onto each other. It lists both the legal date and the moved one
# («… (observado)»); the day of rest is the moved one, and the legal date becomes a working day.

_MOVED = " (observado)"


@lru_cache(maxsize=32)
def _days_off(year: int) -> dict[date, str]:
    # The years around ``year`` too: 1 Jan on a Saturday rests on the Friday before, 31 December.
    national = holidays.country_holidays("EC", years=(year - 1, year, year + 1), language="es")
    days: dict[date, str] = {}
    moved_from: set[date] = set()
    for day in sorted(national):
        for name in national.get_list(day):
            if not name.endswith(_MOVED):
                days.setdefault(day, name)
                continue
            legal_name = name.removesuffix(_MOVED)
            days[day] = legal_name
            # The legal date it was moved from lies within the same week (at most three days away).
            moved_from.update(
                d
                for d in (day + timedelta(days=offset) for offset in range(-3, 4))
                if d != day and legal_name in national.get_list(d)
            )
    return {d: name for d, name in days.items() if d.year == year and d not in moved_from}


def days_off(year: int) -> dict[date, str]:
    """The national days of rest of ``year`` (after the 2016 moving rules), with the holiday's name."""
    return dict(_days_off(year))


def is_day_off(day: date) -> bool:
    """True on a national day of rest (a holiday on the day it is rested)."""
    return day in _days_off(day.year)


def is_business_day(day: date) -> bool:
    """Monday to Friday and not a national day of rest."""
    return day.weekday() < 5 and not is_day_off(day)


def add_business_days(start: date, days: int) -> date:
    """The business day ``days`` business days after ``start`` (``start`` itself is not counted).

    «En 3 días hábiles» from a Friday before a Monday holiday ends on Thursday.
    """
    if days < 0:
        raise ValueError("days must be zero or more")
    day = start
    while days:
        day += timedelta(days=1)
        if is_business_day(day):
            days -= 1
    return day


def business_days_between(start: date, end: date) -> int:
    """Business days after ``start`` up to and including ``end`` (0 when ``end`` is not after ``start``)."""
    return sum(1 for n in range(1, (end - start).days + 1) if is_business_day(start + timedelta(days=n)))


# --- Salario básico unificado: the base of traffic fines ---------------------------------------------------

# Acuerdos of the Ministerio del Trabajo (ecuador.md §4, S28) [V]. A year not listed yet uses the latest known.
SBU_BY_YEAR = {2024: Decimal("460.00"), 2025: Decimal("470.00"), 2026: Decimal("482.00")}


def sbu(year: int) -> Decimal:
    """The salario básico unificado of ``year`` (the latest known one for later years)."""
    known = [y for y in SBU_BY_YEAR if y <= year]
    return SBU_BY_YEAR[max(known)] if known else SBU_BY_YEAR[min(SBU_BY_YEAR)]


def _share(fraction: Decimal, amount: Decimal) -> Decimal:
    return (fraction * amount).quantize(CENTS, rounding=ROUND_HALF_UP)


# --- Matrícula vehicular -----------------------------------------------------------------------------------

# Last digit of the plate → the month to register in (ANT calendar, ecuador.md §4.2, S43-S45) [V]. December is
# left for late registrations, which pay the surcharge.
MONTH_BY_LAST_DIGIT = {1: 2, 2: 3, 3: 4, 4: 5, 5: 6, 6: 7, 7: 8, 8: 9, 9: 10, 0: 11}
# AMT Quito charges USD 25 for each month after the plate's month (ecuador.md §4.2, S43) [V]; every month begun
# after it counts whole (a car due in October owes two months in December), as the sandbox SRI computes it.
# Other cities' transit agencies set their own figure: this is the one the reference documents.
LATE_REGISTRATION_PER_MONTH = Decimal("25.00")


class RegistrationStatus(StrEnum):
    """Where a vehicle stands with this year's matrícula."""

    UP_TO_DATE = "al_dia"  # registered this year
    DUE = "pendiente"  # not yet registered, and its month has not ended
    OVERDUE = "vencida"  # its month has ended without registering


@dataclass(frozen=True)
class Registration:
    """A vehicle's matrícula on a given day."""

    status: RegistrationStatus
    month: int  # the plate's month
    year: int  # the year the pending (or next) registration belongs to
    deadline: date  # the last day of that month
    months_late: int
    surcharge: Decimal


def last_digit(placa: str) -> int:
    """The plate's last digit (motorcycles end in a letter: their last digit comes before it)."""
    return int(next(c for c in reversed(placa) if c.isdigit()))


def registration_month(placa: str) -> int:
    """The month (1-12) to register the vehicle ``placa`` in."""
    return MONTH_BY_LAST_DIGIT[last_digit(placa)]


def _month_end(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def registration(placa: str, last_registered: int, today: date) -> Registration:
    """The matrícula of ``placa``, last registered in the year ``last_registered``, on ``today``.

    Registered this year: up to date until next year's month. Otherwise the first missing year's month decides:
    not ended yet, it is due; ended, it is overdue by every month begun since, at USD 25 each.
    """
    month = registration_month(placa)
    if last_registered >= today.year:
        year = last_registered + 1
        return Registration(RegistrationStatus.UP_TO_DATE, month, year, _month_end(year, month), 0, Decimal("0.00"))
    year = last_registered + 1
    deadline = _month_end(year, month)
    if today <= deadline:
        return Registration(RegistrationStatus.DUE, month, year, deadline, 0, Decimal("0.00"))
    months_late = (today.year - year) * 12 + today.month - month
    surcharge = LATE_REGISTRATION_PER_MONTH * months_late
    return Registration(RegistrationStatus.OVERDUE, month, year, deadline, months_late, surcharge)


# --- Licencia de conducir ----------------------------------------------------------------------------------

# Renewal from 90 days before expiry: Reglamento a la LOTTTSV Art. 131 (ecuador.md §4.2, S36) [V]. An expired
# licence is renewed too, at any time; the licence is valid through its expiry day.
RENEWAL_WINDOW_DAYS = 90
# Driving with an expired licence: a second-class contravención, 50 % of one SBU and 9 points (COIP Art. 387;
# ecuador.md §4.2, S35 and S40) [P].
EXPIRED_LICENCE_FINE_SBU = Decimal("0.5")
EXPIRED_LICENCE_POINTS = 9


class LicenceStatus(StrEnum):
    """Where a licence stands on a given day."""

    VALID = "vigente"  # valid, renewal not open yet
    RENEWABLE = "renovable"  # valid, within the renewal window
    EXPIRED = "caducada"


@dataclass(frozen=True)
class LicenceRenewal:
    """A licence's renewal on a given day."""

    status: LicenceStatus
    expires: date
    renewable_from: date
    days_left: int  # days until expiry; negative once expired


def licence_renewal(expires: date, today: date) -> LicenceRenewal:
    """Whether the licence expiring on ``expires`` can be renewed on ``today``, is expired, or when to renew."""
    renewable_from = expires - timedelta(days=RENEWAL_WINDOW_DAYS)
    days_left = (expires - today).days
    if today > expires:
        status = LicenceStatus.EXPIRED
    elif today >= renewable_from:
        status = LicenceStatus.RENEWABLE
    else:
        status = LicenceStatus.VALID
    return LicenceRenewal(status, expires, renewable_from, days_left)


def expired_licence_fine(today: date) -> Decimal:
    """The fine for driving with an expired licence on ``today``: 50 % of that year's SBU."""
    return _share(EXPIRED_LICENCE_FINE_SBU, sbu(today.year))


# --- Multas de tránsito ------------------------------------------------------------------------------------

# Before the Ley Orgánica Reformatoria a la LOTTTSV (in force 10 Aug 2021), a fine unpaid 10 days after the
# citation grew 2 % for each month or part of a month; the reform ended that surcharge, so it stopped growing
# on 10 Aug 2021 and newer citations never carry it (ANT, in El Comercio 2018 and Ecuavisa / ecuadoraldia365
# 2021) [P]. The reform's Disposición Trigésima Cuarta halves a contravención's fine paid within 20 business
# days of its notification (AMT Quito, Ecuavisa 2021) [P]; the citation's date stands for its notification.
FINE_GRACE_DAYS = 10
FINE_MONTHLY_SURCHARGE = Decimal("0.02")
FINE_SURCHARGE_ENDED = date(2021, 8, 10)
PROMPT_PAYMENT_BUSINESS_DAYS = 20
PROMPT_PAYMENT_DISCOUNT = Decimal("0.5")


def fine_surcharge(cited: date, amount: Decimal, today: date) -> Decimal:
    """The late-payment surcharge on a fine of ``amount`` cited on ``cited``, still unpaid on ``today``."""
    start = cited + timedelta(days=FINE_GRACE_DAYS)
    until = min(today, FINE_SURCHARGE_ENDED - timedelta(days=1))
    if until <= start:
        return Decimal("0.00")
    months = (until.year - start.year) * 12 + until.month - start.month
    if until.day > start.day:
        months += 1  # a part of a month counts whole
    return _share(FINE_MONTHLY_SURCHARGE * months, amount)


def prompt_payment_deadline(cited: date) -> date | None:
    """The last day a fine cited on ``cited`` is halved if paid (None before the 2021 reform)."""
    if cited < FINE_SURCHARGE_ENDED:
        return None
    return add_business_days(cited, PROMPT_PAYMENT_BUSINESS_DAYS)


def prompt_payment_amount(cited: date, amount: Decimal, today: date) -> Decimal | None:
    """What a fine of ``amount`` cited on ``cited`` costs if paid on ``today`` within the discount, else None."""
    deadline = prompt_payment_deadline(cited)
    if deadline is None or today > deadline:
        return None
    return _share(1 - PROMPT_PAYMENT_DISCOUNT, amount)
