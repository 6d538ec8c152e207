"""The NLU review list: a message not understood goes onto it in one click from the analytics page (masked text
only, who and when, audited), a supervisor files it under an intent, `chasqui revision-nlu exportar` writes it."""

from __future__ import annotations

import io
import re
from datetime import UTC, date, datetime
from html import unescape
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.analytics.nlu_review import export_yaml, known_intents
from bot.cli.nlu_review import main_revision_nlu
from bot.privacy.redaction import find_identifiers
from bot.storage import nlu_review
from bot.storage.models_console import AuditEntry, NluReviewItem, StaffMember
from bot.storage.nlu_review import ReviewRow
from tests.analytics.test_console import PERIOD, fill
from tests.console.conftest import Gateway, Staff, query

PROJECT = Path(__file__).resolve().parents[2]
NAME = "me llamo [nombre] y necesito ayuda"
CEDULA = "mi cédula es [cédula] y no me sale"
INTENT = "solicitar_certificado_nacimiento"


def add_forms(page: str) -> dict[str, dict[str, str]]:
    """The analytics page's «Agregar a revisión» forms, by the message each one adds."""
    forms: dict[str, dict[str, str]] = {}
    for body in re.findall(r'<form method="post" action="/consola/analitica/revision"[^>]*>(.*?)</form>', page, re.S):
        fields = {k: unescape(v) for k, v in re.findall(r'name="([a-z]+)" value="([^"]*)"', body)}
        forms[fields["mensaje"]] = fields
    return forms


def click_add(staff: Staff, page: str, message: str) -> str:
    """Submit the form beside ``message`` as the browser would; the notice code of the redirect."""
    response = staff.client.post("/consola/analitica/revision", data=add_forms(page)[message], follow_redirects=False)
    assert response.status_code == 303, response.text
    found = re.search(r"aviso=([a-z_]+)", response.headers["location"])
    assert found is not None
    return found.group(1)


def stored(gateway: Gateway) -> list[NluReviewItem]:
    async def _read(session: Any) -> list[NluReviewItem]:
        return list((await session.scalars(select(NluReviewItem).order_by(NluReviewItem.id))).all())

    return query(gateway.settings, _read)  # type: ignore[no-any-return]


def audited(gateway: Gateway) -> list[tuple[str, str, dict[str, Any] | None]]:
    async def _read(session: Any) -> list[tuple[str, str, dict[str, Any] | None]]:
        entries = (await session.scalars(select(AuditEntry).order_by(AuditEntry.id))).all()
        return [(e.usuario, e.action, e.detail) for e in entries if "revision_nlu" in e.action]

    return query(gateway.settings, _read)  # type: ignore[no-any-return]


def test_one_click_puts_the_masked_message_on_the_review_list(gateway: Gateway) -> None:
    fill(gateway)
    supervisor = gateway.staff("sofia", rol="supervisor", equipos=())
    page = supervisor.client.get("/consola/analitica", params=PERIOD).text
    forms = add_forms(page)
    assert NAME in forms and CEDULA in forms and len(forms) == 5  # every frequent message has its button
    assert all(f["desde"] == "2026-11-01" and f["hasta"] == "2026-11-30" and f["csrf"] for f in forms.values())

    assert click_add(supervisor, page, NAME) == "revision_agregada"
    assert click_add(supervisor, page, NAME) == "revision_repetida"
    [item] = stored(gateway)
    assert (item.text, item.times_seen, item.intent) == (NAME, 1, None)
    assert item.added_at.tzinfo is not None
    assert audited(gateway) == [("sofia", "agregar_revision_nlu", {"id": item.id, "veces": 1})]

    after = supervisor.client.get("/consola/analitica", params=PERIOD).text
    assert NAME not in add_forms(after) and CEDULA in add_forms(after)
    assert "En la lista" in after and "Mensaje agregado a la lista de revisión." not in after

    listed = supervisor.client.get("/consola/revision-nlu")
    assert listed.status_code == 200
    assert NAME in unescape(listed.text) and ">sofia<" in listed.text
    assert "Pilacuán" not in listed.text


def test_only_a_message_of_the_report_is_stored_never_the_posted_words(gateway: Gateway) -> None:
    fill(gateway)
    supervisor = gateway.staff("sofia", rol="supervisor", equipos=())
    page = supervisor.client.get("/consola/analitica", params=PERIOD).text
    forged = {**add_forms(page)[NAME], "mensaje": "me llamo Eduvijes Pilacuán y necesito ayuda"}
    response = supervisor.client.post("/consola/analitica/revision", data=forged, follow_redirects=False)
    assert "aviso=revision_no_encontrado" in response.headers["location"]
    outside = {**add_forms(page)[NAME], "desde": "2026-10-01", "hasta": "2026-10-31"}  # not in that period
    response = supervisor.client.post("/consola/analitica/revision", data=outside, follow_redirects=False)
    assert "aviso=revision_no_encontrado" in response.headers["location"]
    without_csrf = {k: v for k, v in add_forms(page)[NAME].items() if k != "csrf"}
    assert supervisor.client.post("/consola/analitica/revision", data=without_csrf).status_code == 403
    agent = gateway.staff("ana")
    assert agent.post("/consola/analitica/revision", add_forms(page)[NAME]).status_code == 403
    assert agent.client.get("/consola/revision-nlu").status_code == 403
    assert stored(gateway) == [] and audited(gateway) == []


def test_a_reviewer_files_it_under_an_intent_and_the_export_proposes_it(gateway: Gateway, tmp_path: Path) -> None:
    fill(gateway)
    supervisor = gateway.staff("sofia", rol="supervisor", equipos=())
    page = supervisor.client.get("/consola/analitica", params=PERIOD).text
    for message in ("quiero la partida de mi abuelito", CEDULA, "como saco la visa"):
        assert click_add(supervisor, page, message) == "revision_agregada"
    partida, cedula, visa = stored(gateway)
    admin = gateway.staff("admin", rol="admin", equipos=())
    response = admin.post(f"/consola/revision-nlu/{partida.id}/intencion", {"intencion": "no_existe"})
    assert "aviso=intencion_desconocida" in response.headers["location"]
    response = admin.post(f"/consola/revision-nlu/{partida.id}/intencion", {"intencion": INTENT})
    assert "aviso=revision_clasificada" in response.headers["location"]
    response = admin.post(f"/consola/revision-nlu/{visa.id}/quitar")
    assert "aviso=revision_quitada" in response.headers["location"]
    assert "aviso=revision_no_encontrado" in admin.post(f"/consola/revision-nlu/{visa.id}/quitar").headers["location"]
    assert [(i.text, i.intent) for i in stored(gateway)] == [(partida.text, INTENT), (CEDULA, None)]
    assert [(u, a, d) for u, a, d in audited(gateway) if u == "admin"] == [
        ("admin", "clasificar_revision_nlu", {"id": partida.id, "intencion": INTENT}),
        ("admin", "quitar_revision_nlu", {"id": visa.id}),
    ]
    assert cedula.intent is None

    target = tmp_path / "revision.yml"
    out = io.StringIO()
    assert main_revision_nlu(gateway.settings, "exportar", salida=target, out=out) == 0
    assert "2 mensajes escritos" in out.getvalue() and "1 con intención, 1 sin clasificar" in out.getvalue()
    written = target.read_text(encoding="utf-8")
    parsed = yaml.safe_load(written)
    assert parsed["nlu"] == [{"intent": INTENT, "examples": "- quiero la partida de mi abuelito\n"}]
    assert "#   - mi cédula es [cédula] y no me sale" in written and "# sin_clasificar" in written
    assert find_identifiers(written) == []


def test_the_export_is_rasa_nlu_yaml_grouped_by_intent() -> None:
    at = datetime(2026, 12, 1, tzinfo=UTC)
    rows = [
        ReviewRow(1, "quiero la partida de mi abuelito", 6, INTENT, "sofia", at),
        ReviewRow(2, "como saco la visa", 3, None, "sofia", at),
        ReviewRow(3, "la partida de mi taita", 2, INTENT, "admin", at),
        ReviewRow(4, "dónde pago: la multa", 1, "consultar_multas", "admin", at),
    ]
    written = export_yaml(rows, today=date(2026, 12, 5))
    parsed = yaml.safe_load(written)
    assert parsed["version"] == "3.1"
    assert parsed["nlu"] == [
        {"intent": "consultar_multas", "examples": "- dónde pago: la multa\n"},
        {"intent": INTENT, "examples": "- quiero la partida de mi abuelito\n- la partida de mi taita\n"},
    ]
    assert written.splitlines()[-1] == "#   - como saco la visa"
    assert yaml.safe_load(export_yaml(rows[1:2], today=date(2026, 12, 5)))["nlu"] == []


def test_known_intents_come_from_the_training_data() -> None:
    intents = known_intents(PROJECT / "intents")
    assert INTENT in intents and "nlu_fallback" not in intents
    assert list(intents) == sorted(set(intents))


async def test_the_list_on_sqlite_and_postgresql(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with sessions() as session:
        member = StaffMember(usuario="sofia", nombre="Sofía", password_hash="x", rol="supervisor")
        session.add(member)
        await session.flush()
        first = await nlu_review.add_item(session=session, text=CEDULA, times_seen=4, added_by_id=member.id)
        second = await nlu_review.add_item(session=session, text=NAME, times_seen=9, added_by_id=member.id)
        assert first is not None and second is not None
        assert await nlu_review.add_item(session=session, text=CEDULA, times_seen=5, added_by_id=member.id) is None
        assert await nlu_review.set_intent(session=session, item_id=first.id, intent=INTENT)
        await session.commit()
    async with sessions() as session:
        rows = await nlu_review.items(session=session)
        assert [(r.text, r.times_seen, r.intent, r.added_by) for r in rows] == [
            (NAME, 9, None, "sofia"),
            (CEDULA, 4, INTENT, "sofia"),
        ]
        assert await nlu_review.remove_item(session=session, item_id=second.id)
        assert not await nlu_review.remove_item(session=session, item_id=second.id)
        assert not await nlu_review.set_intent(session=session, item_id=second.id, intent=None)
        await session.commit()
        assert await nlu_review.listed_texts(session=session) == {CEDULA}
