"""What actions share in one action-server process, built on first use from the settings."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from rasa_sdk.executor import CollectingDispatcher

from bot.settings import load_settings
from bot.textos import Textos, load_textos


@lru_cache(maxsize=1)
def textos() -> Textos:
    """The action-side templates (`dialogs/textos`), loaded once per process."""
    return load_textos(load_settings().textos_dir)


def say(dispatcher: CollectingDispatcher, key: str, /, **values: Any) -> None:
    """Utter the template ``key``; the template name travels along for analytics and tests."""
    message = textos().render(key, **values).as_message()
    dispatcher.utter_message(text=message["text"], buttons=message.get("buttons", []), plantilla=key)
