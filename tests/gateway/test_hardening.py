"""Issue 12 (items 4 and 8): malformed input gets a 4xx on every public route, and pages carry security headers.

One test per finding of the probe; the fuzzing (Hypothesis, Schemathesis) is in `test_fuzz.py`.
"""

from __future__ import annotations

import http.client
import io
import re
import struct
import zlib
from collections.abc import Iterator
from pathlib import Path

import cbor2
import httpx
import pytest
from fastapi import Request
from fastapi.testclient import TestClient
from PIL import Image

from bot.channels.base import InvalidPayload
from bot.documents.tokens import PREFIX, b45encode
from bot.gateway.app import create_app
from bot.gateway.limits import MAX_JSON_DEPTH, UnsafeJson, loads_bounded, read_limited_body
from bot.settings import Settings
from bot.storage.db import migrate
from tests.gateway.test_web_channel import FakeRasa

PROJECT_DIR = Path(__file__).resolve().parents[2]
SAFE_INTEGER = 2**53


def gateway_settings(var_dir: Path) -> Settings:
    return Settings(
        var_dir=var_dir,
        database_url=f"sqlite+aiosqlite:///{var_dir / 'app.db'}",
        internal_token="token-interno-de-prueba",
        consentimiento_requerido=False,
    )


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """The whole gateway against a fake Rasa; server errors are raised in the test, not turned into a 500."""
    settings = gateway_settings(tmp_path_factory.mktemp("endurecimiento") / "var")
    settings.var_dir.mkdir(parents=True)
    migrate(settings.effective_database_url)
    app = create_app(settings, rasa_transport=httpx.MockTransport(FakeRasa().handler), start_background=False)
    with TestClient(app) as client:
        yield client


def post_json(client: TestClient, path: str, body: str | bytes) -> httpx.Response:
    return client.post(path, content=body, headers={"Content-Type": "application/json"})


# --- Deeply nested JSON and integers of thousands of digits -------------------------------------------------

DEEP_ARRAY = "[" * 5000 + "]" * 5000
DEEP_METADATA = '{"sender": "web:a", "message": "hola", "metadata": ' + '{"a": ' * 3000 + "1" + "}" * 3001
LONG_MESSAGE_ID = '{"sender": "web:a", "message": "hola", "metadata": {"message_id": ' + "9" * 5000 + "}}"
LONG_EXTRA_NUMBER = '{"sender": "web:a", "message": "hola", "n": ' + "1" * 31 + "}"


@pytest.mark.parametrize(
    "body",
    [DEEP_ARRAY, DEEP_METADATA, LONG_MESSAGE_ID, LONG_EXTRA_NUMBER],
    ids=["array-5000", "metadata-3000", "message-id-5000-digits", "number-31-digits"],
)
def test_web_channel_refuses_deep_json_and_long_integers_with_a_400(gateway: TestClient, body: str) -> None:
    response = post_json(gateway, "/webhooks/rest/webhook", body)

    assert response.status_code == 400
    assert response.json()["detail"] in {"JSON nested deeper than 32 levels", "a number longer than 30 digits"}


def test_web_channel_accepts_json_at_its_limits(gateway: TestClient) -> None:
    nested = "[" * (MAX_JSON_DEPTH - 2) + "]" * (MAX_JSON_DEPTH - 2)
    body = '{"sender": "web:limites", "message": "hola", "metadata": {"x": ' + nested + ', "n": ' + "9" * 30 + "}}"

    assert post_json(gateway, "/webhooks/rest/webhook", body).status_code == 200


@pytest.mark.parametrize(
    "body",
    [DEEP_ARRAY, '{"token": ' + "9" * 5000 + "}", '{"codigo": ' + '{"a": ' * 100 + "1" + "}" * 101],
    ids=["array-5000", "token-5000-digits", "codigo-100-levels"],
)
def test_verification_api_refuses_deep_json_and_long_integers_with_a_422(gateway: TestClient, body: str) -> None:
    response = post_json(gateway, "/api/verificar", body)

    assert (response.status_code, response.json()["error"]) == (422, "json_invalido")
    assert response.json()["message"].startswith("El contenido no es un JSON válido")


def test_loads_bounded_counts_brackets_inside_strings_as_text() -> None:
    text = '{"m": "' + "[" * 100 + '\\"' + "{" * 100 + '", "n": [1, 2.5, -3]}'

    assert loads_bounded(text) == {"m": "[" * 100 + '"' + "{" * 100, "n": [1, 2.5, -3]}
    with pytest.raises(UnsafeJson):
        loads_bounded(b"\xff{}")


# --- Bounded query integers and path parameters -------------------------------------------------------------


@pytest.mark.parametrize("despues", ["9" * 30, str(2**63), str(SAFE_INTEGER + 1), "-1"])
def test_news_route_refuses_an_out_of_range_despues_with_a_422(gateway: TestClient, despues: str) -> None:
    response = gateway.get("/webhooks/rest/mensajes", params={"sender": "web:a", "despues": despues})

    assert response.status_code == 422


def test_news_route_accepts_the_largest_safe_integer(gateway: TestClient) -> None:
    response = gateway.get("/webhooks/rest/mensajes", params={"sender": "web:a", "despues": str(SAFE_INTEGER)})

    assert (response.status_code, response.json()) == (200, [])


@pytest.mark.parametrize("token", ["a" * 5000, "a" * 65, "%00" * 20, "ñ" * 32])
def test_data_copy_route_with_a_malformed_id_is_the_expired_page(gateway: TestClient, token: str) -> None:
    response = gateway.get(f"/mis-datos/{token}")

    assert response.status_code == 404
    assert "Este enlace venció o no existe" in response.text


def test_verification_code_longer_than_any_code_is_refused(gateway: TestClient) -> None:
    api = gateway.get("/api/verificar/" + "A" * 5000)
    page = gateway.get("/verificar/ABCD-EFGH-JKMN-PQRS" + "-" * 5000)  # once cut at 64, it read as a real code

    assert (api.status_code, api.json()["error"]) == (422, "codigo_largo")
    assert (page.status_code, "Documento desconocido" in page.text) == (404, True)


@pytest.mark.parametrize("pago_id", ["a" * 5000, "%00abc", "ñandú"])
def test_payment_page_with_a_malformed_id_is_not_found(gateway: TestClient, pago_id: str) -> None:
    response = gateway.get(f"/pagos/{pago_id}", params={"t": "x" * 5000})

    assert response.status_code == 404
    assert "Este enlace de pago no es válido" in response.text


def test_a_download_link_with_a_non_ascii_expiry_is_forbidden(gateway: TestClient) -> None:
    response = gateway.get("/documentos/abcdefghjkmnpqrstvwx/cedula_digital.pdf", params={"exp": "²", "sig": "x"})

    assert response.status_code == 403


async def test_a_content_length_that_is_not_ascii_digits_is_a_400() -> None:
    async def receive() -> dict[str, object]:
        return {"type": "http.request", "body": b"{}", "more_body": False}

    request = Request({"type": "http", "method": "POST", "headers": [(b"content-length", b"\xb2")]}, receive)

    with pytest.raises(InvalidPayload) as raised:
        await read_limited_body(request, 1024)
    assert raised.value.status_code == 400


# --- Malformed and bomb images on verification --------------------------------------------------------------


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def png_header_only(width: int, height: int, *, extra: bytes = b"", depth: int = 8) -> bytes:
    """A PNG that declares its size but carries (almost) no pixels: cheap to send, costly to decode."""
    header = struct.pack(">IIBBBBB", width, height, depth, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + extra
        + _chunk(b"IDAT", zlib.compress(b""))
        + _chunk(b"IEND", b"")
    )


def png_of(width: int, height: int, mode: str = "1") -> bytes:
    out = io.BytesIO()
    Image.new(mode, (width, height)).save(out, format="PNG")
    return out.getvalue()


TEXT_BOMB = png_header_only(10, 10, extra=_chunk(b"zTXt", b"a\0\0" + zlib.compress(b"x" * 20_000_000)))
ICC_BOMB = png_header_only(10, 10, extra=_chunk(b"iCCP", b"a\0\0" + zlib.compress(b"x" * 20_000_000)))
SGI = b"\x01\xda" + b"\0" * 510
TRUNCATED_JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 40
NOT_AN_IMAGE = b"GIF89a" + b"\xff" * 60

FORMAT_MESSAGE = "El archivo no es un PDF ni una imagen PNG o JPEG."
TOO_LARGE_MESSAGE = "El archivo es demasiado grande."


@pytest.mark.parametrize(
    "data",
    [TEXT_BOMB, ICC_BOMB, SGI, TRUNCATED_JPEG, NOT_AN_IMAGE],
    ids=["ztxt-bomb", "iccp-bomb", "sgi", "truncated-jpeg", "broken-gif"],
)
def test_malformed_images_get_a_422_page_in_spanish(gateway: TestClient, data: bytes) -> None:
    response = gateway.post("/verificar", files={"archivo": ("foto.png", data, "image/png")})

    assert response.status_code == 422
    assert "No se pudo verificar" in response.text and FORMAT_MESSAGE in response.text


@pytest.mark.parametrize(
    ("data", "megapixels"),
    [(png_of(8000, 5000), 40), (png_header_only(100_000, 100_000), 10_000)],
    ids=["40-megapixels", "10-gigapixels"],
)
def test_an_image_over_25_megapixels_is_refused_as_too_large(gateway: TestClient, data: bytes, megapixels: int) -> None:
    page = gateway.post("/verificar", files={"archivo": ("foto.png", data, "image/png")})
    api = gateway.post("/api/verificar", content=data, headers={"Content-Type": "image/png"})

    assert (page.status_code, TOO_LARGE_MESSAGE in page.text) == (422, True)
    assert (api.status_code, api.json()["error"]) == (422, "demasiado_grande")


def token_text(message: object) -> str:
    return PREFIX + b45encode(zlib.compress(cbor2.dumps(message), 9))


@pytest.mark.parametrize(
    "token",
    [
        token_text(cbor2.CBORTag(18, [cbor2.dumps([1]), {}, b"", b""])),  # the protected header is a list
        token_text(cbor2.CBORTag(18, [cbor2.dumps("x"), {}, b"", b""])),
    ],
    ids=["header-list", "header-text"],
)
def test_a_token_with_a_malformed_header_is_unreadable(gateway: TestClient, token: str) -> None:
    response = post_json(gateway, "/api/verificar", f'{{"token": "{token}"}}')

    assert (response.status_code, response.json()["reason"]) == (200, "token_ilegible")


def test_a_pdf_with_an_absurd_cross_reference_offset_is_a_damaged_file(gateway: TestClient) -> None:
    pdf = b"%PDF-1.7\nstartxref\n" + b"9" * 40 + b"\n%%EOF"

    response = gateway.post("/api/verificar", content=pdf, headers={"Content-Type": "application/pdf"})

    assert (response.status_code, response.json()["verdict"]) == (200, "alterado")


# --- The payment callback's body is bounded before its signature is checked -----------------------------------


def test_payment_callback_refuses_a_large_body_before_checking_its_signature(gateway: TestClient) -> None:
    response = gateway.post(
        "/pagos/notificacion", content=b"x" * (1024 * 1024), headers={"X-Chasqui-Firma": "sha256=00"}
    )

    assert response.status_code == 413


def test_payment_callback_refuses_a_large_streamed_body(gateway: TestClient) -> None:
    def chunks() -> Iterator[bytes]:
        for _ in range(64):
            yield b"x" * 16_384

    response = gateway.post("/pagos/notificacion", content=chunks(), headers={"X-Chasqui-Firma": "sha256=00"})

    assert response.status_code == 413


def test_payment_form_refuses_a_large_body(gateway: TestClient) -> None:
    response = gateway.post(
        "/pagos/abc",
        content=b"t=" + b"x" * (1024 * 1024),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )

    assert response.status_code == 413


# --- After a refused request the keep-alive connection goes on ----------------------------------------------


def test_a_refused_request_keeps_the_connection_alive(tmp_path: Path) -> None:
    from tests.console.conftest import FakeRasa as ConsoleRasa
    from tests.console.navegador import running_gateway

    with running_gateway(gateway_settings(tmp_path / "var"), ConsoleRasa()) as url:
        connection = http.client.HTTPConnection("127.0.0.1", int(url.rsplit(":", 1)[1]), timeout=10)
        statuses = []
        for method, path, body in [
            ("POST", "/webhooks/rest/webhook", DEEP_ARRAY),
            ("GET", "/webhooks/rest/mensajes?sender=web:a&despues=" + "9" * 30, None),
            ("GET", "/mis-datos/" + "a" * 5000, None),
            ("GET", "/healthz", None),
        ]:
            connection.request(method, path, body=body, headers={"Content-Type": "application/json"})
            answer = connection.getresponse()
            answer.read()
            statuses.append(answer.status)
        connection.close()

    assert statuses == [400, 422, 404, 200]


# --- Security headers -------------------------------------------------------------------------------------

HTML_ROUTES = [
    "/",
    "/static/chat.html",
    "/privacidad",
    "/pagos/0123456789abcdef?t=x",
    "/mis-datos/" + "a" * 32,
    "/verificar",
    "/verificar/ABCD-EFGH-JKMN-PQRS",
    "/compartido/" + "a" * 32,
    "/consola/entrar",
]
OTHER_ROUTES = [
    "/healthz",
    "/readyz",
    "/openapi.json",
    "/webhooks/rest/mensajes?sender=web:a",
    "/api/verificar/ABCD-EFGH-JKMN-PQRS",
    "/static/chat.js",
    "/static/chat.css",
    "/consola/static/consola.js",
    "/no-existe",
]


def policy(header: str) -> dict[str, list[str]]:
    directives = (d.split() for d in header.split(";") if d.strip())
    return {name: values for name, *values in directives}


@pytest.mark.parametrize("path", HTML_ROUTES)
def test_html_routes_forbid_framing_sniffing_and_inline_code(gateway: TestClient, path: str) -> None:
    response = gateway.get(path)
    csp = policy(response.headers.get("content-security-policy", ""))

    assert response.headers["content-type"].startswith("text/html")
    assert (csp.get("default-src"), csp.get("frame-ancestors"), csp.get("base-uri"), csp.get("form-action")) == (
        ["'none'"],
        ["'none'"],
        ["'none'"],
        ["'self'"],
    )
    assert all(
        source == "'self'" for name in ("script-src", "style-src", "connect-src") for source in csp.get(name, [])
    )
    assert set(csp.get("img-src", [])) <= {"'self'", "data:"}
    assert response.headers.get("x-frame-options") == "DENY"
    assert response.headers.get("x-content-type-options") == "nosniff"
    assert response.headers.get("referrer-policy") in {"no-referrer", "strict-origin-when-cross-origin"}


@pytest.mark.parametrize("path", OTHER_ROUTES)
def test_every_other_answer_forbids_type_sniffing(gateway: TestClient, path: str) -> None:
    assert gateway.get(path).headers.get("x-content-type-options") == "nosniff"


PAGE_FOLDERS = [
    PROJECT_DIR / "bot" / "gateway" / "static",
    PROJECT_DIR / "bot" / "gateway" / "templates",
    PROJECT_DIR / "bot" / "console" / "templates",
    PROJECT_DIR / "data" / "plantillas" / "html",
]
INLINE = {
    "inline script": re.compile(r"<script\b(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE),
    "style element": re.compile(r"<style\b", re.IGNORECASE),
    "style attribute": re.compile(r"<[^>]+\sstyle\s*=", re.IGNORECASE),
    "event handler": re.compile(r"<[^>]+\son[a-z]+\s*=", re.IGNORECASE),
    "javascript: URL": re.compile(r"javascript:", re.IGNORECASE),
}


def test_no_page_carries_inline_scripts_styles_or_event_handlers() -> None:
    found = [
        f"{page.relative_to(PROJECT_DIR)}: {what}"
        for folder in PAGE_FOLDERS
        for page in sorted(folder.glob("*.html"))
        for what, pattern in INLINE.items()
        if pattern.search(page.read_text(encoding="utf-8"))
    ]

    assert found == []


def test_pages_work_in_chromium_under_their_policy(tmp_path: Path) -> None:
    """The policy must not break a page: no violation reported, styles applied, the chat's script answers."""
    from playwright.sync_api import ConsoleMessage, expect

    from tests.console.conftest import FakeRasa as ConsoleRasa
    from tests.console.navegador import chromium, citizen_says, running_gateway

    reported: list[str] = []

    def note(message: ConsoleMessage) -> None:
        if message.type == "error" and not message.location.get("url", "").endswith("/favicon.ico"):
            reported.append(f"{message.location.get('url')}: {message.text}")

    with running_gateway(gateway_settings(tmp_path / "var"), ConsoleRasa()) as url, chromium() as browser:
        page = browser.new_page()
        page.on("console", note)
        page.on("pageerror", lambda error: reported.append(str(error)))
        styles = {}
        for path, selector, prop in [
            ("/verificar", ".franja", "height"),
            ("/privacidad", "main", "max-width"),
            ("/consola/entrar", "body", "font-family"),
            ("/", "header", "background-color"),
        ]:
            page.goto(url + path)
            styles[path] = page.eval_on_selector(selector, f"e => getComputedStyle(e).getPropertyValue('{prop}')")
        citizen_says(page, "hola")
        expect(page.get_by_text("eco: hola")).to_be_visible(timeout=15_000)

    assert reported == []
    assert (styles["/verificar"], styles["/privacidad"], styles["/"]) == ("6px", "736px", "rgb(11, 61, 145)")
    assert styles["/consola/entrar"]
