"""Reading the QR code of a photo or screenshot (zxing-cpp, when installed)."""

from __future__ import annotations

import io
from typing import Any

from PIL import Image, UnidentifiedImageError

from bot.documents.errors import UnreadableInput
from bot.documents.tokens import PREFIX

MAX_PIXELS = 40_000_000  # a phone photo is 12-50 MP; refuse anything that would be a decompression bomb


def _zxing() -> Any:
    try:
        import zxingcpp
    except ImportError as exc:  # zxing-cpp is a development dependency today; see the report
        raise UnreadableInput("sin_lector_qr", "zxing-cpp is not installed") from exc
    return zxingcpp


def decode_qr(data: bytes) -> str:
    """Text of the QR code in an image; a Chasqui token wins when the image holds several codes.

    Raises:
        UnreadableInput: not an image (``formato_desconocido``), too large (``demasiado_grande``),
            no QR code found (``sin_qr``) or no QR reader installed (``sin_lector_qr``).
    """
    zxingcpp = _zxing()
    try:
        image = Image.open(io.BytesIO(data))
        if image.width * image.height > MAX_PIXELS:
            raise UnreadableInput("demasiado_grande")
        image.load()
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError) as exc:
        raise UnreadableInput("formato_desconocido", str(exc)) from exc
    results = zxingcpp.read_barcodes(image.convert("L"), formats=zxingcpp.BarcodeFormat.QRCode)
    texts = [str(r.text) for r in results if r.text]
    if not texts:
        raise UnreadableInput("sin_qr")
    return next((t for t in texts if t.startswith(PREFIX)), texts[0])
