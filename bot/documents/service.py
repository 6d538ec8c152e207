"""Issuing documents: render from a template, sign (PAdES PDF + signed QR image), store, record.

`DocumentService.issue` is what an action calls; `document_payloads` turns its result into the
architecture's ``{"document": {...}}`` custom payloads, one for the PDF and one for the image.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import re
from collections.abc import Callable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, timezone
from typing import Any, Literal

import structlog
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import metrics
from bot.documents.codes import format_code, new_document_id, new_verification_code
from bot.documents.errors import DocumentNotFound, DocumentRevoked, TemplateError
from bot.documents.links import LinkSigner, expiry, holder_hash, new_share_token, share_token_hash
from bot.documents.pades import SignatureWording, sign_pdf
from bot.documents.render import DocumentContent, Fonts, Row, render_pdf, render_png
from bot.documents.signing import Signer
from bot.documents.store import DocumentStore
from bot.documents.templates import DocumentKind, DocumentTemplate, Plantillas
from bot.documents.tokens import TokenClaims, encode_token
from bot.privacy.redaction import mask_cedula
from bot.storage import documents as repo
from bot.storage.models_documents import Document

# Ecuador (mainland) keeps UTC-5 all year: dates printed on documents are in that zone.
ECUADOR = timezone(timedelta(hours=-5), "ECT")
MEDIA_TYPES = {"pdf": "application/pdf", "png": "image/png"}
log = structlog.get_logger(__name__)

# The turn an action runs for ("<conversation>:<message id>"), set by the action server around each action: a
# document issued inside it is recorded under a key of the turn, its kind and its holder, so that the turn run
# again (a Rasa replica died after the action and before saving the turn) gets the same document back.
ISSUING_TURN: ContextVar[str | None] = ContextVar("issuing_turn", default=None)
_KEYWORD = re.compile(r"chasqui-(documento|codigo):([0-9a-zA-Z]+)")


def utcnow() -> datetime:
    return datetime.now(UTC)


def as_utc(moment: datetime) -> datetime:
    """SQLite hands back naive datetimes for timezone-aware columns: they were stored in UTC."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def format_date(moment: datetime) -> str:
    return as_utc(moment).astimezone(ECUADOR).strftime("%d/%m/%Y")


def valid_through(day: date) -> datetime:
    """A registry's expiry date as the document's end of validity: the last second of that day in Ecuador, so
    the document prints the same date the registry gives."""
    return datetime.combine(day, time(23, 59, 59), tzinfo=ECUADOR)


def document_keywords(document_id: str, code: str) -> list[str]:
    """The PDF /Keywords that tie a signed file to its record (read back by the verifier)."""
    return [f"chasqui-documento:{document_id}", f"chasqui-codigo:{code}"]


def parse_keywords(keywords: str) -> dict[str, str]:
    """Inverse of `document_keywords`: ``{"documento": id, "codigo": code}`` (missing keys absent)."""
    return {key: value for key, value in _KEYWORD.findall(keywords)}


@dataclass(frozen=True)
class Holder:
    """The citizen a document is about: the cédula is printed on the PDF but stored only hashed and masked."""

    cedula: str
    name: str

    def __repr__(self) -> str:  # never a full cédula in logs or tracebacks
        return f"Holder(cedula={mask_cedula(self.cedula)!r}, name=...)"


@dataclass(frozen=True)
class Draft:
    """A document about to be rendered: everything printed, nothing signed yet."""

    id: str
    template: DocumentTemplate
    code: str
    holder: Holder
    fields: Mapping[str, str]
    issued_at: datetime
    expires_at: datetime

    @property
    def cedula_masked(self) -> str:
        return mask_cedula(self.holder.cedula)

    def claims(self) -> TokenClaims:
        return TokenClaims(
            document_id=self.id,
            kind=self.template.kind.value,
            holder_name=self.holder.name,
            holder_cedula_masked=self.cedula_masked,
            issued_at=self.issued_at,
            expires_at=self.expires_at,
        )


@dataclass(frozen=True)
class Rendered:
    pdf: bytes
    png: bytes
    token: str


@dataclass(frozen=True)
class IssuedFile:
    """One delivered file of a document."""

    kind: Literal["pdf", "png"]
    filename: str
    media_type: str
    size: int
    sha256: str
    url: str


@dataclass(frozen=True)
class IssuedDocument:
    """What an action needs once a document is issued."""

    id: str
    kind: DocumentKind
    verification_code: str  # grouped for reading: ABCD-EFGH-JKMN-PQRS
    verification_url: str
    issued_at: datetime
    expires_at: datetime
    pdf: IssuedFile
    png: IssuedFile
    token: str


@dataclass(frozen=True)
class IssuedSummary:
    """One document in a citizen's list ("mis documentos")."""

    id: str
    kind: str
    verification_code: str
    issued_at: datetime
    expires_at: datetime
    revoked: bool


@dataclass(frozen=True)
class StoredFile:
    """A document's file as served for download."""

    filename: str
    media_type: str
    data: bytes


@dataclass(frozen=True)
class ShareLink:
    url: str
    expires_at: datetime


def document_payloads(issued: IssuedDocument) -> list[dict[str, Any]]:
    """The architecture's custom payloads for the PDF and the image, in that order.

    ``{"document": {"id", "kind": "pdf"|"png", "filename", "url", "verification_code"}}``
    """
    return [
        {
            "document": {
                "id": issued.id,
                "kind": file.kind,
                "filename": file.filename,
                "url": file.url,
                "verification_code": issued.verification_code,
            }
        }
        for file in (issued.pdf, issued.png)
    ]


class DocumentRenderer:
    """Turns a `Draft` into a signed PDF and a signed-QR image (blocking: run it in a worker thread).

    Args:
        plantillas: the templates and shared wording.
        signer: the document-signing key.
        fonts: TrueType fonts for the PDF and the image.
        public_base_url: printed in the verification link.
        sandbox: print the "DOCUMENTO DE PRUEBA — SIN VALIDEZ LEGAL" banner and watermark.
    """

    def __init__(
        self, *, plantillas: Plantillas, signer: Signer, fonts: Fonts, public_base_url: str, sandbox: bool
    ) -> None:
        self.plantillas = plantillas
        self.signer = signer
        self.fonts = fonts
        self.public_base_url = public_base_url.rstrip("/")
        self.sandbox = sandbox
        label = plantillas.label
        self.wording = SignatureWording(
            stamp=label("firma_sello"), reason=label("firma_motivo"), location=label("firma_lugar")
        )

    def verification_url(self, code: str) -> str:
        return f"{self.public_base_url}/verificar/{format_code(code)}"

    @property
    def verification_page(self) -> str:
        """Printed under the code: short enough for one line; the QR carries the full link."""
        return f"{self.public_base_url}/verificar"

    def content(self, draft: Draft, *, for_image: bool) -> DocumentContent:
        label = self.plantillas.label
        template = draft.template
        rows = [Row(label("titular"), draft.holder.name, wide=True), Row(label("cedula"), draft.holder.cedula)]
        rows += [Row(name, value, wide=len(value) > 26) for name, value in template.labelled(draft.fields)]
        rows += [
            Row(label("emision"), format_date(draft.issued_at), new_line=True),
            Row(label("vigencia"), format_date(draft.expires_at)),
        ]
        return DocumentContent(
            country=label("pais"),
            institution=template.institution,
            title=template.title,
            rows=tuple(rows),
            code_label=label("codigo"),
            code=format_code(draft.code),
            verify_label=label("verifique"),
            verify_url=self.verification_url(draft.code),
            verify_page=self.verification_page,
            note=label("imagen_nota") if for_image else label("escanee"),
            issuer_line=label("emitido_por"),
            sandbox_banner=label("prueba") if self.sandbox else None,
            watermark=label("marca_agua") if self.sandbox else None,
        )

    def unsigned_pdf(self, draft: Draft) -> bytes:
        """The PDF before signing (the benchmark's baseline)."""
        pdf, _ = render_pdf(
            self.content(draft, for_image=False),
            fonts=self.fonts,
            issued_at=draft.issued_at,
            keywords=document_keywords(draft.id, draft.code),
        )
        return pdf

    def signed_pdf(self, draft: Draft) -> bytes:
        pdf, box = render_pdf(
            self.content(draft, for_image=False),
            fonts=self.fonts,
            issued_at=draft.issued_at,
            keywords=document_keywords(draft.id, draft.code),
        )
        return sign_pdf(pdf, signer=self.signer, box=box, wording=self.wording)

    def unsigned_png(self, draft: Draft) -> bytes:
        """The image without its token, its QR carrying the verification link (the benchmark's PNG baseline)."""
        return render_png(
            self.content(draft, for_image=True), fonts=self.fonts, token=self.verification_url(draft.code)
        )

    def token(self, draft: Draft) -> str:
        return encode_token(draft.claims(), kid=self.signer.kid, sign=self.signer.sign_es256)

    def signed_png(self, draft: Draft) -> tuple[bytes, str]:
        token = self.token(draft)
        return render_png(self.content(draft, for_image=True), fonts=self.fonts, token=token), token

    def render(self, draft: Draft) -> Rendered:
        png, token = self.signed_png(draft)
        return Rendered(pdf=self.signed_pdf(draft), png=png, token=token)


class DocumentService:
    """Issues, revokes and shares documents.

    Args:
        sessions: the app database's session factory.
        renderer: renders and signs.
        store: keeps the files.
        links: signs download links.
        holder_key: key of the cédula's keyed hash.
        download_minutes: lifetime of the download links given to actions.
        share_minutes: default lifetime of share links.
        clock: the current time (tests pass a fixed one).
    """

    def __init__(
        self,
        *,
        sessions: async_sessionmaker[AsyncSession],
        renderer: DocumentRenderer,
        store: DocumentStore,
        links: LinkSigner,
        holder_key: bytes,
        download_minutes: int,
        share_minutes: int,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.sessions = sessions
        self.renderer = renderer
        self.store = store
        self.links = links
        self.holder_key = holder_key
        self.download_minutes = download_minutes
        self.share_minutes = share_minutes
        self.clock = clock

    def draft(
        self,
        kind: DocumentKind | str,
        holder: Holder,
        fields: Mapping[str, str],
        *,
        issued_at: datetime | None = None,
        expires_at: datetime | None = None,
    ) -> Draft:
        """Check ``fields`` against the template and fix the id, code and dates.

        The document expires at ``expires_at`` when the registry says when (a cédula, a licence, a registration),
        otherwise after the template's ``vigencia_dias`` (the catalogue's validity of a certificate).

        Raises:
            TemplateError: unknown kind, or fields missing or unexpected.
        """
        template = self.renderer.plantillas.document(kind)
        if not holder.name.strip() or sum(ch.isdigit() for ch in holder.cedula) != 10:
            raise TemplateError("the holder needs a name and a 10-digit cédula")
        issued = as_utc(issued_at or self.clock()).replace(microsecond=0)
        expires = (
            issued + timedelta(days=template.valid_days)
            if expires_at is None
            else as_utc(expires_at).replace(microsecond=0)
        )
        return Draft(
            id=new_document_id(),
            template=template,
            code=new_verification_code(),
            holder=Holder(cedula="".join(ch for ch in holder.cedula if ch.isdigit()), name=holder.name.strip()),
            fields=template.check_fields(fields),
            issued_at=issued,
            expires_at=expires,
        )

    async def issue(
        self,
        kind: DocumentKind | str,
        holder: Holder,
        fields: Mapping[str, str],
        *,
        conversation_id: str | None = None,
        issued_at: datetime | None = None,
        expires_at: datetime | None = None,
        once_for: str | None = None,
    ) -> IssuedDocument:
        """Render, sign, store and record a document; the one already issued of this kind to this holder for the
        same application (``once_for``) or, without one, inside the same turn (`ISSUING_TURN`), if any: a
        retried turn, or a worker taking over an application a dead process was issuing, never issues twice.

        Args:
            kind: which document (`DocumentKind`).
            holder: the citizen.
            fields: the template's fields, by key.
            conversation_id: the conversation that asked for it, for the audit trail.
            issued_at: issue time (now by default; tests back-date documents to make them expire).
            expires_at: the registry's end of validity (a cédula's or licence's expiry); None for the template's
                ``vigencia_dias`` from the issue time. Never back-date ``issued_at`` to reach a date.
            once_for: what this document is issued once for (an application: ``"solicitud:<id>"``), whichever
                process issues it.

        Raises:
            TemplateError: unknown kind, or fields that do not match the template.
        """
        draft = self.draft(kind, holder, fields, issued_at=issued_at, expires_at=expires_at)
        turn = ISSUING_TURN.get()
        scope = f"una_vez\n{once_for}" if once_for else f"turno\n{turn}" if turn else None
        # Keyed hash: the record keeps no conversation id or message id (erasure leaves nothing of the citizen).
        key = (
            hmac.new(
                self.holder_key,
                f"{scope}\n{draft.template.kind.value}\n{draft.holder.cedula}".encode(),
                hashlib.sha256,
            ).hexdigest()
            if scope
            else None
        )
        if key is not None:
            async with self.sessions() as session:
                earlier = await repo.by_idempotency_key(session=session, key=key)
            if earlier is not None:
                log.info("documento.ya_emitido_en_este_turno", document_id=earlier.id, kind=earlier.kind)
                return self._issued(earlier)
        rendered = await asyncio.to_thread(self.renderer.render, draft)
        pdf_name, png_name = f"{draft.template.kind.value}.pdf", f"{draft.template.kind.value}.png"
        await asyncio.to_thread(self.store.put, draft.id, pdf_name, rendered.pdf)
        await asyncio.to_thread(self.store.put, draft.id, png_name, rendered.png)
        pdf_sha, png_sha = hashlib.sha256(rendered.pdf).hexdigest(), hashlib.sha256(rendered.png).hexdigest()
        try:
            await self._record(draft, rendered, conversation_id=conversation_id, key=key, shas=(pdf_sha, png_sha))
        except IntegrityError:
            if key is None:
                raise
            # The same turn issued it at the same moment elsewhere: that one stands, these files go.
            for name in (pdf_name, png_name):
                await asyncio.to_thread(self.store.delete, draft.id, name)
            async with self.sessions() as session:
                earlier = await repo.by_idempotency_key(session=session, key=key)
            if earlier is None:
                raise
            return self._issued(earlier)
        log.info(
            "documento.emitido",
            document_id=draft.id,
            kind=draft.template.kind.value,
            pdf_bytes=len(rendered.pdf),
            png_bytes=len(rendered.png),
            conversation_id=conversation_id,
        )
        metrics.DOCUMENTS_ISSUED.labels(kind=draft.template.kind.value).inc()
        links_expire = expiry(self.clock(), self.download_minutes)
        return IssuedDocument(
            id=draft.id,
            kind=draft.template.kind,
            verification_code=format_code(draft.code),
            verification_url=self.renderer.verification_url(draft.code),
            issued_at=draft.issued_at,
            expires_at=draft.expires_at,
            pdf=self._file(draft.id, "pdf", pdf_name, len(rendered.pdf), pdf_sha, links_expire),
            png=self._file(draft.id, "png", png_name, len(rendered.png), png_sha, links_expire),
            token=rendered.token,
        )

    async def _record(
        self, draft: Draft, rendered: Rendered, *, conversation_id: str | None, key: str | None, shas: tuple[str, str]
    ) -> None:
        pdf_name, png_name = f"{draft.template.kind.value}.pdf", f"{draft.template.kind.value}.png"
        pdf_sha, png_sha = shas
        async with self.sessions.begin() as session:
            await repo.add_document(
                session=session,
                document=repo.NewDocument(
                    id=draft.id,
                    kind=draft.template.kind.value,
                    verification_code=draft.code,
                    holder_cedula_hash=holder_hash(self.holder_key, draft.holder.cedula),
                    holder_cedula_masked=draft.cedula_masked,
                    holder_name=draft.holder.name,
                    public_fields=draft.template.public_fields(draft.fields),
                    issued_at=draft.issued_at,
                    expires_at=draft.expires_at,
                    pdf_filename=pdf_name,
                    pdf_sha256=pdf_sha,
                    pdf_size=len(rendered.pdf),
                    png_filename=png_name,
                    png_sha256=png_sha,
                    png_size=len(rendered.png),
                    signer_kid=self.renderer.signer.kid.hex(),
                    sandbox=self.renderer.sandbox,
                    conversation_id=conversation_id,
                    idempotency_key=key,
                ),
            )

    def _issued(self, row: Document) -> IssuedDocument:
        """An issued document as `issue` returns it, from its record (fresh links and a fresh token)."""
        kind = DocumentKind(row.kind)
        links_expire = expiry(self.clock(), self.download_minutes)
        claims = TokenClaims(
            document_id=row.id,
            kind=row.kind,
            holder_name=row.holder_name,
            holder_cedula_masked=row.holder_cedula_masked,
            issued_at=as_utc(row.issued_at),
            expires_at=as_utc(row.expires_at),
        )
        signer = self.renderer.signer
        return IssuedDocument(
            id=row.id,
            kind=kind,
            verification_code=format_code(row.verification_code),
            verification_url=self.renderer.verification_url(row.verification_code),
            issued_at=as_utc(row.issued_at),
            expires_at=as_utc(row.expires_at),
            pdf=self._file(row.id, "pdf", row.pdf_filename, row.pdf_size, row.pdf_sha256, links_expire),
            png=self._file(row.id, "png", row.png_filename, row.png_size, row.png_sha256, links_expire),
            token=encode_token(claims, kid=signer.kid, sign=signer.sign_es256),
        )

    def _file(
        self, document_id: str, kind: Literal["pdf", "png"], filename: str, size: int, sha256: str, expires: datetime
    ) -> IssuedFile:
        """One file of an issued document with a signed download link valid until ``expires``."""
        return IssuedFile(
            kind=kind,
            filename=filename,
            media_type=MEDIA_TYPES[kind],
            size=size,
            sha256=sha256,
            url=self.links.url(document_id, filename, expires_at=expires),
        )

    async def payloads(self, document_id: str) -> list[dict[str, Any]]:
        """The ``{"document": ...}`` payloads of an issued document with fresh download links (to resend it).

        Raises:
            DocumentNotFound: no document with that id.
        """
        async with self.sessions() as session:
            document = await repo.get_document(session=session, document_id=document_id)
        if document is None:
            raise DocumentNotFound(document_id)
        return [
            {
                "document": {
                    "id": document.id,
                    "kind": kind,
                    "filename": filename,
                    "url": self.download_url(document.id, filename),
                    "verification_code": document.verification_code,
                }
            }
            for kind, filename in (("pdf", document.pdf_filename), ("png", document.png_filename))
        ]

    async def of_holder(self, cedula: str) -> list[IssuedSummary]:
        """The documents issued to ``cedula`` (looked up by keyed hash), newest first."""
        async with self.sessions() as session:
            found = await repo.documents_of_holder(
                session=session, holder_cedula_hash=holder_hash(self.holder_key, cedula)
            )
        return [
            IssuedSummary(
                id=d.id,
                kind=d.kind,
                verification_code=d.verification_code,
                issued_at=d.issued_at,
                expires_at=d.expires_at,
                revoked=d.revoked_at is not None,
            )
            for d in found
        ]

    def download_url(self, document_id: str, filename: str, *, minutes: int | None = None) -> str:
        """A fresh signed download link (for a channel that fetches the file later, e.g. Twilio media)."""
        expires_at = expiry(self.clock(), self.download_minutes if minutes is None else minutes)
        return self.links.url(document_id, filename, expires_at=expires_at)

    async def fetch(self, document_id: str, filename: str) -> StoredFile:
        """The bytes of one of a document's files, for a download link already checked.

        Raises:
            DocumentNotFound: no such document, or the name is not one of its files.
            DocumentRevoked: the document was revoked.
        """
        async with self.sessions() as session:
            document = await repo.get_document(session=session, document_id=document_id)
        if document is None or filename not in (document.pdf_filename, document.png_filename):
            raise DocumentNotFound(f"{document_id}/{filename}")
        if document.revoked_at is not None:
            raise DocumentRevoked(document_id)
        data = await asyncio.to_thread(self.store.get, document_id, filename)
        media_type = MEDIA_TYPES["pdf"] if filename == document.pdf_filename else MEDIA_TYPES["png"]
        return StoredFile(filename=filename, media_type=media_type, data=data)

    async def revoke(self, document_id: str, *, reason: str, actor: str) -> None:
        """Revoke a document for good; verifiers see ``revocado`` and the reason from then on.

        Raises:
            DocumentNotFound: no document with that id.
        """
        async with self.sessions.begin() as session:
            document = await repo.revoke_document(
                session=session, document_id=document_id, reason=reason[:200], actor=actor[:80], at=self.clock()
            )
        if document is None:
            raise DocumentNotFound(document_id)
        log.info("documento.revocado", document_id=document_id, actor=actor)

    async def share(self, document_id: str, *, minutes: int | None = None) -> ShareLink:
        """A link that shows the document to a third party for a few minutes (like Diia's sharing).

        Raises:
            DocumentNotFound: no document with that id.
        """
        token = new_share_token()
        expires_at = expiry(self.clock(), self.share_minutes if minutes is None else minutes).replace(microsecond=0)
        async with self.sessions.begin() as session:
            if await repo.get_document(session=session, document_id=document_id) is None:
                raise DocumentNotFound(document_id)
            await repo.add_share_link(
                session=session, document_id=document_id, token_hash=share_token_hash(token), expires_at=expires_at
            )
        log.info("documento.compartido", document_id=document_id, expires_at=expires_at.isoformat())
        return ShareLink(url=f"{self.links.base_url.rstrip('/')}/compartido/{token}", expires_at=expires_at)
