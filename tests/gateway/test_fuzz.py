"""Fuzzing the public routes: whatever a caller sends, the gateway answers below 500.

Two generators, each run twice: a short, derandomized run in every ``pytest`` (seconds), and a long one
marked ``fuzz`` that only ``make fuzz`` runs (``pytest --fuzz -m fuzz``):

- Hypothesis over hand-written strategies for every public route: malformed and hostile JSON (deep,
  long numbers), mutated PNG/JPEG/PDF uploads, path parameters of any length and alphabet, query integers
  of any size, oversized and malformed forms;
- Schemathesis over the gateway's own OpenAPI description (valid and invalid data for each operation),
  called in-process through the ASGI app.

Server errors are raised into the test (``raise_server_exceptions``), so Hypothesis shrinks a failure to the
smallest request that causes it.
"""

from __future__ import annotations

import io
import json
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image
from schemathesis.generation.modes import GenerationMode

from bot.gateway.app import create_app
from bot.storage.db import migrate
from tests.gateway.test_hardening import gateway_settings, png_header_only
from tests.gateway.test_web_channel import FakeRasa

SHORT = settings(
    max_examples=8000,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
)
LONG = settings(SHORT, max_examples=100_000)
SCHEMA_SHORT = settings(SHORT, max_examples=1500)
SCHEMA_LONG = settings(SHORT, max_examples=20_000)


def _app(var_dir: Path) -> Any:
    settings_ = gateway_settings(var_dir)
    settings_.var_dir.mkdir(parents=True)
    migrate(settings_.effective_database_url)
    return create_app(settings_, rasa_transport=httpx.MockTransport(FakeRasa().handler), start_background=False)


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    with TestClient(_app(tmp_path_factory.mktemp("fuzz") / "var")) as client:
        yield client


# --- What a caller may send ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Call:
    """One request; ``repr`` is what Hypothesis prints for a failing example."""

    method: str
    path: str
    params: dict[str, str] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    content: bytes | None = None
    data: dict[str, str] | None = None
    files: dict[str, tuple[str, bytes, str]] | None = None

    def send(self, client: TestClient) -> httpx.Response:
        return client.request(
            self.method,
            self.path,
            params=self.params or None,
            headers=self.headers or None,
            content=self.content,
            data=self.data,
            files=self.files,
        )


def _image(image_format: str, mode: str = "RGB") -> bytes:
    out = io.BytesIO()
    Image.new(mode, (48, 32), (255, 255, 255) if mode == "RGB" else 255).save(out, format=image_format)
    return out.getvalue()


PDF = (
    b"%PDF-1.7\n1 0 obj\n<</Type /Catalog /Pages 2 0 R>>\nendobj\n2 0 obj\n<</Type /Pages /Kids [] /Count 0>>\n"
    b"endobj\nxref\n0 3\n0000000000 65535 f \n0000000009 00000 n \n0000000058 00000 n \n"
    b"trailer\n<</Size 3 /Root 1 0 R /Info <</Keywords (codigo=ABCDEFGHJKMNPQRS)>> >>\nstartxref\n110\n%%EOF\n"
)
SEEDS = [_image("PNG"), _image("PNG", "L"), _image("JPEG"), PDF, zlib.compress(b"x" * 1000)]

text = st.text(max_size=60)
big_integers = st.integers(min_value=-(10**40), max_value=10**40)
number_text = st.one_of(big_integers.map(str), st.integers(1, 5000).map(lambda n: "9" * n), text)
segment = st.one_of(
    text.filter(bool),
    st.text(alphabet="0123456789ABCDEFGHJKMNPQRSTVWXYZabcdef-_.", min_size=1, max_size=80),
    st.integers(60, 6000).map(lambda n: "a" * n),
).map(lambda s: quote(s, safe=""))


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    """A seed file with a few bytes overwritten, cut short or prefixed with another format's magic."""
    data = bytearray(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(0, 6))):
        data[draw(st.integers(0, len(data) - 1))] = draw(st.integers(0, 255))
    cut = draw(st.integers(1, len(data)))
    return draw(st.sampled_from([b"", b"%PDF-", b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff"])) + bytes(data[:cut])


uploads = st.one_of(
    mutated(),
    st.binary(max_size=400),
    st.tuples(st.integers(0, 200_000), st.integers(0, 200_000)).map(lambda wh: png_header_only(*wh)),
)

json_leaves = st.one_of(st.none(), st.booleans(), big_integers, st.floats(allow_nan=False, allow_infinity=False), text)
json_values = st.recursive(
    json_leaves, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(text, inner, max_size=4), max_leaves=25
)
web_messages = st.fixed_dictionaries(
    {"sender": st.one_of(text, st.just("web:fuzz")), "message": text},
    optional={"metadata": st.one_of(json_values, st.fixed_dictionaries({"message_id": json_values}))},
)
json_bodies = st.one_of(
    json_values.map(lambda v: json.dumps(v).encode()),
    web_messages.map(lambda v: json.dumps(v, ensure_ascii=False).encode()),
    st.integers(1, 3000).map(lambda n: ("[" * n + "]" * n).encode()),
    st.integers(1, 3000).map(lambda n: ('{"a": ' * n + "1" + "}" * n).encode()),
    st.integers(1, 6000).map(lambda n: ('{"sender": "web:a", "message": "hola", "n": ' + "9" * n + "}").encode()),
    st.binary(max_size=300),
)
content_types = st.sampled_from(
    ["application/json", "application/pdf", "image/png", "image/jpeg", "text/plain", "multipart/form-data", ""]
)


def _post(path: str, body: st.SearchStrategy[bytes], content_type: st.SearchStrategy[str]) -> st.SearchStrategy[Call]:
    return st.builds(
        lambda b, c: Call("POST", path, content=b, headers={"Content-Type": c} if c else {}), body, content_type
    )


def public_calls() -> st.SearchStrategy[Call]:
    """Every public route of the gateway, with what a careless or hostile caller may send it."""
    json_type = st.just("application/json")
    form_fields = st.dictionaries(st.sampled_from(["t", "numero", "vencimiento", "cvv", "codigo", "token"]), text)
    return st.one_of(
        _post("/webhooks/rest/webhook", json_bodies, json_type),
        st.builds(
            lambda s, d: Call("GET", "/webhooks/rest/mensajes", params={"sender": s, "despues": d}),
            st.one_of(text, st.just("web:fuzz")),
            number_text,
        ),
        _post("/api/verificar", st.one_of(json_bodies, uploads), content_types),
        st.builds(lambda c: Call("GET", f"/api/verificar/{c}"), segment),
        st.builds(lambda c: Call("GET", f"/verificar/{c}"), segment),
        st.builds(lambda c: Call("GET", "/verificar", params={"codigo": c}), text),
        st.builds(
            lambda name, data, kind: Call("POST", "/verificar", files={"archivo": (name, data, kind)}),
            st.sampled_from(["foto.png", "documento.pdf", "x"]),
            uploads,
            content_types,
        ),
        st.builds(lambda fields: Call("POST", "/verificar", data=fields), form_fields),
        st.builds(lambda t: Call("GET", f"/mis-datos/{t}"), segment),
        st.builds(lambda t: Call("GET", f"/compartido/{t}"), segment),
        st.builds(
            lambda i, n, e, s: Call("GET", f"/documentos/{i}/{n}", params={"exp": e, "sig": s}),
            segment,
            segment,
            number_text,
            text,
        ),
        st.builds(lambda p, t: Call("GET", f"/pagos/{p}", params={"t": t}), segment, text),
        st.builds(lambda p, t: Call("GET", f"/pagos/{p}/resultado", params={"t": t}), segment, text),
        st.builds(lambda p, fields: Call("POST", f"/pagos/{p}", data=fields), segment, form_fields),
        _post(f"/pagos/{'0' * 16}", st.binary(max_size=6000), st.just("application/x-www-form-urlencoded")),
        st.builds(
            lambda b, s: Call("POST", "/pagos/notificacion", content=b, headers={"X-Chasqui-Firma": s}),
            st.one_of(json_bodies, st.integers(1, 40).map(lambda n: b"x" * (n * 1024))),
            st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=80),
        ),
        _post("/webhooks/telegram", json_bodies, json_type),
        _post("/webhooks/whatsapp", st.binary(max_size=300), st.just("application/x-www-form-urlencoded")),
        _post("/webhooks/whatsapp/estado", st.binary(max_size=300), st.just("application/x-www-form-urlencoded")),
        st.sampled_from([Call("GET", p) for p in ("/", "/privacidad", "/healthz", "/readyz", "/consola/entrar")]),
        st.builds(lambda fields: Call("POST", "/consola/entrar", data=fields), st.dictionaries(text, text, max_size=3)),
    )


def answer_below_500(client: TestClient, call: Call) -> None:
    response = call.send(client)
    assert response.status_code < 500, (call, response.status_code, response.text[:300])


@SHORT
@given(call=public_calls())
def test_public_routes_never_answer_5xx(gateway: TestClient, call: Call) -> None:
    answer_below_500(gateway, call)


@pytest.mark.fuzz
@LONG
@given(call=public_calls())
def test_public_routes_never_answer_5xx_long(gateway: TestClient, call: Call) -> None:
    answer_below_500(gateway, call)


# --- Schemathesis over the OpenAPI description --------------------------------------------------------------


@pytest.fixture(scope="module")
def operations(tmp_path_factory: pytest.TempPathFactory) -> Iterator[st.SearchStrategy[Any]]:
    """Cases for every operation of ``/openapi.json``, valid and invalid; the app runs in-process."""
    schema = schemathesis.openapi.from_asgi("/openapi.json", _app(tmp_path_factory.mktemp("openapi") / "var"))
    found = [result.ok() for result in schema.get_all_operations()]
    yield st.one_of(
        *(
            operation.as_strategy(generation_mode=mode)
            for operation in found
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
        )
    )
    from schemathesis.python import asgi  # the lifespan started by `from_asgi` runs until stopped

    asgi.shutdown_lifespans()


def case_below_500(operations: st.SearchStrategy[Any], data: st.DataObject) -> None:
    case = data.draw(operations)
    response = case.call()
    assert response.status_code < 500, (case.method, case.formatted_path, response.status_code, response.text[:300])


@SCHEMA_SHORT
@given(data=st.data())
def test_openapi_operations_never_answer_5xx(operations: st.SearchStrategy[Any], data: st.DataObject) -> None:
    case_below_500(operations, data)


@pytest.mark.fuzz
@SCHEMA_LONG
@given(data=st.data())
def test_openapi_operations_never_answer_5xx_long(operations: st.SearchStrategy[Any], data: st.DataObject) -> None:
    case_below_500(operations, data)
