"""Masking of personal data in any text or structure that leaves the request: logs, metrics, audit views.

What counts as personal is decided here and nowhere else:

- cédula (10 digits, also typed ``171234567-5``) → ``17******75``
- RUC (13 digits) → ``17*********01``
- código dactilar (``V4443V4442``) → ``[codigo dactilar]``; it is never shown, not even in part
- phone numbers in E.164 (``+593991234567``) → ``+593*******67``
- Telegram bot tokens and other secrets under declared keys → ``[redactado]``
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

REDACTED = "[redactado]"

# Keys whose values are secrets or personal data as a whole, whatever they look like.
DEFAULT_REDACT_KEYS: frozenset[str] = frozenset(
    {
        "authorization",
        "auth_token",
        "token",
        "password",
        "secret",
        "api_key",
        "codigo_dactilar",
        "individualdactilar",
        "x-telegram-bot-api-secret-token",
        "x-twilio-signature",
        "cookie",
        "set-cookie",
    }
)

_DACTILAR = re.compile(r"(?<![A-Za-z0-9])[A-Za-z][0-9Xx]{4}[A-Za-z][0-9Xx]{4}(?![A-Za-z0-9])")
_BOT_TOKEN = re.compile(r"\b\d{6,12}:[A-Za-z0-9_-]{30,}\b")
_PHONE = re.compile(r"\+\d{8,15}(?!\d)")
_CEDULA_DASH = re.compile(r"(?<!\d)(\d{2})\d{7}-(\d)(?!\d)")
_RUC = re.compile(r"(?<!\d)(\d{2})\d{8}(\d{3})(?!\d)")
_CEDULA = re.compile(r"(?<![\d+])(\d{2})\d{6}(\d{2})(?!\d)")
_LONG_DIGITS = re.compile(r"(?<![\d+*])\d{7,}(?!\d)")


def mask_cedula(cedula: str) -> str:
    """Mask a cédula for display: ``1712345675`` → ``17******75``."""
    digits = re.sub(r"\D", "", cedula)
    if len(digits) < 4:
        return "*" * len(digits)
    return digits[:2] + "*" * (len(digits) - 4) + digits[-2:]


def mask_phone(phone: str) -> str:
    """Mask a phone number, keeping the country code and the last two digits."""
    digits = re.sub(r"\D", "", phone)
    if len(digits) < 6:
        return "*" * len(digits)
    prefix = "+" if phone.strip().startswith("+") else ""
    return prefix + digits[:3] + "*" * (len(digits) - 5) + digits[-2:]


def redact_text(text: str) -> str:
    """Mask every personal identifier found in free text."""
    text = _BOT_TOKEN.sub(REDACTED, text)
    text = _DACTILAR.sub("[codigo dactilar]", text)
    text = _PHONE.sub(lambda m: mask_phone(m.group(0)), text)
    text = _CEDULA_DASH.sub(lambda m: f"{m.group(1)}******{m.group(2)}", text)
    text = _RUC.sub(lambda m: f"{m.group(1)}********{m.group(2)}", text)
    text = _CEDULA.sub(lambda m: f"{m.group(1)}******{m.group(2)}", text)
    return _LONG_DIGITS.sub(lambda m: m.group(0)[:2] + "*" * (len(m.group(0)) - 2), text)


def redact(value: Any, *, keys: Iterable[str] = DEFAULT_REDACT_KEYS) -> Any:
    """Return a copy of ``value`` with personal data masked, recursing into mappings and lists.

    Args:
        value: a string, number, mapping or sequence (anything else is returned as is).
        keys: names whose values are replaced whole, compared case-insensitively.
    """
    key_set = {k.lower() for k in keys}
    return _redact(value, key_set)


def _redact(value: Any, keys: set[str]) -> Any:
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, Mapping):
        return {
            k: (REDACTED if isinstance(k, str) and k.lower() in keys else _redact(v, keys)) for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return type(value)(_redact(v, keys) for v in value)
    if isinstance(value, int) and not isinstance(value, bool) and len(str(abs(value))) >= 7:
        return redact_text(str(value))
    return value


# --- Identifiers a citizen types, found so the gateway can keep them out of Rasa and the database. ---

_FIND_DACTILAR = re.compile(r"(?<![A-Za-z0-9])[A-Za-z][0-9Xx]{4}[\s-]?[A-Za-z][0-9Xx]{4}(?![A-Za-z0-9])")
_FIND_RUC = re.compile(r"(?<![\d+])\d{13}(?!\d)")
_FIND_PHONE = re.compile(r"\+\d{8,15}(?!\d)|(?<![\d+])593\d{9}(?!\d)")
_FIND_CEDULA = re.compile(r"(?<![\d+])(?:\d{9}-\d|\d{10}|\d{3,4}[ .]\d{3}[ .]\d{3,4})(?![\d])")


@dataclass(frozen=True)
class Identifier:
    """A personal identifier found in free text, with its span."""

    kind: str  # cedula | ruc | codigo_dactilar | telefono
    start: int
    end: int
    value: str

    @property
    def masked(self) -> str:
        if self.kind == "codigo_dactilar":
            return "[codigo dactilar]"
        if self.kind == "telefono":
            return mask_phone(self.value)
        return redact_text(re.sub(r"\D", "", self.value))


def find_identifiers(text: str) -> list[Identifier]:
    """Cédulas, RUCs, códigos dactilares and phone numbers in ``text``, left to right, never overlapping."""
    found: list[Identifier] = []
    taken: list[tuple[int, int]] = []
    for kind, pattern in (
        ("codigo_dactilar", _FIND_DACTILAR),
        ("ruc", _FIND_RUC),
        ("telefono", _FIND_PHONE),
        ("cedula", _FIND_CEDULA),
    ):
        for match in pattern.finditer(text):
            if kind == "cedula" and len(re.sub(r"\D", "", match.group(0))) != 10:
                continue
            if any(match.start() < end and start < match.end() for start, end in taken):
                continue
            taken.append((match.start(), match.end()))
            found.append(Identifier(kind, match.start(), match.end(), match.group(0)))
    return sorted(found, key=lambda i: i.start)
