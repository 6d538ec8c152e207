"""QR tokens: Base45, COSE_Sign1 ES256, tampering, foreign keys, and the QR surviving JPEG re-encoding."""

from __future__ import annotations

import io
import zlib
from datetime import UTC, datetime

import cbor2
import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from PIL import Image

from bot.documents.qr import decode_qr
from bot.documents.service import DocumentRenderer
from bot.documents.signing import Signer
from bot.documents.templates import DocumentKind
from bot.documents.tokens import (
    PREFIX,
    TokenClaims,
    TokenError,
    b45decode,
    b45encode,
    encode_token,
    verify_token,
)
from tests.documents.test_pdf import KINDS, draft_of

CLAIMS = TokenClaims(
    document_id="0123456789abcdefghjk",
    kind="cedula_digital",
    holder_name="MARÍA JOSÉ PEÑAFIEL ÁLVAREZ",
    holder_cedula_masked="17******65",
    issued_at=datetime(2026, 11, 27, 15, 0, tzinfo=UTC),
    expires_at=datetime(2036, 11, 25, 15, 0, tzinfo=UTC),
)


def keys_of(signer: Signer) -> dict[bytes, ec.EllipticCurvePublicKey]:
    return {signer.kid: signer.public_key}


def jpeg(png: bytes, *, quality: int = 60, scale: float = 1.0) -> bytes:
    image = Image.open(io.BytesIO(png)).convert("RGB")
    if scale != 1.0:
        image = image.resize((round(image.width * scale), round(image.height * scale)), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=quality)
    return out.getvalue()


def read_qr(image: bytes) -> str:
    """The QR code's text as verification reads it (`decode_qr`): QR codes only, Chasqui's token first. Any
    barcode format and exactly one result failed now and then: JPEG noise around a random token can read as a
    second, spurious code."""
    return decode_qr(image)


@pytest.mark.parametrize(
    ("raw", "encoded"),
    [(b"AB", "BB8"), (b"Hello!!", "%69 VD92EX0"), (b"base-45", "UJCLQE7W581"), (b"ietf!", "QED8WEX0")],
)
def test_base45_matches_rfc_9285(raw: bytes, encoded: str) -> None:
    assert b45encode(raw) == encoded
    assert b45decode(encoded) == raw


@pytest.mark.parametrize("bad", ["GGW", "A", "::::"])
def test_base45_rejects_invalid_text(bad: str) -> None:
    with pytest.raises(ValueError):
        b45decode(bad)


def test_round_trip_returns_the_claims(signer: Signer) -> None:
    token = encode_token(CLAIMS, kid=signer.kid, sign=signer.sign_es256)

    assert token.startswith(PREFIX)
    assert verify_token(token, keys=keys_of(signer)) == CLAIMS


def _resign_payload(token: str, change: dict[object, object]) -> str:
    """Re-pack the token with one claim changed and the original signature kept."""
    message = cbor2.loads(zlib.decompress(b45decode(token[len(PREFIX) :])))
    protected, unprotected, payload, signature = message.value
    claims = cbor2.loads(payload)
    claims.update(change)
    forged = cbor2.CBORTag(18, [protected, unprotected, cbor2.dumps(claims), signature])
    return PREFIX + b45encode(zlib.compress(cbor2.dumps(forged)))


def test_one_changed_field_breaks_the_signature(signer: Signer) -> None:
    token = encode_token(CLAIMS, kid=signer.kid, sign=signer.sign_es256)
    forged = _resign_payload(token, {-65537: {"t": "cedula_digital", "n": "OTRA PERSONA", "c": "17******65"}})

    with pytest.raises(TokenError) as caught:
        verify_token(forged, keys=keys_of(signer))

    assert caught.value.code == "token_invalido"


def test_a_later_expiry_breaks_the_signature(signer: Signer) -> None:
    token = encode_token(CLAIMS, kid=signer.kid, sign=signer.sign_es256)
    forged = _resign_payload(token, {4: int(datetime(2099, 1, 1, tzinfo=UTC).timestamp())})

    with pytest.raises(TokenError) as caught:
        verify_token(forged, keys=keys_of(signer))

    assert caught.value.code == "token_invalido"


def test_a_key_we_do_not_know_is_reported_as_such(signer: Signer) -> None:
    other = ec.generate_private_key(ec.SECP256R1())

    def sign(data: bytes) -> bytes:
        r, s = decode_dss_signature(other.sign(data, ec.ECDSA(hashes.SHA256())))
        return r.to_bytes(32, "big") + s.to_bytes(32, "big")

    token = encode_token(CLAIMS, kid=b"\x00" * 8, sign=sign)

    with pytest.raises(TokenError) as caught:
        verify_token(token, keys=keys_of(signer))

    assert caught.value.code == "clave_desconocida"


@pytest.mark.parametrize(
    "text",
    ["", "hola", "EC1:", "EC1:%%%%", PREFIX + b45encode(b"not zlib"), PREFIX + b45encode(zlib.compress(b"\xff"))],
)
def test_garbage_is_unreadable(text: str, signer: Signer) -> None:
    with pytest.raises(TokenError) as caught:
        verify_token(text, keys=keys_of(signer))

    assert caught.value.code == "token_ilegible"


def test_a_zlib_bomb_is_refused(signer: Signer) -> None:
    bomb = PREFIX + b45encode(zlib.compress(b"\x00" * 1_000_000))

    with pytest.raises(TokenError) as caught:
        verify_token(bomb, keys=keys_of(signer))

    assert caught.value.code == "token_ilegible"


@pytest.fixture(scope="module")
def pngs(renderer: DocumentRenderer) -> dict[DocumentKind, tuple[bytes, str]]:
    return {kind: renderer.signed_png(draft_of(renderer, kind)) for kind in KINDS}


@pytest.mark.parametrize("kind", KINDS)
def test_qr_of_the_png_verifies_after_jpeg_q60(
    kind: DocumentKind, pngs: dict[DocumentKind, tuple[bytes, str]], signer: Signer
) -> None:
    png, token = pngs[kind]

    decoded = read_qr(jpeg(png, quality=60))

    assert decoded == token
    assert verify_token(decoded, keys=keys_of(signer)).kind == kind.value
    assert len(png) < 100 * 1024


def test_qr_survives_a_messaging_app_downscale(pngs: dict[DocumentKind, tuple[bytes, str]], signer: Signer) -> None:
    png, token = pngs[DocumentKind.MATRICULA_VEHICULAR]

    decoded = read_qr(jpeg(png, quality=60, scale=0.75))

    assert decoded == token


def test_token_holds_only_minimal_holder_data(pngs: dict[DocumentKind, tuple[bytes, str]], signer: Signer) -> None:
    _, token = pngs[DocumentKind.CEDULA_DIGITAL]
    claims = verify_token(token, keys=keys_of(signer))

    assert claims.holder_cedula_masked == "17******65"
    assert "1710034065" not in zlib.decompress(b45decode(token[len(PREFIX) :])).decode("latin-1")
