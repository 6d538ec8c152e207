"""Channel-neutral message values; no channel's own types travel past its adapter."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class InboundKind(StrEnum):
    TEXT = "text"  # typed text, a tapped button's payload or a command
    UNSUPPORTED = "unsupported"  # voice note, photo, sticker, location...: answered without Rasa
    OWN_CONTACT = "own_contact"  # the sender shared their own phone number
    OTHER_CONTACT = "other_contact"  # the sender shared someone else's contact card


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
