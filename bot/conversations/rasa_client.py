"""Client of Rasa's REST channel and HTTP API (Rasa listens on a private address only).

Exceptions::

    RasaError
     └── RasaUnavailable   connection refused, timeout, 5xx, model still loading
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import quote

import httpx

from bot import metrics
from bot.conversations.messages import BotMessage
from integrations.rasa.signing import HEADER, sign


class RasaError(Exception):
    """Base of the errors raised by `RasaClient`."""


class RasaUnavailable(RasaError):
    """Rasa cannot answer now (down, loading its model, overloaded)."""


WEBHOOK = "/webhooks/firmado/webhook"  # SignedRestInput (credentials.yml), Rasa's REST contract


class RasaClient:
    """Talks to one Rasa server through an injected `httpx.AsyncClient`.

    At most ``concurrency`` messages are with Rasa at once from this process (0: no limit); the others wait
    their turn here, first come first served, for up to ``queue_seconds`` (then `RasaUnavailable`: the
    apology, and the web chat sends the message again). Rasa handles the messages it holds by turns on one
    event loop, so a long one among many takes longest; served first come first served from here, the tail is
    shorter but Rasa overlaps less of its work with the action server's (the README's benchmark: p95 down,
    turns per second down too), and a burst waits here instead of taking every message to Rasa's timeout. The
    wait is the turn stage ``rasa_wait`` on ``/metrics``.
    """

    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        token: str = "",
        channel_secret: str = "",
        concurrency: int = 0,
        queue_seconds: float = 30.0,
    ) -> None:
        self._http = http
        # The citizen's messages go straight to ``http``'s transport when given (see `send`).
        self._transport = transport
        self._webhook = http.base_url.join(WEBHOOK)
        self._timeout = http.timeout.as_dict()
        self._token = token
        self._channel_secret = channel_secret  # signs every message (integrations/rasa/signing.py)
        self._slots = asyncio.Semaphore(concurrency) if concurrency > 0 else None
        self._queue_seconds = queue_seconds
        # Whether a Rasa replica is processing a message of the conversation now (its lock store's lock):
        # set by the gateway when Rasa's locks are in Redis (`bot.gateway.shared_state`).
        self.busy: Callable[[str], Awaitable[bool]] | None = None

    @metrics.timed("rasa")
    async def send(self, *, sender: str, message: str, metadata: dict[str, Any] | None = None) -> list[BotMessage]:
        """Send one user message through Rasa's signed input channel and return the bot's replies."""
        body: dict[str, Any] = {"sender": sender, "message": message}
        if metadata:
            body["metadata"] = metadata
        content = json.dumps(body, ensure_ascii=False).encode("utf-8")
        headers = {"Content-Type": "application/json", HEADER: sign(self._channel_secret, content)}
        async with self._slot():
            try:
                response = await self._post(content, headers)
            except httpx.TransportError as exc:
                raise RasaUnavailable(type(exc).__name__) from exc
        if response.status_code >= 500 or response.status_code in (404, 503):
            raise RasaUnavailable(f"HTTP {response.status_code}")
        response.raise_for_status()
        data = response.json()
        if not isinstance(data, list):
            raise RasaUnavailable("unexpected body")
        return [BotMessage.from_payload(item) for item in data if isinstance(item, dict)]

    async def _post(self, content: bytes, headers: dict[str, str]) -> httpx.Response:
        """POST a message to Rasa's channel. With the transport at hand the request goes to it directly: the client's
        layer (the URL merged again, default headers, cookies, authentication and redirect hooks, none of which
        this request uses) took about a third of the call's time in the gateway (py-spy), the pool and the
        connection being the same."""
        if self._transport is None:
            return await self._http.post(WEBHOOK, content=content, headers=headers)
        request = httpx.Request("POST", self._webhook, content=content, headers=headers)
        request.extensions = {"timeout": self._timeout}
        response = await self._transport.handle_async_request(request)
        response.request = request
        try:
            await response.aread()
        finally:
            await response.aclose()
        return response

    @asynccontextmanager
    async def _slot(self) -> AsyncIterator[None]:
        """One of the ``concurrency`` places with Rasa, waited for in arrival order (asyncio's semaphore)."""
        if self._slots is None:
            yield
            return
        try:
            with metrics.stage("rasa_wait"):
                async with asyncio.timeout(self._queue_seconds):
                    await self._slots.acquire()
        except TimeoutError as exc:
            raise RasaUnavailable("queue") from exc
        try:
            yield
        finally:
            self._slots.release()

    async def is_ready(self) -> bool:
        """True once Rasa answers `/status` with a loaded model."""
        try:
            response = await self._http.get("/status", params={"token": self._token} if self._token else None)
        except httpx.TransportError:
            return False
        if response.status_code != 200:
            return False
        return bool(response.json().get("model_file"))

    async def tracker(self, sender: str) -> dict[str, Any] | None:
        """The conversation's tracker without its events (slots, active form), for the staff console.

        Returns:
            Rasa's tracker JSON, or None when Rasa cannot answer now (the console then shows no slots).
        """
        params = {"include_events": "NONE"}
        if self._token:
            params["token"] = self._token
        try:
            # Rasa's router does not decode %3A: the colon of "web:…" must stay as it is.
            response = await self._http.get(f"/conversations/{quote(sender, safe=':+')}/tracker", params=params)
        except httpx.TransportError:
            return None
        if response.status_code != 200:
            return None
        try:
            data = response.json()
        except ValueError:
            return None
        return data if isinstance(data, dict) else None

    async def replies_to(self, sender: str, message_id: str) -> list[BotMessage] | None:
        """What Rasa answered to the message ``message_id`` (the id in its metadata), if it processed it; None if
        it never did. A retried turn asks this first: when a gateway died after Rasa answered and before the
        answer was stored, the retry reuses the answer instead of making Rasa process the message twice (a
        cédula given twice, a document issued twice). Rasa saves a message's events together once it has
        answered, so a message found here has all its replies.

        Raises:
            RasaUnavailable: Rasa cannot say now.
        """
        await self._wait_idle(sender)
        params = {"include_events": "ALL"}
        if self._token:
            params["token"] = self._token
        try:
            response = await self._http.get(f"/conversations/{quote(sender, safe=':+')}/tracker", params=params)
        except httpx.TransportError as exc:
            raise RasaUnavailable(type(exc).__name__) from exc
        if response.status_code == 404:
            return None  # no tracker to read (a Rasa without the HTTP API): nothing was answered that we can see
        if response.status_code != 200:
            raise RasaUnavailable(f"HTTP {response.status_code}")
        try:
            events = response.json().get("events") or []
        except (ValueError, AttributeError) as exc:
            raise RasaUnavailable("unexpected body") from exc
        replies: list[BotMessage] | None = None
        for event in events:
            if not isinstance(event, dict):
                continue
            if event.get("event") == "user":
                if replies is not None:
                    break  # the next message: its answer ended
                if (event.get("metadata") or {}).get("message_id") == message_id:
                    replies = []
            elif event.get("event") == "bot" and replies is not None:
                data = event.get("data") or {}
                payload = {"text": event.get("text")} | {
                    key: data[key] for key in ("buttons", "image", "attachment", "custom") if data.get(key)
                }
                replies.append(BotMessage.from_payload({k: v for k, v in payload.items() if v is not None}))
        return replies

    async def _wait_idle(self, sender: str, *, within: float = 25.0) -> None:
        """Wait while a Rasa replica still processes a message of ``sender`` (the earlier attempt of a retried
        turn, whose gateway died): its answer is saved when its lock is released. Bounded by ``within``, longer
        than the life of a lock a dead replica leaves (`bot.cli.stack.RASA_LOCK_SECONDS`)."""
        if self.busy is None:
            return
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            if not await self.busy(sender):
                return
            await asyncio.sleep(0.1)  # polling another process's lock: no event to wait on here

    async def active_loop(self, sender: str) -> str | None:
        """The form the conversation is in (a question is pending), or None; None too when Rasa cannot say."""
        tracker = await self.tracker(sender)
        loop = (tracker or {}).get("active_loop") or {}
        name = loop.get("name") if isinstance(loop, dict) else None
        return str(name) if name else None

    async def parse(self, text: str) -> tuple[str, float] | None:
        """The NLU's reading of ``text`` (intent and confidence) without touching any conversation.

        Returns:
            None when Rasa cannot answer now (callers then fall back on what they can read themselves).
        """
        params = {"token": self._token} if self._token else None
        try:
            response = await self._http.post("/model/parse", json={"text": text}, params=params)
        except httpx.TransportError:
            return None
        if response.status_code != 200:
            return None
        try:
            intent = (response.json().get("intent") or {}) if isinstance(response.json(), dict) else {}
        except ValueError:
            return None
        name = intent.get("name")
        return (str(name), float(intent.get("confidence") or 0.0)) if name else None
