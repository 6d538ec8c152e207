"""Protection at rest: personal fields encrypted with rotatable keys, looked up by keyed hash.

Keys come from configuration (``CHASQUI_ENCRYPTION_KEYS``: Fernet keys separated by commas, the first
one encrypts, all decrypt, so a key can be rotated; ``CHASQUI_HASH_KEY`` for lookups). In the sandbox,
missing keys are generated once under ``var/keys/``; elsewhere they are required.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from bot.documents.keys import load_or_create_secret
from bot.settings import Settings


class KeyConfigurationError(Exception):
    """Keys are missing or malformed outside the sandbox."""


@dataclass(frozen=True)
class Protector:
    """Encrypts and hashes personal values; the only place that holds the keys."""

    fernet: MultiFernet
    hash_key: bytes

    def encrypt(self, value: str) -> str:
        return self.fernet.encrypt(value.encode("utf-8")).decode("ascii")

    def decrypt(self, token: str) -> str:
        try:
            return self.fernet.decrypt(token.encode("ascii")).decode("utf-8")
        except InvalidToken as exc:
            raise KeyConfigurationError("a value cannot be decrypted with the configured keys") from exc

    def rotate(self, token: str) -> str:
        """Re-encrypt ``token`` with the newest key (after a key was added in front)."""
        return self.fernet.rotate(token.encode("ascii")).decode("ascii")

    def lookup_hash(self, value: str) -> str:
        """A keyed hash for equality lookups (the database alone cannot reverse it)."""
        return hmac.new(self.hash_key, value.encode("utf-8"), hashlib.sha256).hexdigest()


def protector_from(settings: Settings) -> Protector:
    """Build the protector from the settings, generating sandbox keys on first use."""
    keys_dir: Path = settings.var_dir / "keys"
    sandbox = settings.environment == "sandbox"
    raw_keys = [k.strip() for k in settings.encryption_keys.split(",") if k.strip()]
    if not raw_keys:
        if not sandbox:
            raise KeyConfigurationError("CHASQUI_ENCRYPTION_KEYS must be set outside the sandbox")
        seed = load_or_create_secret(keys_dir / "cifrado.key")
        raw_keys = [base64.urlsafe_b64encode(hashlib.sha256(seed).digest()).decode("ascii")]
    try:
        fernet = MultiFernet([Fernet(k.encode("ascii")) for k in raw_keys])
    except ValueError as exc:
        raise KeyConfigurationError("CHASQUI_ENCRYPTION_KEYS holds a malformed Fernet key") from exc
    if settings.hash_key:
        hash_key = settings.hash_key.encode("utf-8")
    elif sandbox:
        hash_key = load_or_create_secret(keys_dir / "hash.key")
    else:
        raise KeyConfigurationError("CHASQUI_HASH_KEY must be set outside the sandbox")
    return Protector(fernet=fernet, hash_key=hash_key)
