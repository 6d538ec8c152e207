"""`chasqui verificar` (exit 0 only when valid) and `chasqui bench-documentos`."""

from __future__ import annotations

import asyncio
import io
from datetime import timedelta
from pathlib import Path

from bot.cli.bench_documents import main_bench_documentos
from bot.cli.verify import main_verificar, verificar
from bot.documents.runtime import Documents, build_documents
from bot.documents.settings import document_settings_from
from bot.documents.templates import DocumentKind
from bot.settings import Settings
from bot.storage.db import create_engine, migrate, session_factory
from tests.documents.builders import FIELDS, HOLDER
from tests.documents.conftest import Clock
from tests.documents.test_pdf import flip_byte_in_signed_range
from tests.documents.test_tokens import jpeg


async def run(documents: Documents, objetivo: str) -> tuple[int, str]:
    out = io.StringIO()
    code = await verificar(documents, objetivo, out=out)
    return code, out.getvalue()


async def test_verificar_files_codes_and_tokens(documents: Documents, tmp_path: Path) -> None:
    kind = DocumentKind.CERTIFICADO_ANTECEDENTES_PENALES
    issued = await documents.issuer.issue(kind, HOLDER, FIELDS[kind])
    pdf = tmp_path / "antecedentes.pdf"
    pdf.write_bytes(documents.store.get(issued.id, issued.pdf.filename))
    photo = tmp_path / "foto.jpg"
    photo.write_bytes(jpeg(documents.store.get(issued.id, issued.png.filename)))
    tampered = tmp_path / "alterado.pdf"
    tampered.write_bytes(flip_byte_in_signed_range(pdf.read_bytes()))

    by_pdf = await run(documents, str(pdf))
    by_photo = await run(documents, str(photo))
    by_code = await run(documents, issued.verification_code)
    by_token = await run(documents, issued.token)
    by_tampered = await run(documents, str(tampered))
    missing = await run(documents, str(tmp_path / "no-existe.pdf"))
    unknown = await run(documents, "ABCD-ABCD-ABCD-ABCD")

    assert [r[0] for r in (by_pdf, by_photo, by_code, by_token)] == [0, 0, 0, 0]
    assert by_pdf[1].splitlines()[0] == "Resultado: Documento válido"
    assert "Titular: MARÍA JOSÉ PEÑAFIEL ÁLVAREZ — cédula 17******65" in by_pdf[1]
    assert "Resultado: No registra antecedentes penales" in by_pdf[1]
    assert f"Código de verificación: {issued.verification_code}" in by_code[1]
    assert HOLDER.cedula not in by_pdf[1]
    assert (by_tampered[0], by_tampered[1].splitlines()[0]) == (1, "Resultado: Documento alterado")
    assert (missing[0], missing[1].strip()) == (2, "No se pudo verificar: No existe el archivo indicado.")
    assert (unknown[0], unknown[1].splitlines()[0]) == (1, "Resultado: Documento desconocido")


async def test_verificar_revoked(documents: Documents) -> None:
    issued = await documents.issuer.issue(DocumentKind.CEDULA_DIGITAL, HOLDER, FIELDS[DocumentKind.CEDULA_DIGITAL])
    await documents.issuer.revoke(issued.id, reason="Pérdida reportada", actor="ciudadano")

    code, text = await run(documents, issued.verification_code)

    assert code == 1
    assert text.splitlines()[0] == "Resultado: Documento revocado"
    assert "Pérdida reportada" in text


def test_main_verificar_reads_the_instance_settings(tmp_path: Path) -> None:
    settings = Settings(var_dir=tmp_path / "var", database_url=f"sqlite+aiosqlite:///{tmp_path / 'app.db'}")
    migrate(settings.effective_database_url)

    async def issue() -> tuple[str, str]:
        engine = create_engine(settings.effective_database_url)
        documents = build_documents(document_settings_from(settings, environ={}), sessions=session_factory(engine))
        issued = await documents.issuer.issue(
            DocumentKind.LICENCIA_CONDUCIR, HOLDER, FIELDS[DocumentKind.LICENCIA_CONDUCIR]
        )
        await engine.dispose()
        return issued.id, issued.verification_code

    document_id, verification_code = asyncio.run(issue())
    pdf = settings.var_dir / "documentos" / document_id[:2] / document_id / "licencia_conducir.pdf"
    out = io.StringIO()

    assert main_verificar(settings, str(pdf), out=out) == 0
    assert out.getvalue().startswith("Resultado: Documento válido")
    assert main_verificar(settings, verification_code, out=io.StringIO()) == 0


def test_bench_prints_rates_percentiles_and_sizes() -> None:
    out = io.StringIO()

    assert main_bench_documentos(Settings(), count=2, out=out) == 0

    text = out.getvalue()
    for step in (
        "pdf sin firmar (base)",
        "pdf render+firma",
        "png sin token (base png)",
        "png render+token",
        "verificar pdf",
        "verificar jpeg q60",
        "firma pyHanko por documento (antes)",
        "QR del token, segno (antes)",
    ):
        assert step in text
    assert "docs/s" in text and "p95 ms" in text and "tamaño pdf" in text
    ratios = [line for line in text.splitlines() if "meta ≤" in line]
    assert [line.split(":")[0].strip() for line in ratios] == [
        "pdf render+firma / pdf sin firmar (base)",
        "png render+token / png sin token (base png)",
    ]


async def test_verificar_expired(documents: Documents, clock: Clock) -> None:
    issued = await documents.issuer.issue(DocumentKind.CERTIFICADO_RUC, HOLDER, FIELDS[DocumentKind.CERTIFICADO_RUC])
    clock.now += timedelta(days=31)

    code, text = await run(documents, issued.token)

    assert (code, text.splitlines()[0]) == (1, "Resultado: Documento vencido")
