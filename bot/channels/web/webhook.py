"""The web channel's routes: a message answered in the response (Rasa's REST shape), and polled news."""

from __future__ import annotations

import re
from typing import Annotated, Any, cast

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, Response

from bot.channels.base import InvalidPayload
from bot.channels.setup import HostOf
from bot.channels.web.adapter import WebAdapter

_WEB_SENDER = re.compile(r"^[A-Za-z0-9_.@-]{1,100}$")
MAX_SAFE_INTEGER = 2**53  # the web chat keeps ``despues`` in a JavaScript number
# The web channel's body, for the OpenAPI description (the route reads and checks the raw body itself).
WEB_MESSAGE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["sender", "message"],
    "properties": {
        "sender": {"type": "string", "pattern": "^(web:)?[A-Za-z0-9_.@-]{1,100}$"},
        "message": {"type": "string", "minLength": 1, "maxLength": 2000},
        "metadata": {
            "type": "object",
            "properties": {"message_id": {"type": "string", "pattern": "^[A-Za-z0-9_.:-]{1,100}$"}},
        },
        "attachment": {  # a photo or PDF to verify; ``message`` may then be ""
            "type": "object",
            "required": ["filename", "content_type", "data"],
            "properties": {
                "filename": {"type": "string", "minLength": 1, "maxLength": 255},
                "content_type": {"type": "string", "enum": ["image/jpeg", "image/png", "application/pdf"]},
                "data": {"type": "string", "contentEncoding": "base64"},
            },
        },
    },
}


def build_router(host_of: HostOf) -> APIRouter:
    router = APIRouter()

    @router.post(
        "/webhooks/rest/webhook",
        openapi_extra={
            "requestBody": {"required": True, "content": {"application/json": {"schema": WEB_MESSAGE_SCHEMA}}}
        },
    )
    async def web_channel(request: Request) -> Response:
        host = host_of(request)
        adapter = cast(WebAdapter, host.adapter(WebAdapter.code))  # always configured
        max_text_body = host.settings.max_body_bytes
        # A photo or PDF may ride along (base64): the body may then be larger than a text message's.
        raw = await host.read_body(request, max(max_text_body, adapter.max_body_bytes))
        payload = host.load_json(raw)
        if isinstance(payload, dict) and "attachment" not in payload and len(raw) > max_text_body:
            raise InvalidPayload(f"body larger than {max_text_body} bytes", status_code=413)
        answer = await host.answer(request, adapter.parse(payload))
        body = adapter.render(str(payload["sender"]), answer.replies)
        status = 503 if answer.unavailable else 200
        headers = {"Retry-After": "10"} if status == 503 else None
        return JSONResponse(body, status_code=status, headers=headers)

    @router.get("/webhooks/rest/mensajes")
    async def web_channel_news(
        request: Request,
        sender: Annotated[str, Query(max_length=104)],
        despues: Annotated[int, Query(ge=0, le=MAX_SAFE_INTEGER)] = 0,
    ) -> JSONResponse:
        """The web chat polls here for messages nobody asked for: a person's replies, handoff notices.

        The REST channel's shape, plus ``id`` (the next ``despues``) and ``autor`` (``agente`` or ``sistema``).
        """
        user = sender.removeprefix(f"{WebAdapter.code}:")
        if not _WEB_SENDER.match(user):
            return JSONResponse({"detail": "'sender' must be 1-100 letters, digits or _.@-"}, status_code=422)
        news = await host_of(request).proactive(f"{WebAdapter.code}:{user}", after_id=despues)
        body = [{"recipient_id": sender, **message} for message in news]
        return JSONResponse(body, headers={"Cache-Control": "no-store"})

    return router
