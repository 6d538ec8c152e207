"""Delivery: the one way a message reaches a citizen, whoever writes it (the bot, a person, the system).

`deliver` stores the messages in the conversation (the web chat shows them from there) and, on an
asynchronous channel (Telegram, WhatsApp), queues them in the outbox, all in the caller's transaction:
the messages, their outbox rows and whatever else the caller changed commit together. After the commit
the caller wakes the outbox (`Outbox.notify`). The conversation's state (which buttons a number picks)
is the caller's, through `bot.conversations.state`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from bot.channels.base import ChannelAdapter
from bot.conversations.messages import BotMessage
from bot.storage import conversations as repo
from bot.storage.models import Conversation, Message


@dataclass(frozen=True)
class Delivered:
    """What `deliver` stored: the messages' ids, and the outbox rows queued for the channel (if any)."""

    ids: tuple[int, ...]
    outbox_ids: tuple[int, ...] = ()

    @property
    def queued(self) -> bool:
        """The outbox has something new to send (wake it after the commit)."""
        return bool(self.outbox_ids)


async def deliver(
    session: AsyncSession,
    *,
    conversation: Conversation,
    channel: ChannelAdapter | None,
    messages: Sequence[BotMessage],
    author: str,
    reply_to: Message | None = None,
    outbox: Sequence[BotMessage] | None = None,
) -> Delivered:
    """Store ``messages`` for the citizen and queue them for an asynchronous channel (the caller commits).

    Args:
        conversation: the citizen's conversation.
        channel: its channel's adapter (None for a channel no longer configured: stored only).
        messages: what the citizen reads, in order.
        author: ``bot``, ``agent`` or ``system``.
        reply_to: the inbound message these answer (a retried message gets them again); None for messages
            nobody asked for (a person's replies, notices, notifications).
        outbox: what the channel is sent instead of ``messages`` (an approved template outside the
            channel's session window; empty: nothing). Default: ``messages``.
    """
    ids = await repo.add_outbound_many(
        session=session,
        conversation_id=conversation.id,
        reply_to=reply_to,
        author=author,
        messages=[(message.text, message.as_payload()) for message in messages],
    )
    outgoing = list(messages if outbox is None else outbox)
    rows = []
    if channel is not None and channel.asynchronous and outgoing:
        rows = await repo.enqueue_outbox(
            session=session, conversation_id=conversation.id, channel=conversation.channel, messages=outgoing
        )
    return Delivered(ids=ids, outbox_ids=tuple(row.id for row in rows))
