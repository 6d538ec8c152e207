"""What a channel type declares beside its adapter, and what the gateway lends it.

A channel type (RapidPro's ``temba/channels/types/<type>/``) says how its adapter is built from the
settings (None when the channel is not configured), which webhook routes it serves, what it starts with
the process (Telegram's polling) and which settings several gateway processes need. The gateway lends
each channel a `ChannelContext` at start-up and a `ChannelHost` per request: the channel never imports
the gateway, the storage or the conversations' router.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from contextlib import AsyncExitStack
from dataclasses import dataclass
from typing import Any, Protocol

import httpx
from fastapi import APIRouter, Request

from bot.channels.base import ChannelAdapter, DeliveryReceipt
from bot.conversations.messages import BotMessage, InboundMessage
from bot.settings import Settings
from bot.texts import Textos


@dataclass(frozen=True)
class ChannelContext:
    """What a channel's set-up may use, given once at start-up.

    Attributes:
        settings: the process settings.
        textos: the chat's templates (wording lives there, never in a channel).
        stack: closes the channel's clients when the gateway stops.
        document_content: a ``{"document": ...}`` payload's bytes and file name (raises `DeliveryError`).
        document_url: a fresh short-lived signed link to a ``{"document": ...}`` payload's file.
        pseudonym: ``(channel code, address)`` → the pseudonymous user id of the conversation.
        max_upload_bytes: the largest file a citizen may send (the /verificar page's limit).
    """

    settings: Settings
    textos: Textos
    stack: AsyncExitStack
    document_content: Callable[[dict[str, Any]], Awaitable[tuple[bytes, str]]]
    document_url: Callable[[dict[str, Any]], str]
    pseudonym: Callable[[str, str], str]
    max_upload_bytes: int

    async def media_client(self) -> httpx.AsyncClient:
        """An HTTP client that downloads files citizens send (closed with the gateway)."""
        client = httpx.AsyncClient(timeout=httpx.Timeout(20.0, connect=5.0), max_redirects=3)
        return await self.stack.enter_async_context(client)


@dataclass(frozen=True)
class WebAnswer:
    """The gateway's answer to a message of a synchronous channel."""

    replies: Sequence[BotMessage]
    unavailable: bool  # Rasa did not answer: the channel says «try again» with a 503


class ChannelHost(Protocol):
    """What a channel's webhook routes ask the gateway for."""

    @property
    def settings(self) -> Settings: ...

    def adapter(self, code: str) -> ChannelAdapter | None:
        """The configured adapter of channel ``code``; None when the channel is not configured."""

    async def read_body(self, request: Request, max_bytes: int) -> bytes:
        """The request's body, refused (413) past ``max_bytes``."""

    def load_json(self, raw: bytes) -> Any:
        """JSON parsed within the gateway's limits; raises `InvalidPayload`."""

    async def receive(self, adapter: ChannelAdapter, payload: Any) -> None:
        """An asynchronous channel's payload: convert, store (deduplicated) and schedule."""

    async def record_receipt(self, receipt: DeliveryReceipt) -> None:
        """A channel's report on a message it sent."""

    async def answer(self, request: Request, inbound: InboundMessage) -> WebAnswer:
        """A synchronous channel's message: the owner gate, Rasa or a person, and the replies."""

    async def proactive(self, conversation_id: str, *, after_id: int) -> list[dict[str, Any]]:
        """Messages nobody asked for (a person's replies, notices) after ``after_id``, in the REST shape."""


HostOf = Callable[[Request], ChannelHost]


@dataclass(frozen=True)
class ChannelType:
    """One channel type: its adapter class and how the gateway builds, serves and starts it.

    Attributes:
        adapter: the adapter class (its class attributes are the channel's capabilities).
        build: the adapter for these settings, or None when the channel is not configured.
        routes: the channel's webhook routes, given how a request finds the gateway.
        start: what runs beside the gateway once it has started (Telegram's long polling).
        problems: the settings several gateway processes need for this channel (Spanish, for the operator).
    """

    adapter: type[ChannelAdapter]
    build: Callable[[ChannelContext], Awaitable[ChannelAdapter | None]]
    routes: Callable[[HostOf], APIRouter] | None = None
    start: Callable[[Any, ChannelHost], Awaitable[asyncio.Task[None] | None]] | None = None
    problems: Callable[[Settings], list[str]] | None = None

    @property
    def code(self) -> str:
        return self.adapter.code
