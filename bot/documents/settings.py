"""What the documents subsystem is configured with, read from the process settings and the environment."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from bot.documents.errors import ConfigurationError
from bot.settings import Settings

# Environment variables read until `bot.settings.Settings` grows the matching fields (see the report).
ENV_PREFIX = "CHASQUI_DOCUMENTS_"


@dataclass(frozen=True)
class S3Location:
    """Where the objects go and how to reach them.

    Attributes:
        bucket: an existing bucket (Chasqui never creates one: its policy and lifecycle belong to operations).
        prefix: put before every key, e.g. ``chasqui/`` to share a bucket.
        endpoint_url: the service's URL for MinIO, Ceph or another S3-compatible server; empty for AWS itself.
        region: empty to let boto3 read ``AWS_REGION``/``AWS_DEFAULT_REGION`` or the profile.
        server_side_encryption: ``AES256`` or ``aws:kms`` to ask for encryption at rest; empty for the bucket's
            default (MinIO refuses ``AES256`` without a configured KMS).
        connect_timeout: seconds to open a connection.
        read_timeout: seconds to wait for an answer.
        max_attempts: tries of one call, the first included (boto3's ``standard`` retry mode).
    """

    bucket: str
    prefix: str = ""
    endpoint_url: str = ""
    region: str = ""
    server_side_encryption: str = ""
    connect_timeout: float = 5.0
    read_timeout: float = 30.0
    max_attempts: int = 3

    def describe(self) -> str:
        """``s3://bucket/prefix at endpoint``, for error messages and logs (no secret in it)."""
        return f"s3://{self.bucket}/{self.prefix} at {self.endpoint_url or 'AWS'}"


def s3_location_from(settings: Settings) -> S3Location | None:
    """The object storage chosen by ``DOCUMENT_STORE=s3``, or ``None`` for the filesystem under ``var/``.

    Raises:
        ConfigurationError: ``DOCUMENT_STORE`` is ``s3`` but ``S3_BUCKET`` is empty.
    """
    if settings.document_store != "s3":
        return None
    if not settings.s3_bucket.strip():
        raise ConfigurationError("DOCUMENT_STORE=s3 needs S3_BUCKET (and S3_ENDPOINT_URL outside AWS)")
    prefix = settings.s3_prefix.strip().strip("/")
    return S3Location(
        bucket=settings.s3_bucket.strip(),
        prefix=f"{prefix}/" if prefix else "",
        endpoint_url=settings.s3_endpoint_url.strip(),
        region=settings.s3_region.strip(),
        server_side_encryption=settings.s3_server_side_encryption.strip(),
        connect_timeout=settings.s3_connect_timeout_seconds,
        read_timeout=settings.s3_read_timeout_seconds,
        max_attempts=settings.s3_max_attempts,
    )


@dataclass(frozen=True)
class DocumentSettings:
    """Everything `bot.documents` needs; built once when a process starts.

    Secrets left empty are generated on first use under ``<var_dir>/keys/`` in the sandbox, and
    are required in any other environment.
    """

    var_dir: Path
    templates_dir: Path
    public_base_url: str
    sandbox: bool = True
    signing_backend: str = "dev"
    link_secret: str = field(default="", repr=False)
    holder_key: str = field(default="", repr=False)
    download_minutes: int = 24 * 60
    share_minutes: int = 10
    max_upload_bytes: int = 5 * 1024 * 1024
    max_image_pixels: int = 25_000_000  # photos larger than this (width × height) are refused before decoding
    font_dir: Path | None = Path("/usr/share/fonts/truetype/dejavu")
    font_cache_dir: Path | None = None  # <var_dir>/cache/fuentes by default
    trust_roots: tuple[Path, ...] = ()
    pkcs12_path: Path | None = None
    pkcs12_passphrase: str = field(default="", repr=False)
    pkcs11_module: str = ""
    pkcs11_token_label: str = ""
    pkcs11_key_label: str = ""
    pkcs11_cert_label: str = ""
    pkcs11_pin: str = field(default="", repr=False)
    object_store: S3Location | None = None  # None: files under <var_dir>/documentos

    @property
    def keys_dir(self) -> Path:
        return self.var_dir / "keys"

    @property
    def store_dir(self) -> Path:
        return self.var_dir / "documentos"

    @property
    def effective_font_cache_dir(self) -> Path:
        return self.font_cache_dir or self.var_dir / "cache" / "fuentes"


def document_settings_from(settings: Settings, *, environ: Mapping[str, str] | None = None) -> DocumentSettings:
    """Derive the documents settings from the process settings plus ``CHASQUI_DOCUMENTS_*`` variables.

    Args:
        settings: the process settings (var_dir, public URL, environment).
        environ: where to read the extra variables; the process environment by default.
    """
    env = os.environ if environ is None else environ

    def text(name: str, default: str = "") -> str:
        return env.get(ENV_PREFIX + name, default).strip()

    def number(name: str, default: int) -> int:
        value = text(name)
        return int(value) if value else default

    font_dir = text("FONT_DIR")
    pkcs12 = text("PKCS12_PATH")
    return DocumentSettings(
        var_dir=settings.var_dir,
        templates_dir=Path(text("TEMPLATES_DIR") or settings.project_dir / "data" / "plantillas"),
        public_base_url=settings.effective_public_base_url,
        sandbox=settings.environment == "sandbox",
        signing_backend=text("SIGNING_BACKEND", "dev"),
        link_secret=text("LINK_SECRET"),
        holder_key=text("HOLDER_KEY"),
        download_minutes=number("DOWNLOAD_MINUTES", 24 * 60),
        share_minutes=number("SHARE_MINUTES", 10),
        max_upload_bytes=number("MAX_UPLOAD_BYTES", 5 * 1024 * 1024),
        max_image_pixels=number("MAX_IMAGE_PIXELS", DocumentSettings.max_image_pixels),
        font_dir=Path(font_dir) if font_dir else DocumentSettings.font_dir,
        trust_roots=tuple(Path(p) for p in text("TRUST_ROOTS").split(os.pathsep) if p),
        pkcs12_path=Path(pkcs12) if pkcs12 else None,
        pkcs12_passphrase=text("PKCS12_PASSPHRASE"),
        pkcs11_module=text("PKCS11_MODULE"),
        pkcs11_token_label=text("PKCS11_TOKEN_LABEL"),
        pkcs11_key_label=text("PKCS11_KEY_LABEL"),
        pkcs11_cert_label=text("PKCS11_CERT_LABEL"),
        pkcs11_pin=text("PKCS11_PIN"),
        object_store=s3_location_from(settings),
    )
