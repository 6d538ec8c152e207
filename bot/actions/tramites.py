"""Pieces every trámite's actions share: delivering documents, reading a correction at confirmation."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

_NO = re.compile(r"^\s*(no|nop|nel|nada|todavia no|todavía no)\b[\s,.:;!-]*", re.IGNORECASE)
_LEAD = re.compile(r"^(es|el motivo es|mejor|más bien|mas bien|que)\s+", re.IGNORECASE)


def deliver_documents(dispatcher: CollectingDispatcher, payloads: Iterable[dict[str, Any]]) -> None:
    """Send the architecture's ``{"document": ...}`` payloads; the gateway turns them into files."""
    for payload in payloads:
        dispatcher.utter_message(json_message=payload)


_YES = re.compile(r"^\s*(s[ií]|claro|ok|dale|de una|correcto|confirmo|simon|simón|ya)\b", re.IGNORECASE)


def confirmation(value: Any) -> bool | None:
    """True, False, or None (unclear) for what the citizen answered at a summary."""
    if isinstance(value, bool):
        return value
    text = str(value or "")
    if _YES.match(text):
        return True
    if _NO.match(text):
        return False
    return None


def said_no_to_confirmation(tracker: Tracker) -> str:
    """What follows a "no" in the citizen's last message ("no, es para un viaje" → "para un viaje")."""
    text = str((tracker.latest_message or {}).get("text") or "")
    match = _NO.match(text)
    if match is None:
        return ""
    return _LEAD.sub("", text[match.end() :].strip()).strip()
