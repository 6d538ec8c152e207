"""Structured logging (structlog) with personal data masked before anything is written.

Conversation ids are pseudonymised too: a web chat's id is what lets a browser speak as that citizen, and a
Telegram or WhatsApp id identifies a person, so logs carry a keyed hash of them (``c_3f9a0c21b7``), the same in
every process that shares the key.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import sys
from collections.abc import MutableMapping
from typing import Any

import structlog

from bot.privacy.redaction import redact

CONVERSATION_KEYS = frozenset({"conversation", "conversation_id", "sender", "sender_id", "conversacion"})
_pseudonym_key: bytes = secrets.token_bytes(32)


def pseudonym(conversation_id: str) -> str:
    """The conversation id as logs show it."""
    return "c_" + hmac.new(_pseudonym_key, conversation_id.encode(), hashlib.sha256).hexdigest()[:10]


def _redact_processor(_: Any, __: str, event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    cleaned = {
        key: pseudonym(value) if key in CONVERSATION_KEYS and isinstance(value, str) else value
        for key, value in event_dict.items()
    }
    return redact(cleaned)  # type: ignore[no-any-return]


def configure_logging(*, level: str = "INFO", json: bool = False, pseudonym_key: bytes | None = None) -> None:
    """Configure structlog and the standard library logging once per process.

    Args:
        level: the least severe level written.
        json: one JSON object per line instead of the console format.
        pseudonym_key: the key of conversation pseudonyms (the settings' hash key, so that every process writes
            the same pseudonym); a random one per process without it.
    """
    global _pseudonym_key
    if pseudonym_key:
        _pseudonym_key = pseudonym_key
    renderer: Any = structlog.processors.JSONRenderer() if json else structlog.dev.ConsoleRenderer(colors=False)
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        # An exception becomes plain text here, before the masking: the console renderer's own (rich) tracebacks
        # print every frame's local variables, a citizen's tracker among them, after any processor could mask.
        structlog.processors.format_exc_info,
        _redact_processor,
    ]
    structlog.configure(
        processors=[*shared, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=True,
    )
    # Third-party libraries log through the standard library: mask those records too.
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
            foreign_pre_chain=shared,
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for noisy in ("httpx", "httpcore", "aiosqlite", "asyncio"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
