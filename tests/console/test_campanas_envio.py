"""Campaigns to 500 fictitious subscribed citizens: exactly the segment, once each, at the campaign's pace and
within each channel's limits, never in quiet hours; counts after delivery and read reports and replies.

A clock the test moves drives the campaign's pace; the outbox's channel limiters run on virtual time (a
reservation records the instant it grants instead of sleeping until it), so nothing here waits for a rate.
"""

from __future__ import annotations

import asyncio
import itertools
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.channels.base import ChannelAdapter, ChannelRegistry, Delivery, DeliveryError
from bot.console.campaigns import BURST_SECONDS, CampaignConfig, CampaignError, Campaigns, Draft, render
from bot.conversations.messages import BotMessage
from bot.conversations.outbox import OutboxDispatcher
from bot.conversations.send_limits import LocalSendLimiter, SendLimiter
from bot.privacy.encryption import Protector, protector_from
from bot.settings import Settings
from bot.storage import outbox as outbox_repo
from bot.storage import privacy as privacy_repo
from bot.storage.models import Conversation, Direction, Message, MessageStatus, OutboxMessage, OutboxStatus
from bot.storage.models_campaigns import CampaignRecipient, CampaignState
from bot.storage.models_identity import IdentityLink
from bot.storage.models_reminders import ReminderSubscription

ECUADOR = ZoneInfo("America/Guayaquil")
PROJECT = Path(__file__).resolve().parents[2]
KINDS = ("licencia", "matricula", "multas", "documentos")
FOOTER = "Para no recibir más avisos, escriba «no más avisos»."


class Clock:
    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at

    def advance(self, seconds: float) -> None:
        self.at += timedelta(seconds=seconds)


class FakeChannel(ChannelAdapter):
    """A channel whose API is a list: what was sent, to whom; chats in ``refuse`` fail for good."""

    max_text_length: ClassVar[int] = 4096
    asynchronous: ClassVar[bool] = True

    def __init__(self) -> None:
        self.sent: list[tuple[str, BotMessage]] = []
        self.refuse: set[str] = set()

    def parse(self, payload: Any) -> None:
        return None

    async def send(self, chat_id: str, message: BotMessage, *, conversation_options: bool = False) -> Delivery:
        if chat_id in self.refuse:
            raise DeliveryError("blocked by the user", permanent=True)
        self.sent.append((chat_id, message))
        return Delivery(f"{self.code}-{len(self.sent)}")


class FakeTelegram(FakeChannel):
    code: ClassVar[str] = "tg"
    messages_per_second: ClassVar[float] = 30.0
    seconds_between_messages_per_chat: ClassVar[float] = 1.0


class FakeWhatsApp(FakeChannel):
    code: ClassVar[str] = "wa"
    messages_per_second: ClassVar[float] = 20.0
    session_window: ClassVar[timedelta | None] = timedelta(hours=24)

    def template_message(self, name: str, values: Mapping[str, object]) -> BotMessage | None:
        if name != "campana_aviso":
            return None
        return BotMessage(custom={"template": {"name": name, "variables": {k: str(v) for k, v in values.items()}}})


class FakeWeb(ChannelAdapter):
    code: ClassVar[str] = "web"
    max_text_length: ClassVar[int] = 4096

    def parse(self, payload: Any) -> None:
        return None


@dataclass
class VirtualLimits:
    """The outbox's channel limiters on virtual time: each grant's instant is recorded, nothing sleeps."""

    granted: dict[str, list[float]] = field(default_factory=dict)

    def __call__(self, code: str, per_second: float, per_chat_interval: float) -> SendLimiter:
        limits = self

        class Virtual(LocalSendLimiter):
            now = 0.0

            def __init__(self) -> None:
                super().__init__(per_second=per_second, per_chat_interval=per_chat_interval, clock=lambda: self.now)

            async def acquire(self, chat: str) -> None:
                while True:
                    ok, delay = await self.try_reserve(chat)
                    if ok:
                        limits.granted.setdefault(code, []).append(self.now + delay)
                        return
                    self.now += delay  # the chat's pause passes on virtual time

        return Virtual()


@dataclass(frozen=True)
class Citizen:
    cedula: str
    chats: tuple[tuple[str, str], ...]  # (conversation id, channel)
    kinds: tuple[str, ...]
    last_inbound: datetime | None
    named: bool
    refused_transfer: bool


def population(now: datetime) -> list[Citizen]:
    """500 fictitious citizens across channels: some with two chats, some outside WhatsApp's window, some with a
    proven identity (a first name), some who refused the transfer abroad."""
    citizens = []
    for i in range(500):
        cedula = f"17{i:08d}"
        channel = ("tg", "wa", "web")[i % 3]
        chats: tuple[tuple[str, str], ...] = ((f"{channel}:c{i}", channel),)
        if i % 25 == 0:  # a second chat on the other asynchronous channel
            other = "wa" if channel != "wa" else "tg"
            chats += ((f"{other}:d{i}", other),)
        kinds = (KINDS[i % 4],) if i % 5 else (KINDS[i % 4], KINDS[(i + 1) % 4])
        last = now - timedelta(hours=30 if i % 7 == 0 else 2)
        citizens.append(Citizen(cedula, chats, kinds, last, i % 10 == 0, i % 50 == 7))
    return citizens


async def seed(sessions: async_sessionmaker[AsyncSession], protector: Protector, citizens: list[Citizen]) -> None:
    async with sessions() as session:
        for citizen in citizens:
            digest = protector.lookup_hash(citizen.cedula)
            for conversation_id, channel in citizen.chats:
                session.add(Conversation(id=conversation_id, channel=channel, last_inbound_at=citizen.last_inbound))
                session.add(
                    ReminderSubscription(
                        conversation_id=conversation_id,
                        canal=channel,
                        cedula_hash=digest,
                        cedula_cifrada=protector.encrypt(citizen.cedula),
                        tipos=list(citizen.kinds),
                        created_at=citizen.last_inbound,
                        updated_at=citizen.last_inbound,
                    )
                )
                if citizen.refused_transfer:
                    await privacy_repo.record_consent(
                        session=session,
                        conversation_id=conversation_id,
                        proposito="transferencia_internacional",
                        otorgado=False,
                        version_aviso="v1",
                        canal=channel,
                    )
            if citizen.named:
                conversation_id = citizen.chats[0][0]
                session.add(
                    IdentityLink(
                        conversation_id=conversation_id,
                        cedula_hash=digest,
                        cedula_cifrada=protector.encrypt(citizen.cedula),
                        nombres_cifrados=protector.encrypt("MARÍA JOSÉ"),
                        nivel="basico",
                        verified_at=datetime(2026, 1, 1, tzinfo=UTC),
                        expires_at=datetime(2030, 1, 1, tzinfo=UTC),
                    )
                )
        await session.commit()


def in_window(citizen: Citizen, channel: str, now: datetime) -> bool:
    return channel != "wa" or (citizen.last_inbound is not None and now - citizen.last_inbound < timedelta(hours=24))


@dataclass
class World:
    sessions: async_sessionmaker[AsyncSession]
    protector: Protector
    channels: ChannelRegistry
    tg: FakeTelegram
    wa: FakeWhatsApp
    clock: Clock
    campaigns: Campaigns
    citizens: list[Citizen]

    def other_worker(self) -> Campaigns:
        """A second gateway process on the same database and clock."""
        return Campaigns(
            sessions=self.sessions,
            channels=self.channels,
            config=self.campaigns.config,
            protector=self.protector,
            zone=ECUADOR,
            clock=self.clock,
        )


@pytest.fixture
async def world(sessions: async_sessionmaker[AsyncSession], tmp_path: Path) -> World:
    protector = protector_from(Settings(var_dir=tmp_path / "var"))
    clock = Clock(datetime(2026, 3, 10, 19, 59, tzinfo=ECUADOR))  # a Tuesday, a minute before quiet hours
    tg, wa = FakeTelegram(), FakeWhatsApp()
    channels = ChannelRegistry()
    for adapter in (tg, wa, FakeWeb()):
        channels.register(adapter)
    citizens = population(clock())
    await seed(sessions, protector, citizens)
    campaigns = Campaigns(
        sessions=sessions,
        channels=channels,
        config=CampaignConfig.load(PROJECT / "data" / "consola" / "campanas.yml"),
        protector=protector,
        zone=ECUADOR,
        clock=clock,
    )
    return World(sessions, protector, channels, tg, wa, clock, campaigns, citizens)


def expected_segment(
    world: World, kinds: set[str], *, template: bool, channels: tuple[str, ...] = ("tg", "wa")
) -> dict[str, str]:
    """By hand: cédula → the chat the campaign must reach (asynchronous channels only, one chat per citizen: one in
    its window first, then by id; outside WhatsApp's window only with a template; never after refusing the transfer)."""
    now = world.clock()
    chosen: dict[str, str] = {}
    for citizen in world.citizens:
        if not kinds & set(citizen.kinds) or citizen.refused_transfer:
            continue
        chats = [(c, ch) for c, ch in citizen.chats if ch in channels]
        chats.sort(key=lambda chat: (not in_window(citizen, chat[1], now), chat[0]))
        if chats and (in_window(citizen, chats[0][1], now) or template):
            chosen[citizen.cedula] = chats[0][0]
    return chosen


async def deliver_all(world: World, limits: VirtualLimits) -> None:
    dispatcher = OutboxDispatcher(sessions=world.sessions, channels=world.channels, limits=limits, idle_seconds=0.2)
    task = asyncio.create_task(dispatcher.run())
    try:
        await dispatcher.idle(within=120)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await dispatcher.close()


async def test_a_campaign_reaches_exactly_its_segment_once_at_its_pace_and_counts_what_happened(world: World) -> None:
    draft = Draft(
        titulo="Renovación de licencias",
        texto="Hola {nombre_corto}, la ANT atiende este sábado de 08:00 a 13:00 para renovar licencias.",
        institucion="ant",
        tipos=("licencia", "multas", "documentos"),  # the ANT's kinds leave «documentos» out
        por_minuto=120,
        plantilla="campana_aviso",
        horas_respuesta=24,
    )
    campaign = await world.campaigns.create(draft, staff_id=None, usuario="lucia")
    expected = expected_segment(world, {"licencia", "multas"}, template=True)
    transfer_refused = {
        c.cedula
        for c in world.citizens
        if c.refused_transfer and {"licencia", "multas"} & set(c.kinds) and any(ch != "web" for _, ch in c.chats)
    }

    preview = await world.campaigns.preview(campaign)
    assert preview.total == len(expected) + len(transfer_refused)  # refusals are found at their turn
    assert set(preview.por_canal) == {"tg", "wa"}
    assert preview.ejemplo.endswith(FOOTER)

    assert await world.campaigns.start(campaign.id) == preview.total
    with pytest.raises(CampaignError) as twice:
        await world.campaigns.start(campaign.id)
    assert twice.value.code == "campana_estado"

    # Tick every second, two workers at once; quiet hours from 20:00 queue nothing until 08:00.
    other = world.other_worker()
    queued_at: list[datetime] = []
    for _ in range(2000):
        world.clock.advance(1)
        local = world.clock().astimezone(ECUADOR)
        if local.hour == 20 and local.minute == 0 and local.second == 30:
            for hour in (21, 23, 3, 7):  # the night: nothing at all
                world.clock.at = local.replace(hour=hour) + timedelta(days=1 if hour < 20 else 0)
                assert await world.campaigns.tick() == 0
            world.clock.at = (local + timedelta(days=1)).replace(hour=8, minute=0, second=0)
        count = await world.campaigns.tick() + await other.tick()
        queued_at += [world.clock()] * count
        if (await world.campaigns.get(campaign.id)).estado == CampaignState.TERMINADA:  # type: ignore[union-attr]
            break
    else:
        pytest.fail("the campaign never finished")
    assert len(queued_at) == len(expected)
    assert all(8 <= t.astimezone(ECUADOR).hour < 20 for t in queued_at)
    # The pace: in any 60 s, at most 120 messages plus the bucket's burst.
    burst = world.campaigns.burst(120)
    assert burst == 120 / 60 * BURST_SECONDS
    for i, start in enumerate(queued_at):
        within = sum(1 for t in queued_at[i:] if t - start < timedelta(seconds=60))
        assert within <= 120 + burst
    before_night = [t for t in queued_at if t.astimezone(ECUADOR).hour == 19]
    assert 0 < len(before_night) < len(expected)

    # The outbox sends them within each channel's own limits (virtual time: nothing sleeps).
    refused_chat = next(iter(c for c in expected.values() if c.startswith("tg:"))).split(":", 1)[1]
    world.tg.refuse.add(refused_chat)
    limits = VirtualLimits()
    await deliver_all(world, limits)
    for adapter in (world.tg, world.wa):
        instants = sorted(limits.granted[adapter.code])
        gaps = [b - a for a, b in itertools.pairwise(instants)]
        assert min(gaps) >= 1 / adapter.messages_per_second - 1e-9
    reached = {f"tg:{chat}" for chat, _ in world.tg.sent} | {f"wa:{chat}" for chat, _ in world.wa.sent}
    assert reached == set(expected.values()) - {f"tg:{refused_chat}"}
    assert len(world.tg.sent) + len(world.wa.sent) == len(reached)  # once per citizen
    by_chat = {f"tg:{c}": m for c, m in world.tg.sent} | {f"wa:{c}": m for c, m in world.wa.sent}
    for cedula, chat in expected.items():
        if chat not in by_chat:
            continue
        message = by_chat[chat]
        citizen = next(c for c in world.citizens if c.cedula == cedula)
        if message.custom:  # outside WhatsApp's 24 hours: the approved template
            assert chat.startswith("wa:") and citizen.last_inbound is not None
            assert datetime(2026, 3, 10, 19, 59, tzinfo=ECUADOR) - citizen.last_inbound > timedelta(hours=24)
            assert message.custom["template"]["name"] == "campana_aviso"
            continue
        assert message.text is not None and message.text.endswith(FOOTER)
        assert [b.payload for b in message.buttons] == ["/cancelar_recordatorios"]
        if citizen.named:
            assert message.text.startswith("Hola María, la ANT")
        else:
            assert message.text.startswith("Hola, la ANT")
        assert cedula not in message.text

    # Delivery and read reports, as a channel's status callbacks record them; then replies.
    sent = sorted(world.wa.sent, key=lambda s: s[0])
    async with world.sessions() as session:
        rows = {
            r.conversation_id: r
            for r in (await session.scalars(select(OutboxMessage).where(OutboxMessage.channel == "wa"))).all()
        }
        for n, (chat, _) in enumerate(sent):
            row = await outbox_repo.by_provider_id(
                session=session, provider_message_id=rows[f"wa:{chat}"].provider_message_id or ""
            )
            assert row is not None
            outbox_repo.advance_status(row, OutboxStatus.READ if n % 3 == 0 else OutboxStatus.DELIVERED)
        await session.commit()
        replying = [f"wa:{chat}" for chat, _ in sent[:5]]
        for n, conversation_id in enumerate(replying):
            left = rows[conversation_id].sent_at
            assert left is not None
            at = left + (timedelta(hours=2) if n < 3 else timedelta(hours=30))  # two come too late to count
            session.add(
                Message(
                    conversation_id=conversation_id,
                    direction=Direction.IN,
                    author="citizen",
                    text="gracias",
                    status=MessageStatus.ANSWERED,
                    created_at=at,
                )
            )
        await session.commit()

    counts = await world.campaigns.counts(campaign)
    assert counts.destinatarios == preview.total
    assert counts.encolados == len(expected)
    assert counts.omitidos == ({"sin_consentimiento": len(transfer_refused)} if transfer_refused else {})
    assert counts.pendientes == 0
    assert counts.enviados == len(expected) - 1
    assert counts.fallidos == 1
    assert counts.entregados == len(sent)
    assert counts.leidos == math.ceil(len(sent) / 3)
    assert counts.respuestas == 3

    async with world.sessions() as session:  # the idempotency key held: one outbox row per recipient
        outbox = await session.scalar(select(func.count()).select_from(OutboxMessage))
        recipients = await session.scalar(
            select(func.count(func.distinct(CampaignRecipient.cedula_hash))).where(
                CampaignRecipient.campaign_id == campaign.id
            )
        )
    assert outbox == len(expected) and recipients == preview.total


async def test_outside_the_window_without_a_template_and_after_withdrawing_nothing_is_sent(world: World) -> None:
    campaign = await world.campaigns.create(
        Draft(titulo="Multas", texto="La ANT le recuerda revisar sus multas.", tipos=("multas",), canales=("wa",)),
        staff_id=None,
        usuario="lucia",
    )
    preview = await world.campaigns.preview(campaign)
    expected = expected_segment(world, {"multas"}, template=False, channels=("wa",))
    assert preview.sin_plantilla == preview.fuera_de_ventana > 0
    await world.campaigns.start(campaign.id)
    withdrawn = sorted(expected.values())[0]
    async with world.sessions() as session:  # «no más avisos» before its turn
        await session.delete(await session.get(ReminderSubscription, withdrawn))
        await session.commit()
    while (await world.campaigns.get(campaign.id)).estado != CampaignState.TERMINADA:  # type: ignore[union-attr]
        world.clock.advance(1)
        await world.campaigns.tick()
    counts = await world.campaigns.counts(campaign)
    assert counts.encolados == len(expected) - 1
    assert counts.omitidos["retiro_avisos"] == 1 and counts.omitidos["fuera_de_ventana"] > 0
    assert counts.encolados + sum(counts.omitidos.values()) == preview.total
    outside = {c for citizen in world.citizens for c, ch in citizen.chats if not in_window(citizen, ch, world.clock())}
    async with world.sessions() as session:
        queued = set((await session.scalars(select(OutboxMessage.conversation_id))).all())
    assert queued == set(expected.values()) - {withdrawn} and not queued & outside


async def test_a_cancelled_campaign_sends_nothing_more(world: World) -> None:
    campaign = await world.campaigns.create(
        Draft(titulo="Aviso", texto="Aviso general de prueba.", por_minuto=60), staff_id=None, usuario="lucia"
    )
    total = await world.campaigns.start(campaign.id)
    world.clock.advance(1)
    first = await world.campaigns.tick()
    assert first >= 1
    stopped = await world.campaigns.cancel(campaign.id)
    world.clock.advance(60)
    assert await world.campaigns.tick() == 0
    counts = await world.campaigns.counts(campaign)
    assert counts.cancelados == stopped and counts.encolados == 0  # the queued ones had not left the outbox yet
    assert stopped + sum(counts.omitidos.values()) == total
    async with world.sessions() as session:
        statuses = (await session.scalars(select(OutboxMessage.status))).all()
    assert set(statuses) == {OutboxStatus.FAILED}


@pytest.mark.parametrize(
    ("texto", "code"),
    [
        ("Hola {cedula}", "campana_variables"),
        ("Hola {nombre_corto.upper}", "campana_variables"),
        ("Hola {nombre_corto!r}", "campana_variables"),
        ("Llaves {sueltas", "campana_variables"),
        ("Su cédula 1712345678 vence", "campana_identificador"),
        ("Llame al 099 123 4567", "campana_identificador"),
        ("", "texto_vacio"),
        ("x" * 1001, "texto_largo"),
    ],
)
async def test_only_safe_placeholders_and_no_identifiers(world: World, texto: str, code: str) -> None:
    with pytest.raises(CampaignError) as refused:
        await world.campaigns.create(Draft(titulo="Prueba", texto=texto), staff_id=None, usuario="lucia")
    assert refused.value.code == code


def test_a_missing_first_name_leaves_no_gap() -> None:
    assert render("Hola {nombre_corto}, la ANT abre.", "Ana") == "Hola Ana, la ANT abre."
    assert render("Hola {nombre_corto}, la ANT abre.", None) == "Hola, la ANT abre."
    assert render("{nombre_corto}: la ANT abre.", None) == "La ANT abre."
    assert render("¡Hola {nombre_corto}!\nLlaves {{así}}", None) == "¡Hola!\nLlaves {así}"
