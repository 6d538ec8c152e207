"""Reminders against real parts: the sandbox registries and its demo population, SQLite, the actions' world
(tests/actions/conftest.py), a clock the test moves, and the gateway's notification delivery into the outbox."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import yaml
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.actions.reminders import ActionCancelarRecordatorios, ActionSuscribirRecordatorios
from bot.actions.runtime import use_services
from bot.channels.base import ChannelRegistry
from bot.channels.telegram.adapter import TelegramAdapter
from bot.channels.web.adapter import WebAdapter
from bot.channels.whatsapp.adapter import WhatsAppAdapter
from bot.conversations.notifications import NotificationDispatcher
from bot.privacy.encryption import protector_from
from bot.reminders.schedule import PLANTILLAS
from bot.reminders.service import RemindersService
from bot.storage import conversations as conversations_repo
from bot.storage.db import create_engine, session_factory
from bot.storage.models import Conversation, OutboxMessage
from bot.storage.models_tramites import Notification
from bot.texts import load_textos
from tests.actions.conftest import SANDBOX_DAY, World, keys_dir, today, world  # noqa: F401 - fixtures

ECUADOR = ZoneInfo("America/Guayaquil")
PROJECT = Path(__file__).resolve().parents[2]
# The approved WhatsApp templates (ContentSid by our template's name), as CHASQUI_WHATSAPP_TEMPLATES sets them.
WHATSAPP_TEMPLATES = {plantilla: f"HX{n:032d}" for n, plantilla in enumerate(sorted(PLANTILLAS.values()))}


def demo(clave: str) -> tuple[str, str]:
    """The cédula and código dactilar of a documented demo identity (data/sandbox/identidades_demo.yml)."""
    data = yaml.safe_load((PROJECT / "data" / "sandbox" / "identidades_demo.yml").read_text(encoding="utf-8"))
    [found] = [i for i in data["identidades"] if i["clave"] == clave]
    return str(found["cedula"]), str(found["codigo_dactilar"])


class Clock:
    """The reminders' clock: the test sets the day and hour (Ecuador time)."""

    def __init__(self, start: date) -> None:
        self.at = datetime.combine(start, time(9), tzinfo=ECUADOR)

    def __call__(self) -> datetime:
        return self.at

    def set(self, day: date, hour: int, minute: int = 0) -> None:
        self.at = datetime.combine(day, time(hour, minute), tzinfo=ECUADOR)


def said(
    text: str, intent: str, *, sender: str, kinds: tuple[str, ...] = (), slots: dict[str, Any] | None = None
) -> Tracker:
    """A tracker whose latest message is ``text`` read as ``intent``, naming the reminder ``kinds``."""
    entities = [{"entity": "tipo_recordatorio", "value": k} for k in kinds]
    parse = {"intent": {"name": intent, "confidence": 0.95}, "entities": entities, "text": text}
    return Tracker(
        sender_id=sender,
        slots=slots or {},
        latest_message=parse,
        events=[{"event": "user", "text": text, "parse_data": parse}],
        paused=False,
        followup_action=None,
        active_loop={},
        latest_action_name="action_listen",
    )


@dataclass
class Reminders:
    world: World
    clock: Clock
    service: RemindersService
    sessions: async_sessionmaker[AsyncSession]
    engine: AsyncEngine

    def build_service(self, sessions: Any = None) -> RemindersService:
        """Another worker process's service on the same database (``sessions`` may wrap the real ones)."""
        s = self.world.services
        return RemindersService(
            sessions=sessions or self.sessions,
            protector=protector_from(s.settings),
            ant=s.registros.ant,
            registro_civil=s.registros.registro_civil,
            holder_key=s.documents.issuer.holder_key,
            document_titles={str(k): t.title for k, t in s.documents.plantillas.documents.items()},
            notice_version=s.settings.aviso_privacidad_version,
            zone=ECUADOR,
            clock=self.clock,
        )

    async def open_chat(self, sender: str, *, last_inbound: datetime | None = None) -> None:
        """The conversation row the gateway keeps (its channel, when the citizen last wrote)."""
        async with self.sessions() as session:
            conversation = await conversations_repo.get_or_create_conversation(
                session=session, conversation_id=sender, channel=sender.split(":", 1)[0]
            )
            conversation.last_inbound_at = last_inbound or datetime.now(UTC) - timedelta(hours=1)
            await session.commit()

    async def subscribe(self, sender: str, clave: str, *kinds: str) -> list[dict[str, Any]]:
        """The citizen proves who they are in this chat and says «avíseme» (naming ``kinds``, or none)."""
        cedula, dactilar = demo(clave)
        await self.world.services.identidad.verify(sender, cedula, dactilar)
        dispatcher = CollectingDispatcher()
        events = await ActionSuscribirRecordatorios().run(
            dispatcher, said("avíseme", "suscribir_recordatorios", sender=sender, kinds=kinds), {}
        )
        assert events == [{"event": "slot", "timestamp": None, "name": "recordatorio_tipos", "value": None}]
        return dispatcher.messages

    async def stop(self, sender: str) -> list[dict[str, Any]]:
        """The citizen writes «no más avisos»."""
        dispatcher = CollectingDispatcher()
        await ActionCancelarRecordatorios().run(
            dispatcher, said("no más avisos", "cancelar_recordatorios", sender=sender), {}
        )
        return dispatcher.messages

    async def notifications(self, *, after: int = 0) -> list[Notification]:
        async with self.sessions() as session:
            found = await session.scalars(select(Notification).where(Notification.id > after).order_by(Notification.id))
            return list(found.all())

    def channels(self) -> ChannelRegistry:
        registry = ChannelRegistry()
        registry.register(WebAdapter())
        registry.register(TelegramAdapter(bot=None))  # type: ignore[arg-type]  # nothing is sent in these tests
        registry.register(
            WhatsAppAdapter(
                None,  # type: ignore[arg-type]
                auth_token="x",
                sender="whatsapp:+15550001111",
                templates=WHATSAPP_TEMPLATES,
                numbered_options_text=str,
            )
        )
        return registry

    def dispatcher(self) -> NotificationDispatcher:
        """The gateway's delivery of notifications into the outbox (the outbox's sending has its own tests)."""
        return NotificationDispatcher(
            sessions=self.sessions,
            channels=self.channels(),
            textos=load_textos(PROJECT / "dialogs" / "textos"),
            outbox_notify=lambda: None,
        )

    async def outbox(self, sender: str) -> list[dict[str, Any]]:
        async with self.sessions() as session:
            found = await session.scalars(
                select(OutboxMessage).where(OutboxMessage.conversation_id == sender).order_by(OutboxMessage.id)
            )
            return [row.payload for row in found.all()]

    async def stored(self, sender: str) -> list[str]:
        """What the chat's history shows the bot sent (the web chat fetches these)."""
        async with self.sessions() as session:
            transcript = await conversations_repo.transcript(session=session, conversation_id=sender)
            return [m.text or "" for m in transcript if m.direction == "out"]

    async def conversation(self, sender: str) -> Conversation | None:
        async with self.sessions() as session:
            return await session.get(Conversation, sender)


@pytest.fixture
async def reminders(world: World) -> AsyncIterator[Reminders]:  # noqa: F811
    s = world.services
    engine = create_engine(s.settings.effective_database_url)
    holder = Reminders(
        world=world, clock=Clock(SANDBOX_DAY), service=None, sessions=session_factory(engine), engine=engine
    )  # type: ignore[arg-type]
    holder.service = holder.build_service()
    use_services(dataclasses.replace(s, recordatorios=holder.service))
    try:
        yield holder
    finally:
        await engine.dispose()
