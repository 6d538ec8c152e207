"""A turn run again (a Rasa replica died after the action and before saving the turn) gets back the document it
issued, with working links and a token that verifies; another turn, or work outside a turn, issues a new one."""

from __future__ import annotations

from sqlalchemy import func, select

from bot.documents.runtime import Documents
from bot.documents.service import ISSUING_TURN
from bot.documents.templates import DocumentKind
from bot.storage.models_documents import Document
from tests.documents.builders import FIELDS, HOLDER

KIND = DocumentKind.CEDULA_DIGITAL


async def count(documents: Documents) -> int:
    async with documents.issuer.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(Document)) or 0)


async def test_the_same_turn_gets_its_document_back_and_another_turn_a_new_one(documents: Documents) -> None:
    token = ISSUING_TURN.set("web:ana:m-1")
    try:
        first = await documents.issuer.issue(KIND, HOLDER, FIELDS[KIND], conversation_id="web:ana")
        again = await documents.issuer.issue(KIND, HOLDER, FIELDS[KIND], conversation_id="web:ana")
    finally:
        ISSUING_TURN.reset(token)
    assert (again.id, again.verification_code) == (first.id, first.verification_code)
    assert again.pdf.sha256 == first.pdf.sha256
    assert again.pdf.url and again.png.url
    verdict = await documents.verifier.verify_text(again.token)  # the fresh token verifies
    assert verdict.is_valid, verdict
    assert await count(documents) == 1

    token = ISSUING_TURN.set("web:ana:m-2")
    try:
        other = await documents.issuer.issue(KIND, HOLDER, FIELDS[KIND], conversation_id="web:ana")
    finally:
        ISSUING_TURN.reset(token)
    outside = await documents.issuer.issue(KIND, HOLDER, FIELDS[KIND])  # the worker: no turn
    assert len({first.id, other.id, outside.id}) == 3
    assert await count(documents) == 3
