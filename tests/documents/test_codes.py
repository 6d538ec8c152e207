"""Verification codes and document ids: unguessable, readable, forgiving when typed."""

from __future__ import annotations

import pytest

from bot.documents.codes import (
    ALPHABET,
    CODE_LENGTH,
    format_code,
    is_document_id,
    new_document_id,
    new_verification_code,
    normalize_code,
)


def test_codes_are_long_random_and_grouped() -> None:
    codes = {new_verification_code() for _ in range(500)}

    assert len(codes) == 500
    assert all(len(c) == CODE_LENGTH == 16 and set(c) <= set(ALPHABET) for c in codes)
    assert format_code("ABCDEFGHJKMNPQRS") == "ABCD-EFGH-JKMN-PQRS"


@pytest.mark.parametrize(
    ("typed", "canonical"),
    [
        ("ABCD-EFGH-JKMN-PQRS", "ABCDEFGHJKMNPQRS"),
        ("abcd efgh jkmn pqrs", "ABCDEFGHJKMNPQRS"),
        ("OIL0-1111-2222-3333", "0110111122223333"),
        ("ABCD-EFGH-JKMN-PQR", None),
        ("ABCD-EFGH-JKMN-PQRU", None),
        ("<script>", None),
    ],
)
def test_normalize_code(typed: str, canonical: str | None) -> None:
    assert normalize_code(typed) == canonical


def test_document_ids() -> None:
    document_id = new_document_id()

    assert is_document_id(document_id)
    assert not is_document_id("../../etc/passwd")
    assert not is_document_id(document_id.upper())
