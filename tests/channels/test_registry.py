"""The one list of channel types, their capabilities, and that nothing outside bot/channels names a channel."""

from __future__ import annotations

import ast
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.channels.registry import CHANNELS, abroad_codes, check_codes
from bot.channels.telegram.adapter import TelegramAdapter
from bot.channels.web.adapter import WebAdapter
from bot.channels.whatsapp.adapter import WhatsAppAdapter

BOT = Path(__file__).resolve().parents[2] / "bot"
# Strings that look like a channel code but are not one, with why.
NOT_A_CHANNEL = {
    ("conversations/consent.py", "web"): "the notice's {web} placeholder: the web chat's address",
}


def test_every_channel_type_is_listed_once_with_its_capabilities() -> None:
    assert [(c.code, c.adapter) for c in CHANNELS] == [
        ("web", WebAdapter),
        ("tg", TelegramAdapter),
        ("wa", WhatsAppAdapter),
    ]
    capabilities = {
        c.code: (c.adapter.session_window, c.adapter.transfers_abroad, c.adapter.max_buttons, c.adapter.asynchronous)
        for c in CHANNELS
    }
    assert capabilities == {
        "web": (None, False, None, False),
        "tg": (None, True, 100, True),
        "wa": (timedelta(hours=24), True, 3, True),
    }
    readable = frozenset({"application/pdf", "image/png", "image/jpeg"})
    assert {c.code: c.adapter.media_kinds for c in CHANNELS} == {"web": readable, "tg": readable, "wa": readable}
    assert abroad_codes() == frozenset({"tg", "wa"})


def test_two_channel_types_with_one_code_are_refused() -> None:
    web = CHANNELS[0]
    with pytest.raises(ValueError, match="registered twice: \\['web'\\]"):
        check_codes((web, *CHANNELS))


def test_the_session_window_allows_free_text_only_within_it() -> None:
    now = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
    whatsapp = WhatsAppAdapter.__new__(WhatsAppAdapter)  # no client needed: the window is the class's
    telegram = TelegramAdapter(bot=None)  # type: ignore[arg-type]
    assert whatsapp.within_window(now - timedelta(hours=23, minutes=59), now) is True
    assert whatsapp.within_window(now - timedelta(hours=24), now) is False
    assert whatsapp.within_window(None, now) is False
    assert telegram.within_window(None, now) is True


def _channel_names(tree: ast.AST, codes: set[str], classes: set[str]) -> list[tuple[int, str]]:
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            value = node.value
            if value in codes or any(value.startswith(f"{code}:") for code in codes):
                found.append((node.lineno, value))
        elif isinstance(node, ast.Name) and node.id in classes:
            found.append((node.lineno, node.id))
        elif isinstance(node, ast.alias) and node.name.split(".")[-1] in classes:
            found.append((node.lineno, node.name))
    return found


def test_nothing_outside_bot_channels_names_a_channel() -> None:
    """Codes ("tg", "wa:…") and adapter classes only in bot/channels; modules elsewhere read capabilities.

    Imports of the channel packages, python-telegram-bot and twilio are checked by import-linter
    (pyproject.toml: «Only bot.channels names a channel»).
    """
    codes = {c.code for c in CHANNELS}
    classes = {c.adapter.__name__ for c in CHANNELS}
    named = []
    for path in sorted(BOT.rglob("*.py")):
        relative = path.relative_to(BOT).as_posix()
        if relative.startswith("channels/"):
            continue
        for line, name in _channel_names(ast.parse(path.read_text(encoding="utf-8")), codes, classes):
            if (relative, name) not in NOT_A_CHANNEL:
                named.append(f"bot/{relative}:{line} {name!r}")
    assert named == []


def test_the_scan_finds_a_channel_named_outside() -> None:
    """The scan above is not blind: a code, a conversation id and an adapter class are each found."""
    source = 'from bot.channels.telegram.adapter import TelegramAdapter\nif c == "wa": x = f"tg:{n}"\n'
    found = _channel_names(ast.parse(source), {"tg", "wa", "web"}, {"TelegramAdapter"})
    assert sorted(found) == [(1, "TelegramAdapter"), (2, "tg:"), (2, "wa")]
