"""Repository functions and the issuing service on SQLite and PostgreSQL (the stores: test_store_s3.py)."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.documents.errors import DocumentNotFound
from bot.documents.links import holder_hash
from bot.documents.runtime import build_documents
from bot.documents.service import document_payloads
from bot.documents.settings import DocumentSettings
from bot.documents.signing import Signer
from bot.documents.templates import DocumentKind
from bot.storage import documents as repo
from bot.storage.models_documents import Document, DocumentShareLink
from tests.documents.builders import FIELDS, HOLDER
from tests.documents.conftest import BASE_URL, Clock

NOW = datetime(2026, 11, 27, 15, 0, tzinfo=UTC)


def new_document(document_id: str = "a" * 20, code: str = "ABCDEFGHJKMNPQRS") -> repo.NewDocument:
    return repo.NewDocument(
        id=document_id,
        kind="cedula_digital",
        verification_code=code,
        holder_cedula_hash="f" * 64,
        holder_cedula_masked="17******65",
        holder_name="MARÍA JOSÉ PEÑAFIEL ÁLVAREZ",
        public_fields={"nacionalidad": "Ecuatoriana"},
        issued_at=NOW,
        expires_at=NOW + timedelta(days=3650),
        pdf_filename="cedula_digital.pdf",
        pdf_sha256="1" * 64,
        pdf_size=30000,
        png_filename="cedula_digital.png",
        png_sha256="2" * 64,
        png_size=40000,
        signer_kid="0011223344556677",
        sandbox=True,
        conversation_id="web:prueba",
    )


async def test_add_find_and_revoke(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with sessions.begin() as session:
        await repo.add_document(session=session, document=new_document())
    async with sessions.begin() as session:
        by_code = await repo.find_by_code(session=session, verification_code="ABCDEFGHJKMNPQRS")
        first = await repo.revoke_document(
            session=session, document_id="a" * 20, reason="datos erróneos", actor="agente:ana", at=NOW
        )
        again = await repo.revoke_document(
            session=session, document_id="a" * 20, reason="otro motivo", actor="agente:luis", at=NOW + timedelta(1)
        )
        missing = await repo.revoke_document(session=session, document_id="b" * 20, reason="x", actor="y", at=NOW)
    async with sessions() as session:
        stored = await repo.get_document(session=session, document_id="a" * 20)

    assert by_code is not None and by_code.id == "a" * 20
    assert first is not None and again is not None and missing is None
    assert stored is not None
    assert (stored.revocation_reason, stored.revoked_by, stored.public_fields) == (
        "datos erróneos",
        "agente:ana",
        {"nacionalidad": "Ecuatoriana"},
    )
    assert stored.revoked_at is not None and stored.revoked_at.replace(tzinfo=UTC) == NOW


async def test_documents_of_holder_newest_first(sessions: async_sessionmaker[AsyncSession]) -> None:
    older = new_document("a" * 20, "AAAAAAAAAAAAAAAA")
    newer = dataclasses.replace(
        older, id="b" * 20, verification_code="BBBBBBBBBBBBBBBB", issued_at=NOW + timedelta(days=1)
    )
    async with sessions.begin() as session:
        await repo.add_document(session=session, document=older)
        await repo.add_document(session=session, document=newer)
    async with sessions() as session:
        found = await repo.documents_of_holder(session=session, holder_cedula_hash="f" * 64)

    assert [d.id for d in found] == ["b" * 20, "a" * 20]


async def test_share_links_expire_and_are_cleaned(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with sessions.begin() as session:
        await repo.add_document(session=session, document=new_document())
        await repo.add_share_link(
            session=session, document_id="a" * 20, token_hash="c" * 64, expires_at=NOW + timedelta(minutes=10)
        )
        await repo.add_share_link(
            session=session, document_id="a" * 20, token_hash="d" * 64, expires_at=NOW - timedelta(minutes=1)
        )
    async with sessions.begin() as session:
        removed = await repo.delete_expired_share_links(session=session, now=NOW)
        kept = await repo.find_share_link(session=session, token_hash="c" * 64)
        gone = await repo.find_share_link(session=session, token_hash="d" * 64)

    assert (removed, kept is not None, gone) == (1, True, None)


async def test_issue_stores_no_cedula_in_clear(
    sessions: async_sessionmaker[AsyncSession], doc_settings: DocumentSettings, signer: Signer, clock: Clock
) -> None:
    documents = build_documents(doc_settings, sessions=sessions, signer=signer, clock=clock)

    issued = await documents.issuer.issue(
        DocumentKind.CERTIFICADO_RUC, HOLDER, FIELDS[DocumentKind.CERTIFICADO_RUC], conversation_id="tg:42"
    )

    async with sessions() as session:
        row = (await session.scalars(select(Document))).one()
    values = " ".join(str(getattr(row, column.key)) for column in Document.__table__.columns)
    assert HOLDER.cedula not in values
    assert (row.holder_cedula_masked, row.holder_cedula_hash) == (
        "17******65",
        holder_hash(doc_settings.holder_key.encode(), HOLDER.cedula),
    )
    # RUC embeds the cédula: the template keeps it off the verifier's fields, so it is not stored either.
    assert row.public_fields == {"estado": "Activo"}  # the template's `verificador` list, nothing more
    assert (row.kind, row.conversation_id, row.pdf_size, row.png_size) == (
        "certificado_ruc",
        "tg:42",
        issued.pdf.size,
        issued.png.size,
    )
    stored = documents.store.get(issued.id, issued.pdf.filename)
    assert stored.startswith(b"%PDF-") and len(stored) == issued.pdf.size
    assert (doc_settings.store_dir / issued.id[:2] / issued.id / "certificado_ruc.png").is_file()


async def test_payloads_follow_the_architecture_contract(
    sessions: async_sessionmaker[AsyncSession], doc_settings: DocumentSettings, signer: Signer, clock: Clock
) -> None:
    documents = build_documents(doc_settings, sessions=sessions, signer=signer, clock=clock)
    issued = await documents.issuer.issue(
        DocumentKind.LICENCIA_CONDUCIR, HOLDER, FIELDS[DocumentKind.LICENCIA_CONDUCIR]
    )

    payloads = document_payloads(issued)

    assert [p["document"]["kind"] for p in payloads] == ["pdf", "png"]
    assert [p["document"]["filename"] for p in payloads] == ["licencia_conducir.pdf", "licencia_conducir.png"]
    for payload in payloads:
        document = payload["document"]
        assert set(document) == {"id", "kind", "filename", "url", "verification_code"}
        assert document["id"] == issued.id
        assert document["verification_code"] == issued.verification_code
        assert document["url"].startswith(f"{BASE_URL}/documentos/{issued.id}/{document['filename']}?exp=")


async def test_revoke_and_share_unknown_documents_raise(
    sessions: async_sessionmaker[AsyncSession], doc_settings: DocumentSettings, signer: Signer
) -> None:
    documents = build_documents(doc_settings, sessions=sessions, signer=signer)

    with pytest.raises(DocumentNotFound):
        await documents.issuer.revoke("z" * 20, reason="x", actor="y")
    with pytest.raises(DocumentNotFound):
        await documents.issuer.share("z" * 20)


async def test_share_link_is_stored_hashed(
    sessions: async_sessionmaker[AsyncSession], doc_settings: DocumentSettings, signer: Signer, clock: Clock
) -> None:
    documents = build_documents(doc_settings, sessions=sessions, signer=signer, clock=clock)
    issued = await documents.issuer.issue(DocumentKind.CEDULA_DIGITAL, HOLDER, FIELDS[DocumentKind.CEDULA_DIGITAL])

    link = await documents.issuer.share(issued.id, minutes=5)

    token = link.url.rsplit("/", 1)[-1]
    async with sessions() as session:
        row = (await session.scalars(select(DocumentShareLink))).one()
    assert token not in row.token_hash
    assert (link.expires_at - clock.now) <= timedelta(minutes=5)
    shared = await documents.verifier.verify_share(token)
    assert shared is not None and shared.result.verdict.value == "valido"
    clock.now += timedelta(minutes=6)
    assert await documents.verifier.verify_share(token) is None
