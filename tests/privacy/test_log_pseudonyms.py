"""Logs carry a keyed pseudonym of a conversation, never its id: the same in every process sharing the key."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from contextlib import redirect_stderr

import pytest
import structlog

from bot.logs import configure_logging

SENDER = "web:5f0e2b7c-9d1a-4c3e-8f6b-2a7d9e1c4b30"
TELEGRAM = "tg:987654321"
TEXTO, DIRECCION = "mi cedula es 1710034065", "calle Olmedo 412 y Sucre"  # out of the traceback's source lines


@pytest.fixture
def restored() -> Iterator[None]:
    """configure_logging is process-wide: put back what the other tests log with."""
    config = structlog.get_config()
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    try:
        yield
    finally:
        structlog.configure(**config)
        root.handlers[:] = handlers
        root.setLevel(level)


def lines_logged(key: bytes, **event: str) -> list[dict[str, str]]:
    stream = io.StringIO()
    with redirect_stderr(stream):
        configure_logging(json=True, pseudonym_key=key)
        structlog.get_logger("prueba").info("turn.done", **event)
        logging.getLogger("tercero").warning("a library speaks of %s", "nothing personal")
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_conversation_ids_are_logged_as_keyed_pseudonyms(restored: None) -> None:
    key = b"k" * 32
    [first, _] = lines_logged(key, conversation_id=SENDER, sender=TELEGRAM)
    assert SENDER not in json.dumps(first) and "987654321" not in json.dumps(first)
    assert first["conversation_id"].startswith("c_") and first["sender"].startswith("c_")

    [again, _] = lines_logged(key, conversation_id=SENDER)
    assert again["conversation_id"] == first["conversation_id"]  # another process with the key: the same name

    [other_key, _] = lines_logged(b"x" * 32, conversation_id=SENDER)
    assert other_key["conversation_id"] != first["conversation_id"]


@pytest.mark.parametrize("as_json", [True, False])
def test_an_exception_is_logged_without_the_variables_of_its_frames(restored: None, as_json: bool) -> None:
    def action(tracker: dict[str, str]) -> None:
        texto = tracker["texto"]  # local variables holding what the citizen wrote
        direccion = tracker["direccion"]
        raise ValueError(f"no entendí {texto} ({len(direccion)})")

    stream = io.StringIO()
    with redirect_stderr(stream):
        configure_logging(json=as_json, pseudonym_key=b"k" * 32)
        try:
            action({"texto": TEXTO, "direccion": DIRECCION})
        except ValueError as exc:
            structlog.get_logger("prueba").error("accion.fallo", exc_info=exc)
            logging.getLogger("tercero").exception("a library failed")
    written = stream.getvalue()
    assert "Traceback" in written and "ValueError" in written  # the engineer still sees where it failed
    assert "1710034065" not in written  # masked in the message, absent as a local variable
    assert "Olmedo" not in written
