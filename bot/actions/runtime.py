"""What actions share in one action-server process, built once on first use from the settings.

rasa-sdk offers no start-up hook, so the first action that needs a service builds all of them (inside
the server's event loop, never at import time). Tests replace them with `use_services`.
"""

from __future__ import annotations

import asyncio
from functools import lru_cache
from typing import Any

from rasa_sdk.executor import CollectingDispatcher

from bot.services import Servicios, build_servicios
from bot.settings import load_settings
from bot.texts import Textos, load_textos

_services: Servicios | None = None
_lock = asyncio.Lock()


async def services() -> Servicios:
    """The process's services, built on first use."""
    global _services
    if _services is None:
        async with _lock:
            if _services is None:
                _services = await build_servicios(load_settings())
    return _services


def use_services(services: Servicios | None) -> None:
    """Install (or clear) the services, for tests."""
    global _services
    _services = services


@lru_cache(maxsize=1)
def textos() -> Textos:
    """The action-side templates (`dialogs/textos`), loaded once per process."""
    return load_textos(load_settings().textos_dir)


def say(dispatcher: CollectingDispatcher, key: str, /, **values: Any) -> None:
    """Utter the template ``key``; the template name travels along for analytics and tests."""
    message = textos().render(key, **values).as_message()
    dispatcher.utter_message(text=message["text"], buttons=message.get("buttons", []), plantilla=key)
