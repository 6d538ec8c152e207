"""SOAP 1.1 plumbing: safe parsing, faults, WS-Security header, and the BSG permission renewal."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from integrations.registros import soap
from integrations.registros.errors import Rejected, Unavailable
from integrations.registros.sri import SriClient, SriConfig
from tests.integrations.conftest import Kit, Sandbox

FIXTURES = Path(__file__).resolve().parent / "fixtures"
BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>
<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body><x>&lol2;</x></soap:Body></soap:Envelope>"""


def test_document_type_declarations_are_refused() -> None:
    with pytest.raises(ValueError, match="document type"):
        soap.parse(BILLION_LAUGHS)
    with pytest.raises(ValueError, match="encoding"):
        soap.parse(BILLION_LAUGHS.decode().encode("utf-16"))


def test_the_sandbox_refuses_a_document_type_declaration(sandbox: Sandbox) -> None:
    response = sandbox.admin.post("/dinardap/interoperador-v2", content=BILLION_LAUGHS, auth=("chasqui", "sandbox"))
    with pytest.raises(Rejected) as rejected:
        soap.read_response(response)
    assert (response.status_code, rejected.value.code) == (500, "solicitud_rechazada")


def test_the_interoperador_asks_for_basic_credentials(sandbox: Sandbox) -> None:
    response = sandbox.admin.post("/dinardap/interoperador-v2", content=b"<x/>", auth=("chasqui", "otra"))
    assert (response.status_code, response.headers["www-authenticate"]) == (401, 'Basic realm="interoperador"')
    with pytest.raises(Rejected) as rejected:
        soap.read_response(response)
    assert rejected.value.code == "credenciales_invalidas"


def test_unexpected_http_answers() -> None:
    with pytest.raises(Unavailable) as gateway:
        soap.read_response(httpx.Response(502, content=b"Bad gateway"))
    with pytest.raises(Unavailable) as html:
        soap.read_response(httpx.Response(200, content=b"<html><body>login</body></html>"))
    assert [(gateway.value.code, gateway.value.retryable), (html.value.code, html.value.retryable)] == [
        ("http_502", True),
        ("respuesta_invalida", False),
    ]


def test_the_security_header_is_a_username_token_with_password_digest() -> None:
    header = soap.security_header(username="u", digest="d", nonce="n", created="c", expires="e")
    token = header.find(soap.qname(soap.WSSE, "UsernameToken"))
    assert token is not None
    password = token.find(soap.qname(soap.WSSE, "Password"))
    assert (password is not None and password.get("Type"), soap.text(header, "Expires")) == (
        soap.PASSWORD_DIGEST,
        "e",
    )


def test_password_digest_follows_the_username_token_profile() -> None:
    # Base64(SHA-1(nonce + created + password)), computed once with `openssl dgst -sha1 -binary | base64`.
    assert soap.password_digest(b"\x00" * 16, "2026-03-01T15:00:00Z", "secreto") == "7GbufypyxlofJ6inwYhwB4+4auU="


async def test_a_refused_permission_is_renewed_once(kit: Kit) -> None:
    permiso = (FIXTURES / "bsg" / "validar_permiso.xml").read_bytes()
    ruc = (FIXTURES / "sri" / "obtener_completo_0711111112001.xml").read_bytes()
    rejected_token = soap.fault_envelope("wsse:FailedAuthentication", "Token de seguridad no valido")
    service_answers = [httpx.Response(500, content=rejected_token), httpx.Response(200, content=ruc)]
    paths: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        paths.append(request.url.path.rsplit("/", 1)[1])
        if request.url.path.endswith("Acceder_BSG"):
            return httpx.Response(200, content=permiso)
        return service_answers.pop(0)

    http = httpx.AsyncClient(trust_env=False, transport=httpx.MockTransport(handler))
    result = await SriClient(http, SriConfig.sandbox("http://registros.invalid"), **kit.options()).ruc("0711111112001")
    assert (result.numero, paths) == (
        "0711111112001",
        ["BSGSW08_Acceder_BSG", "BSGSW01_Consultar_RucSRI", "BSGSW08_Acceder_BSG", "BSGSW01_Consultar_RucSRI"],
    )
