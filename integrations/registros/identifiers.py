"""Normalization and local validation of identifiers before they are sent to a registry."""

from __future__ import annotations

import re

from stdnum.ec import ci, ruc

from integrations.registros.errors import Rejected

# Looser than what the sandbox generates ([AEIV][1-4]{4}[AEIV][1-4]{4}): real codes may carry 0 or X.
_DACTILAR = re.compile(r"[A-Z][0-9X]{4}[A-Z][0-9X]{4}")
_PLACA = re.compile(r"([A-Z]{3})-?(\d{3,4})")
_SEPARATORS = re.compile(r"[\s.-]")


def cedula(value: str) -> str:
    """A cédula as 10 digits with a valid check digit.

    Raises:
        Rejected: ``cedula_invalida``.
    """
    digits = _SEPARATORS.sub("", value)
    if not (len(digits) == 10 and digits.isdigit() and ci.is_valid(digits)):
        raise Rejected("cedula_invalida")
    return digits


def numero_ruc(value: str) -> str:
    """A RUC as 13 digits that python-stdnum accepts.

    Raises:
        Rejected: ``ruc_invalido``.
    """
    digits = _SEPARATORS.sub("", value)
    if not (len(digits) == 13 and digits.isdigit() and ruc.is_valid(digits)):
        raise Rejected("ruc_invalido")
    return digits


def codigo_dactilar(value: str) -> str:
    """A código dactilar upper-cased; the registry compares it case-insensitively.

    Raises:
        Rejected: ``dactilar_formato_invalido``.
    """
    code = value.strip().upper()
    if not _DACTILAR.fullmatch(code):
        raise Rejected("dactilar_formato_invalido")
    return code


def placa(value: str) -> str:
    """A car plate as ``ABC-1234`` (older plates have three digits).

    Raises:
        Rejected: ``placa_invalida``.
    """
    match = _PLACA.fullmatch(value.strip().upper().replace(" ", ""))
    if match is None:
        raise Rejected("placa_invalida")
    return f"{match.group(1)}-{match.group(2)}"
