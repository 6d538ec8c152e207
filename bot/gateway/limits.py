"""Limits on what a request may carry, checked before anything parses it.

Python's JSON parser recurses once per nesting level and refuses integers of more than 4 300 digits with a
``ValueError`` of its own: both turn a malformed body into a crash unless the body is looked at first.
`loads_bounded` scans the raw text in one linear pass (strings skipped, brackets counted, digit runs
measured) and only then parses it.
"""

from __future__ import annotations

import json
import re
from typing import Any

from fastapi import Request

from bot.channels.base import InvalidPayload

MAX_JSON_DEPTH = 32  # our payloads nest 2-6 levels (a Telegram update with an inline keyboard is the deepest)
MAX_JSON_DIGITS = 30  # a 64-bit integer has 19 digits; a longer literal is never a value we use

# One token per match: a string (to its closing quote, or to the end when unterminated), a bracket, or a
# run of ASCII digits. Everything else is skipped. Linear: every character is consumed at most once.
_TOKENS = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"?|[\[\]{}]|[0-9]+', re.DOTALL)
_OPENING = frozenset("[{")
_CLOSING = frozenset("]}")


class UnsafeJson(ValueError):
    """The body is not UTF-8 JSON, or it breaks a limit (nesting depth, digits of a number).

    Attributes:
        reason: why, in English, for the 4xx answer's ``detail``.
    """

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def check_json_shape(text: str, *, max_depth: int = MAX_JSON_DEPTH, max_digits: int = MAX_JSON_DIGITS) -> None:
    """Refuse JSON text nested deeper than ``max_depth`` or with a number longer than ``max_digits`` digits.

    Exact for valid JSON; for invalid JSON it may count differently after the first error, which the parser
    reports anyway before it gets there.

    Raises:
        UnsafeJson: a limit is broken.
    """
    depth = 0
    for match in _TOKENS.finditer(text):
        token = match.group()
        first = token[0]
        if first == '"':
            continue
        if first in _OPENING:
            depth += 1
            if depth > max_depth:
                raise UnsafeJson(f"JSON nested deeper than {max_depth} levels")
        elif first in _CLOSING:
            depth -= 1
        elif len(token) > max_digits:
            raise UnsafeJson(f"a number longer than {max_digits} digits")


def loads_bounded(raw: bytes | str, *, max_depth: int = MAX_JSON_DEPTH, max_digits: int = MAX_JSON_DIGITS) -> Any:
    """Parse UTF-8 JSON after `check_json_shape`.

    Raises:
        UnsafeJson: not UTF-8, not JSON, or a limit is broken.
    """
    try:
        text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
    except UnicodeDecodeError as exc:
        raise UnsafeJson("the body is not UTF-8") from exc
    check_json_shape(text, max_depth=max_depth, max_digits=max_digits)
    try:
        return json.loads(text)
    except ValueError as exc:  # JSONDecodeError, and the parser's own integer-length limit
        raise UnsafeJson("the body is not valid JSON") from exc


def declared_length(request: Request) -> int | None:
    """The request's ``Content-Length`` as a number, None when absent.

    Raises:
        InvalidPayload: present but not a plain ASCII number (``isdigit`` alone accepts «²»).
    """
    declared = request.headers.get("content-length")
    if declared is None:
        return None
    if not (declared.isascii() and declared.isdigit()) or len(declared) > 18:
        raise InvalidPayload("invalid Content-Length")
    return int(declared)


async def read_limited_body(request: Request, limit: int) -> bytes:
    """Read the body, refusing it (413) as soon as it passes ``limit`` bytes.

    Raises:
        InvalidPayload: a malformed ``Content-Length`` (400) or a body larger than ``limit`` (413).
    """
    declared = declared_length(request)
    if declared is not None and declared > limit:
        raise InvalidPayload(f"body larger than {limit} bytes", status_code=413)
    body = bytearray()
    async for chunk in request.stream():
        body.extend(chunk)
        if len(body) > limit:
            raise InvalidPayload(f"body larger than {limit} bytes", status_code=413)
    return bytes(body)
