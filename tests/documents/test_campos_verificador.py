"""What a verifier is shown: type, dates, holder's name, masked cédula and the result, per the template's list."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from sqlalchemy import update

from bot.documents.errors import TemplateError
from bot.documents.pages import Pages
from bot.documents.runtime import Documents
from bot.documents.templates import DocumentKind, Plantillas, load_plantillas
from bot.storage.models_documents import Document
from tests.documents.builders import FIELDS, HOLDER
from tests.documents.conftest import TEMPLATES_DIR

SHOWN: dict[DocumentKind, tuple[tuple[str, str], ...]] = {
    DocumentKind.CEDULA_DIGITAL: (),
    DocumentKind.LICENCIA_CONDUCIR: (("Categoría", "B"),),
    DocumentKind.MATRICULA_VEHICULAR: (("Placa", "PBX-1234"),),
    DocumentKind.CERTIFICADO_NACIMIENTO: (("Fecha de nacimiento", "12/03/1990"),),
    DocumentKind.CERTIFICADO_ANTECEDENTES_PENALES: (("Resultado", "No registra antecedentes penales"),),
    DocumentKind.CERTIFICADO_VOTACION: (("Proceso electoral", "Elecciones Seccionales 2027"), ("Estado", "Sufragó")),
    DocumentKind.CERTIFICADO_RUC: (("Estado del contribuyente", "Activo"),),
}


@pytest.mark.parametrize("kind", list(DocumentKind))
async def test_verifiers_see_only_the_result_of_each_document_type(documents: Documents, kind: DocumentKind) -> None:
    issued = await documents.issuer.issue(kind, HOLDER, FIELDS[kind])

    result = await documents.verifier.verify_code(issued.verification_code)

    assert result.document is not None
    assert result.document.fields == SHOWN[kind]


async def test_the_page_and_the_api_show_no_personal_detail_of_a_cedula_digital(documents: Documents) -> None:
    issued = await documents.issuer.issue(DocumentKind.CEDULA_DIGITAL, HOLDER, FIELDS[DocumentKind.CEDULA_DIGITAL])
    result = await documents.verifier.verify_code(issued.verification_code)

    body = json.dumps(result.as_json(documents.plantillas), ensure_ascii=False)
    page = Pages(TEMPLATES_DIR / "html").render(
        "verificacion.html",
        resultado=result,
        veredicto=documents.plantillas.text("veredictos", result.verdict.value),
        motivo=documents.plantillas.text("motivos", result.reason),
    )

    for shown in (body, page):
        assert HOLDER.name in shown and "17******65" in shown
        assert HOLDER.cedula not in shown
        assert [v for v in FIELDS[DocumentKind.CEDULA_DIGITAL].values() if v in shown] == []
    assert result.as_json(documents.plantillas)["document"]["fields"] == []


async def test_only_the_listed_fields_are_stored(documents: Documents) -> None:
    issued = await documents.issuer.issue(
        DocumentKind.LICENCIA_CONDUCIR, HOLDER, FIELDS[DocumentKind.LICENCIA_CONDUCIR]
    )

    async with documents.issuer.sessions() as session:
        stored = await session.get(Document, issued.id)

    assert stored is not None
    assert stored.public_fields == {"categoria": "B"}


async def test_a_document_stored_with_more_fields_shows_only_what_its_template_lists_today(
    documents: Documents,
) -> None:
    issued = await documents.issuer.issue(DocumentKind.CEDULA_DIGITAL, HOLDER, FIELDS[DocumentKind.CEDULA_DIGITAL])
    async with documents.issuer.sessions.begin() as session:  # as issued when the template showed more
        await session.execute(
            update(Document)
            .where(Document.id == issued.id)
            .values(public_fields={"fecha_nacimiento": "12/03/1990", "nacionalidad": "Ecuatoriana"})
        )

    result = await documents.verifier.verify_code(issued.verification_code)

    assert result.document is not None
    assert result.document.fields == ()


def templates_with(tmp_path: Path, kind: DocumentKind, old: str, new: str) -> Path:
    copy = tmp_path / "plantillas"
    shutil.copytree(TEMPLATES_DIR, copy)
    path = copy / "documentos" / f"{kind.value}.yml"
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")
    return copy


def test_a_template_without_a_verifier_list_shows_no_field(tmp_path: Path) -> None:
    kind = DocumentKind.CERTIFICADO_ANTECEDENTES_PENALES
    plantillas: Plantillas = load_plantillas(templates_with(tmp_path, kind, "verificador:\n  - resultado\n", ""))

    assert plantillas.document(kind).public_fields(FIELDS[kind]) == {}


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("verificador:\n  - resultado\n", "verificador:\n  - resultado\n  - cedula\n"),
        ("verificador:\n  - resultado\n", "verificador: resultado\n"),
        ("    etiqueta: Resultado\n", "    etiqueta: Resultado\n    publico: true\n"),
    ],
    ids=["unknown-field", "not-a-list", "old-publico-flag"],
)
def test_a_malformed_verifier_list_is_refused(tmp_path: Path, old: str, new: str) -> None:
    directory = templates_with(tmp_path, DocumentKind.CERTIFICADO_ANTECEDENTES_PENALES, old, new)

    with pytest.raises(TemplateError):
        load_plantillas(directory)
