"""The gateway's observability: a request id on every request and its log lines, and ``GET /metrics``.

The request id comes from the caller's ``X-Request-ID`` (when it is a short token) or is made here; it is
bound in structlog's context for every log line of the request, stored with the inbound message (so that a
Telegram or WhatsApp message processed later, or by another process, keeps it), sent to Rasa in the
message's metadata (the action server binds it for its own log lines) and returned in ``X-Request-ID``.
"""

from __future__ import annotations

import re
import secrets
import string
from collections.abc import Sequence
from datetime import datetime

import structlog
from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse, Response
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bot.metrics import CONTENT_TYPE, exposition, scrape_allowed
from bot.storage import backlog
from bot.storage.models import utcnow

REQUEST_ID_HEADER = "X-Request-ID"
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,100}$")  # anything else is replaced: it goes into every log line
log = structlog.get_logger(__name__)
_ID_SPACE = 26**24


def new_request_id() -> str:
    """24 lower-case letters (112 bits): no run of digits, which the logs would mask as a possible cédula.

    One draw from the system's random source, written in base 26 (a draw per letter was 24 system calls)."""
    number = secrets.randbelow(_ID_SPACE)
    letters = []
    for _ in range(24):
        number, digit = divmod(number, 26)
        letters.append(string.ascii_lowercase[digit])
    return "".join(letters)


def current_request_id() -> str:
    """The request id bound for this request or task; a new one where none is (Telegram long polling)."""
    value = structlog.contextvars.get_contextvars().get("request_id")
    return value if isinstance(value, str) else new_request_id()


class RequestId:
    """ASGI middleware: bind the request id for the request's log lines and return it in the answer."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = next((v for k, v in scope["headers"] if k == b"x-request-id"), b"").decode("latin-1")
        request_id = given if _REQUEST_ID.match(given) else new_request_id()

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message)[REQUEST_ID_HEADER] = request_id
            await send(message)

        with structlog.contextvars.bound_contextvars(request_id=request_id):
            await self.app(scope, receive, send_with_id)


def build_router() -> APIRouter:
    router = APIRouter()

    @router.get("/metrics", include_in_schema=False)
    async def metrics(request: Request) -> Response:
        gateway = request.app.state.gateway
        peer = request.client.host if request.client else None
        if not scrape_allowed(peer=peer, headers=request.headers, token=gateway.settings.metrics_token):
            return PlainTextResponse("forbidden\n", status_code=403)
        asynchronous = [c for c in gateway.channels.codes() if gateway.channels.get(c).asynchronous]
        families = await database_families(gateway.sessions, channels=asynchronous)
        return Response(exposition(families), media_type=CONTENT_TYPE, headers={"Cache-Control": "no-store"})

    return router


async def database_families(
    sessions: async_sessionmaker[AsyncSession], *, channels: Sequence[str] = ()
) -> list[Metric]:
    """Backlogs read from the database for one scrape (every gateway replica reports the same numbers)."""
    up = GaugeMetricFamily("chasqui_metrics_database_up", "1 when the backlog figures below could be read.")
    try:
        async with sessions() as session:
            outbox = await backlog.outbox_backlog(session=session)
            inbound = await backlog.inbound_backlog(session=session)
            queue = await backlog.handoff_queue(session=session)
    except Exception as exc:  # a scrape must still answer with the process's own figures
        log.warning("metrics.database_unavailable", error=type(exc).__name__)
        up.add_metric([], 0)
        return [up]
    up.add_metric([], 1)
    now = utcnow()

    def age(oldest: datetime | None) -> float:
        return max(0.0, (now - oldest).total_seconds()) if oldest is not None else 0.0

    outbox_size = GaugeMetricFamily(
        "chasqui_outbox_backlog", "Outbox messages not sent yet, by channel and status.", labels=["channel", "status"]
    )
    outbox_age = GaugeMetricFamily(
        "chasqui_outbox_oldest_pending_seconds", "Age of the oldest unsent outbox message.", labels=["channel"]
    )
    counts = {(channel, status): 0 for channel in channels for status in ("pending", "sending")}
    oldest: dict[str, float] = dict.fromkeys(channels, 0.0)
    for row in outbox:
        counts[(row.key[0], row.key[1])] = row.count
        oldest[row.key[0]] = max(oldest.get(row.key[0], 0.0), age(row.oldest))
    for (channel, status), count in sorted(counts.items()):
        outbox_size.add_metric([channel, status], count)
    for channel, seconds in sorted(oldest.items()):
        outbox_age.add_metric([channel], seconds)

    inbound_size = GaugeMetricFamily(
        "chasqui_inbound_unanswered",
        "Inbound messages stored and not answered yet (received; failed while Rasa was down).",
        labels=["status"],
    )
    waiting = {"received": 0, "failed": 0} | {row.key[0]: row.count for row in inbound}
    for status, count in sorted(waiting.items()):
        inbound_size.add_metric([status], count)
    inbound_age = GaugeMetricFamily(
        "chasqui_inbound_oldest_unanswered_seconds", "Age of the oldest inbound message not answered yet."
    )
    inbound_age.add_metric([], max((age(row.oldest) for row in inbound), default=0.0))

    queue_size = GaugeMetricFamily(
        "chasqui_handoff_queue_size", "Conversations waiting for a person, by team.", labels=["team"]
    )
    queue_age = GaugeMetricFamily(
        "chasqui_handoff_oldest_waiting_seconds", "How long the first in each team's queue has waited.", labels=["team"]
    )
    for row in queue:
        queue_size.add_metric([row.key[0]], row.count)
        queue_age.add_metric([row.key[0]], age(row.oldest))
    return [up, outbox_size, outbox_age, inbound_size, inbound_age, queue_size, queue_age]
