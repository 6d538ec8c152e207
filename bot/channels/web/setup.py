"""The web channel's set-up: always on (the web chat, the terminal chat and the end-to-end tests use it)."""

from __future__ import annotations

from bot.channels.setup import ChannelContext, ChannelType
from bot.channels.web.adapter import WebAdapter
from bot.channels.web.webhook import build_router


async def build(context: ChannelContext) -> WebAdapter:
    return WebAdapter(max_text_length=context.settings.max_text_chars, max_attachment_bytes=context.max_upload_bytes)


CHANNEL = ChannelType(adapter=WebAdapter, build=build, routes=build_router)
