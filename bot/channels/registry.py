"""The one list of channel types; the gateway builds, serves and starts channels only through it."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter

from bot.channels.base import ChannelAdapter, ChannelRegistry
from bot.channels.setup import ChannelContext, ChannelHost, ChannelType, HostOf
from bot.channels.telegram.setup import CHANNEL as TELEGRAM
from bot.channels.web.setup import CHANNEL as WEB
from bot.channels.whatsapp.setup import CHANNEL as WHATSAPP
from bot.settings import Settings

__all__ = ["CHANNELS", "TELEGRAM", "WEB", "WHATSAPP"]

CHANNELS: tuple[ChannelType, ...] = (WEB, TELEGRAM, WHATSAPP)


def check_codes(channels: tuple[ChannelType, ...]) -> None:
    """Refuse two channel types with one code (a conversation id names its channel by it)."""
    codes = [channel.code for channel in channels]
    repeated = sorted({code for code in codes if codes.count(code) > 1})
    if repeated:
        raise ValueError(f"channel codes registered twice: {repeated}")


def abroad_codes(channels: tuple[ChannelType, ...] = CHANNELS) -> frozenset[str]:
    """The channels whose provider keeps messages abroad (configured or not: old conversations count too)."""
    return frozenset(channel.code for channel in channels if channel.adapter.transfers_abroad)


async def build_channels(context: ChannelContext, channels: tuple[ChannelType, ...] = CHANNELS) -> ChannelRegistry:
    """The adapters of the configured channels."""
    check_codes(channels)
    registry = ChannelRegistry()
    for channel in channels:
        adapter = await channel.build(context)
        if adapter is not None:
            registry.register(adapter)
    return registry


def routers(host_of: HostOf, channels: tuple[ChannelType, ...] = CHANNELS) -> list[APIRouter]:
    """Every channel's webhook routes (a route of a channel that is not configured answers 403)."""
    return [channel.routes(host_of) for channel in channels if channel.routes is not None]


async def start_channels(
    registry: ChannelRegistry, host: ChannelHost, channels: tuple[ChannelType, ...] = CHANNELS
) -> list[asyncio.Task[None]]:
    """Start what the configured channels run beside the gateway (webhook registration, polling)."""
    tasks: list[asyncio.Task[None]] = []
    for channel in channels:
        adapter: ChannelAdapter | None = registry.find(channel.code)
        if adapter is not None and channel.start is not None:
            task = await channel.start(adapter, host)
            if task is not None:
                tasks.append(task)
    return tasks


def process_problems(settings: Settings, channels: tuple[ChannelType, ...] = CHANNELS) -> list[str]:
    """What the channels need when several gateway processes serve them."""
    return [problem for channel in channels if channel.problems is not None for problem in channel.problems(settings)]
