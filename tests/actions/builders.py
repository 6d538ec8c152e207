"""Small builders of rasa-sdk trackers and Rasa events for action tests (no mocks)."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker


def user(text: str, intent: str, confidence: float = 0.9) -> dict[str, Any]:
    return {
        "event": "user",
        "text": text,
        "parse_data": {"intent": {"name": intent, "confidence": confidence}, "entities": [], "text": text},
    }


def bot(text: str) -> dict[str, Any]:
    return {"event": "bot", "text": text}


def action(name: str) -> dict[str, Any]:
    return {"event": "action", "name": name}


def tracker(
    *events: dict[str, Any],
    slots: dict[str, Any] | None = None,
    active_loop: str | None = None,
    sender_id: str = "web:prueba",
) -> Tracker:
    latest = next((e for e in reversed(events) if e["event"] == "user"), None)
    return Tracker(
        sender_id=sender_id,
        slots=slots or {},
        latest_message=(latest or {}).get("parse_data", {}),
        events=list(events),
        paused=False,
        followup_action=None,
        active_loop={"name": active_loop} if active_loop else {},
        latest_action_name="action_listen",
    )
