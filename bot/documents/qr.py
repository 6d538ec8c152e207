"""Reading the QR code of a photo or screenshot (zxing-cpp, when installed), with the cost of decoding bounded.

An uploaded image is refused before it is decoded when it is not a PNG or a JPEG, or when it declares more
than ``max_pixels`` pixels (a decompression bomb is a few kilobytes that decode to gigabytes). A JPEG is
decoded straight to grey levels, at half size when it is large; a QR code stays readable and the memory an
upload can cost stays near one byte per pixel.
"""

from __future__ import annotations

import io
import warnings
from typing import Any

from PIL import Image, UnidentifiedImageError

from bot.documents.errors import UnreadableInput
from bot.documents.tokens import PREFIX

MAX_PIXELS = 25_000_000  # a phone photo is 12-24 MP; past this, a picture costs hundreds of MB to decode
HALF_SIZE_FROM = 12_000_000  # JPEGs above this are decoded at half size (libjpeg scales while decoding)
FORMATS = ("PNG", "JPEG")  # what the form offers; the rest of Pillow's decoders are never reached


def configure_image_decoding(max_pixels: int = MAX_PIXELS) -> None:
    """Make Pillow refuse bombs process-wide: its own limit at ``max_pixels``, its warning an error.

    Called where a process builds the documents subsystem; `decode_qr` checks the size itself as well,
    so it stays safe where this was not called (a test, a script).
    """
    Image.MAX_IMAGE_PIXELS = max_pixels
    warnings.filterwarnings("error", category=Image.DecompressionBombWarning)


def _zxing() -> Any:
    try:
        import zxingcpp
    except ImportError as exc:  # zxing-cpp is a development dependency today; see the report
        raise UnreadableInput("sin_lector_qr", "zxing-cpp is not installed") from exc
    return zxingcpp


def open_grey(data: bytes, max_pixels: int = MAX_PIXELS) -> Image.Image:
    """The image in ``data`` in grey levels, decoded only after its format and size were checked.

    Raises:
        UnreadableInput: ``formato_desconocido`` or ``demasiado_grande``.
    """
    try:
        image = Image.open(io.BytesIO(data), formats=FORMATS)
        width, height = image.size
        if width * height > max_pixels:
            raise UnreadableInput("demasiado_grande", f"{width}x{height} pixels")
        if image.format == "JPEG":
            wanted = (width // 2, height // 2) if width * height > HALF_SIZE_FROM else (width, height)
            image.draft("L", wanted)
        image.load()
        return image if image.mode == "L" else image.convert("L")
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise UnreadableInput("demasiado_grande", str(exc)) from exc
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, EOFError) as exc:
        # Pillow's decoders report a damaged file with any of these (a text chunk that inflates past its
        # limit is a ValueError, a broken header a SyntaxError): for a verifier they all mean «not an image».
        raise UnreadableInput("formato_desconocido", str(exc)) from exc


def decode_qr(data: bytes, *, max_pixels: int = MAX_PIXELS) -> str:
    """Text of the QR code in an image; a Chasqui token wins when the image holds several codes.

    Args:
        data: the uploaded bytes.
        max_pixels: the largest image decoded (width × height).

    Raises:
        UnreadableInput: not a PNG or JPEG (``formato_desconocido``), too large (``demasiado_grande``),
            no QR code found (``sin_qr``) or no QR reader installed (``sin_lector_qr``).
    """
    zxingcpp = _zxing()
    image = open_grey(data, max_pixels)
    results = zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)
    texts = [str(r.text) for r in results if r.text]
    if not texts:
        raise UnreadableInput("sin_qr")
    return next((t for t in texts if t.startswith(PREFIX)), texts[0])
