"""Building and starting the Telegram and WhatsApp adapters from the settings (only when configured)."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Callable
from contextlib import AsyncExitStack
from typing import TYPE_CHECKING, Any

import httpx
import structlog
from telegram import Bot, BotCommand
from telegram.error import TelegramError
from telegram.request import HTTPXRequest
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.rest import Client

from bot.channels.base import DeliveryError
from bot.channels.telegram.adapter import COMMANDS, TelegramAdapter
from bot.channels.whatsapp.adapter import WhatsAppAdapter
from bot.documents.errors import DocumentNotFound, DocumentRevoked, StoreUnavailable
from bot.documents.runtime import Documents
from bot.settings import Settings
from bot.texts import Textos

if TYPE_CHECKING:
    from bot.gateway.app import Gateway

log = structlog.get_logger(__name__)
POLL_TIMEOUT_SECONDS = 25


async def media_client(stack: AsyncExitStack) -> httpx.AsyncClient:
    """The HTTP client that downloads files citizens send (closed with the gateway)."""
    client = httpx.AsyncClient(timeout=httpx.Timeout(20.0, connect=5.0), max_redirects=3)
    return await stack.enter_async_context(client)


def telegram_file_url(api_url: str) -> str:
    """The Bot API's file URL beside its method URL: ``…/bot`` → ``…/file/bot`` (a fake's too)."""
    base = api_url.rstrip("/")
    return base[: -len("/bot")] + "/file/bot" if base.endswith("/bot") else "https://api.telegram.org/file/bot"


class DocumentFiles:
    """A delivered document's bytes, read from the document store (Telegram uploads the file itself)."""

    def __init__(self, documents: Documents) -> None:
        self._documents = documents

    async def content(self, document: dict[str, Any]) -> tuple[bytes, str]:
        """The file's bytes and name.

        Raises:
            DeliveryError: transient while the object storage is down (the outbox retries); permanent when the
                document is gone (erased at the citizen's request) or revoked.
        """
        filename = str(document["filename"])
        try:
            stored = await self._documents.issuer.fetch(str(document["id"]), filename)
        except StoreUnavailable as exc:
            raise DeliveryError("document store unavailable", permanent=False) from exc
        except (DocumentNotFound, DocumentRevoked) as exc:
            raise DeliveryError(f"document {type(exc).__name__}", permanent=True) from exc
        return stored.data, filename


async def telegram_adapter(settings: Settings, stack: AsyncExitStack, documents: Documents) -> TelegramAdapter | None:
    if not settings.telegram_token:
        return None
    bot = Bot(
        settings.telegram_token,
        base_url=settings.telegram_api_url,
        base_file_url=telegram_file_url(settings.telegram_api_url),
        request=HTTPXRequest(connection_pool_size=32, read_timeout=15.0),
        get_updates_request=HTTPXRequest(read_timeout=POLL_TIMEOUT_SECONDS + 10.0),
    )
    await stack.enter_async_context(bot)
    return TelegramAdapter(bot, documents=DocumentFiles(documents), http=await media_client(stack))


async def whatsapp_adapter(
    settings: Settings,
    textos: Textos,
    stack: AsyncExitStack,
    documents: Documents,
    *,
    pseudonym: Callable[[str, str], str],
) -> WhatsAppAdapter | None:
    if not (settings.twilio_account_sid and settings.twilio_auth_token and settings.twilio_whatsapp_from):
        return None
    http_client = AsyncTwilioHttpClient(timeout=15.0)
    stack.push_async_callback(http_client.close)
    client = Client(settings.twilio_account_sid, settings.twilio_auth_token, http_client=http_client)
    client.api.base_url = settings.twilio_api_url.rstrip("/")

    def numbered(titles: list[str]) -> str:
        options = "\n".join(f"{number}. {title}" for number, title in enumerate(titles, start=1))
        return textos.render("opciones_numeradas", opciones=options).text

    return WhatsAppAdapter(
        client,
        auth_token=settings.twilio_auth_token,
        sender=settings.twilio_whatsapp_from,
        status_callback_url=f"{settings.effective_public_base_url}/webhooks/whatsapp/estado",
        quick_reply_templates=settings.whatsapp_quick_replies,
        numbered_options_text=numbered,
        # Twilio fetches media later: a fresh short-lived signed link, not the one made at issue time.
        pseudonym=lambda number: pseudonym("wa", number),
        media_url=lambda document: documents.issuer.download_url(
            str(document["id"]), str(document["filename"]), minutes=30
        ),
        http=await media_client(stack),
        account_sid=settings.twilio_account_sid,
        api_base_url=settings.twilio_api_url,
    )


async def start_telegram(settings: Settings, gateway: Gateway, adapter: TelegramAdapter) -> asyncio.Task[None]:
    """Publish the commands menu, then register the webhook or start long polling."""
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
            allowed_updates=["message", "callback_query"],
        )
        log.info("telegram.webhook_set")
        return asyncio.create_task(asyncio.sleep(0), name="telegram-webhook")
    await bot.delete_webhook(drop_pending_updates=False)
    log.info("telegram.polling")
    return asyncio.create_task(_poll(gateway, adapter), name="telegram-polling")


async def _poll(gateway: Gateway, adapter: TelegramAdapter) -> None:
    """Long polling for a bot with only a token: the same path as the webhook after `getUpdates`."""
    offset: int | None = None
    failures = 0
    while True:
        try:
            updates = await adapter.bot.get_updates(
                offset=offset, timeout=POLL_TIMEOUT_SECONDS, allowed_updates=["message", "callback_query"]
            )
            failures = 0
        except TelegramError as exc:
            failures += 1
            log.warning("telegram.poll_failed", error=str(exc))
            await asyncio.sleep(min(60, 2**failures))
            continue
        for update in updates:
            try:
                await gateway.receive(adapter, update.to_dict())
            except Exception:
                log.exception("telegram.update_failed")
            offset = update.update_id + 1
