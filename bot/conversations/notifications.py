"""Delivering notifications recorded by trámites (an application finished, a payment confirmed).

Each becomes a message in the citizen's conversation: through the outbox on an asynchronous channel, and
as a stored message the web chat fetches. Outside a channel's session window (an adapter's
``session_window``) a free-form message would fail, so the channel's approved template of the same name is
sent instead.
"""

from __future__ import annotations

import asyncio

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.channels.base import ChannelAdapter, ChannelRegistry
from bot.conversations.delivery import deliver
from bot.conversations.messages import BotMessage, Button
from bot.documents.runtime import Documents
from bot.storage import tramites as repo
from bot.storage.models import Conversation, utcnow
from bot.texts import Textos

log = structlog.get_logger(__name__)


class NotificationDispatcher:
    def __init__(
        self,
        *,
        sessions: async_sessionmaker[AsyncSession],
        channels: ChannelRegistry,
        textos: Textos,
        outbox_notify: object,
        documents: Documents | None = None,
    ) -> None:
        self._documents = documents
        self._sessions = sessions
        self._channels = channels
        self._textos = textos
        self._outbox_notify = outbox_notify

    async def deliver_pending(self) -> int:
        """Turn every undelivered notification into a message; returns how many were delivered."""
        delivered = 0
        async with self._sessions() as session:
            for notification in await repo.undelivered_notifications(session=session):
                if not await repo.claim_notification(session=session, notification_id=notification.id, now=utcnow()):
                    continue  # another gateway process delivered it
                conversation = await session.get(Conversation, notification.conversation_id)
                if conversation is None:
                    continue
                texto = self._textos.render(notification.plantilla, **notification.valores)
                message = BotMessage(text=texto.text, buttons=tuple(Button(t, p) for t, p in texto.buttons))
                adapter = self._channels.find(conversation.channel)
                outgoing = (
                    self._for_window(adapter, conversation, notification.plantilla, notification.valores, message)
                    if adapter is not None and adapter.asynchronous
                    else message
                )
                # Stored for the web chat and the console either way; sent only where the channel allows it.
                await deliver(
                    session,
                    conversation=conversation,
                    channel=adapter,
                    messages=[message],
                    author="system",
                    outbox=[outgoing] if outgoing is not None else [],
                )
                if outgoing is None:
                    log.warning("notificacion.fuera_de_ventana_sin_plantilla", plantilla=notification.plantilla)
                    continue
                delivered += 1
            await session.commit()
        if delivered:
            self._outbox_notify()  # type: ignore[operator]
        return delivered

    @staticmethod
    def _for_window(
        adapter: ChannelAdapter,
        conversation: Conversation,
        plantilla: str,
        valores: dict[str, object],
        message: BotMessage,
    ) -> BotMessage | None:
        if adapter.within_window(conversation.last_inbound_at, utcnow()):
            return message
        return adapter.template_message(plantilla, valores)

    async def run(self, *, every_seconds: float = 2.0) -> None:
        while True:
            try:
                await self.deliver_pending()
            except Exception:
                log.exception("notificacion.ciclo_fallido")
            await asyncio.sleep(every_seconds)
