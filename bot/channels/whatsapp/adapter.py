"""WhatsApp adapter through Twilio: signed form webhooks in, REST API calls out (twilio, injected client).

No Twilio form travels past this module. Buttons become quick replies when a Content API template is
configured for that set of options, and numbered options ("Responda 1, 2 o 3") otherwise.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from datetime import timedelta
from typing import Any, ClassVar
from urllib.parse import urlsplit

import httpx
from twilio.base.exceptions import TwilioRestException
from twilio.request_validator import RequestValidator
from twilio.rest import Client

from bot.channels.base import (
    ChannelAdapter,
    Delivery,
    DeliveryError,
    DeliveryReceipt,
    DeliveryState,
    InvalidPayload,
    MediaUnavailable,
    split_text,
)
from bot.channels.media import download
from bot.conversations.messages import BotMessage, InboundKind, InboundMessage, MediaReference

# Twilio error codes that will not succeed on a retry (invalid number, not a WhatsApp user, blocked,
# outside the 24-hour window without a template, unapproved template...).
PERMANENT_ERRORS = frozenset({21211, 21408, 21610, 21614, 63003, 63016, 63024, 63032, 63049})
WHATSAPP_BODY_LIMIT = 1600
# Files read as documents to verify (WhatsApp sends photos as JPEG; PDFs as documents).
READABLE_TYPES = frozenset({"application/pdf", "image/png", "image/jpeg"})
# The path of a media URL (after /2010-04-01/Accounts/<our account>/): fetched only from the configured API.
_MEDIA_PATH = re.compile(r"^Messages/[A-Za-z0-9]{1,64}/Media/[A-Za-z0-9]{1,64}$")
# Twilio's MessageStatus values in a status callback, as delivery states (others are ignored).
STATUS: dict[str, DeliveryState] = {
    "queued": DeliveryState.SENDING,
    "accepted": DeliveryState.SENDING,
    "sending": DeliveryState.SENDING,
    "sent": DeliveryState.SENT,
    "delivered": DeliveryState.DELIVERED,
    "read": DeliveryState.READ,
    "undelivered": DeliveryState.FAILED,
    "failed": DeliveryState.FAILED,
}


class WhatsAppAdapter(ChannelAdapter):
    code: ClassVar[str] = "wa"
    max_text_length: ClassVar[int] = WHATSAPP_BODY_LIMIT
    redact_keys: ClassVar[frozenset[str]] = frozenset({"Body", "From", "To", "WaId", "ProfileName"})
    asynchronous: ClassVar[bool] = True
    numbered_options: ClassVar[bool] = True
    messages_per_second: ClassVar[float] = 20.0
    seconds_between_messages_per_chat: ClassVar[float] = 0.0
    # Free-form messages only within 24 hours of the citizen's last one (error 63016 otherwise).
    session_window: ClassVar[timedelta | None] = timedelta(hours=24)
    transfers_abroad: ClassVar[bool] = True
    media_kinds: ClassVar[frozenset[str]] = READABLE_TYPES
    max_buttons: ClassVar[int | None] = 3  # a quick-reply template's buttons; more go as numbered options

    def __init__(
        self,
        client: Client,
        *,
        auth_token: str,
        sender: str,
        status_callback_url: str | None = None,
        quick_reply_templates: Mapping[str, str] | None = None,
        templates: Mapping[str, str] | None = None,
        numbered_options_text: Callable[[list[str]], str],
        media_url: Callable[[dict[str, Any]], str] | None = None,
        pseudonym: Callable[[str], str] = lambda number: number,
        http: httpx.AsyncClient | None = None,
        account_sid: str = "",
        api_base_url: str = "https://api.twilio.com",
    ) -> None:
        """Args:
        client: a Twilio client (its `api.base_url` may point to a local fake in tests).
        auth_token: validates `X-Twilio-Signature` on webhooks and status callbacks.
        sender: our WhatsApp number, e.g. ``whatsapp:+14155238886``.
        status_callback_url: the public URL of `/webhooks/whatsapp/estado`.
        quick_reply_templates: ContentSid by the options' payloads joined with ``|``.
        templates: the approved template's ContentSid by our template's name (sent outside the 24 hours).
        numbered_options_text: renders the "Responda 1, 2 o 3" line (wording lives in templates).
        media_url: turns a ``{"document": ...}`` payload into a short-lived signed public URL.
        pseudonym: turns a phone number into the conversation's id, so no number is stored in clear.
        http: downloads the media citizens send (basic auth with ``account_sid`` and ``auth_token``).
        account_sid: our account; only media under it are fetched.
        api_base_url: where media are fetched from (a media URL's host is never trusted, only its path).
        """
        self._pseudonym = pseudonym
        self._client = client
        self._validator = RequestValidator(auth_token)
        self._sender = sender
        self._status_callback_url = status_callback_url
        self._quick_replies = dict(quick_reply_templates or {})
        self._templates = dict(templates or {})
        self._numbered = numbered_options_text
        self._media_url = media_url
        self._http = http
        self._account_sid = account_sid
        self._auth_token = auth_token
        self._api_base_url = api_base_url.rstrip("/")

    def is_authentic(self, url: str, params: Mapping[str, Any], signature: str) -> bool:
        """Check Twilio's signature over the public URL Twilio called and every received parameter."""
        return bool(signature) and bool(self._validator.validate(url, params, signature))

    def receipt(self, form: Mapping[str, str]) -> DeliveryReceipt | None:
        """A status callback's report on a sent message; None for a status we do not track."""
        state = STATUS.get(str(form.get("MessageStatus", "")).lower())
        sid = str(form.get("MessageSid", ""))
        if state is None or not sid:
            return None
        error = form.get("ErrorCode") or None
        return DeliveryReceipt(sid, state, error=f"twilio {error}" if error else None)

    def template_message(self, name: str, values: Mapping[str, object]) -> BotMessage | None:
        content_sid = self._templates.get(name)
        if content_sid is None:
            return None
        variables = {str(i): str(v) for i, v in enumerate(values.values(), start=1)}
        return BotMessage(custom={"template": {"content_sid": content_sid, "variables": variables}})

    def parse(self, payload: Any) -> InboundMessage | None:
        if not isinstance(payload, Mapping):
            raise InvalidPayload("not a Twilio webhook form")
        sid = str(payload.get("MessageSid") or payload.get("SmsMessageSid") or "")
        sender = str(payload.get("From") or "")
        if not sid or not sender.startswith("whatsapp:+"):
            raise InvalidPayload("missing MessageSid or a WhatsApp From")
        number = sender.removeprefix("whatsapp:")
        conversation_id = f"{self.code}:{self._pseudonym(number)}"
        num_media = str(payload.get("NumMedia") or "0")
        message_type = str(payload.get("MessageType") or "text")
        text = str(payload.get("ButtonPayload") or payload.get("ListId") or payload.get("Body") or "").strip()
        media_type = str(payload.get("MediaContentType0") or "").split(";")[0].strip().lower()
        if num_media == "1" and media_type in READABLE_TYPES and payload.get("MediaUrl0"):
            return InboundMessage(
                conversation_id=conversation_id,
                channel=self.code,
                channel_message_id=sid,
                text=f"[{message_type if message_type not in ('text', '') else 'media'}]",
                kind=InboundKind.MEDIA,
                media=MediaReference(media_type, locator=str(payload["MediaUrl0"])),
                address=number,
            )
        if (num_media.isdigit() and int(num_media) > 0) or payload.get("Latitude") or not text:
            kind = message_type if message_type not in ("text", "") else "media"
            return InboundMessage(
                conversation_id=conversation_id,
                channel=self.code,
                channel_message_id=sid,
                text=f"[{kind}]",
                kind=InboundKind.UNSUPPORTED,
                address=number,
            )
        # WhatsApp marks a forwarded message: one to check, «¿esto es oficial?» (bot/conversations/message_check.py).
        forwarded = "true" in (str(payload.get("Forwarded")).lower(), str(payload.get("FrequentlyForwarded")).lower())
        return InboundMessage(
            conversation_id=conversation_id,
            channel=self.code,
            channel_message_id=sid,
            text=text,
            address=number,
            metadata={"reenviado": True} if forwarded else {},
        )

    async def fetch_media(self, media: MediaReference, *, max_bytes: int) -> bytes:
        """The media under our account's messages, from the configured API base with basic auth."""
        prefix = f"/2010-04-01/Accounts/{self._account_sid}/"
        path = urlsplit(media.locator).path
        if self._http is None or not self._account_sid or not path.startswith(prefix):
            raise MediaUnavailable("not a media URL of our account")
        if not _MEDIA_PATH.match(path.removeprefix(prefix)):
            raise MediaUnavailable("not a media URL of our account")
        return await download(
            self._http, self._api_base_url + path, max_bytes=max_bytes, auth=(self._account_sid, self._auth_token)
        )

    async def send(self, chat_id: str, message: BotMessage, *, conversation_options: bool = False) -> Delivery:
        to = f"whatsapp:{chat_id}"
        try:
            return await self._send(to, message)
        except TwilioRestException as exc:
            permanent = exc.code in PERMANENT_ERRORS or (400 <= exc.status < 500 and exc.status != 429)
            raise DeliveryError(f"twilio {exc.status} {exc.code}", permanent=permanent) from exc
        except (OSError, TimeoutError) as exc:
            raise DeliveryError(f"network: {type(exc).__name__}", permanent=False) from exc

    async def _send(self, to: str, message: BotMessage) -> Delivery:
        common: dict[str, Any] = {"to": to, "from_": self._sender}
        if self._status_callback_url:
            common["status_callback"] = self._status_callback_url
        custom = message.custom or {}
        template = custom.get("template")
        if isinstance(template, dict):
            created = await self._client.messages.create_async(
                content_sid=str(template["content_sid"]),
                content_variables=json.dumps(template.get("variables") or {}),
                **common,
            )
            return Delivery(created.sid)
        document = custom.get("document")
        if isinstance(document, dict) and self._media_url is not None:
            created = await self._client.messages.create_async(media_url=[self._media_url(document)], **common)
            return Delivery(created.sid)
        body = message.text or ""
        if message.buttons:
            payloads = "|".join(b.payload for b in message.buttons)
            content_sid = self._quick_replies.get(payloads)
            if content_sid and len(message.buttons) <= (self.max_buttons or 0):
                created = await self._client.messages.create_async(
                    content_sid=content_sid, content_variables=json.dumps({"1": body}), **common
                )
                return Delivery(created.sid)
            body = f"{body}\n\n{self._numbered([b.title for b in message.buttons])}".strip()
        last_sid: str | None = None
        for piece in split_text(body, self.max_text_length) or ["…"]:
            created = await self._client.messages.create_async(body=piece, **common)
            last_sid = created.sid
        return Delivery(last_sid)
