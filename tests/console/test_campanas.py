"""Campaigns from the console, end to end: the gateway with Telegram and WhatsApp against their fake APIs, the
console's pages and roles, Twilio's signed status callbacks, a citizen's reply, and the audit log."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update
from twilio.request_validator import RequestValidator

from bot.console.campaigns import Campaigns
from bot.console.service import Consola
from bot.storage.db import create_engine, session_factory
from bot.storage.models import Conversation, utcnow
from bot.storage.models_campaigns import Campaign, CampaignState
from bot.storage.models_console import AuditEntry
from bot.storage.models_reminders import ReminderSubscription
from tests.channels.conftest import PUBLIC_URL, TWILIO_TOKEN, Channels, fixture, wait_until
from tests.channels.conftest import channels as channels_fixture  # noqa: F401 - the fixture `channels`
from tests.console.conftest import PASSWORD

ECUADOR = ZoneInfo("America/Guayaquil")
FOOTER = "Para no recibir más avisos, escriba «no más avisos»."


def query(channels: Channels, work: Any) -> Any:
    async def _run() -> Any:
        engine = create_engine(channels.settings.effective_database_url)
        try:
            async with session_factory(engine)() as session:
                result = await work(session)
                await session.commit()
                return result
        finally:
            await engine.dispose()

    return asyncio.run(_run())


def in_app(channels: Channels, coroutine: Any) -> Any:
    async def _wait() -> Any:
        return await coroutine

    assert channels.client.portal is not None
    return channels.client.portal.call(_wait)


def consola(channels: Channels) -> Consola:
    found: Consola = channels.client.app.state.consola  # type: ignore[attr-defined]
    return found


def signed_post(channels: Channels, path: str, form: dict[str, str]) -> int:
    signature = RequestValidator(TWILIO_TOKEN).compute_signature(PUBLIC_URL + path, form)
    return channels.client.post(path, data=form, headers={"X-Twilio-Signature": signature}).status_code


def whatsapp_says(channels: Channels, number: str, text: str, sid: str) -> None:
    form = {**fixture("twilio", "texto"), "From": f"whatsapp:{number}", "WaId": number[1:], "Body": text}
    form.update(MessageSid=sid, SmsSid=sid, SmsMessageSid=sid)
    assert signed_post(channels, "/webhooks/whatsapp", form) == 200


class StaffMember:
    """A browser on the console (HTTPS: the session cookie is Secure behind a public HTTPS address)."""

    def __init__(self, channels: Channels, usuario: str, rol: str) -> None:
        in_app(
            channels,
            consola(channels).auth.create_staff(
                usuario=usuario, nombre=f"{usuario.title()} Vera", password=PASSWORD, rol=rol, equipos=()
            ),
        )
        self.client = TestClient(channels.client.app, base_url="https://10.0.0.5:8000")
        self.client.portal = channels.client.portal
        page = self.client.get("/consola/entrar")
        token = re.search(r'name="csrf" value="([^"]+)"', page.text)
        assert token is not None
        login = self.client.post(
            "/consola/entrar",
            data={"usuario": usuario, "clave": PASSWORD, "csrf": token.group(1)},
            follow_redirects=False,
        )
        assert login.status_code == 303
        found = re.search(r'<meta name="csrf" content="([^"]+)"', self.client.get("/consola/cola").text)
        assert found is not None
        self.csrf = found.group(1)

    def post(self, path: str, data: dict[str, Any] | None = None, *, csrf: bool = True) -> httpx.Response:
        fields = {**({"csrf": self.csrf} if csrf else {}), **(data or {})}
        return self.client.post(path, data=fields, follow_redirects=False)


class Clock:
    """The campaigns' clock: the next 10:00 in Ecuador (never in quiet hours), moved by the test."""

    def __init__(self) -> None:
        local = utcnow().astimezone(ECUADOR)
        at = datetime.combine(local.date(), time(10), tzinfo=ECUADOR)
        self.at = at if at > local else at + timedelta(days=1)

    def __call__(self) -> datetime:
        return self.at


@pytest.fixture
def world(channels_fixture: Channels) -> Iterator[tuple[Channels, Campaigns, Clock]]:  # noqa: F811
    """Four subscribed citizens (two WhatsApp chats in their 24 hours, one outside, one Telegram chat) and one
    web chat subscribed too (the web chat has no outbox: campaigns never reach it)."""
    channels = channels_fixture

    async def whatsapp_chats(session: Any) -> set[str]:
        return set((await session.scalars(select(Conversation.id).where(Conversation.channel == "wa"))).all())

    ids: list[str] = []  # in the order of the numbers: a chat's id does not sort like its number
    for n in range(3):
        whatsapp_says(channels, f"+59399000000{n}", "hola", f"SM{n:032d}")
        wait_until(lambda n=n: len(channels.twilio.sent) == n + 1)  # the echo went out
        (new,) = query(channels, whatsapp_chats) - set(ids)
        ids.append(new)

    async def subscribe(session: Any) -> list[str]:
        session.add(Conversation(id="tg:555", channel="tg", last_inbound_at=utcnow()))
        session.add(Conversation(id="web:abc", channel="web", last_inbound_at=utcnow()))
        for n, conversation_id in enumerate([*ids, "tg:555", "web:abc"]):
            session.add(
                ReminderSubscription(
                    conversation_id=conversation_id,
                    canal=conversation_id.split(":")[0],
                    cedula_hash=f"{n:064d}",
                    cedula_cifrada="-",
                    tipos=["licencia"],
                )
            )
        await session.execute(
            update(Conversation).where(Conversation.id == ids[2]).values(last_inbound_at=utcnow() - timedelta(days=2))
        )
        return list(ids)

    query(channels, subscribe)
    campaigns = consola(channels).campaigns
    assert campaigns is not None
    clock = Clock()
    campaigns.clock = clock  # the background sender uses it too: nothing moves unless the test moves it
    yield channels, campaigns, clock


def test_comunicaciones_writes_previews_and_sends_a_campaign_and_sees_what_happened(
    world: tuple[Channels, Campaigns, Clock],
) -> None:
    channels, campaigns, clock = world
    lucia = StaffMember(channels, "lucia", "comunicaciones")
    assert "Campañas" in lucia.client.get("/consola/cola").text

    refused = lucia.post("/consola/campanas", {"titulo": "Prueba", "texto": "Su cédula {cedula}", "por_minuto": "60"})
    assert refused.status_code == 303 and "aviso=campana_variables" in refused.headers["location"]
    page = lucia.client.get(refused.headers["location"]).text
    assert "El mensaje usa una variable desconocida o llaves sueltas. Use solo {nombre_corto}." in page

    form = {
        "titulo": "Renovación de licencias",
        "texto": "Hola {nombre_corto}, la ANT abre este sábado para renovar licencias.",
        "institucion": "ant",
        "tipos": "licencia",
        "por_minuto": "60",
        "horas_respuesta": "48",
    }
    created = lucia.post("/consola/campanas", form)
    assert created.status_code == 303
    location = created.headers["location"]
    assert re.fullmatch(r"/consola/campanas/\d+\?aviso=campana_creada", location)
    base = location.split("?")[0]
    page = lucia.client.get(location).text
    assert "Campaña guardada como borrador. Revise la vista previa antes de enviarla." in page
    assert "Borrador" in page

    preview = lucia.client.get(f"{base}/vista-previa").text
    assert "<strong>4</strong> ciudadanos recibirán esta campaña: 1 por Telegram, 3 por WhatsApp." in preview
    assert "Fuera de la ventana de su canal: 1. Sin una plantilla aprobada, no la recibirán: 1." in preview
    assert f"Hola, la ANT abre este sábado para renovar licencias.\n\n{FOOTER}" in preview.replace("&#34;", '"')
    assert "Enviar a 4 ciudadanos" in preview

    sent = lucia.post(f"{base}/enviar")
    assert sent.headers["location"].endswith("aviso=campana_enviando")
    for _ in range(30):  # a minute at 60 a minute: the clock moves, the sender follows
        clock.at += timedelta(seconds=2)
        in_app(channels, campaigns.tick())
    wait_until(lambda: len(channels.twilio.sent) == 5 and channels.telegram.sent())
    [telegram] = channels.telegram.sent()
    assert telegram.params["text"] == f"Hola, la ANT abre este sábado para renovar licencias.\n\n{FOOTER}"
    whatsapp = channels.twilio.sent[3:]
    assert all(FOOTER in s.params["Body"] for s in whatsapp)  # then the button as a numbered option
    assert {s.params["To"] for s in whatsapp} == {"whatsapp:+593990000000", "whatsapp:+593990000001"}

    # Twilio reports one delivered and one read; one citizen answers.
    for s, status in zip(whatsapp, ("estado_entregado", "estado_leido"), strict=True):
        callback = {k: (s.sid if v == "SMREPLACE" else v) for k, v in fixture("twilio", status).items()}
        assert signed_post(channels, "/webhooks/whatsapp/estado", callback) == 204
    whatsapp_says(channels, "+593990000000", "gracias, ¿qué documentos llevo?", "SM" + "9" * 32)

    def figures() -> dict[str, str]:
        page = lucia.client.get(base).text.split("<h2>Cifras</h2>", 1)[1]
        return dict(re.findall(r"<dt>([^<]+)</dt><dd>(\d+)", page))

    wait_until(lambda: figures().get("Respuestas") == "1")
    assert figures() == {
        "Destinatarios": "4",
        "Esperando su turno": "0",
        "En cola de envío": "3",
        "Enviados": "3",
        "Entregados": "2",
        "Leídos": "1",
        "Fallidos": "0",
        "Respuestas": "1",
    }
    page = lucia.client.get(base).text
    assert "Enviada" in page and "Su chat está fuera de la ventana del canal y no hay plantilla aprobada: 1" in page

    again = lucia.post(f"{base}/cancelar")
    assert again.headers["location"].endswith("aviso=campana_estado")

    async def actions(session: Any) -> list[str]:
        rows = await session.scalars(select(AuditEntry.action).where(AuditEntry.usuario == "lucia"))
        return [a for a in rows.all() if "campana" in a]

    done = query(channels, actions)
    assert [a for a in done if not a.startswith("ver_")] == [
        "crear_campana_rechazado",
        "crear_campana",
        "previsualizar_campana",
        "enviar_campana",
        "cancelar_campana_rechazado",
    ]
    assert {"ver_campanas", "ver_campana"} <= set(done)
    admin = StaffMember(channels, "admin", "admin")
    audit = admin.client.get("/consola/auditoria").text
    for words in ("Creó una campaña", "Vio la vista previa de una campaña", "Envió una campaña"):
        assert words in audit


def test_agents_get_403_csrf_is_enforced_and_a_draft_can_be_cancelled(world: tuple[Channels, Campaigns, Clock]) -> None:
    channels, _, _ = world
    form = {"titulo": "Aviso", "texto": "Aviso de prueba.", "por_minuto": "60", "horas_respuesta": "48"}
    ana = StaffMember(channels, "ana", "agente")
    assert ana.client.get("/consola/campanas").status_code == 403
    assert ana.post("/consola/campanas", form).status_code == 403
    assert "Campañas" not in ana.client.get("/consola/cola").text

    lucia = StaffMember(channels, "lucia", "comunicaciones")
    assert lucia.post("/consola/campanas", form, csrf=False).status_code == 403
    assert lucia.post("/consola/campanas", {**form, "csrf": "otro"}, csrf=False).status_code == 403

    async def count(session: Any) -> int:
        return len((await session.scalars(select(Campaign))).all())

    assert query(channels, count) == 0
    created = lucia.post("/consola/campanas", form).headers["location"].split("?")[0]
    assert ana.client.get(created).status_code == 403
    assert ana.post(f"{created}/enviar").status_code == 403
    assert lucia.post(f"{created}/cancelar", csrf=False).status_code == 403
    cancelled = lucia.post(f"{created}/cancelar")
    assert cancelled.headers["location"].endswith("aviso=campana_cancelada")
    page = lucia.client.get(cancelled.headers["location"]).text
    assert "Campaña cancelada. Los mensajes que aún no salieron ya no se enviarán." in page

    async def state(session: Any) -> str:
        [campaign] = (await session.scalars(select(Campaign))).all()
        return str(campaign.estado)

    assert query(channels, state) == CampaignState.CANCELADA
    admin = StaffMember(channels, "admin", "admin")
    assert admin.client.get("/consola/campanas").status_code == 200
    assert "Comunicaciones (campañas)" in admin.client.get("/consola/personal").text
