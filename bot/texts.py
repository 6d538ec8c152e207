"""Citizen-facing wording that does not come from Rasa's domain: `dialogs/textos/*.yml`.

Rasa rules utter the domain's responses; what custom actions and the gateway say lives in these
templates, so that no Spanish sentence sits in Python. Each entry has a ``text`` with
``{placeholders}`` and optional ``buttons`` (title + Rasa payload).
"""

from __future__ import annotations

import string
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml


class TextoError(Exception):
    """A template is missing, duplicated or asks for a value that was not given."""


@dataclass(frozen=True)
class Texto:
    key: str
    text: str
    buttons: tuple[tuple[str, str], ...] = ()

    def as_message(self) -> dict[str, Any]:
        message: dict[str, Any] = {"text": self.text}
        if self.buttons:
            message["buttons"] = [{"title": t, "payload": p} for t, p in self.buttons]
        return message


class Textos:
    """The loaded templates, keyed by name."""

    def __init__(self, entries: dict[str, dict[str, Any]]) -> None:
        self._entries = entries

    def keys(self) -> set[str]:
        return set(self._entries)

    def render(self, key: str, /, **values: Any) -> Texto:
        """Fill the template ``key`` with ``values``; a missing value is an error, never a blank."""
        entry = self._entries.get(key)
        if entry is None:
            raise TextoError(f"no template named {key!r}")
        try:
            text = str(entry["text"]).strip().format_map(values)
            buttons = tuple((str(b["title"]).format_map(values), str(b["payload"])) for b in entry.get("buttons") or ())
        except KeyError as exc:
            raise TextoError(f"template {key!r} needs a value for {exc}") from exc
        return Texto(key=key, text=text, buttons=buttons)

    def placeholders(self, key: str) -> set[str]:
        text = str(self._entries[key]["text"])
        return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def load_textos(directory: Path) -> Textos:
    """Read every ``*.yml`` under ``directory``; a key defined twice is an error."""
    entries: dict[str, dict[str, Any]] = {}
    for path in sorted(directory.glob("*.yml")):
        content = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for key, entry in (content.get("textos") or {}).items():
            if key in entries:
                raise TextoError(f"template {key!r} defined twice (again in {path.name})")
            if not isinstance(entry, dict) or "text" not in entry:
                raise TextoError(f"template {key!r} in {path.name} has no text")
            entries[key] = entry
    return Textos(entries)
