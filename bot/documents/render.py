"""One page layout drawn on two canvases: a PDF page (fpdf2) and a PNG image (Pillow).

The layout is written once against the small `Canvas` protocol (millimetres, top-left origin), so the
PDF and the image show the same document. The PDF's QR carries the verification URL; the image's QR
carries the signed token (`bot.documents.tokens`), which is what makes the image verifiable.
"""

from __future__ import annotations

import functools
import hashlib
import io
import logging
import math
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import zxingcpp
from PIL import Image, ImageChops, ImageDraw, ImageFont

from bot.documents.errors import TemplateError

if TYPE_CHECKING:  # fpdf2 (about 40 MB with its Unicode tables) is loaded by the processes that render
    from fpdf import FPDF

Color = tuple[int, int, int]
INK: Color = (28, 33, 40)
MUTED: Color = (92, 99, 110)
BLUE: Color = (3, 57, 140)
RED: Color = (190, 22, 34)
YELLOW: Color = (255, 205, 0)
RULE: Color = (210, 215, 222)
WATERMARK: Color = (238, 240, 243)
WHITE: Color = (255, 255, 255)

PT = 25.4 / 72  # one typographic point in millimetres
LINE = 1.22  # line height as a multiple of the font size
PAGE_WIDTH, PAGE_HEIGHT = 148.0, 210.0  # A5: prints well and reads on a phone without zooming much
MARGIN = 11.0
SIGNATURE_HEIGHT = 15.0
REGULAR_FONT = "DejaVuSans.ttf"
BOLD_FONT = "DejaVuSans-Bold.ttf"


@dataclass(frozen=True)
class Row:
    """A printed field: its label and value; ``wide`` rows take the whole width, ``new_line`` starts a row."""

    label: str
    value: str
    wide: bool = False
    new_line: bool = False


@dataclass(frozen=True)
class DocumentContent:
    """Everything printed on a document, already worded and formatted."""

    country: str
    institution: str
    title: str
    rows: tuple[Row, ...]
    code_label: str
    code: str
    verify_label: str
    verify_url: str  # what the PDF's QR carries
    verify_page: str  # what is printed
    note: str
    issuer_line: str
    sandbox_banner: str | None = None
    watermark: str | None = None


@dataclass(frozen=True)
class Box:
    """A rectangle in millimetres from the top-left corner of the page."""

    x: float
    y: float
    w: float
    h: float


@dataclass(frozen=True)
class Fonts:
    """TrueType files for regular and bold text; None means the PDF core fonts (Latin-1 only)."""

    regular: Path | None = None
    bold: Path | None = None

    @classmethod
    def find(cls, directory: Path | None, *, cache_dir: Path | None = None) -> Fonts:
        """Use DejaVu Sans from ``directory`` when both files are there, the core fonts otherwise.

        With ``cache_dir``, the fonts are first cut down to the Latin, punctuation and currency glyphs a
        Spanish document uses (once, cached): fpdf2 then parses a 40 KB file instead of 750 KB on every
        document, which more than halves the PDF's render time and shrinks the embedded subset.
        """
        if directory is None or not (directory / REGULAR_FONT).is_file() or not (directory / BOLD_FONT).is_file():
            return cls()
        regular, bold = directory / REGULAR_FONT, directory / BOLD_FONT
        if cache_dir is None:
            return cls(regular=regular, bold=bold)
        return cls(regular=_latin_subset(regular, cache_dir), bold=_latin_subset(bold, cache_dir))


_LATIN = [*range(0x20, 0x7F), *range(0xA0, 0x180), *range(0x2010, 0x2027), 0x20AC]


def _latin_subset(source: Path, cache_dir: Path) -> Path:
    stat = source.stat()
    tag = hashlib.sha256(f"{source.name}:{stat.st_size}:{stat.st_mtime_ns}:{len(_LATIN)}".encode()).hexdigest()[:10]
    target = cache_dir / f"{source.stem}-latin-{tag}.ttf"
    if target.is_file():
        return target
    try:
        from fontTools import subset  # type: ignore[import-untyped]
        from fontTools.ttLib import TTFont  # type: ignore[import-untyped]

        font = TTFont(source)
        options = subset.Options()
        options.name_IDs = ["*"]
        options.notdef_outline = True
        options.hinting = False
        options.drop_tables += ["FFTM"]  # FontForge timestamps: fontTools cannot subset them and says so
        subsetter = subset.Subsetter(options)
        subsetter.populate(unicodes=_LATIN)
        subsetter.subset(font)
        cache_dir.mkdir(parents=True, exist_ok=True)
        staging = target.with_name(f".{target.name}.{os.getpid()}")
        font.save(staging)
        os.replace(staging, target)  # atomic: processes starting together never read half a font
    except Exception:  # fontTools raises many kinds; the full font still works, only slower
        logging.getLogger(__name__).warning("font subsetting failed for %s", source, exc_info=True)
        return source
    return target


class Canvas(Protocol):
    """What the layout draws with; units are millimetres, origin top-left."""

    def rect(self, box: Box, color: Color) -> None: ...

    def text(
        self, x: float, y: float, w: float, text: str, *, size: float, bold: bool = False, color: Color = INK
    ) -> float:
        """Draw ``text`` wrapped to ``w`` and return the height it took."""
        ...

    def centered(self, x: float, y: float, w: float, text: str, *, size: float, bold: bool, color: Color) -> float:
        """Draw one centred line and return its height."""
        ...

    def watermark(self, text: str, *, size: float, color: Color) -> None: ...

    def qr(self, x: float, y: float, size: float, matrix: Sequence[Sequence[int]]) -> None: ...


def qr_matrix(data: str, *, error: str) -> tuple[tuple[int, ...], ...]:
    """Modules of the QR code for ``data`` (1 = dark) at error correction ``error``, with a 4-module quiet zone.

    zxing-cpp's encoder picks the smallest version and the mask of lowest penalty, as the standard asks, in
    C++: 1.6 ms for a token's version-14 code where segno, in pure Python, took 18 ms.
    """
    code = zxingcpp.create_barcode(data, zxingcpp.BarcodeFormat.QRCode, ec_level=error.upper())
    image: Any = code.to_image(scale=1, add_quiet_zones=False)  # one byte per module, 0 = dark
    pixels = memoryview(image).tobytes()
    side = math.isqrt(len(pixels))  # a QR code is square
    inner = [tuple(int(v == 0) for v in pixels[r : r + side]) for r in range(0, len(pixels), side)]
    width = len(inner[0]) + 8
    blank = (0,) * width
    return (blank,) * 4 + tuple((0,) * 4 + row + (0,) * 4 for row in inner) + (blank,) * 4


def draw_document(canvas: Canvas, content: DocumentContent, *, qr_data: str, qr_size: float, qr_error: str) -> float:
    """Draw ``content`` on ``canvas`` and return the y where the next block would start."""
    width = PAGE_WIDTH - 2 * MARGIN
    if content.watermark:
        canvas.watermark(content.watermark, size=44, color=WATERMARK)
    # Ecuador's colours as a thin band at the top.
    canvas.rect(Box(0, 0, PAGE_WIDTH, 3.0), YELLOW)
    canvas.rect(Box(0, 3.0, PAGE_WIDTH, 1.4), BLUE)
    canvas.rect(Box(0, 4.4, PAGE_WIDTH, 1.4), RED)
    y = MARGIN + 1
    y += canvas.text(MARGIN, y, width, content.country, size=8, bold=True, color=MUTED) + 0.8
    y += canvas.text(MARGIN, y, width, content.institution, size=10, color=INK) + 2.0
    y += canvas.text(MARGIN, y, width, content.title, size=16, bold=True, color=BLUE) + 3.0
    if content.sandbox_banner:
        canvas.rect(Box(MARGIN, y, width, 7.0), RED)
        canvas.centered(MARGIN, y + 1.6, width, content.sandbox_banner, size=9, bold=True, color=WHITE)
        y += 10.0
    y = _draw_rows(canvas, content.rows, y, width)
    canvas.rect(Box(MARGIN, y, width, 0.3), RULE)
    y += 4.0
    canvas.qr(MARGIN - 1.0, y - 1.0, qr_size, qr_matrix(qr_data, error=qr_error))
    x = MARGIN + qr_size + 2.0
    right = PAGE_WIDTH - MARGIN - x
    ty = y + 1.0
    ty += canvas.text(x, ty, right, content.code_label, size=7.5, color=MUTED) + 0.6
    ty += canvas.text(x, ty, right, content.code, size=12.5, bold=True, color=INK) + 2.0
    ty += canvas.text(x, ty, right, content.verify_label, size=7.5, color=MUTED) + 0.4
    ty += canvas.text(x, ty, right, content.verify_page, size=8, bold=True, color=BLUE) + 2.0
    ty += canvas.text(x, ty, right, content.note, size=7.5, color=MUTED)
    y = max(y + qr_size - 2.0, ty) + 2.0
    y += canvas.text(MARGIN, y, width, content.issuer_line, size=7, color=MUTED) + 2.0
    return y


def _draw_rows(canvas: Canvas, rows: Sequence[Row], y: float, width: float) -> float:
    column = (width - 6.0) / 2
    pending: list[Row] = []

    def flush(y: float) -> float:
        heights = [_draw_field(canvas, MARGIN + i * (column + 6.0), y, column, row) for i, row in enumerate(pending)]
        pending.clear()
        return y + (max(heights) if heights else 0.0)

    for row in rows:
        if row.new_line:
            y = flush(y)
        if row.wide:
            y = flush(y)
            y += _draw_field(canvas, MARGIN, y, width, row)
            continue
        pending.append(row)
        if len(pending) == 2:
            y = flush(y)
    return flush(y)


def _draw_field(canvas: Canvas, x: float, y: float, w: float, row: Row) -> float:
    height = canvas.text(x, y, w, row.label, size=8, color=MUTED) + 0.4
    height += canvas.text(x, y + height, w, row.value, size=12, bold=True, color=INK)
    return height + 3.4


class PdfCanvas:
    """An A5 fpdf2 page."""

    def __init__(self, pdf: FPDF, *, unicode_fonts: bool) -> None:
        self.pdf = pdf
        self.family = "DejaVu" if unicode_fonts else "Helvetica"
        self.unicode_fonts = unicode_fonts

    def _clean(self, text: str) -> str:
        if self.unicode_fonts:
            return text
        # Core fonts cover Latin-1 only: Spanish letters are there, typographic dashes are not.
        return text.replace("—", "-").replace("–", "-").encode("latin-1", "replace").decode("latin-1")

    def rect(self, box: Box, color: Color) -> None:
        self.pdf.set_fill_color(*color)
        self.pdf.rect(box.x, box.y, box.w, box.h, style="F")

    def text(
        self, x: float, y: float, w: float, text: str, *, size: float, bold: bool = False, color: Color = INK
    ) -> float:
        self.pdf.set_font(self.family, "B" if bold else "", size)
        self.pdf.set_text_color(*color)
        self.pdf.set_xy(x, y)
        from fpdf.enums import XPos, YPos

        self.pdf.multi_cell(w, size * PT * LINE, self._clean(text), align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        return float(self.pdf.get_y()) - y

    def centered(self, x: float, y: float, w: float, text: str, *, size: float, bold: bool, color: Color) -> float:
        self.pdf.set_font(self.family, "B" if bold else "", size)
        self.pdf.set_text_color(*color)
        self.pdf.set_xy(x, y)
        self.pdf.cell(w, size * PT * LINE, self._clean(text), align="C")
        return size * PT * LINE

    def watermark(self, text: str, *, size: float, color: Color) -> None:
        self.pdf.set_font(self.family, "B", size)
        self.pdf.set_text_color(*color)
        text = self._clean(text)
        with self.pdf.rotation(angle=55, x=PAGE_WIDTH / 2, y=PAGE_HEIGHT / 2):
            half = self.pdf.get_string_width(text) / 2
            self.pdf.text(PAGE_WIDTH / 2 - half, PAGE_HEIGHT / 2 + size * PT / 3, text)

    def qr(self, x: float, y: float, size: float, matrix: Sequence[Sequence[int]]) -> None:
        # Vector modules: sharp at any zoom and smaller than an embedded bitmap.
        module = size / len(matrix)
        self.pdf.set_fill_color(*WHITE)
        self.pdf.rect(x, y, size, size, style="F")
        self.pdf.set_fill_color(0, 0, 0)
        for r, row in enumerate(matrix):
            for start, length in _runs(row):
                self.pdf.rect(x + start * module, y + r * module, length * module, module, style="F")


def _runs(row: Sequence[int]) -> list[tuple[int, int]]:
    """``(start, length)`` of each run of dark modules in ``row``."""
    runs: list[tuple[int, int]] = []
    start = -1
    for i, value in enumerate((*row, 0)):
        if value and start < 0:
            start = i
        elif not value and start >= 0:
            runs.append((start, i - start))
            start = -1
    return runs


class ImageCanvas:
    """A Pillow image at ``scale`` pixels per millimetre."""

    def __init__(self, fonts: Fonts, *, scale: float, height: float = PAGE_HEIGHT) -> None:
        self.fonts = fonts
        self.scale = scale
        self.image = Image.new("RGB", (self._px(PAGE_WIDTH), self._px(height)), WHITE)
        self.draw = ImageDraw.Draw(self.image)
        self._cache: dict[tuple[bool, int], ImageFont.FreeTypeFont | ImageFont.ImageFont] = {}
        self._watermark: tuple[str, float, Color] | None = None
        self._keep_clear: list[tuple[int, int, int, int]] = []

    def _px(self, mm: float) -> int:
        return round(mm * self.scale)

    def _pixels(self, size: float) -> int:
        return max(6, round(size * PT * self.scale))

    def _font(self, size: float, bold: bool) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
        pixels = self._pixels(size)
        key = (bold, pixels)
        if key not in self._cache:
            self._cache[key] = _image_font(self.fonts.bold if bold else self.fonts.regular, pixels)
        return self._cache[key]

    def rect(self, box: Box, color: Color) -> None:
        x0, y0 = self._px(box.x), self._px(box.y)
        self.draw.rectangle((x0, y0, x0 + max(1, self._px(box.w)) - 1, y0 + max(1, self._px(box.h)) - 1), fill=color)

    def text(
        self, x: float, y: float, w: float, text: str, *, size: float, bold: bool = False, color: Color = INK
    ) -> float:
        font = self._font(size, bold)
        line = size * PT * LINE
        lines = _wrap(text, lambda s: font.getlength(s) / self.scale, w)
        for i, content in enumerate(lines):
            self.draw.text((self._px(x), self._px(y + i * line)), content, font=font, fill=color)
        return line * len(lines)

    def centered(self, x: float, y: float, w: float, text: str, *, size: float, bold: bool, color: Color) -> float:
        font = self._font(size, bold)
        self.draw.text((self._px(x + w / 2), self._px(y)), text, font=font, fill=color, anchor="ma")
        return size * PT * LINE

    def watermark(self, text: str, *, size: float, color: Color) -> None:
        # Applied in `finish`, once the image's height is known, so that it sits in the middle.
        self._watermark = (text, size, color)

    def qr(self, x: float, y: float, size: float, matrix: Sequence[Sequence[int]]) -> None:
        # Whole pixels per module keep the edges sharp, which is what survives JPEG re-encoding.
        module = max(2, self._px(size) // len(matrix))
        x0, y0 = self._px(x), self._px(y)
        span = module * len(matrix)
        self.draw.rectangle((x0, y0, x0 + span - 1, y0 + span - 1), fill=WHITE)
        self._keep_clear.append((x0, y0, x0 + span, y0 + span))
        for r, row in enumerate(matrix):
            for start, length in _runs(row):
                top = y0 + r * module
                left = x0 + start * module
                self.draw.rectangle((left, top, left + length * module - 1, top + module - 1), fill=(0, 0, 0))

    def finish(self, height: float) -> Image.Image:
        """Cut the image to ``height`` millimetres and lay the watermark on its white background only."""
        image = self.image.crop((0, 0, self.image.width, min(self.image.height, self._px(height))))
        if self._watermark is None:
            return image
        text, size, color = self._watermark
        layer = _watermark_layer(text, self.fonts.bold, self._pixels(size))
        mask = Image.new("L", image.size, 0)
        mask.paste(layer, ((image.width - layer.width) // 2, (image.height - layer.height) // 2))
        background = image.convert("L").point(lambda v: 255 if v == 255 else 0)
        for box in self._keep_clear:  # the QR code stays pure black on white
            background.paste(0, box)
        image.paste(color, (0, 0), ImageChops.multiply(mask, background))
        return image


def _image_font(path: Path | None, pixels: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.truetype(str(path), pixels) if path is not None else ImageFont.load_default(pixels)


@functools.lru_cache(maxsize=8)
def _watermark_layer(text: str, font_path: Path | None, pixels: int) -> Image.Image:
    """The watermark's text in white on black, rotated: the same on every image, so drawn once per process.

    Callers only read it (as a paste source), so threads can share it.
    """
    font = _image_font(font_path, pixels)
    left, top, right, bottom = font.getbbox(text)
    layer = Image.new("L", (int(right - left) + 4, int(bottom - top) + 4), 0)
    ImageDraw.Draw(layer).text((2 - left, 2 - top), text, font=font, fill=255)
    return layer.rotate(55, expand=True, resample=Image.Resampling.BICUBIC)


def _wrap(text: str, measure: Callable[[str], float], width: float) -> list[str]:
    lines: list[str] = []
    for paragraph in text.split("\n"):
        current = ""
        for word in paragraph.split(" "):
            candidate = f"{current} {word}" if current else word
            if current and measure(candidate) > width:
                lines.append(current)
                current = word
            else:
                current = candidate
            while measure(current) > width and len(current) > 1:  # a word wider than the line: cut it
                cut = len(current) - 1
                while cut > 1 and measure(current[:cut]) > width:
                    cut -= 1
                lines.append(current[:cut])
                current = current[cut:]
        lines.append(current)
    return lines


@functools.cache
def _palette() -> Image.Image:
    colors: list[Color] = [WHITE, (0, 0, 0)]
    for color in (INK, MUTED, BLUE, RED, YELLOW, RULE, WATERMARK):
        colors.extend(_blend(WHITE, color, step / 5) for step in range(1, 6))
    colors.extend(_blend(RED, WHITE, step / 4) for step in range(1, 4))  # white text on the red banner
    unique = list(dict.fromkeys(colors))
    flat = [channel for color in unique for channel in color]
    palette = Image.new("P", (1, 1))
    palette.putpalette(flat + flat[:3] * (256 - len(unique)))
    return palette


def _blend(a: Color, b: Color, t: float) -> Color:
    return (round(a[0] + (b[0] - a[0]) * t), round(a[1] + (b[1] - a[1]) * t), round(a[2] + (b[2] - a[2]) * t))


def render_pdf(
    content: DocumentContent, *, fonts: Fonts, issued_at: datetime, keywords: Sequence[str]
) -> tuple[bytes, Box]:
    """Render the unsigned PDF and return it with the box reserved for the visible signature.

    Raises:
        TemplateError: the content does not fit on one page.
    """
    from fpdf import FPDF
    from fpdf.fonts import TTFFont

    pdf = FPDF(orientation="P", unit="mm", format=(PAGE_WIDTH, PAGE_HEIGHT))
    pdf.set_auto_page_break(False)
    pdf.set_margins(MARGIN, MARGIN, MARGIN)
    pdf.c_margin = 0
    unicode_fonts = fonts.regular is not None and fonts.bold is not None
    if unicode_fonts:
        pdf.add_font("DejaVu", "", str(fonts.regular))
        pdf.add_font("DejaVu", "B", str(fonts.bold))
        for font in (f for f in pdf.fonts.values() if isinstance(f, TTFFont)):
            # fpdf2 embeds a subset of each font, and fontTools would unpack every glyph again to recompute
            # bounding boxes the font file already holds (a third of the render): keep the file's boxes.
            font.ttfont.recalcBBoxes = False
    pdf.set_lang("es-EC")
    pdf.set_title(content.title)
    pdf.set_author(content.institution)
    pdf.set_subject(content.title)
    pdf.set_keywords(list(keywords))
    pdf.set_creator("Chasqui")
    pdf.set_creation_date(issued_at)
    pdf.add_page()
    canvas = PdfCanvas(pdf, unicode_fonts=unicode_fonts)
    end = draw_document(canvas, content, qr_data=content.verify_url, qr_size=30.0, qr_error="m")
    signature = Box(MARGIN, end, PAGE_WIDTH - 2 * MARGIN, SIGNATURE_HEIGHT)
    if signature.y + signature.h > PAGE_HEIGHT - 4.0:
        raise TemplateError(f"document {content.title!r} does not fit on one page")
    return bytes(pdf.output()), signature


def render_png(content: DocumentContent, *, fonts: Fonts, token: str, scale: float = 6.5) -> bytes:
    """Render the image whose QR carries the signed ``token``; a small palette PNG."""
    canvas = ImageCanvas(fonts, scale=scale, height=PAGE_HEIGHT + 40)
    end = draw_document(canvas, content, qr_data=token, qr_size=58.0, qr_error="q")
    image = canvas.finish(end + 2.0)
    out = io.BytesIO()
    # A fixed palette of the layout's colours and their anti-aliasing shades: a third of the RGB
    # file's size, and far faster than computing an adaptive palette.
    image.quantize(palette=_palette(), dither=Image.Dither.NONE).save(out, format="PNG", compress_level=6)
    return out.getvalue()
