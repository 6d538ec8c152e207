"""PAdES signatures on the rendered PDFs (pyHanko): sign with a visible block, and validate.

Both functions block (pyHanko runs its own event loop inside); call them from a worker thread.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Sequence
from dataclasses import dataclass

from asn1crypto import x509 as asn1_x509
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.misc import PdfError
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import fields, signers
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.sign.validation.errors import SignatureValidationError
from pyhanko.sign.validation.status import SignatureCoverageLevel
from pyhanko.stamp import TextStampStyle
from pyhanko_certvalidator import ValidationContext

from bot.documents.render import PAGE_HEIGHT, Box
from bot.documents.signing import Signer

FIELD_NAME = "FirmaChasqui"
MM = 72 / 25.4  # PDF points per millimetre


@dataclass(frozen=True)
class SignatureWording:
    """What the visible signature block and the signature dictionary say (from ``comun.yml``)."""

    stamp: str  # pyHanko template: %(firmante)s and %(ts)s
    reason: str
    location: str


@dataclass(frozen=True)
class PdfCheck:
    """Outcome of validating a PDF's signature.

    Attributes:
        readable: the bytes parse as a PDF.
        signed: it holds at least one signature.
        intact: the signed bytes hash to the signed digest.
        valid: the cryptographic signature is correct.
        trusted: the signer's chain ends in one of the trust roots.
        entire_file: the signature covers the whole file (nothing appended after signing).
        keywords: the document's /Keywords, where the issuer records the id and the code.
    """

    readable: bool
    signed: bool = False
    intact: bool = False
    valid: bool = False
    trusted: bool = False
    entire_file: bool = False
    keywords: str = ""

    @property
    def ok(self) -> bool:
        return self.signed and self.intact and self.valid and self.trusted and self.entire_file


def _ascii_dashes(text: str) -> str:
    # The stamp uses the standard Courier font (WinAnsi): Spanish letters are there, typographic dashes not.
    return text.replace("–", "-").replace("—", "-")


def sign_pdf(pdf: bytes, *, signer: Signer, box: Box, wording: SignatureWording) -> bytes:
    """Add a PAdES (ETSI.CAdES.detached, SHA-256) signature with a visible block in ``box``.

    Args:
        pdf: the unsigned PDF.
        signer: the document-signing key.
        box: where the visible block goes (millimetres from the top-left corner of page 1).
        wording: texts of the block and of the signature dictionary.
    """
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
    rect = (
        round(box.x * MM),
        round((PAGE_HEIGHT - box.y - box.h) * MM),
        round((box.x + box.w) * MM),
        round((PAGE_HEIGHT - box.y) * MM),
    )
    fields.append_signature_field(writer, fields.SigFieldSpec(FIELD_NAME, on_page=0, box=rect))
    meta = signers.PdfSignatureMetadata(
        field_name=FIELD_NAME,
        subfilter=fields.SigSeedSubFilter.PADES,
        md_algorithm="sha256",
        reason=wording.reason,
        location=wording.location,
    )
    style = TextStampStyle(stamp_text=wording.stamp, border_width=1, timestamp_format="%d/%m/%Y %H:%M:%S %Z")
    pdf_signer = signers.PdfSigner(meta, signer=signer.cms_signer, stamp_style=style)
    out = io.BytesIO()
    pdf_signer.sign_pdf(writer, output=out, appearance_text_params={"firmante": _ascii_dashes(signer.subject)})
    return out.getvalue()


def validate_pdf(pdf: bytes, *, trust_roots: Sequence[asn1_x509.Certificate]) -> PdfCheck:
    """Validate the first signature of ``pdf`` against ``trust_roots`` (no network fetching)."""
    try:
        reader = PdfFileReader(io.BytesIO(pdf), strict=False)
        signatures = reader.embedded_signatures
        keywords = _keywords(reader)
    except (PdfError, ValueError, KeyError, TypeError, IndexError, OverflowError, RecursionError) as exc:
        # Whatever the parser trips on in a hostile file (an offset of 40 digits, arrays nested 10 000 deep)
        # means the same to a verifier: the file cannot be read.
        logging.getLogger(__name__).debug("unreadable PDF: %s", exc)
        return PdfCheck(readable=False)
    if not signatures:
        return PdfCheck(readable=True, keywords=keywords)
    context = ValidationContext(trust_roots=list(trust_roots), allow_fetching=False)
    try:
        status = validate_pdf_signature(signatures[0], context)
    except (SignatureValidationError, PdfError, ValueError, KeyError, TypeError, OverflowError) as exc:
        logging.getLogger(__name__).debug("signature could not be evaluated: %s", exc)
        return PdfCheck(readable=True, signed=True, keywords=keywords)
    return PdfCheck(
        readable=True,
        signed=True,
        intact=bool(status.intact),
        valid=bool(status.valid),
        trusted=bool(status.trusted),
        entire_file=status.coverage == SignatureCoverageLevel.ENTIRE_FILE,
        keywords=keywords,
    )


def _keywords(reader: PdfFileReader) -> str:
    trailer = reader.trailer_view
    if "/Info" not in trailer:
        return ""
    info = trailer["/Info"]  # indexing dereferences, `.get` would not
    return str(info["/Keywords"]) if "/Keywords" in info else ""
