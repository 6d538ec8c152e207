"""The conversation router: store first, then the turn's stages in order, then store the answer.

Every channel goes through `accept` (store the inbound message, deduplicated by the channel's own id)
and `process` (run the stages of `bot.conversations.stages` and record the answer). Messages of one
conversation are processed one at a time, in arrival order. The web channel answers in the HTTP response
(`handle`, which stores and processes in one go); Telegram and WhatsApp answers go to the outbox in the
same transaction that marks the message answered.

A turn uses one session: the message and its conversation are looked up once, the conversation's state is
loaded once (`bot.conversations.state`) and passed from stage to stage. The inbound side (storing, the
owner gate, the rating, consent) is one transaction, committed before anything leaves the process (Rasa,
a channel, the documents); the answer, the state, the outbox rows and any handoff are the other one. A
turn the gateway answers by itself (a duplicate, a message waiting for a person, a rating) is one
transaction in all.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

import structlog
from sqlalchemy.exc import DBAPIError, IntegrityError, InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import metrics
from bot.channels.base import ChannelRegistry
from bot.conversations.addresses import AddressBook
from bot.conversations.consent import ConsentGate
from bot.conversations.delivery import deliver
from bot.conversations.media import MediaVerifier
from bot.conversations.message_check import MessageCheck
from bot.conversations.messages import BotMessage, InboundKind, InboundMessage
from bot.conversations.rasa_client import RasaClient
from bot.conversations.stages import (
    Answer,
    AskRasa,
    CheckMessage,
    Consent,
    Media,
    Outcome,
    OwnerGate,
    Rating,
    Signals,
    Stage,
    Turn,
    Wait,
    asks_to_wait,
    chosen_option,
    dedupe,
    from_texto,
    numbered_choice,
    pending_question,
    reopen,
    split_signals,
)
from bot.conversations.state import ConversationState
from bot.conversations.turn_locks import LocalTurnLocks, TurnLocks
from bot.handoff.service import Change, HandoffService
from bot.privacy.vault import Vault, pseudonymize
from bot.storage import conversations as repo
from bot.storage.models import Conversation, Message, MessageStatus
from bot.storage.models_privacy import ConsentRecord
from bot.texts import Textos

__all__ = [
    "Accepted",
    "ConversationRouter",
    "Outcome",
    "RouteResult",
    "asks_to_wait",
    "chosen_option",
    "from_texto",
    "split_signals",
]

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class RouteResult:
    outcome: Outcome
    replies: tuple[BotMessage, ...]


@dataclass(frozen=True)
class Accepted:
    message_id: int
    duplicate: bool


@dataclass(frozen=True)
class _Stored:
    """An inbound message as `_store_inbound` leaves it (not committed)."""

    message: Message
    conversation: Conversation
    state: ConversationState
    duplicate: bool
    consents: dict[str, ConsentRecord] | None = None


class ConversationRouter:
    """Routes inbound messages of every channel; the single owner of conversation state."""

    def __init__(
        self,
        *,
        sessions: async_sessionmaker[AsyncSession],
        rasa: RasaClient,
        textos: Textos,
        channels: ChannelRegistry,
        vault: Vault,
        outbox_notify: Callable[[], None] = lambda: None,
        handoff: HandoffService | None = None,
        consent: ConsentGate | None = None,
        privacy: Callable[[str], Awaitable[object]] | None = None,
        addresses: AddressBook | None = None,
        media: MediaVerifier | None = None,
        message_check: MessageCheck | None = None,
        turn_locks: TurnLocks | None = None,
    ) -> None:
        self._addresses = addresses
        self._consent = consent
        self._sessions = sessions
        self._handoff = handoff
        self._privacy = privacy  # deletes a citizen's data when an action asks for it
        self._vault = vault
        self._rasa = rasa
        self._textos = textos
        self._channels = channels
        self._outbox_notify = outbox_notify
        # One turn at a time per chat: in this process, or in every gateway process (Redis).
        self._turn_locks: TurnLocks = turn_locks or LocalTurnLocks()
        # The stages, in order (bot.conversations.stages): the inbound transaction's, then those outside it.
        self._inbound: tuple[Stage, ...] = (
            dedupe,
            reopen,
            OwnerGate(handoff),
            numbered_choice,
            Rating(handoff),
            Consent(consent, textos),
        )
        self._outside: tuple[Stage, ...] = (
            Media(media, textos),  # photos and PDFs sent in the chat are verified (bot.conversations.media)
            Wait(rasa, textos),
            CheckMessage(message_check, rasa, textos),  # «¿esto es oficial?» on a forwarded message with a link
            AskRasa(rasa, textos),
            Signals(rasa, textos),
        )

    @property
    def channels(self) -> ChannelRegistry:
        return self._channels

    def conversation_lock(self, conversation_id: str) -> AbstractAsyncContextManager[None]:
        return self._turn_locks(conversation_id)

    async def handle(self, message: InboundMessage) -> RouteResult:
        """Synchronous channels: store and process now, returning what the citizen should see.

        The database unreachable or dropping the connection (a restart, a failover, SQLite locked too long) is
        an outcome like Rasa down: an apology, and the channel asks for the same message again (the web
        chat's 503). Whatever the turn had not committed is rolled back; a message stored before the failure
        is found again by its id and Rasa's answer to it reused (`AskRasa`).
        """
        with metrics.turn(message.channel) as done:
            try:
                async with self.conversation_lock(message.conversation_id), self._sessions() as session:
                    turn = await self._receive(session, message)
                    result = await self._through(turn)
            except DBAPIError as exc:
                if not (exc.connection_invalidated or isinstance(exc, OperationalError | InterfaceError)):
                    raise
                log.warning("turn.database_unavailable", error=type(exc.orig).__name__ if exc.orig else "")
                apology = from_texto(self._textos.render("base_no_disponible"))
                result = RouteResult(Outcome.UNAVAILABLE, (apology,))
            done(result.outcome)
        return result

    async def accept(self, message: InboundMessage) -> Accepted:
        """Store the inbound message (first thing, before any answer); a known channel id is a duplicate."""
        async with self._sessions() as session:
            try:
                with metrics.stage("store"):
                    stored = await self._store_inbound(session, message)
                    if stored.duplicate:
                        return Accepted(stored.message.id, duplicate=True)
                    message_id = stored.message.id
                    await self._commit(session, stored.conversation, stored.state, inbound_at=stored.message.created_at)
            except IntegrityError:  # the same id arrived concurrently on another connection
                earlier = await self._stored_meanwhile(session, message)
                if earlier is None:
                    raise
                return Accepted(earlier, duplicate=True)
        log.info("inbound.stored", conversation=message.conversation_id, kind=message.kind.value)
        return Accepted(message_id, duplicate=False)

    async def process(self, message_id: int, *, conversation_id: str | None = None, retry: bool = False) -> RouteResult:
        """Asynchronous channels: process one stored message (the caller keeps per-chat order); ``retry`` when it
        may have reached Rasa before (recovered after a crash, tried again after an error)."""
        if conversation_id is None:
            async with self._sessions() as session:
                stored = await session.get(Message, message_id)
                conversation_id = stored.conversation_id if stored else ""
        with metrics.turn(conversation_id.split(":", 1)[0]) as done:
            async with self.conversation_lock(conversation_id):
                result = await self._process_locked(message_id, retry=retry)
            done(result.outcome)
        return result

    def wake_outbox(self) -> None:
        """Start delivering what was queued (call after the commit)."""
        self._outbox_notify()

    # ------------------------------------------------------------------------------------ the turn

    async def _process_locked(self, message_id: int, *, retry: bool = False) -> RouteResult:
        async with self._sessions() as session:
            stored = await session.get(Message, message_id)
            if stored is None:
                raise LookupError(f"no inbound message {message_id}")
            conversation = await repo.get_or_create_conversation(
                session=session, conversation_id=stored.conversation_id, channel=""
            )
            state = ConversationState.load(conversation.options)
            return await self._through(self._turn(session, stored, conversation, state, None, retry=retry))

    async def _receive(self, session: AsyncSession, message: InboundMessage) -> Turn:
        """Store ``message`` in the turn's session (committed with the inbound stages) and start its turn."""
        try:
            with metrics.stage("store"):
                stored = await self._store_inbound(session, message, turn=True)
        except IntegrityError:  # the same id arrived concurrently on another connection: that one is the turn's
            message_id = await self._stored_meanwhile(session, message)
            again = await session.get(Message, message_id) if message_id is not None else None
            conversation = await session.get(Conversation, message.conversation_id)
            if again is None or conversation is None:
                raise
            state = ConversationState.load(conversation.options)
            return self._turn(session, again, conversation, state, message.content, retry=True)
        if not stored.duplicate:
            log.info("inbound.stored", conversation=message.conversation_id, kind=message.kind.value)
        # Stored by an earlier request (the web chat's retry, a second gateway): Rasa may have answered it already.
        return self._turn(
            session,
            stored.message,
            stored.conversation,
            stored.state,
            message.content,
            retry=stored.duplicate,
            consents=stored.consents,
        )

    async def _through(self, turn: Turn) -> RouteResult:
        """Run the stages: the inbound ones, commit, then those outside the transaction; store the answer."""
        answer, turn = await self._run(turn, self._inbound)
        if answer is None:
            # Before anything leaves the process. The conversation's ``last_inbound_at`` waits for the answer's
            # commit (`_commit`'s ``inbound_at``), which writes the conversation anyway: one statement less here.
            await self._commit(turn.session, turn.conversation, turn.state)
            answer, turn = await self._run(turn, self._outside)
        if answer is None:
            raise RuntimeError("no stage answered")  # the signals stage always answers
        return await self._finish(turn, answer)

    @staticmethod
    async def _run(turn: Turn, stages: tuple[Stage, ...]) -> tuple[Answer | None, Turn]:
        for stage in stages:
            step = await stage(turn)
            if isinstance(step, Answer):
                return step, turn
            turn = step
        return None, turn

    async def _finish(self, turn: Turn, answer: Answer) -> RouteResult:
        if answer.outcome is Outcome.DUPLICATE:
            return RouteResult(answer.outcome, answer.replies)
        if answer.outcome is Outcome.WAITING:
            await self._commit(turn.session, turn.conversation, answer.state, inbound_at=turn.message.created_at)
            if answer.queued:
                self.wake_outbox()
            for event in answer.events:
                if self._handoff is not None:
                    self._handoff.announce(event)
            return RouteResult(answer.outcome, answer.replies)
        if answer.outcome is Outcome.UNAVAILABLE:
            await self._mark_failed(turn, answer.replies[0] if turn.asynchronous else None)
            return RouteResult(answer.outcome, answer.replies)
        replies = list(answer.replies)
        if answer.follow_form:  # in the middle of a form its question comes back: ask Rasa outside the transaction
            await self._commit(turn.session, turn.conversation, answer.state, inbound_at=turn.message.created_at)
            replies += await pending_question(turn, self._rasa, self._textos)
        await self._store_answer(turn, answer, replies)
        shown = list(replies)
        if answer.then_process is not None:  # the message that came before the consent
            shown += (await self._process_locked(answer.then_process)).replies
        if answer.delete_data and self._privacy is not None:
            await self._privacy(turn.conversation.id)  # after the answer is stored: the deletion takes it too
        return RouteResult(answer.outcome, tuple(shown))

    @metrics.timed("answer")
    async def _store_answer(self, turn: Turn, answer: Answer, replies: list[BotMessage]) -> None:
        """The outbound transaction: the answer, the state, the outbox rows, the handoffs, the message answered."""
        session, conversation = turn.session, turn.conversation
        delivered = await deliver(
            session,
            conversation=conversation,
            channel=turn.adapter,
            messages=replies,
            author="bot",
            reply_to=turn.message,
        )
        state = answer.state.answered(replies, secret=answer.secret)
        queued = delivered.queued
        # --- handoff: bot → queue; the place in the queue (or the opening time) follows the bot's answer.
        changes: list[Change] = []
        for handoff in answer.handoffs:
            if self._handoff is None:
                await repo.add_handoff_request(
                    session=session, conversation_id=conversation.id, reason=handoff.reason, team=handoff.team
                )
                continue
            change = await self._handoff.request(
                session=session, conversation=conversation, reason=handoff.reason, team=handoff.team
            )
            if change is not None:
                changes.append(change)
                notices = [from_texto(t) for t in change.notices]
                told = await deliver(
                    session, conversation=conversation, channel=turn.adapter, messages=notices, author="system"
                )
                state = state.offering(notices)
                queued = queued or told.queued
        await repo.set_status(session=session, message=turn.message, status=MessageStatus.ANSWERED)
        if answer.then_process is not None:  # processed next as a message of its own
            kept = await session.get(Message, answer.then_process)
            if kept is not None:
                await repo.set_status(session=session, message=kept, status=MessageStatus.RECEIVED)
        await self._commit(session, conversation, state, inbound_at=turn.message.created_at)
        if queued:
            self.wake_outbox()
        for change in changes:
            if self._handoff is not None:
                self._handoff.announce(change.event)

    async def _mark_failed(self, turn: Turn, apology: BotMessage | None) -> None:
        """Keep the message for a retry (the state stays as the inbound side left it); asynchronous channels get
        the apology once."""
        already = turn.message.status == MessageStatus.FAILED
        await repo.set_status(session=turn.session, message=turn.message, status=MessageStatus.FAILED)
        if apology is not None and not already:
            await deliver(
                turn.session, conversation=turn.conversation, channel=turn.adapter, messages=[apology], author="system"
            )
        await self._commit(turn.session, turn.conversation, None, inbound_at=turn.message.created_at)
        if apology is not None:
            self.wake_outbox()

    # ------------------------------------------------------------------------------------ internals

    async def _store_inbound(self, session: AsyncSession, message: InboundMessage, *, turn: bool = False) -> _Stored:
        """Store ``message`` (not committed); ``turn``: its stages run in this transaction (the web channel's)."""
        # With the consent records when the stages follow in this transaction, in the same statement: read before
        # the INSERT (from the INSERT to the commit SQLite's write lock is held and every other writer of the file
        # waits), and the consent stage then needs no query of its own.
        consents = None
        if turn and self._consent is not None:
            conversation, consents = await self._consent.with_conversation(
                session=session, conversation_id=message.conversation_id, channel=message.channel
            )
        else:
            conversation = await repo.get_or_create_conversation(
                session=session, conversation_id=message.conversation_id, channel=message.channel
            )
        loaded = state = ConversationState.load(conversation.options)
        if message.address is not None and self._addresses is not None:
            await self._addresses.remember(
                session=session, conversation_id=message.conversation_id, address=message.address
            )
        # Identifiers go to the vault before anything is stored or reaches Rasa (see bot.privacy.vault).
        expected = state.secret
        protected = await pseudonymize(
            message.text, self._vault, secret_expected=expected, owner=message.conversation_id
        )
        metadata: dict[str, Any] = {"kind": message.kind.value}
        if expected is not None:  # kept if this message turns out to be «espere, ya le paso el código»
            metadata["secreto_esperado"] = expected
            state = replace(state, secret=None)
        if isinstance(message.metadata.get("cliente"), str):  # the web client's keyed hash (gateway)
            metadata["cliente"] = message.metadata["cliente"]
        if isinstance(message.metadata.get("request_id"), str):  # log lines of the turn carry it, later too
            metadata["request_id"] = message.metadata["request_id"]
        if message.metadata.get("reenviado") is True:  # the channel marked it forwarded (message_check)
            metadata["reenviado"] = True
        if protected.masked:
            metadata["masked"] = protected.masked
        if message.media is not None:  # how to fetch the file, never the file
            metadata["media"] = message.media.as_payload()
        stored = await repo.add_inbound_once(
            session=session,
            conversation=conversation,
            channel_message_id=message.channel_message_id,
            text=protected.text,
            payload=metadata,
        )
        if stored is None:  # stored before (a retry, another gateway): that message is the turn's
            earlier = await repo.find_inbound(
                session=session,
                conversation_id=message.conversation_id,
                channel_message_id=message.channel_message_id,
            )
            if earlier is None:
                raise LookupError(f"inbound message {message.channel_message_id!r} neither stored nor found")
            return _Stored(earlier, conversation, loaded, duplicate=True)
        return _Stored(stored, conversation, state, duplicate=False, consents=consents)

    @staticmethod
    async def _stored_meanwhile(session: AsyncSession, message: InboundMessage) -> int | None:
        """The id of the message another connection stored first (after our insert failed), if that was it."""
        await session.rollback()
        again = await repo.find_inbound(
            session=session,
            conversation_id=message.conversation_id,
            channel_message_id=message.channel_message_id,
        )
        return again.id if again is not None else None

    def _turn(
        self,
        session: AsyncSession,
        stored: Message,
        conversation: Conversation,
        state: ConversationState,
        content: bytes | None,
        *,
        retry: bool = False,
        consents: dict[str, ConsentRecord] | None = None,
    ) -> Turn:
        payload = stored.payload or {}
        request_id = payload.get("request_id")
        if isinstance(request_id, str):  # every log line of this turn, here and in the action server
            structlog.contextvars.bind_contextvars(request_id=request_id)
        return Turn(
            session=session,
            message=stored,
            conversation=conversation,
            state=state,
            adapter=self._channels.find(conversation.channel),
            kind=InboundKind(payload.get("kind", InboundKind.TEXT)),
            text=stored.text or "",
            content=content,
            log=log.bind(conversation=conversation.id, message=stored.id),
            request_id=request_id if isinstance(request_id, str) else None,
            retry=retry,
            consents=consents,
        )

    @staticmethod
    async def _commit(
        session: AsyncSession,
        conversation: Conversation,
        state: ConversationState | None,
        *,
        inbound_at: datetime | None = None,
    ) -> None:
        """Write what changed of the conversation in one statement (the state, unless None; the time of the
        citizen's latest message, ``inbound_at``, when it is later than the one stored), and commit."""
        values: dict[str, Any] = {}
        if state is not None and (dumped := state.dump()) != conversation.options:
            values["options"] = dumped
        stored_at = conversation.last_inbound_at
        if inbound_at is not None and (stored_at is None or inbound_at > stored_at):
            values["last_inbound_at"] = inbound_at
        if values:
            await repo.update_conversation(session=session, conversation=conversation, values=values)
        await session.commit()
