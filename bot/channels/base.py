"""The small base every channel adapter implements: metadata as class attributes, `parse`, and `send`.

Synchronous channels (the web chat) answer in the HTTP response; asynchronous ones (Telegram, WhatsApp)
acknowledge the webhook at once and get their replies through the outbox, which calls `send`.

Errors::

    InvalidPayload        the webhook's body is malformed or too large → 4xx
    DeliveryError         sending failed
     ├── retryable        network errors, 5xx, rate limits (retry_after)
     └── permanent        bot blocked, invalid number, outside the 24-hour window without template
    MediaError            a file the citizen sent could not be fetched from the channel
     ├── MediaTooLarge    larger than the limit (declared or while downloading): never read whole
     └── MediaUnavailable the channel's API failed or no longer has it
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Awaitable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, ClassVar

from bot.conversations.messages import BotMessage, InboundMessage, MediaReference


class InvalidPayload(Exception):
    """The channel's payload is malformed or breaks a limit; the webhook answers 4xx."""

    def __init__(self, reason: str, *, status_code: int = 400) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status_code = status_code


class DeliveryError(Exception):
    """Sending one outbound message failed."""

    def __init__(self, reason: str, *, permanent: bool, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent
        self.retry_after = retry_after


class MediaError(Exception):
    """A file the citizen sent could not be fetched from the channel."""


class MediaTooLarge(MediaError):
    """The file is larger than the limit; it was not (or not entirely) downloaded."""


class MediaUnavailable(MediaError):
    """The channel's API failed, refused our credentials, or no longer has the file."""


@dataclass(frozen=True)
class Delivery:
    """What a channel returned for a sent message."""

    provider_message_id: str | None


class DeliveryState(StrEnum):
    """What a channel reported about a message it sent (the outbox's states of the same name)."""

    SENDING = "sending"
    SENT = "sent"
    DELIVERED = "delivered"
    READ = "read"
    FAILED = "failed"


@dataclass(frozen=True)
class DeliveryReceipt:
    """A channel's report on one sent message, e.g. a Twilio status callback."""

    provider_message_id: str
    state: DeliveryState
    error: str | None = None


class ChannelAdapter(ABC):
    """Converts a channel's payloads to our own values and back, at the edge.

    Its class attributes are the channel's capabilities: the rest of the gateway reads them instead of
    naming a channel.
    """

    code: ClassVar[str]  # conversation id prefix, e.g. "web", "tg", "wa"
    max_text_length: ClassVar[int]
    redact_keys: ClassVar[frozenset[str]] = frozenset()
    asynchronous: ClassVar[bool] = False  # replies go through the outbox and `send`
    numbered_options: ClassVar[bool] = False  # buttons are offered as "responda 1, 2 o 3"
    messages_per_second: ClassVar[float] = 30.0  # the channel's overall rate
    seconds_between_messages_per_chat: ClassVar[float] = 0.0
    # How long after the citizen's last message a free-form message may be sent (None: any time); later,
    # only an approved template (`template_message`).
    session_window: ClassVar[timedelta | None] = None
    transfers_abroad: ClassVar[bool] = False  # the provider's servers are abroad: LOPDP Art. 60.2 consent
    media_kinds: ClassVar[frozenset[str]] = frozenset()  # types of the files citizens send that are read
    max_buttons: ClassVar[int | None] = None  # buttons shown as buttons at most (None: no limit)

    @abstractmethod
    def parse(self, payload: Any) -> InboundMessage | None:
        """Turn one inbound payload into an `InboundMessage`, None to ignore it, or raise `InvalidPayload`."""

    def render(self, recipient: str, replies: Sequence[BotMessage]) -> Any:
        """Synchronous channels: turn the bot's replies into the HTTP response body."""
        raise NotImplementedError

    async def send(self, chat_id: str, message: BotMessage, *, conversation_options: bool = False) -> Delivery:
        """Asynchronous channels: send one message to ``chat_id`` or raise `DeliveryError`."""
        raise NotImplementedError

    async def typing(self, chat_id: str) -> None:  # noqa: B027 - optional hook, a no-op by default
        """Show that the bot is writing, where the channel supports it."""

    def acknowledge(self, message: InboundMessage) -> Awaitable[None] | None:
        """What to tell the channel once ``message`` is stored (e.g. stop a tapped button's spinner), or None."""
        return None

    def template_message(self, name: str, values: Mapping[str, object]) -> BotMessage | None:
        """The approved template standing for template ``name`` outside the session window; None if none."""
        return None

    def within_window(self, last_inbound: datetime | None, now: datetime) -> bool:
        """Whether a free-form message may be sent now, given the citizen's last message."""
        if self.session_window is None:
            return True
        return last_inbound is not None and now - last_inbound < self.session_window

    async def fetch_media(self, media: MediaReference, *, max_bytes: int) -> bytes:
        """Download a file the citizen sent through the channel's own authenticated API, in memory.

        Raises:
            MediaTooLarge: the file is larger than ``max_bytes``.
            MediaUnavailable: the channel cannot fetch files, or its API failed.
        """
        raise MediaUnavailable(f"channel {self.code!r} does not fetch files")


class ChannelRegistry:
    """The one explicit list of channel adapters; duplicate codes are rejected."""

    def __init__(self) -> None:
        self._adapters: dict[str, ChannelAdapter] = {}

    def register(self, adapter: ChannelAdapter) -> None:
        if adapter.code in self._adapters:
            raise ValueError(f"channel code {adapter.code!r} registered twice")
        self._adapters[adapter.code] = adapter

    def get(self, code: str) -> ChannelAdapter:
        return self._adapters[code]

    def find(self, code: str) -> ChannelAdapter | None:
        return self._adapters.get(code)

    def codes(self) -> list[str]:
        return sorted(self._adapters)


def split_text(text: str, limit: int) -> list[str]:
    """Split ``text`` into pieces of at most ``limit`` characters, at paragraph, line or word boundaries."""
    pieces: list[str] = []
    rest = text.strip()
    while len(rest) > limit:
        window = rest[:limit]
        cut = max(window.rfind("\n\n"), -1)
        if cut < limit // 3:
            cut = window.rfind("\n")
        if cut < limit // 3:
            cut = window.rfind(" ")
        if cut < limit // 3:
            cut = limit
        pieces.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest:
        pieces.append(rest)
    return pieces
