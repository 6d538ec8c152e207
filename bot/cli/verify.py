"""`chasqui verificar <archivo.pdf|imagen.png|código|token>`: the verdict in Spanish; exit 0 only when valid."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import TextIO

from bot.documents.errors import UnreadableInput
from bot.documents.runtime import Documents, build_documents
from bot.documents.service import format_date
from bot.documents.settings import document_settings_from
from bot.documents.verification import VerificationResult
from bot.settings import Settings
from bot.storage.db import create_engine, session_factory

EXIT_VALID, EXIT_NOT_VALID, EXIT_UNREADABLE = 0, 1, 2
FILE_SUFFIXES = {".pdf", ".png", ".jpg", ".jpeg", ".webp"}


async def verificar(documents: Documents, objetivo: str, *, out: TextIO) -> int:
    """Verify a file path, a verification code or a token and print the verdict.

    Args:
        documents: the documents subsystem (its verifier and wording).
        objetivo: a path to a PDF or an image, or the text of a code or a token.
        out: where to print.

    Returns:
        0 when the document is valid, 1 for any other verdict, 2 when the input cannot be read.
    """
    consola = documents.plantillas.verification["consola"]
    path = Path(objetivo)
    try:
        data = await asyncio.to_thread(_read_if_file, path)
        if data is None and path.suffix.lower() in FILE_SUFFIXES:
            raise UnreadableInput("archivo_inexistente")
        if data is not None:
            result = await documents.verifier.verify_file(data)
        else:
            result = await documents.verifier.verify_text(objetivo)
    except UnreadableInput as exc:
        print(consola["error"].format(mensaje=documents.plantillas.text("errores", exc.code)), file=out)
        return EXIT_UNREADABLE
    for line in describe(documents, result):
        print(line, file=out)
    return EXIT_VALID if result.is_valid else EXIT_NOT_VALID


def _read_if_file(path: Path) -> bytes | None:
    try:
        return path.read_bytes() if path.is_file() else None
    except OSError:  # a token or a code that is not a valid path name
        return None


def describe(documents: Documents, result: VerificationResult) -> list[str]:
    """The lines `verificar` prints for ``result``, worded from ``verificacion.yml``."""
    plantillas = documents.plantillas
    consola = plantillas.verification["consola"]
    wording = plantillas.text("veredictos", result.verdict.value)
    lines = [
        consola["veredicto"].format(titulo=wording["titulo"]),
        wording["detalle"],
        consola["motivo"].format(motivo=plantillas.text("motivos", result.reason)),
    ]
    document = result.document
    if document is None:
        return lines
    lines += [
        consola["documento"].format(titulo=document.title, institucion=document.institution),
        consola["titular"].format(nombre=document.holder_name, cedula=document.holder_cedula_masked),
        *(consola["campo"].format(etiqueta=label, valor=value) for label, value in document.fields),
        consola["emision"].format(fecha=format_date(document.issued_at)),
        consola["vigencia"].format(fecha=format_date(document.expires_at)),
        consola["codigo"].format(codigo=document.verification_code),
    ]
    if document.revoked_at is not None:
        lines.append(
            consola["revocacion"].format(fecha=format_date(document.revoked_at), motivo=document.revocation_reason)
        )
    return lines


def main_verificar(settings: Settings, objetivo: str, *, out: TextIO = sys.stdout) -> int:
    """Entry point for ``chasqui verificar`` (wire it in `bot.cli.main`)."""

    async def run() -> int:
        engine = create_engine(settings.effective_database_url)
        try:
            documents = await asyncio.to_thread(
                build_documents, document_settings_from(settings), sessions=session_factory(engine)
            )
            return await verificar(documents, objetivo, out=out)
        finally:
            await engine.dispose()

    return asyncio.run(run())
