"""Masking of personal data in any text or structure that leaves the request: logs, metrics, audit views.

What counts as personal is decided here and nowhere else:

- cédula (10 digits, also typed ``171234567-5``) → ``17******75``
- RUC (13 digits) → ``17*********01``
- código dactilar (``V4443V4442``) → ``[codigo dactilar]``; it is never shown, not even in part
- phone numbers in E.164 (``+593991234567``) → ``+593*******67``; any format when typed (``099 887 7665``)
- e-mail addresses, and names and addresses a citizen gives («me llamo …», «vivo en …») → ``[correo]``,
  ``[nombre]``, ``[dirección]`` where a transcript shows them
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
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
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
    text = _EMAIL.sub("[correo]", text)
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

# A código dactilar wherever it stands, even glued to a word («codigoV4443V4442»), never inside a longer code.
_FIND_DACTILAR = re.compile(r"(?<![0-9])[A-Za-z][0-9Xx]{4}[\s-]?[A-Za-z][0-9Xx]{4}(?![A-Za-z0-9])")
_FIND_RUC = re.compile(r"(?<![\d+])\d{13}(?!\d)")
# Ten digits however they are grouped («1712345675», «171234567-5», «17 1234 5675», «171.234.567-5»).
_FIND_CEDULA = re.compile(r"(?<![\d+])\d(?:[ .-]?\d){9}(?![\d])")
# Not personal, though made of digits: an application number («EC-2026-000123», «ec 2026 000123»).
_APPLICATION_NUMBER = re.compile(r"\bEC[\s-]*\d{4}[\s-]*\d{6}\b", re.IGNORECASE)
_FIND_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# A name or an address the citizen gives about themselves, after the words that introduce it.
_NAME_WORD = r"[A-Za-zÁÉÍÓÚÑÜáéíóúñü]{2,}"
_FIND_NAME = re.compile(
    r"(?i:\b(?:me llamo|mi nombre es|mi nombre completo es|mis nombres son)\s+)"
    rf"({_NAME_WORD}(?:\s+{_NAME_WORD}){{0,4}})"
    rf"|(?i:\bsoy)\s+((?:[A-ZÁÉÍÓÚÑ][a-záéíóúñ]+\s+){{1,3}}[A-ZÁÉÍÓÚÑ][a-záéíóúñ]+)"
)
_NOT_A_NAME = frozenset({"y", "e", "de", "del", "la", "el", "mi", "necesito", "quiero", "con", "para", "por", "que"})
_FIND_ADDRESS = re.compile(
    r"(?i:\b(?:vivo en|mi direcci[oó]n es|mi domicilio es|direcci[oó]n:)\s+)([^.;\n]{4,90})"
    r"|(?i:\b(?:calle|avenida|av\.|pasaje|psje\.?|urbanizaci[oó]n|urb\.|ciudadela|cdla\.?)\s+)[^.;\n]{2,80}"
)


def _valid_cedula(digits: str) -> bool:
    from stdnum.ec import ci  # python-stdnum's rules (province, third digit, check digit)

    return bool(ci.is_valid(digits))


def _phones(text: str) -> list[tuple[int, int, str]]:
    """Phone numbers in any format Ecuadorians write them («+593 99 887 7665», «099 887 7665», «(02) 2345678»)."""
    import phonenumbers

    found = []
    for match in phonenumbers.PhoneNumberMatcher(text, "EC", leniency=phonenumbers.Leniency.VALID):
        digits = re.sub(r"\D", "", match.raw_string)
        if len(digits) == 10 and _valid_cedula(digits):
            continue  # a valid cédula is a cédula, whatever else it could dial
        found.append((match.start, match.end, match.raw_string))
    return found


def _name_end(text: str, start: int, end: int) -> int:
    """A name stops before the first word that is not part of it («me llamo Ana y necesito…» → «Ana»)."""
    cursor = start
    for word in re.finditer(r"\S+", text[start:end]):
        if word.group(0).lower().strip(",.") in _NOT_A_NAME:
            break
        cursor = start + word.end()
    return cursor


@dataclass(frozen=True)
class Identifier:
    """A personal identifier found in free text, with its span."""

    kind: str  # cedula | ruc | codigo_dactilar | telefono | correo | nombre | direccion
    start: int
    end: int
    value: str

    @property
    def masked(self) -> str:
        if self.kind == "codigo_dactilar":
            return "[codigo dactilar]"
        if self.kind == "telefono":
            return mask_phone(self.value)
        if self.kind in ("correo", "nombre", "direccion"):
            return {"correo": "[correo]", "nombre": "[nombre]", "direccion": "[dirección]"}[self.kind]
        return redact_text(re.sub(r"\D", "", self.value))


def find_identifiers(text: str) -> list[Identifier]:
    """Códigos dactilares, RUCs, e-mails, cédulas, phone numbers, and names and addresses a citizen gives, in
    ``text``, left to right, never overlapping (the first kind found keeps a span)."""
    candidates: list[tuple[str, int, int, str]] = []
    candidates += [("codigo_dactilar", m.start(), m.end(), m.group(0)) for m in _FIND_DACTILAR.finditer(text)]
    candidates += [("ruc", m.start(), m.end(), m.group(0)) for m in _FIND_RUC.finditer(text)]
    candidates += [("correo", m.start(), m.end(), m.group(0)) for m in _FIND_EMAIL.finditer(text)]
    for m in _FIND_CEDULA.finditer(text):
        digits = re.sub(r"\D", "", m.group(0))
        if len(digits) == 10 and (digits[:2] != "09" or digits[2] in "0123456" or _valid_cedula(digits)):
            candidates.append(("cedula", m.start(), m.end(), m.group(0)))
    candidates += [("telefono", start, end, raw) for start, end, raw in _phones(text)]
    for m in _FIND_NAME.finditer(text):
        group = 1 if m.group(1) else 2
        end = _name_end(text, m.start(group), m.end(group))
        if end > m.start(group):
            candidates.append(("nombre", m.start(group), end, text[m.start(group) : end]))
    for m in _FIND_ADDRESS.finditer(text):
        start = m.start(1) if m.group(1) else m.start()
        candidates.append(("direccion", start, m.end(), text[start : m.end()].strip()))
    found: list[Identifier] = []
    taken: list[tuple[int, int]] = [m.span() for m in _APPLICATION_NUMBER.finditer(text)]
    for kind, start, end, value in candidates:
        if any(start < t_end and t_start < end for t_start, t_end in taken):
            continue
        taken.append((start, end))
        found.append(Identifier(kind, start, end, value))
    return sorted(found, key=lambda i: i.start)
