"""Web channel adapter: Rasa's REST channel shape, `{"sender", "message", "metadata"}` in, a list out."""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from typing import Any, ClassVar

from bot.channels.base import ChannelAdapter, InvalidPayload
from bot.conversations.messages import BotMessage, InboundMessage

_SENDER = re.compile(r"^[A-Za-z0-9_.@-]{1,100}$")
_MESSAGE_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,100}$")


def _is_unicode_text(text: str) -> bool:
    """False for lone surrogates (a JSON escape like \\udcff), which no database or channel accepts."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


class WebAdapter(ChannelAdapter):
    code: ClassVar[str] = "web"
    max_text_length: ClassVar[int] = 2000
    redact_keys: ClassVar[frozenset[str]] = frozenset({"message"})

    def __init__(self, *, max_text_length: int | None = None) -> None:
        self._max_text = max_text_length or self.max_text_length

    def parse(self, payload: Any) -> InboundMessage:  # never None: every web message is text
        if not isinstance(payload, dict):
            raise InvalidPayload("the body must be a JSON object")
        sender = payload.get("sender")
        text = payload.get("message")
        metadata = payload.get("metadata") or {}
        if not isinstance(sender, str) or not isinstance(text, str):
            raise InvalidPayload("'sender' and 'message' must be strings", status_code=422)
        if not isinstance(metadata, dict):
            raise InvalidPayload("'metadata' must be an object", status_code=422)
        user_id = sender.removeprefix(f"{self.code}:")
        if not _SENDER.match(user_id):
            raise InvalidPayload("'sender' must be 1-100 letters, digits or _.@-", status_code=422)
        text = text.strip()
        if not _is_unicode_text(text):
            raise InvalidPayload("'message' is not valid Unicode text")
        if not text:
            raise InvalidPayload("'message' is empty", status_code=422)
        if len(text) > self._max_text:
            raise InvalidPayload(f"'message' is longer than {self._max_text} characters", status_code=413)
        message_id = metadata.get("message_id")
        if message_id is None:
            message_id = uuid.uuid4().hex
        elif not isinstance(message_id, str) or not _MESSAGE_ID.match(message_id):
            raise InvalidPayload("'metadata.message_id' must be 1-100 letters, digits or _.:-", status_code=422)
        return InboundMessage(
            conversation_id=f"{self.code}:{user_id}",
            channel=self.code,
            channel_message_id=message_id,
            text=text,
        )

    def render(self, recipient: str, replies: Sequence[BotMessage]) -> list[dict[str, Any]]:
        return [{"recipient_id": recipient, **reply.as_payload()} for reply in replies]
