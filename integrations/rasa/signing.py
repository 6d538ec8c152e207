"""The signature between the gateway and Rasa's input channel: HMAC-SHA256 over a timestamp and the body.

Rasa's own REST channel has no authentication, so any local process could speak for any citizen. Rasa loads
`integrations.rasa.channel.SignedRestInput` instead (credentials.yml), which refuses a message unless it carries
``X-Chasqui-Firma: t=<unix seconds>,v1=<hex>`` made with the secret both processes receive at start, and no more
than `MAX_SKEW_SECONDS` old (a replay later is refused). Standard library only: Rasa's environment imports it.
"""

from __future__ import annotations

import hashlib
import hmac
import time

HEADER = "X-Chasqui-Firma"
MAX_SKEW_SECONDS = 300


def sign(secret: str, body: bytes, *, now: float | None = None) -> str:
    """The header value for ``body``."""
    stamp = int(time.time() if now is None else now)
    digest = hmac.new(secret.encode(), f"{stamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={stamp},v1={digest}"


def verify(secret: str, body: bytes, header: str | None, *, now: float | None = None) -> bool:
    """Whether ``header`` signs ``body`` with ``secret``, recently enough. No secret: nothing is accepted."""
    if not secret or not header:
        return False
    try:
        fields = dict(part.split("=", 1) for part in header.split(","))
        stamp = int(fields["t"])
        given = fields["v1"]
    except (KeyError, ValueError):
        return False
    current = time.time() if now is None else now
    if abs(current - stamp) > MAX_SKEW_SECONDS:
        return False
    expected = hmac.new(secret.encode(), f"{stamp}.".encode() + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, given)
