"""Rasa's input channel for Chasqui: the REST channel, but only for messages the gateway signed.

Loaded by Rasa (its own Python environment) from credentials.yml; never imported by the app. The secret comes
from the environment variable ``CHASQUI_RASA_CHANNEL_SECRET``; without it every message is refused.
"""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.rest import RestInput
from sanic import Blueprint, response
from sanic.request import Request

from integrations.rasa.signing import HEADER, verify


class SignedRestInput(RestInput):
    """``POST /webhooks/firmado/webhook``: Rasa's REST contract, after the gateway's signature is checked."""

    @classmethod
    def name(cls) -> str:
        return "firmado"

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        blueprint = super().blueprint(on_new_message)
        secret = os.environ.get("CHASQUI_RASA_CHANNEL_SECRET", "")

        @blueprint.middleware("request")
        async def signed_only(request: Request) -> Any:
            if request.method == "POST" and not verify(secret, request.body, request.headers.get(HEADER)):
                return response.json({"error": "firma inválida"}, status=403)
            return None

        return blueprint
