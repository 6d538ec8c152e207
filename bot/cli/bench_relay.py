"""The least a second hop in front of Rasa costs: `chasqui bench-conversacion`'s third side.

A bare relay (uvicorn, one Starlette route, one httpx client with keep-alive, as the gateway has them) that
passes the web chat's body to Rasa's signed channel and Rasa's answer back, storing nothing and checking
nothing. Measured in the same run as the gateway and Rasa direct, its ratio to Rasa direct is the floor of
any design that puts a process between the citizen and Rasa; what the gateway adds over it is its own work
(storing the message and the answer, the vault, consent, the turn's lock).

Run by the benchmark as ``python -m uvicorn bot.cli.bench_relay:app`` with ``CHASQUI_RELAY_UPSTREAM`` (Rasa's
address) and ``CHASQUI_RELAY_SECRET`` (the channel's secret) in its environment.
"""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bot.channels.registry import WEB
from integrations.rasa.signing import HEADER, sign

RASA_WEBHOOK = "/webhooks/firmado/webhook"
PATH = "/webhooks/rest/webhook"  # the web channel's path, as the benchmark's gateway side sends it


@asynccontextmanager
async def _lifespan(app: Starlette) -> AsyncIterator[None]:
    async with httpx.AsyncClient(
        base_url=os.environ["CHASQUI_RELAY_UPSTREAM"], timeout=httpx.Timeout(30.0, connect=3.0)
    ) as http:
        app.state.http = http
        app.state.secret = os.environ.get("CHASQUI_RELAY_SECRET", "")
        yield


async def _relay(request: Request) -> Response:
    """The web chat's body to Rasa, with the sender the gateway would give it (the web channel's code and the chat's
    id)."""
    body = json.loads(await request.body())
    sender = f"{WEB.code}:{body['sender']}"
    content = json.dumps({"sender": sender, "message": body["message"]}, ensure_ascii=False).encode("utf-8")
    headers = {"Content-Type": "application/json", HEADER: sign(request.app.state.secret, content)}
    try:
        answer = await request.app.state.http.post(RASA_WEBHOOK, content=content, headers=headers)
    except httpx.TransportError:
        return JSONResponse({"detail": "Rasa no responde"}, status_code=503)
    return Response(answer.content, status_code=answer.status_code, media_type="application/json")


async def _ready(request: Request) -> Response:
    return JSONResponse({"ok": True})


app = Starlette(routes=[Route(PATH, _relay, methods=["POST"]), Route("/listo", _ready)], lifespan=_lifespan)
