"""Unguessable identifiers in Crockford base32: document ids and verification codes."""

from __future__ import annotations

import secrets

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_LENGTH = 16  # 80 bits from `secrets`: far beyond guessing, short enough to type
GROUP = 4
DOCUMENT_ID_LENGTH = 20  # 100 bits
# Crockford's decoding rules: readers confuse these, so accept them.
_ALIASES = str.maketrans({"O": "0", "I": "1", "L": "1"})


def random_base32(length: int) -> str:
    """``length`` random Crockford base32 characters (5 bits each)."""
    return "".join(secrets.choice(ALPHABET) for _ in range(length))


def new_verification_code() -> str:
    """A fresh verification code in canonical form (16 characters, no separators)."""
    return random_base32(CODE_LENGTH)


def new_document_id() -> str:
    return random_base32(DOCUMENT_ID_LENGTH).lower()


def normalize_code(text: str) -> str | None:
    """Canonical form of a code as typed by a person, or None when it cannot be one.

    Separators and spaces are dropped, case is ignored and O/I/L are read as 0/1/1.
    """
    cleaned = "".join(ch for ch in text.upper() if ch not in " -_.").translate(_ALIASES)
    if len(cleaned) != CODE_LENGTH or any(ch not in ALPHABET for ch in cleaned):
        return None
    return cleaned


def format_code(code: str) -> str:
    """Group a canonical code for reading: ``ABCD-EFGH-JKMN-PQRS``."""
    return "-".join(code[i : i + GROUP] for i in range(0, len(code), GROUP))


def is_document_id(text: str) -> bool:
    return len(text) == DOCUMENT_ID_LENGTH and all(ch in ALPHABET.lower() for ch in text)
