"""Document templates (`data/plantillas/documentos/*.yml`) and the shared wording around them.

A template lists its fields (``campos``: key and printed label) and, under ``verificador``, the keys of the few
a verifier is shown beside the document's type, dates, holder's name and masked cédula: the certificate's
result, never personal details it does not need. Without ``verificador`` a verifier sees no field at all;
only those fields are stored in the database (``documents.public_fields``).
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from bot.documents.errors import TemplateError


class DocumentKind(enum.StrEnum):
    """Every document Chasqui issues; the value names its template file."""

    CEDULA_DIGITAL = "cedula_digital"
    LICENCIA_CONDUCIR = "licencia_conducir"
    MATRICULA_VEHICULAR = "matricula_vehicular"
    CERTIFICADO_NACIMIENTO = "certificado_nacimiento"
    CERTIFICADO_ANTECEDENTES_PENALES = "certificado_antecedentes_penales"
    CERTIFICADO_VOTACION = "certificado_votacion"
    CERTIFICADO_RUC = "certificado_ruc"


@dataclass(frozen=True)
class FieldSpec:
    """One field of a document: its key, its printed label, and whether verifiers see it (``verificador``)."""

    key: str
    label: str
    public: bool = False


@dataclass(frozen=True)
class DocumentTemplate:
    kind: DocumentKind
    title: str
    institution: str
    valid_days: int
    fields: tuple[FieldSpec, ...]

    def check_fields(self, values: Mapping[str, str]) -> dict[str, str]:
        """Return ``values`` in template order; missing or unexpected keys are an error."""
        expected = [f.key for f in self.fields]
        missing = [k for k in expected if not str(values.get(k, "")).strip()]
        unexpected = sorted(set(values) - set(expected))
        if missing or unexpected:
            raise TemplateError(f"{self.kind}: missing fields {missing}, unexpected fields {unexpected}")
        return {k: str(values[k]).strip() for k in expected}

    def public_fields(self, values: Mapping[str, str]) -> dict[str, str]:
        """The subset of ``values`` a verifier is shown (and the only part stored in the database)."""
        return {f.key: values[f.key] for f in self.fields if f.public and f.key in values}

    def labelled(self, values: Mapping[str, str]) -> list[tuple[str, str]]:
        """``(label, value)`` pairs in template order for the keys present in ``values``."""
        return [(f.label, values[f.key]) for f in self.fields if f.key in values]


@dataclass(frozen=True)
class Plantillas:
    """Every document template plus the shared labels and the verifier's wording."""

    documents: Mapping[DocumentKind, DocumentTemplate]
    labels: Mapping[str, str]
    verification: Mapping[str, Mapping[str, Any]]

    def document(self, kind: DocumentKind | str) -> DocumentTemplate:
        try:
            return self.documents[DocumentKind(kind)]
        except (KeyError, ValueError) as exc:
            raise TemplateError(f"no template for document kind {kind!r}") from exc

    def label(self, key: str) -> str:
        try:
            return self.labels[key]
        except KeyError as exc:
            raise TemplateError(f"no label {key!r} in comun.yml") from exc

    def text(self, section: str, key: str) -> Any:
        """An entry of ``verificacion.yml``: ``text("motivos", "vencido")``."""
        try:
            return self.verification[section][key]
        except KeyError as exc:
            raise TemplateError(f"no entry {section}.{key} in verificacion.yml") from exc


def _read(path: Path) -> dict[str, Any]:
    try:
        content = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise TemplateError(f"cannot read {path}: {exc}") from exc
    if not isinstance(content, dict):
        raise TemplateError(f"{path} is not a mapping")
    return content


def _document(path: Path) -> DocumentTemplate:
    raw = _read(path)
    try:
        kind = DocumentKind(raw["tipo"])
        if kind.value != path.stem:
            raise TemplateError(f"{path.name} declares tipo {kind.value!r}")
        keys = [str(f["clave"]) for f in raw["campos"]]
        if any("publico" in f for f in raw["campos"]):
            raise TemplateError(f"{path.name}: list the fields verifiers see under 'verificador', not 'publico'")
        listed = raw.get("verificador") or []
        if not isinstance(listed, list):
            raise TemplateError(f"{path.name}: 'verificador' must be a list of field keys")
        shown = [str(k) for k in listed]
        unknown = sorted(set(shown) - set(keys))
        if unknown:
            raise TemplateError(f"{path.name}: 'verificador' names fields it does not have: {unknown}")
        fields = tuple(
            FieldSpec(key=key, label=str(f["etiqueta"]), public=key in shown)
            for key, f in zip(keys, raw["campos"], strict=True)
        )
        return DocumentTemplate(
            kind=kind,
            title=str(raw["titulo"]),
            institution=str(raw["institucion"]),
            valid_days=int(raw["vigencia_dias"]),
            fields=fields,
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise TemplateError(f"{path.name}: {exc!r}") from exc


def load_plantillas(directory: Path) -> Plantillas:
    """Read the templates under ``directory`` (``data/plantillas``); every kind must have one.

    Raises:
        TemplateError: a file is missing or malformed.
    """
    documents = {t.kind: t for t in (_document(p) for p in sorted((directory / "documentos").glob("*.yml")))}
    missing = sorted(set(DocumentKind) - set(documents))
    if missing:
        raise TemplateError(f"no template for {missing} in {directory / 'documentos'}")
    labels = {str(k): str(v) for k, v in (_read(directory / "comun.yml").get("etiquetas") or {}).items()}
    return Plantillas(documents=documents, labels=labels, verification=_read(directory / "verificacion.yml"))
