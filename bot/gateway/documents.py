"""Public document routes: verification page and API, signed downloads, share links.

| route | what |
|---|---|
| ``GET /verificar`` | form: a code, a PDF or a photo of the QR (``?codigo=`` redirects to the page below) |
| ``GET /verificar.css`` | the pages' stylesheet (no inline styles: see `bot.security_headers`) |
| ``POST /verificar`` | the form's answer, as a page |
| ``GET /verificar/{codigo}`` | the verdict and the document's key data, as a page |
| ``GET /api/verificar/{codigo}`` | the same as JSON |
| ``POST /api/verificar`` | JSON verdict for a file (multipart ``archivo`` or a raw body), ``token`` or ``codigo`` |
| ``GET /documentos/{id}/{archivo}?exp=&sig=`` | a document's file, behind an expiring HMAC-signed link |
| ``GET /compartido/{token}`` | a document shown to a third party while the share link lasts |

Every verdict is a 200 (the verdict is the answer); unreadable input is a 422 with a reason code. Input is
bounded before it is read: the body's size, JSON's depth and digits (`bot.gateway.limits`), a code's length,
an image's pixels (`bot.documents.qr`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import structlog
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.datastructures import UploadFile

from bot.documents.errors import DocumentNotFound, DocumentRevoked, StoreUnavailable, UnreadableInput
from bot.documents.pages import SECURITY_HEADERS, Pages
from bot.documents.runtime import Documents
from bot.documents.verification import MAX_CODE_TEXT, Verdict, VerificationResult
from bot.gateway.limits import UnsafeJson, loads_bounded

log = structlog.get_logger(__name__)

MAX_TEXT = 4096  # a token is a few hundred characters
_BINARY = {"schema": {"type": "string", "format": "binary"}}
# What POST /api/verificar reads, for the OpenAPI description (the route parses the raw body itself).
VERIFY_BODY: dict[str, Any] = {
    "required": True,
    "content": {
        "application/json": {
            "schema": {
                "type": "object",
                "properties": {"codigo": {"type": "string"}, "token": {"type": "string"}},
            }
        },
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "properties": {
                    "archivo": {"type": "string", "format": "binary"},
                    "codigo": {"type": "string"},
                    "token": {"type": "string"},
                },
            }
        },
        "application/pdf": _BINARY,
        "image/png": _BINARY,
        "image/jpeg": _BINARY,
    },
}


def _from_state(request: Request) -> Documents:
    documents: Documents = request.app.state.documents
    return documents


def create_documentos_router(
    *, documents: Documents | None = None, resolve: Callable[[Request], Documents] = _from_state
) -> APIRouter:
    """Build the router; include it in the gateway with ``app.include_router(...)``.

    Args:
        documents: the documents subsystem, when it is built before the app (tests).
        resolve: how to find it per request otherwise; by default ``request.app.state.documents``,
            set in the gateway's lifespan from `bot.documents.runtime.build_documents`.
    """
    router = APIRouter()
    pages_cache: dict[int, Pages] = {}

    def get(request: Request) -> Documents:
        return documents if documents is not None else resolve(request)

    def pages(docs: Documents) -> Pages:
        key = id(docs)
        if key not in pages_cache:
            pages_cache[key] = Pages(docs.settings.templates_dir / "html")
        return pages_cache[key]

    def html(docs: Documents, name: str, status_code: int = 200, **context: Any) -> HTMLResponse:
        return HTMLResponse(pages(docs).render(name, **context), status_code=status_code, headers=SECURITY_HEADERS)

    def result_page(docs: Documents, result: VerificationResult) -> HTMLResponse:
        return html(
            docs,
            "verificacion.html",
            status_code=404 if result.verdict is Verdict.DESCONOCIDO and result.via == "codigo" else 200,
            resultado=result,
            veredicto=docs.plantillas.text("veredictos", result.verdict.value),
            motivo=docs.plantillas.text("motivos", result.reason),
        )

    def unreadable(docs: Documents, exc: UnreadableInput) -> JSONResponse:
        message = docs.plantillas.text("errores", exc.code)
        return JSONResponse({"error": exc.code, "message": message}, status_code=422, headers=SECURITY_HEADERS)

    @router.get("/verificar.css", include_in_schema=False)
    async def stylesheet(request: Request) -> Response:
        css = pages(get(request)).stylesheet
        return Response(css, media_type="text/css; charset=utf-8", headers={"Cache-Control": "public, max-age=3600"})

    @router.get("/verificar", include_in_schema=False)
    async def form(request: Request, codigo: str | None = None) -> Response:
        docs = get(request)
        if codigo and codigo.strip():
            return RedirectResponse(f"/verificar/{_path_safe(codigo)}", status_code=303)
        return html(docs, "formulario.html", error=None)

    @router.post("/verificar", include_in_schema=False)
    async def form_answer(request: Request) -> Response:
        docs = get(request)
        try:
            result = await _verify_request(request, docs)
        except UnreadableInput as exc:
            return html(docs, "formulario.html", status_code=422, error=docs.plantillas.text("errores", exc.code))
        return result_page(docs, result)

    @router.get("/verificar/{codigo}", include_in_schema=False)
    async def page(request: Request, codigo: str) -> HTMLResponse:
        docs = get(request)
        return result_page(docs, await docs.verifier.verify_code(codigo))  # too long: «código inválido»

    @router.get("/api/verificar/{codigo}")
    async def api_code(request: Request, codigo: str) -> JSONResponse:
        docs = get(request)
        if len(codigo) > MAX_CODE_TEXT:
            return unreadable(docs, UnreadableInput("codigo_largo"))
        result = await docs.verifier.verify_code(codigo)
        return JSONResponse(result.as_json(docs.plantillas), headers=SECURITY_HEADERS)

    @router.post("/api/verificar", openapi_extra={"requestBody": VERIFY_BODY})
    async def api_verify(request: Request) -> JSONResponse:
        docs = get(request)
        try:
            result = await _verify_request(request, docs)
        except UnreadableInput as exc:
            return unreadable(docs, exc)
        return JSONResponse(result.as_json(docs.plantillas), headers=SECURITY_HEADERS)

    @router.get("/documentos/{document_id}/{filename}", include_in_schema=False)
    async def download(request: Request, document_id: str, filename: str, exp: str = "", sig: str = "") -> Response:
        docs = get(request)
        verdict = docs.links.check(document_id, filename, expires=exp, signature=sig, now=docs.issuer.clock())
        if verdict == "invalid":
            return Response(status_code=403, headers=SECURITY_HEADERS)
        if verdict == "expired":
            return Response(status_code=410, headers=SECURITY_HEADERS)
        try:
            stored = await docs.issuer.fetch(document_id, filename)
        except DocumentNotFound:
            return Response(status_code=404, headers=SECURITY_HEADERS)
        except DocumentRevoked:
            return Response(status_code=410, headers=SECURITY_HEADERS)
        except StoreUnavailable as exc:  # object storage down: the link stays good, try again shortly
            log.warning("documento.almacen_no_disponible", document_id=document_id, error=str(exc))
            return Response(status_code=503, headers={**SECURITY_HEADERS, "Retry-After": "30"})
        disposition = "attachment" if stored.media_type == "application/pdf" else "inline"
        headers = {
            **SECURITY_HEADERS,
            "Cache-Control": "private, no-store",
            "Content-Disposition": f'{disposition}; filename="{stored.filename}"',
        }
        return Response(stored.data, media_type=stored.media_type, headers=headers)

    @router.get("/compartido/{token}", include_in_schema=False)
    async def shared(request: Request, token: str) -> HTMLResponse:
        docs = get(request)
        found = await docs.verifier.verify_share(token)
        if found is None:
            return html(docs, "no_disponible.html", status_code=404)
        document = found.result.document
        assert document is not None  # a share link always points at a recorded document
        files_usable = found.result.verdict is not Verdict.REVOCADO
        return html(
            docs,
            "compartido.html",
            resultado=found.result,
            veredicto=docs.plantillas.text("veredictos", found.result.verdict.value),
            vence=found.expires_at,
            imagen_url=docs.links.path(document.id, found.png_filename, expires_at=found.expires_at)
            if files_usable
            else None,
            pdf_url=docs.links.path(document.id, found.pdf_filename, expires_at=found.expires_at)
            if files_usable
            else None,
        )

    return router


def _path_safe(code: str) -> str:
    return "".join(ch for ch in code.strip()[:64] if ch.isalnum() or ch == "-")


async def _read_limited(upload: UploadFile, limit: int) -> bytes:
    data = await upload.read(limit + 1)
    if len(data) > limit:
        raise UnreadableInput("demasiado_grande")
    return data


async def _verify_request(request: Request, docs: Documents) -> VerificationResult:
    """Verify what a POST carries: a multipart form, a JSON object, or a raw PDF/image body."""
    limit = docs.settings.max_upload_bytes
    declared = request.headers.get("content-length", "")
    known_length = declared.isascii() and declared.isdigit()  # isdigit alone accepts «²»
    if known_length and int(declared) > limit + 16 * 1024:
        raise UnreadableInput("demasiado_grande")
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    verifier = docs.verifier
    if content_type in {"multipart/form-data", "application/x-www-form-urlencoded"}:
        if not known_length:  # the form parser spools files to disk: only with a known, bounded size
            raise UnreadableInput("sin_longitud")
        form = await request.form(max_files=1, max_fields=4)
        try:
            upload = form.get("archivo")
            if isinstance(upload, UploadFile) and upload.filename:
                return await verifier.verify_file(await _read_limited(upload, limit))
            for field in ("token", "codigo"):
                value = form.get(field)
                if isinstance(value, str) and value.strip():
                    return await verifier.verify_text(value[:MAX_TEXT])
        finally:
            await form.close()
        raise UnreadableInput("vacio")
    body = await _read_body(request, limit)
    if content_type == "application/json":
        try:
            payload = loads_bounded(body)
        except UnsafeJson as exc:
            raise UnreadableInput("json_invalido", exc.reason) from exc
        if isinstance(payload, dict):
            for field in ("token", "codigo"):
                value = payload.get(field)
                if isinstance(value, str) and value.strip():
                    return await verifier.verify_text(value[:MAX_TEXT])
        raise UnreadableInput("vacio")
    return await verifier.verify_file(body)


async def _read_body(request: Request, limit: int) -> bytes:
    body = bytearray()
    async for chunk in request.stream():
        body.extend(chunk)
        if len(body) > limit:
            raise UnreadableInput("demasiado_grande")
    return bytes(body)
