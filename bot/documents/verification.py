"""Verification for everyone: a code, a PDF, a photo of the QR, or the token text → one verdict.

Verdicts, decided in this order:

- ``alterado``: the PAdES signature or the QR token's signature does not match the content, the
  certificate is not trusted, something was appended after signing, or the file is not the one issued;
- ``desconocido``: no document of ours matches (unknown code or id, unsigned file, foreign key);
- ``revocado``: issued and revoked (with its reason);
- ``vencido``: issued, and its validity has ended;
- ``valido``: issued, intact, in force.
"""

from __future__ import annotations

import asyncio
import enum
import functools
import hashlib
import re
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Concatenate, ParamSpec

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import metrics
from bot.documents.codes import format_code, is_document_id, normalize_code
from bot.documents.errors import TemplateError, UnreadableInput
from bot.documents.links import share_token_hash
from bot.documents.pades import validate_pdf
from bot.documents.qr import MAX_PIXELS, decode_qr
from bot.documents.service import as_utc, format_date, parse_keywords, utcnow
from bot.documents.signing import Signer
from bot.documents.templates import Plantillas
from bot.documents.tokens import PREFIX, TokenError, verify_token
from bot.storage import analytics as analytics_repo
from bot.storage import documents as repo
from bot.storage.models_documents import Document

_VERIFY_URL = re.compile(r"/verificar/([0-9A-Za-z-]{16,24})(?:[/?#]|$)")
MAX_CODE_TEXT = 64  # a code as typed: 16 characters, separators and spaces; anything longer is not one
P = ParamSpec("P")
_verifying: ContextVar[bool] = ContextVar("verifying", default=False)


def _counted(
    method: Callable[Concatenate[VerificationService, P], Awaitable[VerificationResult]],
) -> Callable[Concatenate[VerificationService, P], Awaitable[VerificationResult]]:
    """Count the verdict of each verification once: the outermost ``verify_*`` call (they call each other)."""

    @functools.wraps(method)
    async def wrapper(self: VerificationService, /, *args: P.args, **kwargs: P.kwargs) -> VerificationResult:
        if _verifying.get():
            return await method(self, *args, **kwargs)
        token = _verifying.set(True)
        try:
            result = await method(self, *args, **kwargs)
        finally:
            _verifying.reset(token)
        metrics.DOCUMENTS_VERIFIED.labels(verdict=result.verdict.value, via=result.via).inc()
        await self.record(result)
        return result

    return wrapper


class Verdict(enum.StrEnum):
    VALIDO = "valido"
    REVOCADO = "revocado"
    VENCIDO = "vencido"
    ALTERADO = "alterado"
    DESCONOCIDO = "desconocido"


@dataclass(frozen=True)
class DocumentFacts:
    """The key data a verifier is shown: never a full cédula, only the template's public fields."""

    id: str
    kind: str
    title: str
    institution: str
    holder_name: str
    holder_cedula_masked: str
    verification_code: str
    issued_at: datetime
    expires_at: datetime
    fields: tuple[tuple[str, str], ...]
    revoked_at: datetime | None = None
    revocation_reason: str | None = None
    sandbox: bool = False

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "title": self.title,
            "institution": self.institution,
            "holder_name": self.holder_name,
            "holder_cedula": self.holder_cedula_masked,
            "verification_code": self.verification_code,
            "issued_at": self.issued_at.isoformat(),
            "expires_at": self.expires_at.isoformat(),
            "issued_on": format_date(self.issued_at),
            "expires_on": format_date(self.expires_at),
            "fields": [{"label": label, "value": value} for label, value in self.fields],
            "revoked_at": self.revoked_at.isoformat() if self.revoked_at else None,
            "revocation_reason": self.revocation_reason,
            "sandbox": self.sandbox,
        }


@dataclass(frozen=True)
class VerificationResult:
    """A verdict, the reason code behind it (``motivos`` in ``verificacion.yml``) and what was checked.

    Attributes:
        via: ``codigo``, ``pdf``, ``imagen`` or ``token``.
    """

    verdict: Verdict
    reason: str
    via: str
    document: DocumentFacts | None = None

    @property
    def is_valid(self) -> bool:
        return self.verdict is Verdict.VALIDO

    def as_json(self, plantillas: Plantillas) -> dict[str, Any]:
        """The JSON API's body, worded from the templates."""
        wording = plantillas.text("veredictos", self.verdict.value)
        return {
            "verdict": self.verdict.value,
            "title": wording["titulo"],
            "message": wording["detalle"],
            "reason": self.reason,
            "reason_text": plantillas.text("motivos", self.reason),
            "via": self.via,
            "document": self.document.as_json() if self.document else None,
        }


@dataclass(frozen=True)
class SharedDocument:
    """What a share link shows: the document's standing until the link expires."""

    result: VerificationResult
    expires_at: datetime
    pdf_filename: str
    png_filename: str


class VerificationService:
    """Decides the verdict for whatever a verifier presents.

    Args:
        sessions: the app database's session factory.
        plantillas: templates (document titles and field labels).
        signer: the document-signing key: its trust roots validate PDFs, its public key the QR tokens.
        clock: the current time.
        max_image_pixels: the largest photo decoded (width × height); larger ones are refused unread.
    """

    def __init__(
        self,
        *,
        sessions: async_sessionmaker[AsyncSession],
        plantillas: Plantillas,
        signer: Signer,
        clock: Callable[[], datetime] = utcnow,
        max_image_pixels: int = MAX_PIXELS,
    ) -> None:
        self.sessions = sessions
        self.plantillas = plantillas
        self.signer = signer
        self.clock = clock
        self.max_image_pixels = max_image_pixels

    async def record(self, result: VerificationResult) -> None:
        """Keep the verdict for the open data's daily counts (`bot.analytics.open_data`): kind, via, verdict."""
        async with self.sessions() as session:
            await analytics_repo.add_verification(
                session=session,
                kind=result.document.kind if result.document else None,
                via=result.via,
                verdict=result.verdict.value,
            )
            await session.commit()

    @_counted
    async def verify_code(self, text: str, *, via: str = "codigo") -> VerificationResult:
        """Verify a verification code as a person typed it (separators and case do not matter)."""
        code = normalize_code(text) if len(text) <= MAX_CODE_TEXT else None
        if code is None:
            return VerificationResult(Verdict.DESCONOCIDO, "codigo_invalido", via)
        async with self.sessions() as session:
            document = await repo.find_by_code(session=session, verification_code=code)
        if document is None:
            return VerificationResult(Verdict.DESCONOCIDO, "no_registrado", via)
        return self._standing(document, via)

    @_counted
    async def verify_text(self, text: str, *, via: str | None = None) -> VerificationResult:
        """Verify what a QR code or a person gave: a token (``EC1:…``), a verification URL, or a code.

        Args:
            text: the text.
            via: how it arrived (``imagen`` for a decoded QR); ``token`` or ``codigo`` by content otherwise.
        """
        text = text.strip()
        if text.startswith(PREFIX):
            return await self.verify_token(text, via=via or "token")
        match = _VERIFY_URL.search(text)
        return await self.verify_code(match.group(1) if match else text, via=via or "codigo")

    @_counted
    async def verify_token(self, text: str, *, via: str = "token") -> VerificationResult:
        """Check the token's signature, then look the document up by id for revocation and expiry."""
        try:
            claims = verify_token(text, keys={self.signer.kid: self.signer.public_key})
        except TokenError as exc:
            verdict = Verdict.DESCONOCIDO if exc.code == "clave_desconocida" else Verdict.ALTERADO
            return VerificationResult(verdict, exc.code, via)
        if not is_document_id(claims.document_id):
            return VerificationResult(Verdict.DESCONOCIDO, "no_registrado", via)
        async with self.sessions() as session:
            document = await repo.get_document(session=session, document_id=claims.document_id)
        if document is None:
            return VerificationResult(Verdict.DESCONOCIDO, "no_registrado", via)
        recorded = (
            document.kind,
            document.holder_name,
            document.holder_cedula_masked,
            int(as_utc(document.issued_at).timestamp()),
            int(as_utc(document.expires_at).timestamp()),
        )
        presented = (
            claims.kind,
            claims.holder_name,
            claims.holder_cedula_masked,
            int(claims.issued_at.timestamp()),
            int(claims.expires_at.timestamp()),
        )
        if recorded != presented:
            return VerificationResult(Verdict.ALTERADO, "token_distinto", via)
        return self._standing(document, via)

    @_counted
    async def verify_pdf(self, data: bytes) -> VerificationResult:
        """Validate the PAdES signature against the trust roots, then look the document up by its code."""
        check = await asyncio.to_thread(validate_pdf, data, trust_roots=self.signer.trust_roots)
        if not check.readable:
            # A file that starts like a PDF but no longer parses has been damaged after signing.
            if data.lstrip()[:5] == b"%PDF-":
                return VerificationResult(Verdict.ALTERADO, "firma_invalida", "pdf")
            raise UnreadableInput("formato_desconocido")
        if not check.signed:
            return VerificationResult(Verdict.DESCONOCIDO, "sin_firma", "pdf")
        if not (check.intact and check.valid):
            return VerificationResult(Verdict.ALTERADO, "firma_invalida", "pdf")
        if not check.trusted:
            return VerificationResult(Verdict.ALTERADO, "firma_no_confiable", "pdf")
        if not check.entire_file:
            return VerificationResult(Verdict.ALTERADO, "firma_parcial", "pdf")
        code = normalize_code(parse_keywords(check.keywords).get("codigo", ""))
        if code is None:
            return VerificationResult(Verdict.DESCONOCIDO, "no_registrado", "pdf")
        async with self.sessions() as session:
            document = await repo.find_by_code(session=session, verification_code=code)
        if document is None:
            return VerificationResult(Verdict.DESCONOCIDO, "no_registrado", "pdf")
        if hashlib.sha256(data).hexdigest() != document.pdf_sha256:
            return VerificationResult(Verdict.ALTERADO, "archivo_distinto", "pdf")
        return self._standing(document, "pdf")

    @_counted
    async def verify_image(self, data: bytes) -> VerificationResult:
        """Read the QR code of a PNG or JPEG (a photo, a screenshot, a re-encoded copy) and verify it."""
        text = await asyncio.to_thread(decode_qr, data, max_pixels=self.max_image_pixels)
        return await self.verify_text(text, via="imagen")

    @_counted
    async def verify_file(self, data: bytes) -> VerificationResult:
        """A PDF or an image, told apart by content, never by the name it came with.

        Raises:
            UnreadableInput: empty, or neither a PDF nor an image with a QR code.
        """
        if not data:
            raise UnreadableInput("vacio")
        if data.lstrip()[:5] == b"%PDF-":
            return await self.verify_pdf(data)
        return await self.verify_image(data)

    async def verify_share(self, token: str) -> SharedDocument | None:
        """The document behind a share link, while the link lasts; None when unknown or expired."""
        if not 16 <= len(token) <= 64:
            return None
        async with self.sessions() as session:
            link = await repo.find_share_link(session=session, token_hash=share_token_hash(token))
            if link is None or as_utc(link.expires_at) <= self.clock():
                return None
            document = await repo.get_document(session=session, document_id=link.document_id)
        if document is None:
            return None
        return SharedDocument(
            result=self._standing(document, "compartido"),
            expires_at=as_utc(link.expires_at),
            pdf_filename=document.pdf_filename,
            png_filename=document.png_filename,
        )

    def _standing(self, document: Document, via: str) -> VerificationResult:
        facts = self.facts(document)
        if document.revoked_at is not None:
            return VerificationResult(Verdict.REVOCADO, "revocado", via, facts)
        if self.clock() >= as_utc(document.expires_at):
            return VerificationResult(Verdict.VENCIDO, "vencido", via, facts)
        reason = "firma_valida" if via in {"pdf", "imagen", "token"} else "vigente"
        return VerificationResult(Verdict.VALIDO, reason, via, facts)

    def facts(self, document: Document) -> DocumentFacts:
        """What a verifier is shown of ``document``: the fields its template lists under ``verificador``.

        Filtered again here, not only when the document was stored: a document issued while its template
        listed more fields shows only what the template lists today.
        """
        try:
            template = self.plantillas.document(document.kind)
            title, institution = template.title, template.institution
            fields = tuple(template.labelled(template.public_fields(document.public_fields)))
        except TemplateError:  # a kind retired from the templates still verifies, with no field of its own
            title, institution, fields = document.kind, "", ()
        return DocumentFacts(
            id=document.id,
            kind=document.kind,
            title=title,
            institution=institution,
            holder_name=document.holder_name,
            holder_cedula_masked=document.holder_cedula_masked,
            verification_code=format_code(document.verification_code),
            issued_at=as_utc(document.issued_at),
            expires_at=as_utc(document.expires_at),
            fields=fields,
            revoked_at=as_utc(document.revoked_at) if document.revoked_at else None,
            revocation_reason=document.revocation_reason,
            sandbox=document.sandbox,
        )
