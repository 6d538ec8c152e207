"""What the gateway lends the channels (bot/channels/): documents and pseudonyms at start-up, and per request
the body limits, the conversations' router, the outbox's delivery states and the web chat's news."""

from __future__ import annotations

from contextlib import AsyncExitStack
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from fastapi import Request

from bot.channels.base import ChannelAdapter, DeliveryError, DeliveryReceipt, InvalidPayload
from bot.channels.setup import ChannelContext, WebAnswer
from bot.conversations.messages import InboundMessage
from bot.conversations.router import Outcome
from bot.documents.errors import DocumentNotFound, DocumentRevoked, StoreUnavailable
from bot.documents.runtime import Documents
from bot.gateway.limits import UnsafeJson, loads_bounded, read_limited_body
from bot.gateway.observability import current_request_id
from bot.settings import Settings
from bot.storage import console as console_repo
from bot.storage import outbox as outbox_repo
from bot.storage.models import OutboxStatus
from bot.texts import Textos

if TYPE_CHECKING:
    from collections.abc import Callable

    from bot.gateway.app import Gateway


class DocumentFiles:
    """A delivered document's bytes, read from the document store (Telegram uploads the file itself)."""

    def __init__(self, documents: Documents) -> None:
        self._documents = documents

    async def content(self, document: dict[str, Any]) -> tuple[bytes, str]:
        """The file's bytes and name.

        Raises:
            DeliveryError: transient while the object storage is down (the outbox retries); permanent when the
                document is gone (erased at the citizen's request) or revoked.
        """
        filename = str(document["filename"])
        try:
            stored = await self._documents.issuer.fetch(str(document["id"]), filename)
        except StoreUnavailable as exc:
            raise DeliveryError("document store unavailable", permanent=False) from exc
        except (DocumentNotFound, DocumentRevoked) as exc:
            raise DeliveryError(f"document {type(exc).__name__}", permanent=True) from exc
        return stored.data, filename

    def link(self, document: dict[str, Any]) -> str:
        """A fresh short-lived signed link (for a channel that fetches the file later, e.g. Twilio media)."""
        return self._documents.issuer.download_url(str(document["id"]), str(document["filename"]), minutes=30)


def channel_context(
    settings: Settings,
    *,
    textos: Textos,
    stack: AsyncExitStack,
    documents: Documents,
    pseudonym: Callable[[str, str], str],
) -> ChannelContext:
    files = DocumentFiles(documents)
    return ChannelContext(
        settings=settings,
        textos=textos,
        stack=stack,
        document_content=files.content,
        document_url=files.link,
        pseudonym=pseudonym,
        max_upload_bytes=documents.settings.max_upload_bytes,
    )


class GatewayHost:
    """The `ChannelHost` the channels' routes and background tasks talk to."""

    def __init__(self, gateway: Gateway) -> None:
        self._gateway = gateway

    @classmethod
    def of(cls, request: Request) -> GatewayHost:
        return cls(request.app.state.gateway)

    @property
    def settings(self) -> Settings:
        return self._gateway.settings

    def adapter(self, code: str) -> ChannelAdapter | None:
        return self._gateway.channels.find(code)

    async def read_body(self, request: Request, max_bytes: int) -> bytes:
        return await read_limited_body(request, max_bytes)

    def load_json(self, raw: bytes) -> Any:
        try:
            return loads_bounded(raw)
        except UnsafeJson as exc:
            raise InvalidPayload(exc.reason) from exc

    async def receive(self, adapter: ChannelAdapter, payload: Any) -> None:
        await self._gateway.receive(adapter, payload)

    async def record_receipt(self, receipt: DeliveryReceipt) -> None:
        async with self._gateway.sessions() as session:
            row = await outbox_repo.by_provider_id(session=session, provider_message_id=receipt.provider_message_id)
            if row is not None:
                outbox_repo.advance_status(row, OutboxStatus(receipt.state.value), error=receipt.error)
                await session.commit()

    async def answer(self, request: Request, inbound: InboundMessage) -> WebAnswer:
        metadata = dict(inbound.metadata)
        client = self._gateway.client_key(request)
        if client is not None:  # many new chats from one client do not multiply identity guesses
            metadata["cliente"] = client
        metadata["request_id"] = current_request_id()
        result = await self._gateway.router.handle(replace(inbound, metadata=metadata))
        return WebAnswer(result.replies, unavailable=result.outcome is Outcome.UNAVAILABLE)

    async def proactive(self, conversation_id: str, *, after_id: int) -> list[dict[str, Any]]:
        async with self._gateway.sessions() as session:
            news = await console_repo.proactive_outbound(
                session=session, conversation_id=conversation_id, after_id=after_id
            )
        return [
            {"id": m.id, "autor": "agente" if m.author == "agent" else "sistema", **(m.payload or {})} for m in news
        ]
