"""WhatsApp's set-up: the Twilio client from the settings (only when an account and a sender are configured)."""

from __future__ import annotations

from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.rest import Client

from bot.channels.setup import ChannelContext, ChannelType
from bot.channels.whatsapp.adapter import WhatsAppAdapter
from bot.channels.whatsapp.webhook import STATUS_PATH, build_router


async def build(context: ChannelContext) -> WhatsAppAdapter | None:
    settings = context.settings
    if not (settings.twilio_account_sid and settings.twilio_auth_token and settings.twilio_whatsapp_from):
        return None
    http_client = AsyncTwilioHttpClient(timeout=15.0)
    context.stack.push_async_callback(http_client.close)
    client = Client(settings.twilio_account_sid, settings.twilio_auth_token, http_client=http_client)
    client.api.base_url = settings.twilio_api_url.rstrip("/")

    def numbered(titles: list[str]) -> str:
        options = "\n".join(f"{number}. {title}" for number, title in enumerate(titles, start=1))
        return context.textos.render("opciones_numeradas", opciones=options).text

    return WhatsAppAdapter(
        client,
        auth_token=settings.twilio_auth_token,
        sender=settings.twilio_whatsapp_from,
        status_callback_url=f"{settings.effective_public_base_url}{STATUS_PATH}",
        quick_reply_templates=settings.whatsapp_quick_replies,
        templates=settings.whatsapp_templates,
        numbered_options_text=numbered,
        pseudonym=lambda number: context.pseudonym(WhatsAppAdapter.code, number),
        # Twilio fetches media later: a fresh short-lived signed link, not the one made at issue time.
        media_url=context.document_url,
        http=await context.media_client(),
        account_sid=settings.twilio_account_sid,
        api_base_url=settings.twilio_api_url,
    )


CHANNEL = ChannelType(adapter=WhatsAppAdapter, build=build, routes=build_router)
