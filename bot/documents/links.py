"""Signed, expiring download links and share-link tokens (HMAC-SHA256 with secrets from the settings)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import quote, urlencode


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


@dataclass(frozen=True)
class LinkSigner:
    """Builds and checks ``/documentos/{id}/{archivo}?exp=…&sig=…`` links.

    Args:
        secret: the HMAC key (``CHASQUI_DOCUMENTS_LINK_SECRET``).
        base_url: the gateway's public address.
    """

    secret: bytes
    base_url: str

    def _signature(self, document_id: str, filename: str, expires: int) -> str:
        message = f"documento\n{document_id}\n{filename}\n{expires}".encode()
        return _b64(hmac.new(self.secret, message, hashlib.sha256).digest())

    def path(self, document_id: str, filename: str, *, expires_at: datetime) -> str:
        """Path and query of a download link valid until ``expires_at``."""
        expires = int(expires_at.timestamp())
        query = urlencode({"exp": expires, "sig": self._signature(document_id, filename, expires)})
        return f"/documentos/{quote(document_id)}/{quote(filename)}?{query}"

    def url(self, document_id: str, filename: str, *, expires_at: datetime) -> str:
        return self.base_url.rstrip("/") + self.path(document_id, filename, expires_at=expires_at)

    def check(self, document_id: str, filename: str, *, expires: str, signature: str, now: datetime) -> str:
        """Return ``"ok"``, ``"expired"`` or ``"invalid"`` for a link's parameters.

        The signature is compared in constant time before the expiry is looked at, so an expired link
        reveals nothing about links that were never issued.
        """
        if not (expires.isascii() and expires.isdigit()) or len(expires) > 12:  # isdigit alone accepts «²»
            return "invalid"
        expected = self._signature(document_id, filename, int(expires))
        if not hmac.compare_digest(expected.encode(), signature.encode()):
            return "invalid"
        return "ok" if int(expires) > now.timestamp() else "expired"


def new_share_token() -> str:
    """A fresh share-link token (192 bits); only its hash is stored."""
    return secrets.token_urlsafe(24)


def share_token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def holder_hash(key: bytes, cedula: str) -> str:
    """Keyed hash of a cédula (HMAC-SHA256): finds a citizen's documents without storing the number."""
    digits = "".join(ch for ch in cedula if ch.isdigit())
    return hmac.new(key, f"cedula\n{digits}".encode(), hashlib.sha256).hexdigest()


def expiry(now: datetime, minutes: int) -> datetime:
    return now + timedelta(minutes=minutes)
