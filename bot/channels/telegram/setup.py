"""Telegram's set-up: the Bot API client from the settings, the commands menu, and the webhook or polling."""

from __future__ import annotations

import asyncio
import secrets

import structlog
from telegram import Bot, BotCommand
from telegram.error import TelegramError
from telegram.request import HTTPXRequest

from bot.channels.setup import ChannelContext, ChannelHost, ChannelType
from bot.channels.telegram.adapter import COMMANDS, TelegramAdapter
from bot.channels.telegram.webhook import build_router
from bot.settings import Settings

log = structlog.get_logger(__name__)
POLL_TIMEOUT_SECONDS = 25
ALLOWED_UPDATES = ["message", "callback_query"]


def file_url(api_url: str) -> str:
    """The Bot API's file URL beside its method URL: ``…/bot`` → ``…/file/bot`` (a fake's too)."""
    base = api_url.rstrip("/")
    return base[: -len("/bot")] + "/file/bot" if base.endswith("/bot") else "https://api.telegram.org/file/bot"


async def build(context: ChannelContext) -> TelegramAdapter | None:
    """The adapter when a bot token is configured."""
    settings = context.settings
    if not settings.telegram_token:
        return None
    bot = Bot(
        settings.telegram_token,
        base_url=settings.telegram_api_url,
        base_file_url=file_url(settings.telegram_api_url),
        request=HTTPXRequest(connection_pool_size=32, read_timeout=15.0),
        get_updates_request=HTTPXRequest(read_timeout=POLL_TIMEOUT_SECONDS + 10.0),
    )
    await context.stack.enter_async_context(bot)
    return TelegramAdapter(bot, documents=context.document_content, http=await context.media_client())


async def start(adapter: TelegramAdapter, host: ChannelHost) -> asyncio.Task[None]:
    """Publish the commands menu, then register the webhook or start long polling."""
    settings = host.settings
    bot = adapter.bot
    try:
        await bot.set_my_commands([BotCommand(name, name) for name in COMMANDS])
    except TelegramError as exc:
        log.warning("telegram.commands_not_set", error=str(exc))
    if settings.telegram_webhook_mode:
        if not settings.telegram_secret_token:
            settings.telegram_secret_token = secrets.token_urlsafe(32)
        await bot.set_webhook(
            url=f"{settings.effective_public_base_url}/webhooks/telegram",
            secret_token=settings.telegram_secret_token,
            allowed_updates=ALLOWED_UPDATES,
        )
        log.info("telegram.webhook_set")
        return asyncio.create_task(asyncio.sleep(0), name="telegram-webhook")
    await bot.delete_webhook(drop_pending_updates=False)
    log.info("telegram.polling")
    return asyncio.create_task(poll(host, adapter), name="telegram-polling")


async def poll(host: ChannelHost, adapter: TelegramAdapter) -> None:
    """Long polling for a bot with only a token: the same path as the webhook after `getUpdates`."""
    offset: int | None = None
    failures = 0
    while True:
        try:
            updates = await adapter.bot.get_updates(
                offset=offset, timeout=POLL_TIMEOUT_SECONDS, allowed_updates=ALLOWED_UPDATES
            )
            failures = 0
        except TelegramError as exc:
            failures += 1
            log.warning("telegram.poll_failed", error=str(exc))
            await asyncio.sleep(min(60, 2**failures))
            continue
        for update in updates:
            try:
                await host.receive(adapter, update.to_dict())
            except Exception:
                log.exception("telegram.update_failed")
            offset = update.update_id + 1


def problems(settings: Settings) -> list[str]:
    """What several gateway processes need to share one bot."""
    if not settings.telegram_token:
        return []
    if settings.telegram_webhook_mode and not settings.telegram_secret_token:
        return [
            "CHASQUI_TELEGRAM_SECRET_TOKEN: sin él cada proceso inventa su secreto y registra su webhook; "
            "Telegram usaría solo el último y los demás procesos le responderían 403."
        ]
    if not settings.telegram_webhook_mode:
        return [
            "CHASQUI_TELEGRAM_MODE=webhook con CHASQUI_PUBLIC_BASE_URL en https: varios procesos no pueden "
            "pedir getUpdates a la vez (Telegram responde 409 a todos menos uno)."
        ]
    return []


CHANNEL = ChannelType(adapter=TelegramAdapter, build=build, routes=build_router, start=start, problems=problems)
