"""Channel-neutral message values; no channel's own types travel past its adapter."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class InboundKind(StrEnum):
    TEXT = "text"  # typed text, a tapped button's payload or a command
    UNSUPPORTED = "unsupported"  # voice note, sticker, location, video...: answered without Rasa
    MEDIA = "media"  # a photo or a PDF: read like the /verificar page reads it, answered without Rasa
    OWN_CONTACT = "own_contact"  # the sender shared their own phone number
    OTHER_CONTACT = "other_contact"  # the sender shared someone else's contact card


@dataclass(frozen=True)
class MediaReference:
    """A file the citizen sent, as the channel names it; the file itself is never stored.

    Attributes:
        content_type: the type the channel declared (checked again against the bytes before decoding).
        locator: how the channel's API finds it (Telegram's ``file_id``, Twilio's media URL); empty when the
            bytes came with the message (the web chat).
        size: the size the channel declared, when it declares one.
    """

    content_type: str
    locator: str = ""
    size: int | None = None

    def as_payload(self) -> dict[str, Any]:
        return {"content_type": self.content_type, "locator": self.locator, "size": self.size}

    @classmethod
    def from_payload(cls, data: Any) -> MediaReference | None:
        if not isinstance(data, dict) or not isinstance(data.get("content_type"), str):
            return None
        size = data.get("size")
        return cls(
            content_type=data["content_type"],
            locator=str(data.get("locator") or ""),
            size=size if isinstance(size, int) else None,
        )


@dataclass(frozen=True)
class InboundMessage:
    """A citizen's message, converted at the edge by a channel adapter."""

    conversation_id: str  # "<channel>:<channel user id>"
    channel: str
    channel_message_id: str
    text: str
    kind: InboundKind = InboundKind.TEXT
    metadata: dict[str, Any] = field(default_factory=dict)
    # Where to reply when the conversation id is a pseudonym (a WhatsApp number): stored encrypted only.
    address: str | None = field(default=None, repr=False)
    media: MediaReference | None = None  # kind MEDIA: the photo or PDF to read
    # The file's bytes when they came with the message (the web chat): kept in memory for this turn only.
    content: bytes | None = field(default=None, repr=False, compare=False)


@dataclass(frozen=True)
class Button:
    title: str
    payload: str


@dataclass(frozen=True)
class BotMessage:
    """One message for the citizen, in the shape of Rasa's REST channel."""

    text: str | None = None
    buttons: tuple[Button, ...] = ()
    image: str | None = None
    attachment: str | None = None
    custom: dict[str, Any] | None = None

    def as_payload(self) -> dict[str, Any]:
        """The JSON stored for this message and returned by the web channel (without recipient)."""
        data: dict[str, Any] = {}
        if self.text is not None:
            data["text"] = self.text
        if self.buttons:
            data["buttons"] = [{"title": b.title, "payload": b.payload} for b in self.buttons]
        if self.image:
            data["image"] = self.image
        if self.attachment:
            data["attachment"] = self.attachment
        if self.custom:
            data["custom"] = self.custom
        return data

    @classmethod
    def from_payload(cls, data: dict[str, Any]) -> BotMessage:
        buttons = tuple(
            Button(title=str(b.get("title", "")), payload=str(b.get("payload", "")))
            for b in data.get("buttons") or ()
            if isinstance(b, dict)
        )
        custom = data.get("custom")
        return cls(
            text=data.get("text"),
            buttons=buttons,
            image=data.get("image"),
            attachment=data.get("attachment"),
            custom=custom if isinstance(custom, dict) else None,
        )


@dataclass(frozen=True)
class HandoffSignal:
    """An action asked for a person: ``{"handoff": {"reason", "team"}}``."""

    reason: str
    team: str
