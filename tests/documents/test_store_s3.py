"""Document stores behind one protocol (filesystem, memory, S3-compatible object storage over real HTTP), and
everything that reads or deletes documents on object storage: downloads, share links, resends, copies of data,
the right to erasure, and a store that is down or misconfigured."""

from __future__ import annotations

import dataclasses
import functools
import json
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from rasa_sdk.executor import CollectingDispatcher

from bot.actions.privacy import ActionExportarMisDatos
from bot.actions.runtime import use_services
from bot.channels.base import DeliveryError
from bot.documents.errors import ConfigurationError, DocumentNotFound, StoreUnavailable
from bot.documents.object_store import S3Bucket, S3DocumentStore
from bot.documents.runtime import Documents, build_documents, open_document_store
from bot.documents.service import IssuedDocument
from bot.documents.settings import S3Location, document_settings_from
from bot.documents.signing import Signer
from bot.documents.store import DocumentStore, FilesystemDocumentStore, MemoryDocumentStore
from bot.documents.templates import DocumentKind
from bot.gateway.channel_host import DocumentFiles
from bot.gateway.documents import create_documentos_router
from bot.privacy.exports import FilesystemExportStore, S3ExportStore, build_export_store
from bot.privacy.rights import PrivacyService, Retention, build_privacy
from bot.settings import Settings
from bot.storage.db import create_engine, migrate, session_factory
from tests.actions.builders import tracker
from tests.actions.conftest import World, keys_dir, world  # noqa: F401 - fixtures
from tests.documents.builders import FIELDS, HOLDER
from tests.documents.conftest import Clock, make_settings
from tests.privacy.test_derechos import CEDULA, _citizen_with_history
from tests.s3_support import S3Server, aws_environment, closed_port_url, s3_location, s3_server  # noqa: F401

DOCUMENT_ID = "a" * 20
ODD_NAMES = ["../x.pdf", "a/b.pdf", "x.exe", ".pdf", "X.PDF"]


def s3_store(location: S3Location, tmp_path: Path) -> DocumentStore:
    """The store the product opens for ``DOCUMENT_STORE=s3`` (with its start-up check)."""
    return open_document_store(make_settings(tmp_path / "var", tmp_path, object_store=location))


@pytest.fixture(params=["filesystem", "memory", "s3"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> DocumentStore:
    if request.param == "filesystem":
        return FilesystemDocumentStore(tmp_path / "documentos")
    if request.param == "memory":
        return MemoryDocumentStore()
    return s3_store(request.getfixturevalue("s3_location"), tmp_path)


# --- one contract, every store ---


def test_round_trip_exists_and_delete(store: DocumentStore) -> None:
    store.put(DOCUMENT_ID, "cedula_digital.pdf", b"%PDF-1.7 firmado")
    store.put(DOCUMENT_ID, "cedula_digital.png", b"\x89PNG imagen")

    assert store.get(DOCUMENT_ID, "cedula_digital.pdf") == b"%PDF-1.7 firmado"
    assert store.exists(DOCUMENT_ID, "cedula_digital.png")
    store.delete(DOCUMENT_ID, "cedula_digital.pdf")
    assert not store.exists(DOCUMENT_ID, "cedula_digital.pdf")
    assert store.get(DOCUMENT_ID, "cedula_digital.png") == b"\x89PNG imagen"  # its sibling stays


def test_a_missing_file(store: DocumentStore) -> None:
    store.put(DOCUMENT_ID, "cedula_digital.pdf", b"%PDF-1.7")

    assert not store.exists(DOCUMENT_ID, "cedula_digital.png")
    assert not store.exists("b" * 20, "cedula_digital.pdf")
    with pytest.raises(DocumentNotFound):
        store.get(DOCUMENT_ID, "cedula_digital.png")
    with pytest.raises(DocumentNotFound):
        store.get("../../etc", "passwd.pdf")
    store.delete("b" * 20, "cedula_digital.pdf")  # deleting what is not there is fine (erasure may repeat)


@pytest.mark.parametrize("name", ODD_NAMES)
def test_refuses_odd_names(store: DocumentStore, name: str) -> None:
    with pytest.raises(DocumentNotFound):
        store.put(DOCUMENT_ID, name, b"x")
    with pytest.raises(DocumentNotFound):
        store.get(DOCUMENT_ID, name)


# --- object storage ---


def test_objects_keep_the_filesystem_layout_under_the_prefix(
    s3_location: S3Location,  # noqa: F811
    s3_server: S3Server,  # noqa: F811
    tmp_path: Path,
) -> None:
    store = s3_store(s3_location, tmp_path)
    store.put(DOCUMENT_ID, "licencia_conducir.pdf", b"%PDF-1.7")
    store.put(DOCUMENT_ID, "licencia_conducir.png", b"\x89PNG")

    client = s3_server.client()
    listed = client.list_objects_v2(Bucket=s3_location.bucket)["Contents"]
    head = client.head_object(
        Bucket=s3_location.bucket, Key=f"chasqui/documentos/aa/{DOCUMENT_ID}/licencia_conducir.pdf"
    )

    assert sorted(item["Key"] for item in listed) == [
        f"chasqui/documentos/aa/{DOCUMENT_ID}/licencia_conducir.pdf",
        f"chasqui/documentos/aa/{DOCUMENT_ID}/licencia_conducir.png",
    ]
    assert head["ContentType"] == "application/pdf"


def test_settings_choose_the_store(s3_location: S3Location, tmp_path: Path) -> None:  # noqa: F811
    base: dict[str, Any] = {"var_dir": tmp_path, "public_base_url": "https://chasqui.prueba.ec"}
    on_disk = Settings(**base)
    on_s3 = Settings(
        **base,
        document_store="s3",
        s3_bucket=s3_location.bucket,
        s3_endpoint_url=s3_location.endpoint_url,
        s3_prefix="/chasqui/",
    )

    chosen = open_document_store(document_settings_from(on_s3, environ={}))

    assert isinstance(open_document_store(document_settings_from(on_disk, environ={})), FilesystemDocumentStore)
    assert isinstance(chosen, S3DocumentStore)
    assert chosen.bucket.location == dataclasses.replace(s3_location, max_attempts=3)
    assert isinstance(build_export_store(on_disk), FilesystemExportStore)
    assert isinstance(build_export_store(on_s3), S3ExportStore)
    with pytest.raises(ConfigurationError, match="S3_BUCKET"):
        document_settings_from(Settings(**base, document_store="s3"), environ={})


def test_copies_of_data_expire_and_are_purged(s3_location: S3Location, s3_server: S3Server) -> None:  # noqa: F811
    clock = Clock()
    copies = S3ExportStore(S3Bucket(s3_location), clock=clock)
    first = copies.put({"nombre": "Peñafiel", "mensajes": ["¿Cuándo?"]})
    second = copies.put({"nombre": "otra"})

    assert json.loads(copies.get(first) or b"{}") == {"nombre": "Peñafiel", "mensajes": ["¿Cuándo?"]}
    assert copies.get("x" * 32) is None and copies.get("../../documentos") is None
    clock.now += timedelta(minutes=29)
    assert copies.purge() == 0 and copies.get(second) is not None  # within their 30 minutes
    clock.now += timedelta(minutes=2)
    assert copies.get(first) is None  # expired: removed when asked for
    assert copies.purge() == 1  # the second, which nobody asked for
    assert copies.get(second) is None
    assert s3_server.client().list_objects_v2(Bucket=s3_location.bucket).get("Contents", []) == []


# --- downloads, share links and resends through the gateway's routes ---


@dataclasses.dataclass
class Harness:
    client: TestClient
    documents: Documents
    clock: Clock

    def run(self, function: Any, *args: Any, **kwargs: Any) -> Any:
        return self.client.portal.call(functools.partial(function, *args, **kwargs))  # type: ignore[union-attr]

    def issue(self, kind: DocumentKind) -> IssuedDocument:
        issued: IssuedDocument = self.run(self.documents.issuer.issue, kind, HOLDER, FIELDS[kind])
        return issued


def local(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}" if parts.query else parts.path


@contextmanager
def gateway(location: S3Location, tmp_path: Path, signer: Signer) -> Iterator[Harness]:
    """The documents routes in a small app whose documents are built from settings naming ``location``."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'gateway.db'}"
    migrate(url)
    settings = make_settings(tmp_path / "var", tmp_path, object_store=location)
    clock = Clock()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = create_engine(url)
        app.state.documents = build_documents(settings, sessions=session_factory(engine), signer=signer, clock=clock)
        yield
        await engine.dispose()

    app = FastAPI(lifespan=lifespan)
    app.include_router(create_documentos_router())
    with TestClient(app) as client:
        yield Harness(client=client, documents=app.state.documents, clock=clock)


def test_downloads_share_links_and_resends_read_object_storage(
    s3_location: S3Location,  # noqa: F811
    s3_server: S3Server,  # noqa: F811
    tmp_path: Path,
    signer: Signer,
) -> None:
    with gateway(s3_location, tmp_path, signer) as harness:
        assert isinstance(harness.documents.store, S3DocumentStore)
        issued = harness.issue(DocumentKind.LICENCIA_CONDUCIR)
        stored_pdf = (
            s3_server.client()
            .get_object(
                Bucket=s3_location.bucket, Key=f"chasqui/documentos/{issued.id[:2]}/{issued.id}/{issued.pdf.filename}"
            )["Body"]
            .read()
        )
        pdf = harness.client.get(local(issued.pdf.url))
        [resent_pdf, resent_png] = harness.run(harness.documents.issuer.payloads, issued.id)
        again = harness.client.get(local(resent_png["document"]["url"]))
        link = harness.run(harness.documents.issuer.share, issued.id)
        page = harness.client.get(local(link.url))
        image_path = page.text.split('<img class="documento" src="', 1)[1].split('"', 1)[0].replace("&amp;", "&")
        shared_image = harness.client.get(image_path)

    assert (pdf.status_code, pdf.headers["content-type"]) == (200, "application/pdf")
    assert pdf.content == stored_pdf and stored_pdf.startswith(b"%PDF")
    assert resent_pdf["document"]["filename"] == issued.pdf.filename
    assert (again.status_code, again.headers["content-type"]) == (200, "image/png")
    assert (page.status_code, shared_image.status_code) == (200, 200)
    assert shared_image.content == again.content


# --- a store that is down or misconfigured ---


def test_a_store_that_goes_down_raises_a_clear_error(aws_environment: None, tmp_path: Path) -> None:  # noqa: F811
    server = S3Server()
    try:
        location = S3Location(bucket=server.new_bucket(), endpoint_url=server.endpoint_url, max_attempts=1)
        store = s3_store(location, tmp_path)
        store.put(DOCUMENT_ID, "cedula_digital.pdf", b"%PDF-1.7")
    finally:
        server.stop()

    for call in (
        functools.partial(store.get, DOCUMENT_ID, "cedula_digital.pdf"),
        functools.partial(store.put, DOCUMENT_ID, "cedula_digital.png", b"x"),
        functools.partial(store.exists, DOCUMENT_ID, "cedula_digital.pdf"),
        functools.partial(store.delete, DOCUMENT_ID, "cedula_digital.pdf"),
    ):
        with pytest.raises(StoreUnavailable) as caught:
            call()
        message = str(caught.value)
        assert f"s3://{location.bucket}/ at {server.endpoint_url}" in message and "unreachable" in message
        assert DOCUMENT_ID not in message and caught.value.__cause__ is None  # no key in logs, even in a chain


def test_start_up_refuses_an_unreachable_store_or_a_missing_bucket(s3_location: S3Location, tmp_path: Path) -> None:  # noqa: F811
    down = dataclasses.replace(s3_location, endpoint_url=closed_port_url(), max_attempts=1)
    missing = dataclasses.replace(s3_location, bucket="no-existe-este-balde")

    with pytest.raises(StoreUnavailable, match="cannot check the bucket: unreachable"):
        s3_store(down, tmp_path)
    with pytest.raises(StoreUnavailable, match="the bucket does not exist"):
        s3_store(missing, tmp_path)
    with pytest.raises(StoreUnavailable, match="unreachable"):
        S3ExportStore(S3Bucket(down)).put({"a": 1})


def test_a_download_or_a_telegram_upload_while_the_store_is_down(
    aws_environment: None,  # noqa: F811
    tmp_path: Path,
    signer: Signer,
) -> None:
    server = S3Server()
    try:
        location = S3Location(bucket=server.new_bucket(), endpoint_url=server.endpoint_url, max_attempts=1)
        with gateway(location, tmp_path, signer) as harness:
            issued = harness.issue(DocumentKind.CEDULA_DIGITAL)
            before = harness.client.get(local(issued.png.url))
            server.stop()
            during = harness.client.get(local(issued.png.url))
            files = DocumentFiles(harness.documents)  # what Telegram's adapter uploads from
            with pytest.raises(DeliveryError) as down:
                harness.run(files.content, {"id": issued.id, "filename": issued.png.filename})
            with pytest.raises(DeliveryError) as erased:
                harness.run(files.content, {"id": "b" * 20, "filename": issued.png.filename})
    finally:
        server.stop()

    assert before.status_code == 200
    assert (during.status_code, during.headers["retry-after"]) == (503, "30")
    assert not down.value.permanent  # the outbox tries again later
    assert erased.value.permanent  # a document erased since its message was queued is never sent


# --- the right to erasure and the copy of data, with the whole action server on object storage ---


@pytest.fixture
def world_on_s3(world: World, s3_location: S3Location) -> Iterator[World]:  # noqa: F811
    """The action tests' world with its documents and copies in the bucket, built from settings as a process is."""
    s = world.services
    settings = s.settings.model_copy(
        update={
            "document_store": "s3",
            "s3_bucket": s3_location.bucket,
            "s3_endpoint_url": s3_location.endpoint_url,
            "s3_prefix": "chasqui",
        }
    )
    documents = build_documents(
        document_settings_from(settings), sessions=s.documents.issuer.sessions, signer=s.documents.signer
    )
    services = dataclasses.replace(
        s,
        settings=settings,
        documents=documents,
        privacidad=build_privacy(settings, s.documents.issuer.sessions, documents),
        exportes=build_export_store(settings),
    )
    use_services(services)
    yield dataclasses.replace(world, services=services)


async def test_erasure_deletes_the_citizens_objects_and_no_one_elses(
    world_on_s3: World,
    s3_location: S3Location,  # noqa: F811
    s3_server: S3Server,  # noqa: F811
) -> None:
    s = world_on_s3.services
    await _citizen_with_history(world_on_s3, "web:ana")
    other = await s.documents.issuer.issue(DocumentKind.CEDULA_DIGITAL, HOLDER, FIELDS[DocumentKind.CEDULA_DIGITAL])
    copy = CollectingDispatcher()
    await ActionExportarMisDatos().run(copy, tracker(sender_id="web:ana"), {})
    token = copy.messages[0]["text"].rsplit("/mis-datos/", 1)[1].split()[0]
    [summary] = await s.documents.issuer.of_holder(CEDULA)
    [pdf, png] = [p["document"]["filename"] for p in await s.documents.issuer.payloads(summary.id)]
    client = s3_server.client()

    def keys() -> set[str]:
        return {item["Key"] for item in client.list_objects_v2(Bucket=s3_location.bucket).get("Contents", [])}

    theirs = {f"chasqui/documentos/{summary.id[:2]}/{summary.id}/{name}" for name in (pdf, png)}
    before = keys()
    copy_data = json.loads(s.exportes.get(token) or b"{}")
    counts = await s.privacidad.borrar("web:ana")
    after = keys()

    assert theirs <= before and f"chasqui/exportes/{token}.json" in before
    assert copy_data["documentos"][0]["tipo"] == "certificado_antecedentes_penales"
    assert counts["documentos_anonimizados"] == 1
    assert not theirs & after  # the citizen's files are gone from the bucket
    assert {k for k in after if other.id in k} == {
        f"chasqui/documentos/{other.id[:2]}/{other.id}/{name}" for name in (other.pdf.filename, other.png.filename)
    }
    assert s.documents.store.exists(other.id, other.pdf.filename)
    with pytest.raises(DocumentNotFound):
        s.documents.store.get(summary.id, pdf)


async def test_erasure_with_the_store_down_changes_nothing_and_can_be_asked_again(
    world_on_s3: World,
    s3_location: S3Location,  # noqa: F811
) -> None:
    s = world_on_s3.services
    await _citizen_with_history(world_on_s3, "web:ana")
    [summary] = await s.documents.issuer.of_holder(CEDULA)
    down = dataclasses.replace(s3_location, endpoint_url=closed_port_url(), max_attempts=1)
    privacy_while_down = PrivacyService(
        sessions=s.documents.issuer.sessions,
        rasa_engine=None,
        store=S3DocumentStore(S3Bucket(down)),
        protector=s.identidad._protector,
        holder_key=s.documents.issuer.holder_key,
        retention=Retention(anonymous_days=30, identified_days=365),
    )

    with pytest.raises(StoreUnavailable):
        await privacy_while_down.borrar("web:ana")
    kept = (await s.identidad.current("web:ana"), await s.documents.issuer.of_holder(CEDULA))
    counts = await s.privacidad.borrar("web:ana")  # the store is back: asked again, it completes

    assert kept[0] is not None and [d.id for d in kept[1]] == [summary.id]  # nothing anonymised, nothing lost
    assert counts["documentos_anonimizados"] == 1
    assert not s.documents.store.exists(summary.id, f"{summary.kind}.pdf")
    assert not s.documents.store.exists(summary.id, f"{summary.kind}.png")
