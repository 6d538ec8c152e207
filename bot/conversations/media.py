"""The media stage: a photo or a PDF sent in the chat is verified like the /verificar page verifies an upload.

The file is fetched through the channel's own authenticated API (or came with the web chat's message),
bounded in size, told apart by its first bytes (PDF, PNG or JPEG only, whatever name or type it came with)
and handed to `bot.documents.verification.VerificationService.verify_file`, the code behind the page's
upload. Pillow's pixel limit refuses decompression bombs before decoding (`bot.documents.qr`). The bytes
live in memory for this turn only; what is stored is the answer (the verdict), and what is logged is the
channel, the kind of file, its size and the verdict.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import tzinfo
from typing import Any

import structlog

from bot.channels.base import ChannelAdapter, MediaTooLarge, MediaUnavailable
from bot.conversations.messages import MediaReference
from bot.documents.chat_verification import verdict_texto
from bot.documents.errors import DocumentError, UnreadableInput
from bot.documents.runtime import Documents
from bot.documents.verification import Verdict
from bot.texts import Texto, Textos

log = structlog.get_logger(__name__)

# What the stage reads, by first bytes; a declared type outside these is refused before downloading.
READABLE_TYPES = frozenset({"application/pdf", "image/png", "image/jpeg"})
_IMAGES = (("image/png", b"\x89PNG\r\n\x1a\n"), ("image/jpeg", b"\xff\xd8\xff"))

# Why a file could not be read → what the citizen is told (dialogs/textos/verificar_documento.yml).
_UNREADABLE = {
    "sin_qr": "verificar_archivo_sin_qr",
    "demasiado_grande": "verificar_archivo_grande",
    "sin_lector_qr": "verificar_archivo_no_disponible",
}


def sniff(data: bytes) -> str | None:
    """The type of ``data`` by its first bytes: a PDF, a PNG or a JPEG; None for anything else."""
    if data[:1024].lstrip().startswith(b"%PDF-"):  # as `verify_file` tells a PDF
        return "application/pdf"
    return next((kind for kind, magic in _IMAGES if data.startswith(magic)), None)


@dataclass(frozen=True)
class MediaAnswer:
    """What the citizen is told, and what was found (for the log and the tests)."""

    texto: Texto
    outcome: str  # a verdict (valido, alterado…) or why nothing was read (grande, formato, sin_qr…)


class MediaVerifier:
    """Verifies the document in a photo or a PDF a citizen sent, and words the verdict for the chat.

    Args:
        documents: the documents subsystem (its verifier is the /verificar page's).
        textos: the chat's templates.
        zone: dates are shown in this time zone (Ecuador's).
        max_bytes: the largest file fetched or read (the page's upload limit by default).
    """

    def __init__(self, *, documents: Documents, textos: Textos, zone: tzinfo, max_bytes: int | None = None) -> None:
        self._documents = documents
        self._textos = textos
        self._zone = zone
        self.max_bytes = max_bytes or documents.settings.max_upload_bytes

    async def answer(
        self, adapter: ChannelAdapter | None, media: MediaReference | None, *, content: bytes | None = None
    ) -> MediaAnswer:
        """Fetch (unless ``content`` came with the message), check and verify; never raises for bad input."""
        started = time.monotonic()
        result = await self._answer(adapter, media, content)
        log.info(
            "media.verified",
            channel=adapter.code if adapter is not None else None,
            declared=media.content_type if media is not None else None,
            outcome=result.outcome,
            seconds=round(time.monotonic() - started, 3),
        )
        return result

    async def _answer(
        self, adapter: ChannelAdapter | None, media: MediaReference | None, content: bytes | None
    ) -> MediaAnswer:
        if media is None:  # e.g. a web message processed again after a restart: its bytes are gone
            return self._say("verificar_archivo_no_recibido", "no_recibido")
        if media.content_type not in READABLE_TYPES:
            return self._say("verificar_archivo_formato", "formato")
        if media.size is not None and media.size > self.max_bytes:
            return self._say("verificar_archivo_grande", "grande")
        data = content
        if data is None:
            if adapter is None or not media.locator:
                return self._say("verificar_archivo_no_recibido", "no_recibido")
            try:
                data = await adapter.fetch_media(media, max_bytes=self.max_bytes)
            except MediaTooLarge:
                return self._say("verificar_archivo_grande", "grande")
            except MediaUnavailable as exc:
                log.warning("media.fetch_failed", channel=adapter.code, error=str(exc))
                return self._say("verificar_archivo_no_recibido", "no_recibido")
        if len(data) > self.max_bytes:
            return self._say("verificar_archivo_grande", "grande")
        if sniff(data) is None:
            return self._say("verificar_archivo_formato", "formato")
        verifier = self._documents.verifier
        try:
            result = await verifier.verify_file(data)
        except UnreadableInput as exc:
            return self._say(_UNREADABLE.get(exc.code, "verificar_archivo_formato"), exc.code)
        except DocumentError:
            return self._say("verificar_archivo_formato", "formato")
        if result.via == "imagen" and result.verdict is Verdict.DESCONOCIDO and result.reason == "codigo_invalido":
            return self._say("verificar_archivo_sin_qr", "sin_qr")  # a QR code, but not one of Chasqui's
        key, values = verdict_texto(result, self._documents.plantillas, self._zone)
        return MediaAnswer(self._textos.render(key, **values), result.verdict.value)

    def _say(self, key: str, outcome: str, **values: Any) -> MediaAnswer:
        pagina = f"{self._documents.settings.public_base_url}/verificar"
        return MediaAnswer(self._textos.render(key, pagina=pagina, **values), outcome)
