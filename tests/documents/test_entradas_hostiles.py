"""Hostile input to verification is unreadable, never a crash: image bombs, other formats, broken tokens and PDFs."""

from __future__ import annotations

import io

import cbor2
import pytest
import segno
from PIL import Image

from bot.documents.errors import UnreadableInput
from bot.documents.pades import validate_pdf
from bot.documents.qr import MAX_PIXELS, configure_image_decoding, decode_qr, open_grey
from bot.documents.tokens import TokenError, verify_token
from tests.gateway.test_hardening import ICC_BOMB, SGI, TEXT_BOMB, png_header_only, png_of, token_text

TEXT = "https://chasqui.prueba.ec/verificar/ABCD-EFGH-JKMN-PQRS"


def qr_picture(*, size: tuple[int, int] = (400, 400), scale: int = 8) -> Image.Image:
    """A white picture with a QR code of ``TEXT`` near its top-left corner."""
    code = io.BytesIO()
    segno.make(TEXT, error="q").save(code, kind="png", scale=scale, border=4)
    picture = Image.new("RGB", size, (255, 255, 255))
    picture.paste(Image.open(code).convert("RGB"), (40, 40))
    return picture


def encoded(picture: Image.Image, image_format: str, **options: object) -> bytes:
    out = io.BytesIO()
    picture.save(out, format=image_format, **options)
    return out.getvalue()


def unreadable_code(data: bytes, **options: int) -> str:
    with pytest.raises(UnreadableInput) as raised:
        decode_qr(data, **options)
    return raised.value.code


def test_png_and_jpeg_are_read() -> None:
    picture = qr_picture()

    assert (decode_qr(encoded(picture, "PNG")), decode_qr(encoded(picture, "JPEG", quality=70))) == (TEXT, TEXT)


@pytest.mark.parametrize("image_format", ["BMP", "GIF", "TIFF", "WEBP", "PPM", "TGA", "ICO"])
def test_other_formats_never_reach_their_decoders(image_format: str) -> None:
    assert unreadable_code(encoded(qr_picture(size=(256, 256), scale=4), image_format)) == "formato_desconocido"


@pytest.mark.parametrize("data", [TEXT_BOMB, ICC_BOMB, SGI], ids=["ztxt-bomb", "iccp-bomb", "sgi"])
def test_damaged_or_inflating_files_are_not_images(data: bytes) -> None:
    assert unreadable_code(data) == "formato_desconocido"


@pytest.mark.parametrize(
    "data",
    [png_of(8000, 5000), png_header_only(5001, 5000), png_header_only(100_000, 100_000)],
    ids=["40-megapixels", "just-over-25", "10-gigapixels"],
)
def test_images_over_the_pixel_limit_are_refused_unread(data: bytes) -> None:
    assert MAX_PIXELS == 25_000_000
    assert unreadable_code(data) == "demasiado_grande"


def test_the_pixel_limit_is_a_setting() -> None:
    data = encoded(qr_picture(), "PNG")

    assert unreadable_code(data, max_pixels=400 * 400 - 1) == "demasiado_grande"
    assert decode_qr(data, max_pixels=400 * 400) == TEXT


def test_pillows_own_bomb_warning_is_an_error_once_configured(monkeypatch: pytest.MonkeyPatch) -> None:
    data = encoded(qr_picture(), "PNG")
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", Image.MAX_IMAGE_PIXELS)  # restored after the test
    configure_image_decoding(100_000)

    # Our own check let through (a limit of 10^9); Pillow's, at 10^5, refuses the 160 000 pixels.
    assert unreadable_code(data, max_pixels=10**9) == "demasiado_grande"


def test_a_large_jpeg_is_decoded_grey_at_half_size_and_still_read() -> None:
    picture = qr_picture(size=(4800, 3200), scale=16)  # 15.4 megapixels
    data = encoded(picture, "JPEG", quality=80)

    grey = open_grey(data)

    assert (grey.mode, grey.size) == ("L", (2400, 1600))
    assert decode_qr(data) == TEXT


@pytest.mark.parametrize("header", [[1], "x", 7, {1: -7}], ids=["list", "text", "number", "no-kid"])
def test_a_token_whose_protected_header_is_not_a_map_with_alg_and_kid_is_unreadable(header: object) -> None:
    token = token_text(cbor2.CBORTag(18, [cbor2.dumps(header), {}, b"", b""]))

    with pytest.raises(TokenError) as raised:
        verify_token(token, keys={})
    assert raised.value.code == "token_ilegible"


@pytest.mark.parametrize(
    "pdf",
    [
        b"%PDF-1.7\nstartxref\n" + b"9" * 40 + b"\n%%EOF",
        b"%PDF-1.7\n1 0 obj\n" + b"[" * 20_000 + b"]" * 20_000 + b"\nendobj\ntrailer\n<</Root 1 0 R>>\n%%EOF",
    ],
    ids=["offset-of-40-digits", "arrays-20000-deep"],
)
def test_hostile_pdfs_are_unreadable(pdf: bytes) -> None:
    assert validate_pdf(pdf, trust_roots=[]).readable is False
