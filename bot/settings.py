"""Process settings, read once from the environment or `.env` when a process starts."""

from __future__ import annotations

import hashlib
from functools import cached_property
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_DIR = Path(__file__).resolve().parent.parent


def _cache_dir() -> Path:
    return Path.home() / ".cache" / "chasqui"


def rasa_lock_hash(project_dir: Path = PROJECT_DIR) -> str:
    """Short hash of the pinned Rasa environment; names the Rasa virtualenv in the cache."""
    lock = project_dir / "requirements" / "rasa.lock"
    return hashlib.sha256(lock.read_bytes()).hexdigest()[:12]


class Settings(BaseSettings):
    """Everything a Chasqui process can be configured with.

    Names map to upper-case environment variables with the ``CHASQUI_`` prefix, except the
    few that have a conventional name of their own (``DATABASE_URL``, ``REDIS_URL``).
    """

    model_config = SettingsConfigDict(env_prefix="CHASQUI_", env_file=".env", env_file_encoding="utf-8", extra="ignore")

    environment: str = "sandbox"
    timezone: str = "America/Guayaquil"
    project_dir: Path = PROJECT_DIR
    var_dir: Path = PROJECT_DIR / "var"
    cache_dir: Path = Field(default_factory=_cache_dir)

    database_url: str = Field(default="", validation_alias=AliasChoices("DATABASE_URL", "CHASQUI_DATABASE_URL"))
    rasa_database_url: str = Field(
        default="", validation_alias=AliasChoices("RASA_DATABASE_URL", "CHASQUI_RASA_DATABASE_URL")
    )
    redis_url: str = Field(default="", validation_alias=AliasChoices("REDIS_URL", "CHASQUI_REDIS_URL"))
    redis_prefix: str = "chasqui:"  # the gateway's keys and channels in Redis (one per deployment sharing a server)
    # Gateway processes serving the same conversations, on every host together. More than one needs shared
    # state (REDIS_URL, a server database) and configured secrets: start-up refuses otherwise
    # (bot/gateway/shared_state.py). uvicorn's own ``WEB_CONCURRENCY`` workers count too.
    replicas: int = Field(default=1, ge=1)
    web_concurrency: int = Field(default=1, ge=1, validation_alias=AliasChoices("WEB_CONCURRENCY"))

    # How long a gateway process owns an outbox message it is sending: after that any process may send it
    # (the owner died). Longer than a channel call's worst case (bot/conversations/outbox.py).
    outbox_lease_seconds: float = Field(default=120.0, gt=0)

    host: str = "127.0.0.1"
    gateway_port: int = 8000
    rasa_port: int = 5005
    actions_port: int = 5055
    rasa_url: str = ""
    rasa_token: str = ""
    rasa_channel_secret: str = ""  # signs the gateway's messages to Rasa (integrations/rasa/signing.py)
    actions_token: str = ""  # Rasa's credential for the action server (endpoints.yml: action_endpoint.token)
    rasa_timeout_seconds: float = 30.0
    # Messages a gateway process has with Rasa at once; the others wait in arrival order (0: no limit). A limit
    # trades throughput for a shorter tail (measured in the README's benchmark: at 16 chats, 4 places gave p95
    # 1–3 % lower than Rasa's but 6–8 % fewer turns a second), and keeps a burst from swamping Rasa.
    rasa_concurrency: int = Field(default=0, ge=0)
    rasa_bin: str = ""
    model_path: str = ""
    # `chasqui run` with no full model trained for the current data: start on the quick model (a few minutes)
    # and train the full one in the background, then load it into Rasa (bot/cli/model.py). False: wait for it.
    quick_model_first: bool = True

    public_base_url: str = ""
    internal_token: str = ""  # the action server's credential for the gateway's internal API
    gateway_internal_url: str = ""

    # Protection at rest (see bot/privacy/encryption.py); generated under var/keys in the sandbox.
    encryption_keys: str = ""
    hash_key: str = ""

    # Registries: the sandbox server in development, demos and tests.
    registros_port: int = 8300
    registros_url: str = ""
    registros_sandbox: bool = True  # start the sandbox registries with `chasqui run`
    registros_timeout_seconds: float = 5.0

    # Payments: the secret that signs payment links and the sandbox provider's callbacks.
    pagos_secreto: str = ""

    # Data protection (see PRIVACY.md).
    consentimiento_requerido: bool = True  # ask at first contact; off only in tests of other features
    aviso_privacidad_version: str = "2026-11-27"
    retencion_dias_anonimas: int = 30
    retencion_dias_identificadas: int = 365

    # Where documents and copies of data are kept: "filesystem" (under var/, one host) or "s3" (any
    # S3-compatible object storage, shared by every host). Credentials come from boto3's own chain
    # (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, a profile or a role); see bot/documents/object_store.py.
    document_store: Literal["filesystem", "s3"] = Field(
        default="filesystem", validation_alias=AliasChoices("DOCUMENT_STORE", "CHASQUI_DOCUMENT_STORE")
    )
    s3_endpoint_url: str = Field(
        default="", validation_alias=AliasChoices("S3_ENDPOINT_URL", "CHASQUI_S3_ENDPOINT_URL")
    )
    s3_bucket: str = Field(default="", validation_alias=AliasChoices("S3_BUCKET", "CHASQUI_S3_BUCKET"))
    s3_prefix: str = ""  # e.g. "chasqui/" to share a bucket
    s3_region: str = ""  # empty: AWS_REGION / AWS_DEFAULT_REGION
    s3_server_side_encryption: str = ""  # "AES256" or "aws:kms"; empty: the bucket's default
    s3_connect_timeout_seconds: float = 5.0
    s3_read_timeout_seconds: float = 30.0
    s3_max_attempts: int = Field(default=3, ge=1)

    # Identity verification.
    identidad_minutos: int = 60  # how long a chat stays linked to the identity it proved
    identidad_intentos: int = 3  # failed checks before the identity step locks
    identidad_bloqueo_minutos: int = 15

    # Telegram (python-telegram-bot). Webhook mode needs an HTTPS public URL; otherwise long polling.
    telegram_token: str = Field(default="", validation_alias=AliasChoices("TELEGRAM_TOKEN", "CHASQUI_TELEGRAM_TOKEN"))
    telegram_secret_token: str = ""
    telegram_api_url: str = "https://api.telegram.org/bot"
    telegram_mode: str = "auto"  # auto | webhook | polling
    # The bot's public username (@chasqui_ec_bot): «¿esto es oficial?» tells citizens it is Chasqui's (bot/phishing).
    telegram_bot_username: str = ""

    # WhatsApp through Twilio.
    twilio_account_sid: str = Field(
        default="", validation_alias=AliasChoices("TWILIO_ACCOUNT_SID", "CHASQUI_TWILIO_ACCOUNT_SID")
    )
    twilio_auth_token: str = Field(
        default="", validation_alias=AliasChoices("TWILIO_AUTH_TOKEN", "CHASQUI_TWILIO_AUTH_TOKEN")
    )
    twilio_whatsapp_from: str = ""  # e.g. whatsapp:+14155238886
    twilio_api_url: str = "https://api.twilio.com"
    whatsapp_quick_replies: dict[str, str] = Field(default_factory=dict)  # "payload|payload" -> ContentSid
    whatsapp_templates: dict[str, str] = Field(default_factory=dict)  # template name -> ContentSid
    max_body_bytes: int = 64 * 1024
    max_text_chars: int = 2000
    log_level: str = "INFO"
    log_json: bool = False
    # `/metrics` (gateway and action server): with a token, only `Authorization: Bearer <token>`; without one,
    # only direct callers on loopback or private addresses (see bot.metrics.scrape_allowed).
    metrics_token: str = ""

    @cached_property
    def effective_database_url(self) -> str:
        """The app database as an async SQLAlchemy URL (SQLite under `var/` by default)."""
        url = self.database_url or f"sqlite+aiosqlite:///{self.var_dir / 'chasqui.db'}"
        return async_database_url(url)

    @cached_property
    def effective_rasa_database_url(self) -> str:
        """Rasa's SQL tracker store, kept apart from the app's tables."""
        return self.rasa_database_url or f"sqlite:///{self.var_dir / 'rasa.db'}"

    @property
    def gateway_processes(self) -> int:
        """How many gateway processes serve together: ``CHASQUI_REPLICAS`` or uvicorn's ``WEB_CONCURRENCY``."""
        return max(self.replicas, self.web_concurrency)

    @property
    def effective_rasa_url(self) -> str:
        return self.rasa_url or f"http://{self.host}:{self.rasa_port}"

    @property
    def effective_public_base_url(self) -> str:
        return (self.public_base_url or f"http://{self.host}:{self.gateway_port}").rstrip("/")

    @property
    def zona_horaria(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def effective_registros_url(self) -> str:
        return (self.registros_url or f"http://{self.host}:{self.registros_port}").rstrip("/")

    @property
    def effective_gateway_internal_url(self) -> str:
        return (self.gateway_internal_url or f"http://{self.host}:{self.gateway_port}").rstrip("/")

    @property
    def effective_rasa_bin(self) -> Path:
        if self.rasa_bin:
            return Path(self.rasa_bin)
        return self.cache_dir / f"rasa-venv-{rasa_lock_hash(self.project_dir)}" / "bin" / "rasa"

    @property
    def telegram_webhook_mode(self) -> bool:
        if self.telegram_mode == "auto":
            return self.effective_public_base_url.startswith("https://")
        return self.telegram_mode == "webhook"

    @property
    def textos_dir(self) -> Path:
        return self.project_dir / "dialogs" / "textos"


def async_database_url(url: str) -> str:
    """Map a plain database URL to the async driver the app uses."""
    if url.startswith(("postgres://", "postgresql://")):
        return "postgresql+asyncpg://" + url.split("://", 1)[1]
    if url.startswith("sqlite:///"):
        return "sqlite+aiosqlite:///" + url.removeprefix("sqlite:///")
    return url


def load_settings() -> Settings:
    """Read the settings once; processes pass the result down instead of reading again."""
    return Settings()
