"""SOAP 1.1 for the registries that speak it (DINARDAP interoperador, BSG): envelopes, faults, WS-Security.

Parsing refuses any document type declaration (SOAP 1.1 forbids them), so entity expansion and external
entities cannot reach the parser; elements are looked up by local name, because the real services qualify
their child elements inconsistently.
"""

from __future__ import annotations

import base64
import hashlib
import xml.etree.ElementTree as ET
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import httpx

from integrations.registros.errors import Rejected, Unavailable

SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
WSU = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"
PASSWORD_DIGEST = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#PasswordDigest"  # noqa: S105 - a type URI
BASE64_BINARY = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-soap-message-security-1.0#Base64Binary"
CONTENT_TYPE = "text/xml; charset=utf-8"

_PREFIXES = {"soap": SOAP_ENV, "wsse": WSSE, "wsu": WSU}
# Fault codes (local part) that mean "your request is wrong", not "the service is failing".
_CLIENT_FAULTS = {
    "Client": "solicitud_rechazada",
    "FailedAuthentication": "autenticacion_fallida",
    "InvalidSecurity": "autenticacion_fallida",
    "InvalidSecurityToken": "autenticacion_fallida",
    "MessageExpired": "autenticacion_fallida",
}


def qname(namespace: str, tag: str) -> str:
    """An element name in Clark notation: ``{namespace}tag``."""
    return f"{{{namespace}}}{tag}"


def local(tag: str) -> str:
    """The local part of a Clark-notation name."""
    return tag.rpartition("}")[2]


def sub(parent: ET.Element, tag: str, text: str | None = None, **attrib: str) -> ET.Element:
    """Append a child element (optionally with text) and return it."""
    child = ET.SubElement(parent, tag, attrib)
    if text is not None:
        child.text = text
    return child


def envelope(payload: ET.Element, *, header: Sequence[ET.Element] = ()) -> bytes:
    """Serialize ``payload`` inside a SOAP 1.1 envelope, with optional header blocks."""
    for prefix, namespace in _PREFIXES.items():
        ET.register_namespace(prefix, namespace)
    root = ET.Element(qname(SOAP_ENV, "Envelope"))
    head = sub(root, qname(SOAP_ENV, "Header"))
    for block in header:
        head.append(block)
    sub(root, qname(SOAP_ENV, "Body")).append(payload)
    document: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return document


def parse(data: bytes) -> ET.Element:
    """Parse an XML document, refusing document type declarations and non-ASCII-compatible encodings.

    Raises:
        ValueError: the document is malformed or declares a DTD.
    """
    if b"\x00" in data:
        raise ValueError("unsupported XML encoding")
    upper = data.decode("latin-1").upper()
    if "<!DOCTYPE" in upper or "<!ENTITY" in upper:
        raise ValueError("document type declarations are not allowed in SOAP")
    try:
        return ET.fromstring(data)  # noqa: S314 - DTDs refused above, so no entity can be declared
    except ET.ParseError as exc:
        raise ValueError(f"malformed XML: {exc}") from exc


def body_payload(document: ET.Element) -> ET.Element:
    """The first element inside the envelope's Body.

    Raises:
        ValueError: not a SOAP envelope, or an empty Body.
    """
    if document.tag != qname(SOAP_ENV, "Envelope"):
        raise ValueError("not a SOAP 1.1 envelope")
    body = document.find(qname(SOAP_ENV, "Body"))
    if body is None or len(body) == 0:
        raise ValueError("empty SOAP body")
    return body[0]


def header_block(document: ET.Element, tag: str) -> ET.Element | None:
    """A block of the envelope's Header by its Clark name, if present."""
    header = document.find(qname(SOAP_ENV, "Header"))
    return None if header is None else header.find(tag)


def iter_named(parent: ET.Element, name: str) -> Iterator[ET.Element]:
    """Descendants (and ``parent`` itself) whose local name is ``name``."""
    return (e for e in parent.iter() if local(e.tag) == name)


def find(parent: ET.Element, name: str) -> ET.Element | None:
    """The first descendant with local name ``name``."""
    return next(iter_named(parent, name), None)


def text(parent: ET.Element, name: str) -> str | None:
    """Stripped text of the first descendant with local name ``name`` (None when absent or empty)."""
    element = find(parent, name)
    if element is None or element.text is None:
        return None
    return element.text.strip() or None


def required_text(parent: ET.Element, name: str) -> str:
    """Like `text`, for a field the answer must carry.

    Raises:
        KeyError: the field is missing (the caller maps it to an unreadable answer).
    """
    value = text(parent, name)
    if value is None:
        raise KeyError(name)
    return value


def children_text(parent: ET.Element) -> dict[str, str]:
    """Direct children's local names and stripped texts (leaf children only)."""
    return {local(c.tag): (c.text or "").strip() for c in parent if len(c) == 0}


@dataclass(frozen=True)
class Fault:
    """A SOAP 1.1 fault: ``code`` is the local part of ``faultcode``."""

    code: str
    message: str


def fault_of(payload: ET.Element) -> Fault | None:
    """The fault carried by a Body payload, if it is one."""
    if payload.tag != qname(SOAP_ENV, "Fault"):
        return None
    raw_code = (payload.findtext("faultcode") or "Server").strip()
    return Fault(code=raw_code.rpartition(":")[2], message=(payload.findtext("faultstring") or "").strip())


def fault_envelope(code: str, message: str) -> bytes:
    """A SOAP 1.1 fault envelope; ``code`` is prefixed, e.g. ``soap:Server`` or ``wsse:FailedAuthentication``."""
    fault = ET.Element(qname(SOAP_ENV, "Fault"))
    sub(fault, "faultcode", code)
    sub(fault, "faultstring", message)
    return envelope(fault)


def read_response(response: httpx.Response) -> ET.Element:
    """Map an HTTP answer of a SOAP service to its Body payload, or raise the matching exception.

    401/403 are ``Rejected`` (credentials); 5xx without a readable fault, and ``Server`` faults, are
    ``Unavailable``; ``Client`` and WS-Security faults are ``Rejected``.
    """
    status = response.status_code
    if status in (401, 403):
        raise Rejected("credenciales_invalidas", f"HTTP {status}")
    if status not in (200, 500):
        retryable = status >= 500 or status == 408
        raise Unavailable(f"HTTP {status}", code=f"http_{status}", retryable=retryable)
    try:
        payload = body_payload(parse(response.content))
    except ValueError as exc:
        if status == 500:
            raise Unavailable("HTTP 500", code="http_500") from exc
        raise Unavailable("unreadable SOAP answer", code="respuesta_invalida", retryable=False) from exc
    fault = fault_of(payload)
    if fault is not None:
        if fault.code in _CLIENT_FAULTS:
            raise Rejected(_CLIENT_FAULTS[fault.code], f"SOAP fault {fault.code}")
        raise Unavailable(f"SOAP fault {fault.code}", code="soap_fault")
    if status == 500:
        raise Unavailable("HTTP 500", code="http_500")
    return payload


def password_digest(nonce: bytes, created: str, secret: str) -> str:
    """WS-Security PasswordDigest: Base64(SHA-1(nonce + created + secret))."""
    digest = hashlib.sha1(nonce + created.encode() + secret.encode()).digest()  # noqa: S324 - fixed by the standard
    return base64.b64encode(digest).decode()


def security_header(*, username: str, digest: str, nonce: str, created: str, expires: str) -> ET.Element:
    """A ``wsse:Security`` header block: UsernameToken with PasswordDigest, Nonce and Created, plus a Timestamp.

    Args:
        username: the access user (at the BSG, the cédula of the institution's access user).
        digest: the PasswordDigest, Base64.
        nonce: the nonce, Base64.
        created: ``wsu:Created`` (the BSG's ``Fecha``).
        expires: ``wsu:Expires`` of the Timestamp (the BSG's ``FechaF``).
    """
    security = ET.Element(qname(WSSE, "Security"))
    token = sub(security, qname(WSSE, "UsernameToken"))
    sub(token, qname(WSSE, "Username"), username)
    sub(token, qname(WSSE, "Password"), digest, Type=PASSWORD_DIGEST)
    sub(token, qname(WSSE, "Nonce"), nonce, EncodingType=BASE64_BINARY)
    sub(token, qname(WSU, "Created"), created)
    timestamp = sub(security, qname(WSU, "Timestamp"), **{qname(WSU, "Id"): "Timestamp-1"})
    sub(timestamp, qname(WSU, "Created"), created)
    sub(timestamp, qname(WSU, "Expires"), expires)
    return security
