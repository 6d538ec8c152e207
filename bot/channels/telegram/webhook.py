"""Telegram's webhook: the secret-token header first, then the update is stored and acknowledged at once."""

from __future__ import annotations

import hmac
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from bot.channels.setup import HostOf
from bot.channels.telegram.adapter import TelegramAdapter

# For the OpenAPI description: a Telegram update (JSON).
TELEGRAM_UPDATE: dict[str, Any] = {"required": True, "content": {"application/json": {"schema": {"type": "object"}}}}


def build_router(host_of: HostOf) -> APIRouter:
    router = APIRouter()

    @router.post("/webhooks/telegram", openapi_extra={"requestBody": TELEGRAM_UPDATE})
    async def telegram(request: Request) -> Response:
        host = host_of(request)
        adapter = host.adapter(TelegramAdapter.code)
        expected = host.settings.telegram_secret_token
        given = request.headers.get("X-Telegram-Bot-Api-Secret-Token", "")
        if adapter is None or not expected or not hmac.compare_digest(given.encode(), expected.encode()):
            return Response(status_code=403)
        payload = host.load_json(await host.read_body(request, host.settings.max_body_bytes))
        await host.receive(adapter, payload)
        return JSONResponse({})

    return router
