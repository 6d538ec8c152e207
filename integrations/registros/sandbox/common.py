"""Pieces the sandbox's institution routers share: error bodies, body limits, Basic auth, date formats."""

from __future__ import annotations

import base64
import hmac
from datetime import date

from fastapi import Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel
from stdnum.ec import ci

from integrations.registros import soap

MAX_SOAP_BYTES = 64 * 1024


class Error(BaseModel):
    """Error body of the REST services: a machine-readable ``codigo`` and a registry message."""

    codigo: str
    mensaje: str = ""


def error(status: int, codigo: str, mensaje: str, *, headers: dict[str, str] | None = None) -> JSONResponse:
    """A REST error answer."""
    return JSONResponse(Error(codigo=codigo, mensaje=mensaje).model_dump(), status_code=status, headers=headers)


def xml(document: bytes, *, status: int = 200) -> Response:
    """A SOAP answer."""
    return Response(document, status_code=status, media_type=soap.CONTENT_TYPE)


def fault(code: str, message: str) -> Response:
    """A SOAP fault answer (HTTP 500, as SOAP 1.1 over HTTP requires)."""
    return xml(soap.fault_envelope(code, message), status=500)


async def soap_body(request: Request) -> bytes | None:
    """The request body, or None when it passes ``MAX_SOAP_BYTES``."""
    body = bytearray()
    async for chunk in request.stream():
        body.extend(chunk)
        if len(body) > MAX_SOAP_BYTES:
            return None
    return bytes(body)


def basic_auth_ok(request: Request, usuario: str, contrasena: str) -> bool:
    """Whether the request carries HTTP Basic credentials equal to ``usuario``/``contrasena``."""
    scheme, _, encoded = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "basic":
        return False
    try:
        given = base64.b64decode(encoded, validate=True).decode()
    except (ValueError, UnicodeDecodeError):
        return False
    return hmac.compare_digest(given.encode(), f"{usuario}:{contrasena}".encode())


def cedula_valida(value: str) -> bool:
    """A 10-digit cédula with a valid check digit."""
    return len(value) == 10 and value.isdigit() and bool(ci.is_valid(value))


def ddmmyyyy(value: date | None) -> str:
    """A date as DINARDAP writes it (``dd/mm/yyyy``), or empty."""
    return "" if value is None else value.strftime("%d/%m/%Y")
