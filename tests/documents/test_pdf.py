"""Every document kind renders to a one-page PAdES PDF that pyHanko and poppler's pdfsig both accept."""

from __future__ import annotations

import io
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pyhanko.pdf_utils.reader import PdfFileReader

from bot.documents.pades import validate_pdf
from bot.documents.render import Fonts, render_pdf
from bot.documents.service import DocumentRenderer, Draft
from bot.documents.signing import Signer
from bot.documents.templates import DocumentKind
from tests.documents.builders import FIELDS, HOLDER
from tests.documents.conftest import pdfsig

KINDS = list(DocumentKind)


def draft_of(renderer: DocumentRenderer, kind: DocumentKind) -> Draft:
    return Draft(
        id="a" * 20,
        template=renderer.plantillas.document(kind),
        code="ABCDEFGHJKMNPQRS",
        holder=HOLDER,
        fields=FIELDS[kind],
        issued_at=datetime(2026, 11, 27, 15, 0, tzinfo=UTC),
        expires_at=datetime(2027, 11, 27, 15, 0, tzinfo=UTC),
    )


@pytest.fixture(scope="module")
def signed_pdfs(renderer: DocumentRenderer) -> dict[DocumentKind, bytes]:
    return {kind: renderer.signed_pdf(draft_of(renderer, kind)) for kind in KINDS}


def flip_byte_in_signed_range(pdf: bytes) -> bytes:
    """Change one byte of the document's /Title, well inside the first signed range."""
    position = pdf.index(b"/Title") + 8
    tampered = bytearray(pdf)
    tampered[position] ^= 0x01
    return bytes(tampered)


@pytest.mark.parametrize("kind", KINDS)
def test_pyhanko_finds_the_signature_intact_and_trusted(
    kind: DocumentKind, signed_pdfs: dict[DocumentKind, bytes], signer: Signer
) -> None:
    check = validate_pdf(signed_pdfs[kind], trust_roots=signer.trust_roots)

    assert (check.signed, check.intact, check.valid, check.trusted, check.entire_file) == (True, True, True, True, True)
    assert "chasqui-codigo:ABCDEFGHJKMNPQRS" in check.keywords


@pytest.mark.parametrize("kind", KINDS)
def test_pdfsig_says_valid_and_trusted(
    kind: DocumentKind, signed_pdfs: dict[DocumentKind, bytes], nss_db: Path, tmp_path: Path
) -> None:
    path = tmp_path / f"{kind}.pdf"
    path.write_bytes(signed_pdfs[kind])

    report = pdfsig(nss_db, path)

    assert "Signature is Valid" in report
    assert "Certificate is Trusted" in report
    assert "ETSI.CAdES.detached" in report
    assert "Total document signed" in report


@pytest.mark.parametrize("kind", [DocumentKind.CEDULA_DIGITAL, DocumentKind.CERTIFICADO_RUC])
def test_one_changed_byte_is_caught_by_both(
    kind: DocumentKind, signed_pdfs: dict[DocumentKind, bytes], signer: Signer, nss_db: Path, tmp_path: Path
) -> None:
    tampered = flip_byte_in_signed_range(signed_pdfs[kind])
    path = tmp_path / "alterado.pdf"
    path.write_bytes(tampered)

    report = pdfsig(nss_db, path)
    check = validate_pdf(tampered, trust_roots=signer.trust_roots)

    assert "Digest Mismatch" in report
    assert "Signature is Valid" not in report
    assert check.intact is False
    assert check.ok is False


def test_untrusted_root_is_not_trusted(signed_pdfs: dict[DocumentKind, bytes]) -> None:
    check = validate_pdf(signed_pdfs[DocumentKind.CEDULA_DIGITAL], trust_roots=[])

    assert (check.intact, check.trusted, check.ok) == (True, False, False)


@pytest.mark.parametrize("kind", KINDS)
def test_one_page_small_and_labelled_as_a_test_document(
    kind: DocumentKind, signed_pdfs: dict[DocumentKind, bytes]
) -> None:
    pdf = signed_pdfs[kind]
    reader = PdfFileReader(io.BytesIO(pdf))

    assert len(pdf) < 60 * 1024
    assert reader.root["/Pages"]["/Count"] == 1
    assert reader.embedded_signatures[0].sig_object["/SubFilter"] == "/ETSI.CAdES.detached"


def test_visible_text_has_the_spanish_labels_and_sandbox_banner(
    signed_pdfs: dict[DocumentKind, bytes], tmp_path: Path
) -> None:
    if shutil.which("pdftotext") is None:
        pytest.fail("pdftotext is missing: apt-get install -y poppler-utils")
    path = tmp_path / "nacimiento.pdf"
    path.write_bytes(signed_pdfs[DocumentKind.CERTIFICADO_NACIMIENTO])

    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout

    for expected in (
        "REPÚBLICA DEL ECUADOR",
        "Certificado de nacimiento",
        "DOCUMENTO DE PRUEBA — SIN VALIDEZ LEGAL",
        "MARÍA JOSÉ PEÑAFIEL ÁLVAREZ",
        "Código de verificación",
        "ABCD-EFGH-JKMN-PQRS",
        "Válido hasta",
        "27/11/2027",
        "ANA ÁLVAREZ ÑUÑEZ",
    ):
        assert expected in text


def test_core_fonts_fallback_still_renders_spanish(renderer: DocumentRenderer) -> None:
    draft = draft_of(renderer, DocumentKind.CEDULA_DIGITAL)
    content = renderer.content(draft, for_image=False)

    pdf, box = render_pdf(content, fonts=Fonts(), issued_at=draft.issued_at, keywords=["k"])

    assert pdf.startswith(b"%PDF-")
    assert box.y + box.h < 210
