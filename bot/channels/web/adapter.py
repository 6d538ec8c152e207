"""Web channel adapter: Rasa's REST channel shape, `{"sender", "message", "metadata"}` in, a list out.

One file may ride along: ``"attachment": {"filename", "content_type", "data": <base64>}`` (``message`` may
then be empty). Its bytes stay in memory for the turn; only its declared type and size are stored.
"""

from __future__ import annotations

import base64
import binascii
import re
import uuid
from collections.abc import Sequence
from typing import Any, ClassVar

from bot.channels.base import ChannelAdapter, InvalidPayload
from bot.conversations.messages import BotMessage, InboundKind, InboundMessage, MediaReference

_SENDER = re.compile(r"^[A-Za-z0-9_.@-]{1,100}$")
_MESSAGE_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,100}$")
_CONTENT_TYPE = re.compile(r"^[a-z0-9.+-]{1,60}/[a-z0-9.+-]{1,100}$")
MAX_ATTACHMENT_BYTES = 5 * 1024 * 1024  # the /verificar page's limit


def base64_length(size: int) -> int:
    """Characters of ``size`` bytes in base64 (with padding)."""
    return (size + 2) // 3 * 4


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
    media_kinds: ClassVar[frozenset[str]] = frozenset({"image/jpeg", "image/png", "application/pdf"})

    def __init__(self, *, max_text_length: int | None = None, max_attachment_bytes: int = MAX_ATTACHMENT_BYTES) -> None:
        self._max_text = max_text_length or self.max_text_length
        self.max_attachment_bytes = max_attachment_bytes

    @property
    def max_body_bytes(self) -> int:
        """The largest body read: an attachment up to twice the limit is still answered in words (too large)."""
        return 2 * base64_length(self.max_attachment_bytes) + 64 * 1024

    def parse(self, payload: Any) -> InboundMessage:  # never None: every web message is text or a file
        if not isinstance(payload, dict):
            raise InvalidPayload("the body must be a JSON object")
        sender = payload.get("sender")
        text = payload.get("message")
        metadata = payload.get("metadata") or {}
        attachment = payload.get("attachment")
        if attachment is not None and text is None:
            text = ""
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
        if not text and attachment is None:
            raise InvalidPayload("'message' is empty", status_code=422)
        if len(text) > self._max_text:
            raise InvalidPayload(f"'message' is longer than {self._max_text} characters", status_code=413)
        message_id = metadata.get("message_id")
        if message_id is None:
            message_id = uuid.uuid4().hex
        elif not isinstance(message_id, str) or not _MESSAGE_ID.match(message_id):
            raise InvalidPayload("'metadata.message_id' must be 1-100 letters, digits or _.:-", status_code=422)
        if attachment is not None:
            media, content = self._attachment(attachment)
            return InboundMessage(
                conversation_id=f"{self.code}:{user_id}",
                channel=self.code,
                channel_message_id=message_id,
                text=text or f"[{media.content_type}]",
                kind=InboundKind.MEDIA,
                media=media,
                content=content,
            )
        return InboundMessage(
            conversation_id=f"{self.code}:{user_id}",
            channel=self.code,
            channel_message_id=message_id,
            text=text,
        )

    def _attachment(self, attachment: Any) -> tuple[MediaReference, bytes | None]:
        """The declared type and the decoded bytes; a file over the limit is not decoded (its size says why)."""
        if not isinstance(attachment, dict):
            raise InvalidPayload("'attachment' must be an object", status_code=422)
        filename, content_type, data = (attachment.get(k) for k in ("filename", "content_type", "data"))
        if not isinstance(filename, str) or not 1 <= len(filename) <= 255:
            raise InvalidPayload("'attachment.filename' must be 1-255 characters", status_code=422)
        if not isinstance(content_type, str) or not _CONTENT_TYPE.match(content_type.strip().lower()):
            raise InvalidPayload("'attachment.content_type' must be a media type", status_code=422)
        if not isinstance(data, str) or not data:
            raise InvalidPayload("'attachment.data' must be base64 text", status_code=422)
        declared = content_type.strip().lower()
        if len(data) > base64_length(self.max_attachment_bytes):
            return MediaReference(declared, size=len(data) // 4 * 3), None
        try:
            content = base64.b64decode(data, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise InvalidPayload("'attachment.data' is not valid base64", status_code=422) from exc
        return MediaReference(declared, size=len(content)), content

    def render(self, recipient: str, replies: Sequence[BotMessage]) -> list[dict[str, Any]]:
        return [{"recipient_id": recipient, **reply.as_payload()} for reply in replies]
