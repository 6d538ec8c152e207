"""Builds the documents subsystem once, where a process starts (gateway, action server, CLI)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.documents.errors import ConfigurationError
from bot.documents.keys import load_or_create_secret
from bot.documents.links import LinkSigner
from bot.documents.qr import configure_image_decoding
from bot.documents.render import Fonts
from bot.documents.service import DocumentRenderer, DocumentService, utcnow
from bot.documents.settings import DocumentSettings
from bot.documents.signing import Signer, open_signer
from bot.documents.store import DocumentStore, FilesystemDocumentStore
from bot.documents.templates import Plantillas, load_plantillas
from bot.documents.verification import VerificationService


@dataclass(frozen=True)
class Documents:
    """Everything the gateway routes, actions and CLI commands use, built once per process."""

    settings: DocumentSettings
    plantillas: Plantillas
    signer: Signer
    store: DocumentStore
    links: LinkSigner
    issuer: DocumentService
    verifier: VerificationService


def _secret(value: str, settings: DocumentSettings, filename: str, variable: str) -> bytes:
    if value:
        if len(value) < 32:
            raise ConfigurationError(f"{variable} must be at least 32 characters")
        return value.encode("utf-8")
    if not settings.sandbox:
        raise ConfigurationError(f"{variable} must be set outside the sandbox")
    return load_or_create_secret(settings.keys_dir / filename)


def open_document_store(settings: DocumentSettings) -> DocumentStore:
    """The configured store: S3-compatible object storage (``DOCUMENT_STORE=s3``) or ``<var_dir>/documentos``.

    Raises:
        StoreUnavailable: the object storage cannot be reached, the bucket is missing or access is refused.
    """
    if settings.object_store is None:
        return FilesystemDocumentStore(settings.store_dir)
    from bot.documents.object_store import S3Bucket, S3DocumentStore  # boto3 only where it is used

    bucket = S3Bucket(settings.object_store)
    bucket.check()  # a wrong bucket or key stops the process at start, not the first citizen's document
    return S3DocumentStore(bucket)


def build_documents(
    settings: DocumentSettings,
    *,
    sessions: async_sessionmaker[AsyncSession],
    store: DocumentStore | None = None,
    signer: Signer | None = None,
    clock: Callable[[], datetime] = utcnow,
) -> Documents:
    """Open the signer, load the templates and wire the services (blocking: call at start-up).

    Args:
        settings: from `document_settings_from`.
        sessions: the app database's session factory.
        store: where files go; by default the configured one (`open_document_store`).
        signer: an already opened signer (tests share one); the configured backend by default.
        clock: the current time.

    Raises:
        ConfigurationError: a key, secret or backend is missing or unusable.
        TemplateError: a template is missing or malformed.
        StoreUnavailable: the configured object storage cannot be used.
    """
    configure_image_decoding(settings.max_image_pixels)
    plantillas = load_plantillas(settings.templates_dir)
    signer = signer or open_signer(settings)
    store = store or open_document_store(settings)
    links = LinkSigner(
        secret=_secret(settings.link_secret, settings, "enlaces.secret", "CHASQUI_DOCUMENTS_LINK_SECRET"),
        base_url=settings.public_base_url,
    )
    renderer = DocumentRenderer(
        plantillas=plantillas,
        signer=signer,
        fonts=Fonts.find(settings.font_dir, cache_dir=settings.effective_font_cache_dir),
        public_base_url=settings.public_base_url,
        sandbox=settings.sandbox,
    )
    issuer = DocumentService(
        sessions=sessions,
        renderer=renderer,
        store=store,
        links=links,
        holder_key=_secret(settings.holder_key, settings, "titular.secret", "CHASQUI_DOCUMENTS_HOLDER_KEY"),
        download_minutes=settings.download_minutes,
        share_minutes=settings.share_minutes,
        clock=clock,
    )
    verifier = VerificationService(
        sessions=sessions,
        plantillas=plantillas,
        signer=signer,
        clock=clock,
        max_image_pixels=settings.max_image_pixels,
    )
    return Documents(
        settings=settings,
        plantillas=plantillas,
        signer=signer,
        store=store,
        links=links,
        issuer=issuer,
        verifier=verifier,
    )
