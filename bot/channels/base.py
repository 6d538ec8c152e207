"""The small base every channel adapter implements: metadata as class attributes, `parse` and `render`."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any, ClassVar

from bot.conversations.messages import BotMessage, InboundMessage


class InvalidPayload(Exception):
    """The channel's payload is malformed or breaks a limit; the webhook answers 4xx."""

    def __init__(self, reason: str, *, status_code: int = 400) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status_code = status_code


class ChannelAdapter(ABC):
    """Converts a channel's payloads to our own values and back, at the edge."""

    code: ClassVar[str]  # conversation id prefix, e.g. "web", "tg", "wa"
    max_text_length: ClassVar[int]
    redact_keys: ClassVar[frozenset[str]] = frozenset()

    @abstractmethod
    def parse(self, payload: Any) -> InboundMessage:
        """Turn one inbound payload into an `InboundMessage` or raise `InvalidPayload`."""

    @abstractmethod
    def render(self, recipient: str, replies: Sequence[BotMessage]) -> Any:
        """Turn the bot's replies into what this channel sends."""


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

    def codes(self) -> list[str]:
        return sorted(self._adapters)
