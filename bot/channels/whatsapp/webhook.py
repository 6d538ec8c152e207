"""WhatsApp's webhooks through Twilio: the signature first, then a message is stored or a status recorded."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl

import structlog
from fastapi import APIRouter, Request
from fastapi.responses import Response

from bot.channels.base import InvalidPayload
from bot.channels.setup import ChannelHost, HostOf
from bot.channels.whatsapp.adapter import WhatsAppAdapter

log = structlog.get_logger(__name__)
MESSAGE_PATH = "/webhooks/whatsapp"
STATUS_PATH = "/webhooks/whatsapp/estado"
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'
# For the OpenAPI description: Twilio's form posts.
TWILIO_FORM: dict[str, Any] = {
    "required": True,
    "content": {
        "application/x-www-form-urlencoded": {
            "schema": {
                "type": "object",
                "properties": {name: {"type": "string"} for name in ("From", "Body", "MessageSid", "MessageStatus")},
            }
        }
    },
}


def public_url(host: ChannelHost, request: Request) -> str:
    """The URL Twilio called, rebuilt from the configured public address (works behind proxies)."""
    query = request.url.query
    return host.settings.effective_public_base_url + request.url.path + (f"?{query}" if query else "")


async def signed_form(host: ChannelHost, request: Request) -> tuple[WhatsAppAdapter, Mapping[str, str]] | None:
    """The adapter and the form, when the channel is configured and Twilio's signature is right."""
    adapter = host.adapter(WhatsAppAdapter.code)
    if not isinstance(adapter, WhatsAppAdapter):
        return None
    raw = await host.read_body(request, host.settings.max_body_bytes)
    try:
        form = dict(parse_qsl(raw.decode("utf-8"), keep_blank_values=True, strict_parsing=False))
    except UnicodeDecodeError as exc:
        raise InvalidPayload("the form is not UTF-8") from exc
    if not adapter.is_authentic(public_url(host, request), form, request.headers.get("X-Twilio-Signature", "")):
        log.warning("whatsapp.bad_signature")
        return None
    return adapter, form


def build_router(host_of: HostOf) -> APIRouter:
    router = APIRouter()

    @router.post(MESSAGE_PATH, openapi_extra={"requestBody": TWILIO_FORM})
    async def whatsapp(request: Request) -> Response:
        host = host_of(request)
        signed = await signed_form(host, request)
        if signed is None:
            return Response(status_code=403)
        adapter, form = signed
        await host.receive(adapter, form)
        return Response(EMPTY_TWIML, media_type="text/xml")

    @router.post(STATUS_PATH, openapi_extra={"requestBody": TWILIO_FORM})
    async def whatsapp_status(request: Request) -> Response:
        host = host_of(request)
        signed = await signed_form(host, request)
        if signed is None:
            return Response(status_code=403)
        adapter, form = signed
        receipt = adapter.receipt(form)
        if receipt is not None:
            await host.record_receipt(receipt)
        return Response(status_code=204)

    return router
