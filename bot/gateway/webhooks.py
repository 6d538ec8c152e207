"""Webhooks of the asynchronous channels: authenticity first, store, acknowledge at once, process later."""

from __future__ import annotations

import hmac
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

import structlog
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from bot.channels.base import InvalidPayload
from bot.gateway.limits import UnsafeJson, loads_bounded, read_limited_body
from bot.storage import outbox as outbox_repo
from bot.storage.models import OutboxStatus

if TYPE_CHECKING:
    from bot.gateway.app import Gateway

log = structlog.get_logger(__name__)
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'

# Twilio's MessageStatus values mapped to our delivery states (others are ignored).
TWILIO_STATUS = {
    "queued": OutboxStatus.SENDING,
    "accepted": OutboxStatus.SENDING,
    "sending": OutboxStatus.SENDING,
    "sent": OutboxStatus.SENT,
    "delivered": OutboxStatus.DELIVERED,
    "read": OutboxStatus.READ,
    "undelivered": OutboxStatus.FAILED,
    "failed": OutboxStatus.FAILED,
}


# For the OpenAPI description: a Telegram update (JSON) and Twilio's form posts.
TELEGRAM_UPDATE: dict[str, Any] = {"required": True, "content": {"application/json": {"schema": {"type": "object"}}}}
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


def public_url(gateway: Gateway, request: Request) -> str:
    """The URL Twilio called, rebuilt from the configured public address (works behind proxies)."""
    query = request.url.query
    return gateway.settings.effective_public_base_url + request.url.path + (f"?{query}" if query else "")


async def _form(gateway: Gateway, request: Request) -> dict[str, str]:
    raw = await read_limited_body(request, gateway.settings.max_body_bytes)
    try:
        pairs = parse_qsl(raw.decode("utf-8"), keep_blank_values=True, strict_parsing=False)
    except UnicodeDecodeError as exc:
        raise InvalidPayload("the form is not UTF-8") from exc
    return dict(pairs)


def build_router() -> APIRouter:
    router = APIRouter()

    @router.post("/webhooks/telegram", openapi_extra={"requestBody": TELEGRAM_UPDATE})
    async def telegram(request: Request) -> Response:
        gateway: Gateway = request.app.state.gateway
        adapter = gateway.telegram
        expected = gateway.settings.telegram_secret_token
        given = request.headers.get("X-Telegram-Bot-Api-Secret-Token", "")
        if adapter is None or not expected or not hmac.compare_digest(given.encode(), expected.encode()):
            return Response(status_code=403)
        raw = await read_limited_body(request, gateway.settings.max_body_bytes)
        try:
            payload = loads_bounded(raw)
        except UnsafeJson as exc:
            raise InvalidPayload(exc.reason) from exc
        await gateway.receive(adapter, payload)
        return JSONResponse({})

    @router.post("/webhooks/whatsapp", openapi_extra={"requestBody": TWILIO_FORM})
    async def whatsapp(request: Request) -> Response:
        gateway: Gateway = request.app.state.gateway
        adapter = gateway.whatsapp
        if adapter is None:
            return Response(status_code=403)
        form = await _form(gateway, request)
        signature = request.headers.get("X-Twilio-Signature", "")
        if not adapter.is_authentic(public_url(gateway, request), form, signature):
            log.warning("whatsapp.bad_signature")
            return Response(status_code=403)
        await gateway.receive(adapter, form)
        return Response(EMPTY_TWIML, media_type="text/xml")

    @router.post("/webhooks/whatsapp/estado", openapi_extra={"requestBody": TWILIO_FORM})
    async def whatsapp_status(request: Request) -> Response:
        gateway: Gateway = request.app.state.gateway
        adapter = gateway.whatsapp
        if adapter is None:
            return Response(status_code=403)
        form = await _form(gateway, request)
        if not adapter.is_authentic(public_url(gateway, request), form, request.headers.get("X-Twilio-Signature", "")):
            return Response(status_code=403)
        status = TWILIO_STATUS.get(form.get("MessageStatus", "").lower())
        sid = form.get("MessageSid", "")
        if status is None or not sid:
            return Response(status_code=204)
        async with gateway.sessions() as session:
            row = await outbox_repo.by_provider_id(session=session, provider_message_id=sid)
            if row is not None:
                error = form.get("ErrorCode") or None
                outbox_repo.advance_status(row, status, error=f"twilio {error}" if error else None)
                await session.commit()
        return Response(status_code=204)

    return router
