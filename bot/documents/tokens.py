"""Signed QR tokens: a CWT in a COSE_Sign1 (ES256), zlib-compressed, Base45-encoded, prefixed ``EC1:``.

Why this format rather than a compact JWS (ES256):

- Base45 (RFC 9285) uses only the QR code's *alphanumeric* characters, which QR packs at 5.5 bits each
  against 8 bits for base64url in byte mode. The same claims make a smaller QR code (about version 13
  at error correction Q against version 14-15 at M for JWS), so each module is larger at the same
  printed size. Larger modules and a higher error-correction level are what keep the code readable
  after a messaging app re-encodes the image as JPEG: trust comes from the token, never from the file.
- It is the shape of the EU Digital COVID Certificate (``HC1:``), a well-reviewed precedent for offline
  verification of government documents: ``kid`` is the first 8 bytes of the signer certificate's
  SHA-256, claims are CWT (RFC 8392), the signature is ES256 as raw ``r || s``.
- CBOR carries accented names as UTF-8 without escaping.

COSE_Sign1 is built by hand with cbor2 and cryptography (about forty lines) because pycose 1.1 breaks with
cbor2 >= 6. The token is signed, not encrypted: it holds only the document id, type, masked cédula,
name and dates; revocation is looked up online by document id.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import cbor2
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

PREFIX = "EC1:"
ISSUER = "EC-Chasqui"
BASE45 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"
_BASE45_INDEX = {ch: i for i, ch in enumerate(BASE45)}
COSE_SIGN1_TAG = 18
ES256 = -7
HEADER_ALG, HEADER_KID = 1, 4
CLAIM_ISS, CLAIM_EXP, CLAIM_IAT, CLAIM_CTI = 1, 4, 6, 7
CLAIM_DOCUMENT = -65537  # private-use CWT claim (RFC 8392 §9.1: below -65536)
MAX_PAYLOAD = 4096  # a decompressed token is a few hundred bytes: refuse zlib bombs


class TokenError(Exception):
    """A token failed to decode or verify.

    Attributes:
        code: ``token_ilegible`` (not a token, or damaged), ``clave_desconocida`` (signed by a key we
            do not know) or ``token_invalido`` (the signature does not match the content).
    """

    def __init__(self, code: str, message: str = "") -> None:
        super().__init__(message or code)
        self.code = code


@dataclass(frozen=True)
class TokenClaims:
    """What a document's QR token says."""

    document_id: str
    kind: str
    holder_name: str
    holder_cedula_masked: str
    issued_at: datetime
    expires_at: datetime
    issuer: str = ISSUER


def b45encode(data: bytes) -> str:
    """Base45 (RFC 9285) of ``data``."""
    out: list[str] = []
    for i in range(0, len(data) - 1, 2):
        n = data[i] * 256 + data[i + 1]
        n, c = divmod(n, 45)
        e, d = divmod(n, 45)
        out += (BASE45[c], BASE45[d], BASE45[e])
    if len(data) % 2:
        d, c = divmod(data[-1], 45)
        out += (BASE45[c], BASE45[d])
    return "".join(out)


def b45decode(text: str) -> bytes:
    """Inverse of `b45encode`; raises ValueError on any character or group that cannot be Base45."""
    try:
        values = [_BASE45_INDEX[ch] for ch in text]
    except KeyError as exc:
        raise ValueError(f"not a Base45 character: {exc}") from exc
    if len(values) % 3 == 1:
        raise ValueError("Base45 text has a dangling character")
    out = bytearray()
    for i in range(0, len(values), 3):
        group = values[i : i + 3]
        n = sum(v * 45**k for k, v in enumerate(group))
        if len(group) == 3:
            if n > 0xFFFF:
                raise ValueError("Base45 group out of range")
            out += n.to_bytes(2, "big")
        else:
            if n > 0xFF:
                raise ValueError("Base45 group out of range")
            out.append(n)
    return bytes(out)


def encode_token(claims: TokenClaims, *, kid: bytes, sign: Callable[[bytes], bytes]) -> str:
    """Sign ``claims`` and return the QR text.

    Args:
        claims: what the token asserts.
        kid: key identifier of the signer (8 bytes).
        sign: ES256 signature of its input as raw ``r || s`` (`bot.documents.signing.Signer.sign_es256`).
    """
    payload = cbor2.dumps(
        {
            CLAIM_ISS: claims.issuer,
            CLAIM_IAT: int(claims.issued_at.timestamp()),
            CLAIM_EXP: int(claims.expires_at.timestamp()),
            CLAIM_CTI: claims.document_id.encode("ascii"),
            CLAIM_DOCUMENT: {"t": claims.kind, "n": claims.holder_name, "c": claims.holder_cedula_masked},
        }
    )
    protected = cbor2.dumps({HEADER_ALG: ES256, HEADER_KID: kid})
    signature = sign(_sig_structure(protected, payload))
    message = cbor2.dumps(cbor2.CBORTag(COSE_SIGN1_TAG, [protected, {}, payload, signature]))
    return PREFIX + b45encode(zlib.compress(message, 9))


def _sig_structure(protected: bytes, payload: bytes) -> bytes:
    return cbor2.dumps(["Signature1", protected, b"", payload])


def verify_token(text: str, *, keys: Mapping[bytes, ec.EllipticCurvePublicKey]) -> TokenClaims:
    """Decode ``text``, check its signature against the key named by its ``kid``, return its claims.

    Expiry and revocation are not decided here: the verifier looks them up by document id.

    Raises:
        TokenError: the text is not a readable token, its key is unknown, or its signature fails.
    """
    protected, payload, signature = _unpack(text.strip())
    try:
        header = cbor2.loads(protected)
    except (cbor2.CBORDecodeError, ValueError, TypeError) as exc:
        raise TokenError("token_ilegible", "bad protected header") from exc
    if not isinstance(header, dict) or HEADER_ALG not in header or HEADER_KID not in header:
        raise TokenError("token_ilegible", "bad protected header")  # a list or a text would index otherwise
    alg, kid = header[HEADER_ALG], header[HEADER_KID]
    if alg != ES256 or not isinstance(kid, bytes):
        raise TokenError("token_ilegible", "unsupported algorithm")
    key = keys.get(kid)
    if key is None:
        raise TokenError("clave_desconocida")
    if len(signature) != 64:
        raise TokenError("token_invalido", "bad signature length")
    der = encode_dss_signature(int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big"))
    try:
        key.verify(der, _sig_structure(protected, payload), ec.ECDSA(hashes.SHA256()))
    except InvalidSignature as exc:
        raise TokenError("token_invalido") from exc
    return _claims(payload)


def _unpack(text: str) -> tuple[bytes, bytes, bytes]:
    if not text.startswith(PREFIX):
        raise TokenError("token_ilegible", "missing prefix")
    try:
        compressed = b45decode(text[len(PREFIX) :])
        inflater = zlib.decompressobj()
        raw = inflater.decompress(compressed, MAX_PAYLOAD)
        if inflater.unconsumed_tail:
            raise TokenError("token_ilegible", "token too large")
        message = cbor2.loads(raw)
    except (ValueError, zlib.error, cbor2.CBORDecodeError) as exc:
        raise TokenError("token_ilegible", str(exc)) from exc
    if not isinstance(message, cbor2.CBORTag) or message.tag != COSE_SIGN1_TAG:
        raise TokenError("token_ilegible", "not a COSE_Sign1")
    parts = message.value
    if not isinstance(parts, list | tuple) or len(parts) != 4:
        raise TokenError("token_ilegible", "not a COSE_Sign1")
    protected, _, payload, signature = parts
    if not all(isinstance(p, bytes) for p in (protected, payload, signature)):
        raise TokenError("token_ilegible", "not a COSE_Sign1")
    return protected, payload, signature


def _claims(payload: bytes) -> TokenClaims:
    try:
        raw: dict[Any, Any] = cbor2.loads(payload)
        document = raw[CLAIM_DOCUMENT]
        return TokenClaims(
            document_id=raw[CLAIM_CTI].decode("ascii"),
            kind=str(document["t"]),
            holder_name=str(document["n"]),
            holder_cedula_masked=str(document["c"]),
            issued_at=datetime.fromtimestamp(int(raw[CLAIM_IAT]), UTC),
            expires_at=datetime.fromtimestamp(int(raw[CLAIM_EXP]), UTC),
            issuer=str(raw[CLAIM_ISS]),
        )
    except (cbor2.CBORDecodeError, KeyError, TypeError, ValueError, AttributeError, UnicodeDecodeError) as exc:
        # Signed by our key yet malformed: only a bug or a stolen key can do this; treat as unreadable.
        raise TokenError("token_ilegible", f"bad claims: {exc}") from exc
