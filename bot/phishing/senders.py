"""Phone numbers and Telegram users in a message, and whether they are Chasqui's own senders."""

from __future__ import annotations

import gettext
import re
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from functools import cache

import phonenumbers
from stdnum.ec import ci

from bot.privacy.redaction import mask_phone

_USERNAME = re.compile(r"(?<![\w@.])@([a-z][a-z0-9_]{4,31})\b", re.IGNORECASE)
_TELEGRAM_LINK = re.compile(r"\b(?:https?://)?(?:t|telegram)\.me/([a-z][a-z0-9_]{4,31})\b", re.IGNORECASE)
_WHATSAPP_LINK = re.compile(r"\b(?:https?://)?(?:wa\.me|api\.whatsapp\.com/send\?phone=)/?\+?(\d{8,15})\b", re.I)


@cache
def _spanish() -> gettext.NullTranslations:
    import pycountry  # about 5 MB: imported with the first foreign number, not by every process at start

    return gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=["es"], fallback=True)


def country_name(region: str | None) -> str | None:
    """The country's usual name in Spanish (ISO 3166 through pycountry): «CO» → «Colombia»; the code when unknown."""
    import pycountry

    country = pycountry.countries.get(alpha_2=region) if region else None
    if country is None:
        return region
    return _spanish().gettext(getattr(country, "common_name", None) or country.name)


class SenderKind(StrEnum):
    TELEFONO = "telefono"
    TELEGRAM = "telegram"


@dataclass(frozen=True)
class OwnSenders:
    """Where Chasqui writes from: its WhatsApp number (E.164) and its Telegram bot's username (without «@»)."""

    whatsapp: str | None = None
    telegram: str | None = None

    @classmethod
    def from_settings(cls, *, whatsapp_from: str, telegram_username: str) -> OwnSenders:
        """From the settings' values: ``whatsapp:+14155238886`` and ``@chasqui_ec_bot`` (either may be empty)."""
        number = _parse(whatsapp_from.removeprefix("whatsapp:"))
        username = telegram_username.strip().lstrip("@").lower()
        return cls(
            whatsapp=phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164) if number else None,
            telegram=username or None,
        )

    @property
    def whatsapp_shown(self) -> str | None:
        """Chasqui's number as a citizen reads it (``+1 415-523-8886``): it is public, so shown whole."""
        number = _parse(self.whatsapp) if self.whatsapp else None
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL) if number else None


@dataclass(frozen=True)
class SenderCheck:
    """A number or a Telegram user named in the message.

    Attributes:
        shown: how the answer names it: a number masked (``+593*******67``: it may be a citizen's), or ``@user``.
        propio: it is one of Chasqui's own senders.
        pais: the country of a number outside Ecuador, in Spanish («Nigeria»); None for Ecuador or a username.
    """

    kind: SenderKind
    shown: str
    propio: bool
    pais: str | None = None
    prefijo: str | None = None  # «+234», with pais


def find_senders(text: str, own: OwnSenders, *, ignore: Sequence[str] = ()) -> list[SenderCheck]:
    """Numbers (any format Ecuadorians write them, and ``wa.me/…`` links) and Telegram users (``@user``,
    ``t.me/user``) in ``text``, once each, numbers first.

    Args:
        ignore: parts of ``text`` where digits are no phone number (the links: «…/pago?id=0991234567»).
    """
    checks: list[SenderCheck] = []
    seen: set[str] = set()
    plain = text
    for part in ignore:
        plain = plain.replace(part, " ")
    matches = phonenumbers.PhoneNumberMatcher(plain, "EC", leniency=phonenumbers.Leniency.VALID)
    numbers = [m.number for m in matches if not _is_cedula(m.raw_string)]
    numbers += [n for n in (_parse("+" + d) for d in _WHATSAPP_LINK.findall(text)) if n is not None]
    for number in numbers:
        e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
        if e164 in seen:
            continue
        seen.add(e164)
        region = phonenumbers.region_code_for_number(number)
        propio = e164 == own.whatsapp
        foreign = region != "EC" and not propio
        checks.append(
            SenderCheck(
                SenderKind.TELEFONO,
                shown=mask_phone(e164),
                propio=propio,
                pais=country_name(region) if foreign else None,
                prefijo=f"+{number.country_code}" if foreign else None,
            )
        )
    for username in [*_TELEGRAM_LINK.findall(text), *_USERNAME.findall(text)]:
        name = username.lower()
        if name in seen:
            continue
        seen.add(name)
        checks.append(SenderCheck(SenderKind.TELEGRAM, shown=f"@{name}", propio=name == own.telegram))
    return checks


def _is_cedula(raw: str) -> bool:
    """A valid cédula is a cédula, whatever else it could dial (as `bot.privacy.redaction` reads it)."""
    digits = re.sub(r"\D", "", raw)
    return len(digits) == 10 and bool(ci.is_valid(digits))


def _parse(raw: str) -> phonenumbers.PhoneNumber | None:
    try:
        number = phonenumbers.parse(raw.strip(), "EC")
    except phonenumbers.NumberParseException:
        return None
    return number if phonenumbers.is_valid_number(number) else None
