"""VerificationService verdicts for codes, PDFs, images and tokens: valid, revoked, expired, tampered, unknown."""

from __future__ import annotations

import asyncio
import io
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from PIL import Image
from pyhanko.pdf_utils.generic import pdf_string
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

from bot.documents.errors import UnreadableInput
from bot.documents.pades import sign_pdf
from bot.documents.render import Box, qr_matrix
from bot.documents.runtime import Documents
from bot.documents.service import IssuedDocument
from bot.documents.signing import open_signer
from bot.documents.templates import DocumentKind
from bot.documents.verification import Verdict, VerificationResult
from tests.documents.builders import FIELDS, HOLDER
from tests.documents.conftest import Clock, make_settings
from tests.documents.test_pdf import flip_byte_in_signed_range
from tests.documents.test_tokens import _resign_payload, jpeg


async def issue(documents: Documents, kind: DocumentKind = DocumentKind.CERTIFICADO_NACIMIENTO) -> IssuedDocument:
    return await documents.issuer.issue(kind, HOLDER, FIELDS[kind], conversation_id="web:prueba")


def files(documents: Documents, issued: IssuedDocument) -> tuple[bytes, bytes]:
    return documents.store.get(issued.id, issued.pdf.filename), documents.store.get(issued.id, issued.png.filename)


def summary(result: VerificationResult) -> tuple[str, str, str]:
    return result.verdict.value, result.reason, result.via


async def test_a_fresh_document_is_valid_by_every_route(documents: Documents) -> None:
    issued = await issue(documents)
    pdf, png = files(documents, issued)
    verifier = documents.verifier

    results = [
        await verifier.verify_code(issued.verification_code),
        await verifier.verify_code(issued.verification_code.replace("-", "").lower()),
        await verifier.verify_text(issued.verification_url),
        await verifier.verify_file(pdf),
        await verifier.verify_file(png),
        await verifier.verify_file(jpeg(png, quality=60)),
        await verifier.verify_text(issued.token),
    ]

    assert [summary(r) for r in results] == [
        ("valido", "vigente", "codigo"),
        ("valido", "vigente", "codigo"),
        ("valido", "vigente", "codigo"),
        ("valido", "firma_valida", "pdf"),
        ("valido", "firma_valida", "imagen"),
        ("valido", "firma_valida", "imagen"),
        ("valido", "firma_valida", "token"),
    ]
    facts = results[0].document
    assert facts is not None
    assert (facts.holder_name, facts.holder_cedula_masked, facts.verification_code) == (
        HOLDER.name,
        "17******65",
        issued.verification_code,
    )
    assert facts.fields == (("Fecha de nacimiento", "12/03/1990"),)


async def test_revoked_documents_say_so_with_the_reason(documents: Documents) -> None:
    issued = await issue(documents)
    pdf, png = files(documents, issued)
    await documents.issuer.revoke(issued.id, reason="Emitido con datos erróneos", actor="agente:ana")

    results = [
        await documents.verifier.verify_code(issued.verification_code),
        await documents.verifier.verify_file(pdf),
        await documents.verifier.verify_file(jpeg(png)),
    ]

    assert [r.verdict for r in results] == [Verdict.REVOCADO] * 3
    assert results[0].document is not None
    assert results[0].document.revocation_reason == "Emitido con datos erróneos"


async def test_expired_documents_are_vencido(documents: Documents, clock: Clock) -> None:
    issued = await issue(documents, DocumentKind.CERTIFICADO_RUC)  # valid for 30 days
    pdf, png = files(documents, issued)
    clock.now += timedelta(days=31)

    results = [
        await documents.verifier.verify_code(issued.verification_code),
        await documents.verifier.verify_file(pdf),
        await documents.verifier.verify_file(png),
    ]

    assert [summary(r)[:2] for r in results] == [("vencido", "vencido")] * 3


async def test_back_dated_issue_is_expired(documents: Documents) -> None:
    issued = await documents.issuer.issue(
        DocumentKind.CERTIFICADO_RUC,
        HOLDER,
        FIELDS[DocumentKind.CERTIFICADO_RUC],
        issued_at=datetime.now(UTC) - timedelta(days=40),
    )

    result = await documents.verifier.verify_code(issued.verification_code)

    assert result.verdict is Verdict.VENCIDO


async def test_tampered_pdf_is_alterado(documents: Documents) -> None:
    issued = await issue(documents)
    pdf, _ = files(documents, issued)

    result = await documents.verifier.verify_file(flip_byte_in_signed_range(pdf))

    assert summary(result) == ("alterado", "firma_invalida", "pdf")
    assert result.document is None


async def test_pdf_with_an_appended_update_is_alterado(documents: Documents) -> None:
    issued = await issue(documents)
    pdf, _ = files(documents, issued)
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
    writer.set_info(writer.trailer["/Info"])
    writer.trailer["/Info"]["/Title"] = pdf_string("Otro título")
    writer.update_container(writer.trailer["/Info"])
    out = io.BytesIO()
    writer.write(out)

    result = await documents.verifier.verify_file(out.getvalue())

    assert summary(result) == ("alterado", "firma_parcial", "pdf")


async def test_pdf_signed_by_an_unknown_ca_is_alterado(documents: Documents, tmp_path: Path) -> None:
    issued = await issue(documents)
    pdf, _ = files(documents, issued)
    other = open_signer(make_settings(tmp_path / "otra", tmp_path / "otra"))
    original_revision = pdf[: pdf.index(b"%%EOF") + 5]  # before the signature's incremental update
    wording = documents.issuer.renderer.wording

    forged = await asyncio.to_thread(
        sign_pdf, original_revision, signer=other, box=Box(11, 150, 126, 15), wording=wording
    )
    result = await documents.verifier.verify_file(forged)

    assert summary(result) == ("alterado", "firma_no_confiable", "pdf")


async def test_unsigned_and_unknown_inputs(documents: Documents) -> None:
    issued = await issue(documents)
    draft = documents.issuer.draft(DocumentKind.CEDULA_DIGITAL, HOLDER, FIELDS[DocumentKind.CEDULA_DIGITAL])
    unsigned = documents.issuer.renderer.unsigned_pdf(draft)
    other_code = "ZZZZ-ZZZZ-ZZZZ-ZZZZ" if issued.verification_code != "ZZZZ-ZZZZ-ZZZZ-ZZZZ" else "YYYY-YYYY-YYYY-YYYY"

    results = [
        await documents.verifier.verify_code(other_code),
        await documents.verifier.verify_code("no es un código"),
        await documents.verifier.verify_file(unsigned),
        await documents.verifier.verify_text("https://otro.example/cualquier-cosa"),
    ]

    assert [summary(r) for r in results] == [
        ("desconocido", "no_registrado", "codigo"),
        ("desconocido", "codigo_invalido", "codigo"),
        ("desconocido", "sin_firma", "pdf"),
        ("desconocido", "codigo_invalido", "codigo"),
    ]


async def test_token_with_a_changed_field_is_alterado(documents: Documents) -> None:
    issued = await issue(documents)
    forged = _resign_payload(issued.token, {-65537: {"t": "certificado_nacimiento", "n": "OTRA", "c": "17******65"}})

    result = await documents.verifier.verify_text(forged)

    assert summary(result) == ("alterado", "token_invalido", "token")


async def test_image_of_a_tampered_token_is_alterado(documents: Documents) -> None:
    issued = await issue(documents)
    forged = _resign_payload(issued.token, {4: int(datetime(2099, 1, 1, tzinfo=UTC).timestamp())})
    matrix = qr_matrix(forged, error="q")
    image = Image.new("L", (len(matrix) * 6, len(matrix) * 6), 255)
    for r, row in enumerate(matrix):
        for c, dark in enumerate(row):
            if dark:
                image.paste(0, (c * 6, r * 6, c * 6 + 6, r * 6 + 6))
    out = io.BytesIO()
    image.save(out, format="PNG")

    result = await documents.verifier.verify_file(out.getvalue())

    assert summary(result) == ("alterado", "token_invalido", "imagen")


async def test_token_of_a_document_we_never_recorded_is_unknown(documents: Documents) -> None:
    draft = documents.issuer.draft(DocumentKind.CEDULA_DIGITAL, HOLDER, FIELDS[DocumentKind.CEDULA_DIGITAL])
    token = documents.issuer.renderer.token(draft)

    result = await documents.verifier.verify_text(token)

    assert summary(result) == ("desconocido", "no_registrado", "token")


@pytest.mark.parametrize(
    ("data", "code"),
    [(b"", "vacio"), (b"hola, esto no es un archivo", "formato_desconocido")],
)
async def test_unreadable_input_raises(documents: Documents, data: bytes, code: str) -> None:
    with pytest.raises(UnreadableInput) as caught:
        await documents.verifier.verify_file(data)

    assert caught.value.code == code


async def test_image_without_a_qr_is_unreadable(documents: Documents) -> None:
    out = io.BytesIO()
    Image.new("RGB", (200, 200), (255, 255, 255)).save(out, format="PNG")

    with pytest.raises(UnreadableInput) as caught:
        await documents.verifier.verify_file(out.getvalue())

    assert caught.value.code == "sin_qr"


async def test_every_verdict_is_worded(documents: Documents) -> None:
    for verdict in Verdict:
        wording = documents.plantillas.text("veredictos", verdict.value)
        assert wording["titulo"] and wording["detalle"]
