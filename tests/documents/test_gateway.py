"""The documents router in a small app: verification page and API, signed downloads, share links."""

from __future__ import annotations

import dataclasses
import functools
import io
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from bot.documents.runtime import Documents, build_documents
from bot.documents.service import Holder, IssuedDocument
from bot.documents.settings import DocumentSettings
from bot.documents.signing import Signer
from bot.documents.store import MemoryDocumentStore
from bot.documents.templates import DocumentKind
from bot.gateway.documents import create_documentos_router
from bot.storage.db import create_engine, migrate, session_factory
from tests.documents.builders import FIELDS, HOLDER
from tests.documents.conftest import Clock
from tests.documents.test_pdf import flip_byte_in_signed_range
from tests.documents.test_tokens import _resign_payload, jpeg


@dataclasses.dataclass
class Harness:
    client: TestClient
    documents: Documents
    clock: Clock

    def issue(self, kind: DocumentKind = DocumentKind.CEDULA_DIGITAL, holder: Holder = HOLDER) -> IssuedDocument:
        call = functools.partial(self.documents.issuer.issue, kind, holder, FIELDS[kind])
        return self.client.portal.call(call)  # type: ignore[union-attr]

    def run(self, function: Any, *args: Any, **kwargs: Any) -> Any:
        return self.client.portal.call(functools.partial(function, *args, **kwargs))  # type: ignore[union-attr]

    def files(self, issued: IssuedDocument) -> tuple[bytes, bytes]:
        store = self.documents.store
        return store.get(issued.id, issued.pdf.filename), store.get(issued.id, issued.png.filename)


def local(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}" if parts.query else parts.path


@pytest.fixture
def harness(tmp_path: Path, doc_settings: DocumentSettings, signer: Signer, clock: Clock) -> Iterator[Harness]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'gateway.db'}"
    migrate(url)
    settings = dataclasses.replace(doc_settings, max_upload_bytes=400 * 1024)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = create_engine(url)
        app.state.documents = build_documents(
            settings, sessions=session_factory(engine), store=MemoryDocumentStore(), signer=signer, clock=clock
        )
        yield
        await engine.dispose()

    app = FastAPI(lifespan=lifespan)
    app.include_router(create_documentos_router())
    with TestClient(app) as client:
        yield Harness(client=client, documents=app.state.documents, clock=clock)


def test_page_shows_a_valid_document_without_the_full_cedula(harness: Harness) -> None:
    issued = harness.issue()

    response = harness.client.get(f"/verificar/{issued.verification_code}")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "default-src 'none'" in response.headers["content-security-policy"]
    body = response.text
    for expected in ("Documento válido", HOLDER.name, "17******65", "Cédula de identidad digital"):
        assert expected in body
    assert HOLDER.cedula not in body
    assert "Ecuatoriana" not in body  # a cédula's verifier sees no personal field (`verificador: []`)
    assert "DOCUMENTO DE PRUEBA — SIN VALIDEZ LEGAL" in body
    assert "http://" not in body and "https://" not in body  # no external assets


def test_page_escapes_everything(harness: Harness) -> None:
    issued = harness.issue(holder=Holder(cedula=HOLDER.cedula, name='<script>alert("x")</script> & Cía'))

    body = harness.client.get(f"/verificar/{issued.verification_code}").text

    assert "<script>" not in body
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; Cía" in body


def test_page_for_unknown_revoked_and_expired(harness: Harness) -> None:
    revoked = harness.issue()
    harness.run(harness.documents.issuer.revoke, revoked.id, reason="Datos <erróneos>", actor="agente:ana")
    expiring = harness.issue(DocumentKind.CERTIFICADO_RUC)
    harness.clock.now += timedelta(days=31)

    unknown = harness.client.get("/verificar/ZZZZ-ZZZZ-ZZZZ-ZZZ0")
    revoked_page = harness.client.get(f"/verificar/{revoked.verification_code}")
    expired_page = harness.client.get(f"/verificar/{expiring.verification_code}")

    assert (unknown.status_code, "Documento desconocido" in unknown.text) == (404, True)
    assert (revoked_page.status_code, "Documento revocado" in revoked_page.text) == (200, True)
    assert "Datos &lt;erróneos&gt;" in revoked_page.text
    assert (expired_page.status_code, "Documento vencido" in expired_page.text) == (200, True)


def test_json_api_by_code(harness: Harness) -> None:
    issued = harness.issue(DocumentKind.MATRICULA_VEHICULAR)

    body = harness.client.get(f"/api/verificar/{issued.verification_code.lower()}").json()

    assert (body["verdict"], body["title"], body["reason"], body["via"]) == (
        "valido",
        "Documento válido",
        "vigente",
        "codigo",
    )
    document = body["document"]
    assert (document["id"], document["kind"], document["holder_cedula"]) == (
        issued.id,
        "matricula_vehicular",
        "17******65",
    )
    assert document["fields"][0] == {"label": "Placa", "value": "PBX-1234"}
    assert "chasis" not in str(document).lower()  # not a public field


def test_json_api_for_uploads_tokens_and_codes(harness: Harness) -> None:
    issued = harness.issue()
    pdf, png = harness.files(issued)
    post = harness.client.post

    answers = [
        post("/api/verificar", files={"archivo": ("doc.pdf", pdf, "application/pdf")}),
        post("/api/verificar", files={"archivo": ("foto.jpg", jpeg(png), "image/jpeg")}),
        post("/api/verificar", files={"archivo": ("doc.png", png, "image/png")}),
        post("/api/verificar", content=pdf, headers={"content-type": "application/pdf"}),
        post("/api/verificar", json={"token": issued.token}),
        post("/api/verificar", json={"codigo": issued.verification_code}),
        post("/api/verificar", data={"codigo": issued.verification_code}),
        post("/api/verificar", files={"archivo": ("x.pdf", flip_byte_in_signed_range(pdf), "application/pdf")}),
        post("/api/verificar", json={"token": _resign_payload(issued.token, {6: 0})}),
    ]

    assert [a.status_code for a in answers] == [200] * 9
    assert [(a.json()["verdict"], a.json()["via"]) for a in answers] == [
        ("valido", "pdf"),
        ("valido", "imagen"),
        ("valido", "imagen"),
        ("valido", "pdf"),
        ("valido", "token"),
        ("valido", "codigo"),
        ("valido", "codigo"),
        ("alterado", "pdf"),
        ("alterado", "token"),
    ]


def test_json_api_rejects_what_it_cannot_read(harness: Harness) -> None:
    post = harness.client.post

    answers = {
        "vacio": post("/api/verificar", json={}),
        "formato_desconocido": post("/api/verificar", content=b"hola", headers={"content-type": "text/plain"}),
        "demasiado_grande": post(
            "/api/verificar", files={"archivo": ("x.png", b"\x89PNG" + b"0" * 500 * 1024, "image/png")}
        ),
        "sin_qr": post("/api/verificar", files={"archivo": ("blanco.png", _blank_png(), "image/png")}),
    }

    for code, answer in answers.items():
        assert (answer.status_code, answer.json()["error"]) == (422, code)
        assert answer.json()["message"]


def _blank_png() -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (120, 120), (255, 255, 255)).save(out, format="PNG")
    return out.getvalue()


def test_signed_downloads(harness: Harness) -> None:
    issued = harness.issue(DocumentKind.CERTIFICADO_VOTACION)
    pdf, png = harness.files(issued)

    pdf_answer = harness.client.get(local(issued.pdf.url))
    png_answer = harness.client.get(local(issued.png.url))

    assert (pdf_answer.status_code, pdf_answer.content) == (200, pdf)
    assert pdf_answer.headers["content-type"] == "application/pdf"
    assert pdf_answer.headers["content-disposition"] == 'attachment; filename="certificado_votacion.pdf"'
    assert (png_answer.status_code, png_answer.content) == (200, png)
    assert png_answer.headers["content-type"] == "image/png"
    assert png_answer.headers["content-disposition"] == 'inline; filename="certificado_votacion.png"'


def test_download_links_refuse_forgery_and_expire(harness: Harness) -> None:
    issued = harness.issue()
    path = local(issued.pdf.url)
    forged_name = path.replace("cedula_digital.pdf", "cedula_digital.png")
    forged_sig = path[:-3] + ("AAA" if not path.endswith("AAA") else "BBB")
    forged_exp = path.replace("exp=", "exp=9")

    statuses = [harness.client.get(p).status_code for p in (forged_name, forged_sig, forged_exp)]
    statuses.append(harness.client.get(f"/documentos/{issued.id}/cedula_digital.pdf").status_code)
    harness.clock.now += timedelta(minutes=harness.documents.settings.download_minutes + 1)
    statuses.append(harness.client.get(path).status_code)

    assert statuses == [403, 403, 403, 403, 410]


def test_revoked_documents_are_not_downloadable(harness: Harness) -> None:
    issued = harness.issue()
    harness.run(harness.documents.issuer.revoke, issued.id, reason="robo", actor="ciudadano")

    assert harness.client.get(local(issued.pdf.url)).status_code == 410


def test_share_link_shows_the_document_for_a_few_minutes(harness: Harness) -> None:
    issued = harness.issue(DocumentKind.LICENCIA_CONDUCIR)
    link = harness.run(harness.documents.issuer.share, issued.id)

    page = harness.client.get(local(link.url))
    image_path = page.text.split('<img class="documento" src="', 1)[1].split('"', 1)[0].replace("&amp;", "&")
    image = harness.client.get(image_path)
    harness.clock.now += timedelta(minutes=harness.documents.settings.share_minutes + 1)
    later = harness.client.get(local(link.url))

    assert page.status_code == 200
    assert "Documento compartido" in page.text and HOLDER.name in page.text and "Documento válido" in page.text
    assert (image.status_code, image.headers["content-type"]) == (200, "image/png")
    assert (later.status_code, "ya no está disponible" in later.text) == (404, True)
    assert harness.client.get("/compartido/no-existe-este-enlace").status_code == 404


def test_form_page_and_its_answer(harness: Harness) -> None:
    issued = harness.issue()
    pdf, _ = harness.files(issued)

    form = harness.client.get("/verificar")
    redirect = harness.client.get("/verificar", params={"codigo": issued.verification_code}, follow_redirects=False)
    answer = harness.client.post("/verificar", files={"archivo": ("doc.pdf", pdf, "application/pdf")})
    empty = harness.client.post("/verificar", data={"codigo": ""})

    assert form.status_code == 200 and 'enctype="multipart/form-data"' in form.text
    assert (redirect.status_code, redirect.headers["location"]) == (303, f"/verificar/{issued.verification_code}")
    assert answer.status_code == 200 and "Documento válido" in answer.text
    assert empty.status_code == 422 and "No se recibió" in empty.text


def test_json_api_for_unknown_revoked_and_expired(harness: Harness) -> None:
    revoked = harness.issue()
    harness.run(harness.documents.issuer.revoke, revoked.id, reason="Datos erróneos", actor="agente:ana")
    expiring = harness.issue(DocumentKind.CERTIFICADO_RUC)
    _, expiring_png = harness.files(expiring)
    harness.clock.now += timedelta(days=31)

    unknown = harness.client.get("/api/verificar/ZZZZ-ZZZZ-ZZZZ-ZZZ0").json()
    revoked_body = harness.client.get(f"/api/verificar/{revoked.verification_code}").json()
    expired_body = harness.client.post(
        "/api/verificar", files={"archivo": ("foto.jpg", jpeg(expiring_png), "image/jpeg")}
    ).json()

    assert (unknown["verdict"], unknown["reason"], unknown["document"]) == ("desconocido", "no_registrado", None)
    assert (revoked_body["verdict"], revoked_body["document"]["revocation_reason"]) == ("revocado", "Datos erróneos")
    assert (expired_body["verdict"], expired_body["via"], expired_body["title"]) == (
        "vencido",
        "imagen",
        "Documento vencido",
    )


def test_every_unreadable_reason_is_worded(harness: Harness) -> None:
    errores = harness.documents.plantillas.verification["errores"]
    codes = {"vacio", "formato_desconocido", "sin_qr", "sin_lector_qr", "demasiado_grande", "sin_longitud"}

    assert codes <= set(errores)
    assert set(harness.documents.plantillas.verification["motivos"]) >= {
        "firma_valida",
        "firma_invalida",
        "firma_no_confiable",
        "firma_parcial",
        "archivo_distinto",
        "sin_firma",
        "token_invalido",
        "token_ilegible",
        "token_distinto",
        "clave_desconocida",
        "codigo_invalido",
        "no_registrado",
        "revocado",
        "vencido",
        "vigente",
    }
