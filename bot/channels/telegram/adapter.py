"""Telegram adapter: `Update` JSON in, Bot API calls out (python-telegram-bot, injected `Bot`).

No `telegram.Update` travels past this module: updates become `InboundMessage` values here.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from typing import Any, ClassVar

import httpx
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, InputFile, Update
from telegram.constants import ChatAction
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError, TimedOut

from bot.channels.base import (
    ChannelAdapter,
    Delivery,
    DeliveryError,
    InvalidPayload,
    MediaTooLarge,
    MediaUnavailable,
    split_text,
)
from bot.channels.media import download
from bot.conversations.messages import BotMessage, InboundKind, InboundMessage, MediaReference

# The commands menu (`setMyCommands`) and the Rasa payload each command stands for.
COMMANDS: dict[str, str] = {
    "start": "/saludar",
    "ayuda": "/ayuda",
    "tramites": "/ayuda",
    "documentos": "/mis_documentos",
    "agente": "/hablar_con_agente",
    "privacidad": "/consultar_privacidad",
}
CALLBACK_DATA_LIMIT = 64  # bytes, Telegram's limit for inline buttons
# Files read as documents to verify: a photo (Telegram re-encodes it as JPEG), or one sent as a file.
READABLE_TYPES = frozenset({"application/pdf", "image/png", "image/jpeg"})


def callback_data(payload: str) -> str:
    """The button's callback data: the payload itself, or a short digest when it does not fit."""
    if len(payload.encode()) <= CALLBACK_DATA_LIMIT:
        return payload
    return "h:" + hashlib.sha256(payload.encode()).hexdigest()[:32]


class TelegramAdapter(ChannelAdapter):
    code: ClassVar[str] = "tg"
    max_text_length: ClassVar[int] = 4096
    redact_keys: ClassVar[frozenset[str]] = frozenset({"text", "phone_number", "first_name", "last_name", "username"})
    asynchronous: ClassVar[bool] = True
    messages_per_second: ClassVar[float] = 30.0
    seconds_between_messages_per_chat: ClassVar[float] = 1.0
    transfers_abroad: ClassVar[bool] = True
    media_kinds: ClassVar[frozenset[str]] = READABLE_TYPES
    max_buttons: ClassVar[int | None] = 100  # an inline keyboard's limit

    def __init__(
        self,
        bot: Bot,
        *,
        documents: Callable[[dict[str, Any]], Awaitable[tuple[bytes, str]]] | None = None,
        http: httpx.AsyncClient | None = None,
    ) -> None:
        self._bot = bot
        self._documents = documents  # a {"document": ...} payload's bytes and file name (raises DeliveryError)
        self._http = http  # downloads the files citizens send (the Bot API's file URL, with the token)

    @property
    def bot(self) -> Bot:
        return self._bot

    def parse(self, payload: Any) -> InboundMessage | None:
        if not isinstance(payload, dict) or not isinstance(payload.get("update_id"), int):
            raise InvalidPayload("not a Telegram update")
        try:
            update = Update.de_json(payload, self._bot)
        except (KeyError, TypeError, ValueError) as exc:
            raise InvalidPayload("malformed Telegram update") from exc
        update_id = str(update.update_id)
        if update.callback_query is not None:
            query = update.callback_query
            chat = query.message.chat if query.message is not None else None
            if chat is None or not query.data:
                return None
            return InboundMessage(
                conversation_id=f"{self.code}:{chat.id}",
                channel=self.code,
                channel_message_id=update_id,
                text=str(query.data),
                metadata={"callback_query_id": query.id},
            )
        message = update.message
        if message is None or message.from_user is None or message.chat.type != "private":
            return None  # edited messages, channel posts, groups: not a citizen's private chat
        conversation_id = f"{self.code}:{message.chat.id}"
        if message.contact is not None:
            own = message.contact.user_id == message.from_user.id
            return InboundMessage(
                conversation_id=conversation_id,
                channel=self.code,
                channel_message_id=update_id,
                text="[contacto compartido]",
                kind=InboundKind.OWN_CONTACT if own else InboundKind.OTHER_CONTACT,
                metadata={"phone_number": message.contact.phone_number} if own else {},
            )
        if message.text:
            return InboundMessage(
                conversation_id=conversation_id,
                channel=self.code,
                channel_message_id=update_id,
                text=self._command_payload(message.text),
                # A forwarded message is one to check: «¿esto es oficial?» (bot/conversations/message_check.py).
                metadata={"reenviado": True} if message.forward_origin is not None else {},
            )
        media = _readable_media(message)
        if media is not None:
            return InboundMessage(
                conversation_id=conversation_id,
                channel=self.code,
                channel_message_id=update_id,
                text=f"[{_media_kind(message)}]",
                kind=InboundKind.MEDIA,
                media=media,
            )
        return InboundMessage(
            conversation_id=conversation_id,
            channel=self.code,
            channel_message_id=update_id,
            text=f"[{_media_kind(message)}]",
            kind=InboundKind.UNSUPPORTED,
        )

    @staticmethod
    def _command_payload(text: str) -> str:
        if text.startswith("/"):
            command = text[1:].split(maxsplit=1)[0].split("@", 1)[0].lower()
            if command in COMMANDS:
                return COMMANDS[command]
        return text

    async def send(self, chat_id: str, message: BotMessage, *, conversation_options: bool = False) -> Delivery:
        try:
            return await self._send(int(chat_id), message)
        except RetryAfter as exc:
            retry = exc.retry_after
            seconds = retry if isinstance(retry, int | float) else retry.total_seconds()
            raise DeliveryError("flood limit", permanent=False, retry_after=float(seconds)) from exc
        except Forbidden as exc:
            raise DeliveryError(f"forbidden: {exc.message}", permanent=True) from exc
        except BadRequest as exc:
            raise DeliveryError(f"bad request: {exc.message}", permanent=True) from exc
        except (TimedOut, NetworkError) as exc:
            raise DeliveryError(f"network: {exc.message}", permanent=False) from exc
        except TelegramError as exc:
            raise DeliveryError(f"telegram: {exc.message}", permanent=False) from exc

    async def _send(self, chat_id: int, message: BotMessage) -> Delivery:
        document = (message.custom or {}).get("document")
        if isinstance(document, dict) and self._documents is not None:
            content, filename = await self._documents(document)
            sent = await self._bot.send_document(
                chat_id, document=InputFile(content, filename=filename), caption=message.text or None
            )
            return Delivery(str(sent.message_id))
        markup = None
        if message.buttons:
            markup = InlineKeyboardMarkup(
                [[InlineKeyboardButton(b.title, callback_data=callback_data(b.payload))] for b in message.buttons]
            )
        pieces = split_text(message.text or "", self.max_text_length) or ["…"]
        last = None
        for index, piece in enumerate(pieces):
            last = await self._bot.send_message(
                chat_id, piece, reply_markup=markup if index == len(pieces) - 1 else None
            )
        return Delivery(str(last.message_id) if last is not None else None)

    async def typing(self, chat_id: str) -> None:
        try:
            await self._bot.send_chat_action(int(chat_id), ChatAction.TYPING)
        except TelegramError:
            return  # a typing indicator is a courtesy, never a reason to fail

    def acknowledge(self, message: InboundMessage) -> Awaitable[None] | None:
        """A tapped button's query is answered (Telegram shows a spinner until then)."""
        callback = message.metadata.get("callback_query_id")
        return self.answer_callback(str(callback)) if callback else None

    async def fetch_media(self, media: MediaReference, *, max_bytes: int) -> bytes:
        """``getFile``, then the file from the Bot API's file URL (which carries the token: never logged)."""
        if media.size is not None and media.size > max_bytes:
            raise MediaTooLarge(f"declared {media.size} bytes")
        if self._http is None:
            raise MediaUnavailable("no HTTP client for files")
        try:
            file = await self._bot.get_file(media.locator)
        except TelegramError as exc:
            raise MediaUnavailable(f"getFile: {type(exc).__name__}") from exc
        if file.file_size is not None and file.file_size > max_bytes:
            raise MediaTooLarge(f"declared {file.file_size} bytes")
        if not file.file_path:
            raise MediaUnavailable("getFile returned no file_path")
        return await download(self._http, file.file_path, max_bytes=max_bytes)

    async def answer_callback(self, callback_query_id: str) -> None:
        try:
            await self._bot.answer_callback_query(callback_query_id)
        except TelegramError:
            return


def _readable_media(message: Any) -> MediaReference | None:
    """A photo (its largest size) or a PDF/PNG/JPEG sent as a file: what can be verified."""
    if message.photo:
        largest = max(message.photo, key=lambda size: size.width * size.height)
        return MediaReference("image/jpeg", locator=largest.file_id, size=largest.file_size)
    document = message.document
    if document is not None and (document.mime_type or "").lower() in READABLE_TYPES:
        return MediaReference(str(document.mime_type).lower(), locator=document.file_id, size=document.file_size)
    return None


def _media_kind(message: Any) -> str:
    for attribute, name in (
        ("voice", "nota de voz"),
        ("audio", "audio"),
        ("photo", "foto"),
        ("sticker", "sticker"),
        ("location", "ubicación"),
        ("video", "video"),
        ("video_note", "video"),
        ("document", "archivo"),
    ):
        if getattr(message, attribute, None):
            return name
    return "mensaje sin texto"
