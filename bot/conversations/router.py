"""The conversation router: store first, deduplicate, gate by owner, ask Rasa, store the answer.

Every channel goes through `accept` (store the inbound message, deduplicated by the channel's own id)
and `process` (decide who answers and record the answer). Messages of one conversation are processed
one at a time, in arrival order. The web channel answers in the HTTP response (`handle`); Telegram
and WhatsApp answers go to the outbox in the same transaction that marks the message answered.
"""

from __future__ import annotations

import asyncio
import re
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

import structlog
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import metrics
from bot.channels.base import ChannelRegistry
from bot.conversations.addresses import AddressBook
from bot.conversations.consent import ConsentGate
from bot.conversations.media import MediaVerifier
from bot.conversations.message_check import MessageCheck
from bot.conversations.messages import BotMessage, Button, HandoffSignal, InboundKind, InboundMessage, MediaReference
from bot.conversations.rasa_client import RasaClient, RasaUnavailable
from bot.handoff.service import Change, HandoffService
from bot.handoff.state import bot_answers, check_transition
from bot.language import fold
from bot.privacy.vault import REFERENCE, Vault, pseudonymize
from bot.storage import conversations as repo
from bot.storage.models import Conversation, Message, MessageStatus, Owner
from bot.texts import Texto, Textos

log = structlog.get_logger(__name__)

# Spanish number words a citizen may use to pick a numbered option on WhatsApp.
NUMBER_WORDS = {
    "uno": 1, "una": 1, "primera": 1, "primero": 1, "dos": 2, "segunda": 2, "segundo": 2, "tres": 3,
    "tercera": 3, "tercero": 3, "cuatro": 4, "cinco": 5, "seis": 6, "siete": 7, "ocho": 8, "nueve": 9, "diez": 10,
}  # fmt: skip
_OPTION = re.compile(
    r"^\s*(?:(?:la\s+)?opci[oó]n\s+)?(?:n[uú]mero\s+)?(\d{1,2}|[a-záéíóú]+)\s*[.)]?\s*$", re.IGNORECASE
)


class Outcome(StrEnum):
    ANSWERED = "answered"  # the bot answered now
    DUPLICATE = "duplicate"  # seen before: the stored answer is returned again
    WAITING = "waiting"  # a person owns the conversation; the message waits in the console
    UNAVAILABLE = "unavailable"  # Rasa is down or loading: the citizen got an apology


@dataclass(frozen=True)
class RouteResult:
    outcome: Outcome
    replies: tuple[BotMessage, ...]


@dataclass(frozen=True)
class Accepted:
    message_id: int
    duplicate: bool


def chosen_option(text: str, options: list[dict[str, str]]) -> str | None:
    """The payload of the option a citizen picked by number ("2", "dos", "opción 2"), if any."""
    match = _OPTION.match(text)
    if match is None or not options:
        return None
    token = match.group(1).lower()
    number = int(token) if token.isdigit() else NUMBER_WORDS.get(token)
    if number is None or not 1 <= number <= len(options):
        return None
    return options[number - 1]["payload"]


def from_texto(texto: Texto) -> BotMessage:
    """A rendered template as a message for the citizen."""
    return BotMessage(text=texto.text, buttons=tuple(Button(t, p) for t, p in texto.buttons))


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
    ) -> None:
        self._media = media  # photos and PDFs sent in the chat are verified (bot.conversations.media)
        self._message_check = message_check  # «¿esto es oficial?» on a forwarded message with a link
        self._addresses = addresses
        self._sessions = sessions
        self._handoff = handoff
        self._consent = consent
        self._privacy = privacy  # deletes a citizen's data when an action asks for it
        self._vault = vault
        self._rasa = rasa
        self._textos = textos
        self._channels = channels
        self._outbox_notify = outbox_notify
        self._locks: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()

    @asynccontextmanager
    async def conversation_lock(self, conversation_id: str) -> AsyncIterator[None]:
        lock = self._locks.get(conversation_id)
        if lock is None:
            lock = asyncio.Lock()
            self._locks[conversation_id] = lock
        async with lock:
            yield

    async def handle(self, message: InboundMessage) -> RouteResult:
        """Synchronous channels: accept and process now, returning what the citizen should see."""
        with metrics.turn(message.channel) as done:
            async with self.conversation_lock(message.conversation_id):
                accepted = await self.accept(message)
                result = await self._process_locked(accepted.message_id, content=message.content)
            done(result.outcome)
        return result

    @metrics.timed("store")
    async def accept(self, message: InboundMessage) -> Accepted:
        """Store the inbound message (first thing, before any answer); a known channel id is a duplicate."""
        async with self._sessions() as session:
            conversation = await repo.get_or_create_conversation(
                session=session, conversation_id=message.conversation_id, channel=message.channel
            )
            stored = await repo.find_inbound(
                session=session,
                conversation_id=message.conversation_id,
                channel_message_id=message.channel_message_id,
            )
            if stored is not None:
                return Accepted(stored.id, duplicate=True)
            if message.address is not None and self._addresses is not None:
                await self._addresses.remember(
                    session=session, conversation_id=message.conversation_id, address=message.address
                )
            # Identifiers go to the vault before anything is stored or reaches Rasa (see bot.privacy.vault).
            state = dict(conversation.options or {})
            expected = state.pop("secreto", None)
            protected = await pseudonymize(
                message.text, self._vault, secret_expected=expected, owner=message.conversation_id
            )
            if expected is not None:
                conversation.options = state or None
            metadata: dict[str, Any] = {"kind": message.kind.value}
            if expected is not None:  # kept if this message turns out to be «espere, ya le paso el código»
                metadata["secreto_esperado"] = expected
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
            stored = await repo.add_inbound(
                session=session,
                conversation=conversation,
                channel_message_id=message.channel_message_id,
                text=protected.text,
                payload=metadata,
            )
            message_id = stored.id
            try:
                await session.commit()
            except IntegrityError:  # the same id arrived concurrently on another connection
                await session.rollback()
                again = await repo.find_inbound(
                    session=session,
                    conversation_id=message.conversation_id,
                    channel_message_id=message.channel_message_id,
                )
                if again is None:
                    raise
                return Accepted(again.id, duplicate=True)
        log.info("inbound.stored", conversation=message.conversation_id, kind=message.kind.value)
        return Accepted(message_id, duplicate=False)

    async def process(self, message_id: int) -> RouteResult:
        """Asynchronous channels: process one stored message (the caller keeps per-chat order)."""
        async with self._sessions() as session:
            stored = await session.get(Message, message_id)
            conversation_id = stored.conversation_id if stored else ""
        with metrics.turn(conversation_id.split(":", 1)[0]) as done:
            async with self.conversation_lock(conversation_id):
                result = await self._process_locked(message_id)
            done(result.outcome)
        return result

    async def _process_locked(self, message_id: int, *, content: bytes | None = None) -> RouteResult:
        async with self._sessions() as session:
            stored = await session.get(Message, message_id)
            if stored is None:
                raise LookupError(f"no inbound message {message_id}")
            conversation = await repo.get_or_create_conversation(
                session=session, conversation_id=stored.conversation_id, channel=""
            )
            request_id = (stored.payload or {}).get("request_id")
            if isinstance(request_id, str):  # every log line of this turn, here and in the action server
                structlog.contextvars.bind_contextvars(request_id=request_id)
            bound = log.bind(conversation=conversation.id, message=message_id)
            if stored.status in (MessageStatus.ANSWERED, MessageStatus.WAITING):
                earlier = await repo.replies_to(session=session, message=stored)
                bound.info("inbound.duplicate")
                return RouteResult(Outcome.DUPLICATE, tuple(BotMessage.from_payload(r.payload or {}) for r in earlier))
            if conversation.owner == Owner.CLOSED:
                check_transition(conversation.owner, Owner.BOT)
                await repo.record_owner_change(
                    session=session,
                    conversation=conversation,
                    to_owner=Owner.BOT,
                    actor="ciudadano",
                    reason="nuevo_mensaje",
                )
            if not bot_answers(conversation.owner):
                stored.status = MessageStatus.WAITING
                # --- handoff: the consoles showing this conversation fetch the new message; the citizen is told
                # their place and wait (or the opening time), never left with an empty answer.
                waiting, ack = None, None
                if self._handoff is not None:
                    waiting = await self._handoff.waiting(session=session, conversation_id=conversation.id)
                    ack = await self._handoff.acknowledge(session=session, conversation_id=conversation.id)
                acks = [from_texto(ack)] if ack is not None else []
                channel = self._channels.find(conversation.channel)
                if channel is not None and channel.asynchronous:  # Telegram, WhatsApp: through the outbox
                    await self.stage_outbound(
                        session=session, conversation=conversation, messages=acks, author="system"
                    )
                    acks_in_answer = []
                else:  # the web chat gets it in this answer: stored as the reply to this message, so that
                    acks_in_answer = acks  # the polling of news does not show it a second time
                for message in acks_in_answer:
                    await repo.add_outbound(
                        session=session,
                        conversation_id=conversation.id,
                        reply_to=stored,
                        author="system",
                        text=message.text,
                        payload=message.as_payload(),
                    )
                await session.commit()
                if acks:
                    self.wake_outbox()
                if waiting is not None and self._handoff is not None:
                    self._handoff.announce(waiting)
                bound.info("inbound.waiting_for_person", owner=conversation.owner)
                return RouteResult(Outcome.WAITING, tuple(acks))
            kind = InboundKind((stored.payload or {}).get("kind", InboundKind.TEXT))
            text = stored.text or ""
            adapter = self._channels.find(conversation.channel)
            if adapter is not None and adapter.numbered_options:
                picked = chosen_option(text, list((conversation.options or {}).get("buttons", [])))
                text = picked or text
            # --- handoff: a reply to the rating question asked when a person's attention ended never reaches Rasa.
            rated: tuple[Texto, ...] = ()
            if self._handoff is not None and kind is InboundKind.TEXT:
                rated = await self._handoff.answer_csat(session=session, conversation=conversation, text=text)
            # --- consent: at first contact nothing goes on until the citizen answers (consentimiento.py).
            decision = None
            if self._consent is not None and not rated:
                decision = await self._consent.decide(
                    session=session, conversation=conversation, message_id=message_id, text=text
                )
            await session.commit()
        if decision is not None and not decision.forward:
            answer = [self._texto(decision.texto, **decision.valores)] if decision.texto else []
            if decision.texto in _SIDE_ANSWERS:  # said in the middle of a form: its question comes back
                answer += await self._pending_question(conversation.id)
            await self._store_answer(message_id, answer, [], None)
            shown = list(answer)
            if decision.process_pending is not None:  # the message that came before the consent
                await self._reopen(decision.process_pending)
                shown += (await self._process_locked(decision.process_pending)).replies
            bound.info("inbound.consent", texto=decision.texto)
            return RouteResult(Outcome.ANSWERED, tuple(shown))
        if rated:
            answer = [from_texto(t) for t in rated]
            await self._store_answer(message_id, answer, [], None)
            bound.info("inbound.rating_recorded")
            return RouteResult(Outcome.ANSWERED, tuple(answer))

        direct = {
            InboundKind.UNSUPPORTED: "solo_texto",
            InboundKind.OWN_CONTACT: "contacto_recibido",
            InboundKind.OTHER_CONTACT: "contacto_ajeno",
            InboundKind.MEDIA: None if self._media is not None else "solo_texto",
        }.get(kind)
        secret_kept: str | None = None
        if direct is None and kind is InboundKind.TEXT and asks_to_wait(text):
            # «espere que le pregunto a mi esposo», «ahorita le paso el código»: nothing to understand, the form
            # keeps its question (and the código dactilar still goes whole to the vault when it comes).
            direct = "le_espero"
            expected = (stored.payload or {}).get("secreto_esperado")
            secret_kept = str(expected) if expected else None
        checked = None
        if direct is None and kind is InboundKind.TEXT and self._message_check is not None:
            # --- «¿esto es oficial?»: a forwarded or pasted message with a link is checked here, never by Rasa.
            checked = await self._message_check.answer(
                text, conversation_id=conversation.id, forwarded=(stored.payload or {}).get("reenviado") is True
            )
        if direct is not None:
            replies = [self._texto(direct)]
            if direct == "le_espero":  # the question waiting for an answer stays on screen
                replies += (await self._pending_question(conversation.id))[1:]
        elif checked is not None:  # in the middle of a form, its question comes back after the verdict
            replies = [from_texto(checked), *await self._pending_question(conversation.id)]
        elif kind is InboundKind.MEDIA and self._media is not None:  # --- media: verified here, never by Rasa
            media = MediaReference.from_payload((stored.payload or {}).get("media"))
            replies = [from_texto((await self._media.answer(adapter, media, content=content)).texto)]
        else:
            if adapter is not None and adapter.asynchronous:
                await adapter.typing(conversation.id.split(":", 1)[1])
            try:
                metadata = {"channel": conversation.channel, "message_id": stored.channel_message_id}
                client = (stored.payload or {}).get("cliente")
                if isinstance(client, str):
                    metadata["cliente"] = client
                if isinstance(request_id, str):
                    metadata["request_id"] = request_id
                replies = await self._rasa.send(sender=conversation.id, message=text, metadata=metadata)
            except RasaUnavailable as exc:
                bound.warning("rasa.unavailable", error=str(exc))
                apology = self._texto("rasa_no_disponible")
                await self._mark_failed(message_id, apology if adapter is not None and adapter.asynchronous else None)
                return RouteResult(Outcome.UNAVAILABLE, (apology,))
            if not replies:
                bound.warning("rasa.empty_reply")
                replies = [self._texto("respuesta_vacia")]
        visible, handoffs, secret = split_signals(replies)
        secret = secret or secret_kept
        notice = False
        # The privacy notice follows the first answer that asks nothing: one question at a time.
        if decision is not None and decision.aviso and await self._rasa.active_loop(conversation.id) is None:
            visible.append(self._texto(decision.aviso, **decision.valores))
            notice = True
        await self._store_answer(message_id, visible, handoffs, secret, notice_shown=notice)
        bound.info("inbound.answered", replies=len(visible), handoffs=len(handoffs))
        if self._privacy is not None and any((r.custom or {}).get("privacidad") == "borrar" for r in replies):
            await self._privacy(conversation.id)  # after the answer is stored: the deletion takes it too
        return RouteResult(Outcome.ANSWERED, tuple(visible))

    async def _reopen(self, message_id: int) -> None:
        async with self._sessions() as session:
            stored = await session.get(Message, message_id)
            if stored is not None:
                stored.status = MessageStatus.RECEIVED
                await session.commit()

    async def _pending_question(self, conversation_id: str) -> list[BotMessage]:
        """The question a form is waiting for, asked again after an answer the gateway gave by itself
        (consent withdrawn or given mid-form): «Sigamos con su trámite:» and the form's last question."""
        if await self._rasa.active_loop(conversation_id) is None:
            return []
        async with self._sessions() as session:
            recent = await repo.latest_outbound_messages(session=session, conversation_id=conversation_id, limit=8)
        side = {self._textos.render(key).text.split("{")[0][:30] for key in _SIDE_ANSWERS}
        for message in recent:  # newest first
            if message.author != "bot" or not message.text:
                continue
            if any(message.text.startswith(prefix) for prefix in side):
                continue  # an earlier side answer: look further back
            return [self._texto("seguimos_tramite"), BotMessage.from_payload(message.payload or {"text": message.text})]
        return []

    def _texto(self, key: str, **values: Any) -> BotMessage:
        return from_texto(self._textos.render(key, **values))

    async def _mark_failed(self, message_id: int, apology: BotMessage | None) -> None:
        """Keep the message for a retry; asynchronous channels get the apology once."""
        async with self._sessions() as session:
            stored = await session.get(Message, message_id)
            if stored is None:
                return
            already = stored.status == MessageStatus.FAILED
            stored.status = MessageStatus.FAILED
            if apology is not None and not already:
                conversation = await repo.get_or_create_conversation(
                    session=session, conversation_id=stored.conversation_id, channel=""
                )
                await repo.add_outbound(
                    session=session,
                    conversation_id=stored.conversation_id,
                    reply_to=None,
                    author="system",
                    text=apology.text,
                    payload=apology.as_payload(),
                )
                await repo.enqueue_outbox(
                    session=session, conversation_id=conversation.id, channel=conversation.channel, messages=[apology]
                )
            await session.commit()
        if apology is not None:
            self._outbox_notify()

    @metrics.timed("answer")
    async def _store_answer(
        self,
        message_id: int,
        replies: list[BotMessage],
        handoffs: list[HandoffSignal],
        secret: str | None,
        *,
        notice_shown: bool = False,
    ) -> None:
        async with self._sessions() as session:
            inbound = await session.get(Message, message_id)
            if inbound is None:
                return
            conversation = await repo.get_or_create_conversation(
                session=session, conversation_id=inbound.conversation_id, channel=""
            )
            for reply in replies:
                await repo.add_outbound(
                    session=session,
                    conversation_id=conversation.id,
                    reply_to=inbound,
                    author="bot",
                    text=reply.text,
                    payload=reply.as_payload(),
                )
            offered = [b for reply in replies for b in reply.buttons]
            # Only the latest buttons can be picked by number; an answer without buttons clears them.
            state: dict[str, Any] = {
                k: v for k, v in (conversation.options or {}).items() if k not in ("buttons", "secreto")
            }
            if offered:
                state["buttons"] = [{"title": b.title, "payload": b.payload} for b in offered]
            if secret:
                state["secreto"] = secret  # the next message is the answer to a secret question
            conversation.options = state or None
            if notice_shown:
                ConsentGate.notice_shown(conversation)
            adapter = self._channels.find(conversation.channel)
            queued = adapter is not None and adapter.asynchronous and bool(replies)
            if queued:
                await repo.enqueue_outbox(
                    session=session, conversation_id=conversation.id, channel=conversation.channel, messages=replies
                )
            # --- handoff: bot → queue; the place in the queue (or the opening time) follows the bot's answer.
            changes: list[Change] = []
            for handoff in handoffs:
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
                    if await self.stage_outbound(
                        session=session, conversation=conversation, messages=notices, author="system"
                    ):
                        queued = True
            inbound.status = MessageStatus.ANSWERED
            await session.commit()
        if queued:
            self._outbox_notify()
        for change in changes:
            if self._handoff is not None:
                self._handoff.announce(change.event)

    # --- handoff: messages nobody asked for (a person's replies, handoff notices, resent documents).
    async def stage_outbound(
        self, *, session: AsyncSession, conversation: Conversation, messages: Sequence[BotMessage], author: str
    ) -> list[int]:
        """Store ``messages`` for the citizen outside any answer and queue them for the channel.

        The web chat fetches them (``GET /webhooks/rest/mensajes``); Telegram and WhatsApp get them
        through the outbox. The caller commits, then calls `wake_outbox`.

        Returns:
            The ids of the stored messages.
        """
        stored = [
            await repo.add_outbound(
                session=session,
                conversation_id=conversation.id,
                reply_to=None,
                author=author,
                text=message.text,
                payload=message.as_payload(),
            )
            for message in messages
        ]
        offered = [b for message in messages for b in message.buttons]
        if offered:  # the latest buttons can be picked by number
            conversation.options = {
                **(conversation.options or {}),
                "buttons": [{"title": b.title, "payload": b.payload} for b in offered],
            }
        adapter = self._channels.find(conversation.channel)
        if adapter is not None and adapter.asynchronous and messages:
            await repo.enqueue_outbox(
                session=session, conversation_id=conversation.id, channel=conversation.channel, messages=messages
            )
        return [message.id for message in stored]

    def wake_outbox(self) -> None:
        """Start delivering what `stage_outbound` queued (after the commit)."""
        self._outbox_notify()


# A message that only asks the bot to wait («espere un ratito», «ahorita le paso el código», «déjeme buscar la
# cédula»): no question (no «?»), no data (no digit, no vault reference), short.
_WAIT = re.compile(
    r"^(?:(?:ok|ya|bueno|si|claro|listo|ya mismo|mande|a ver)[\s,.]+)*"
    r"(?:espere(?:me|nos)?|espera(?:me)?|aguarde(?:me)?|un (?:momento|momentito|ratito|rato|segundo|segundito|minuto)"
    r"|deme un (?:momento|momentito|ratito|segundo|minuto)"
    r"|(?:ahorita|ahora|ya) (?:le|se lo|se la) (?:paso|doy|mando|escribo)"
    r"|dejeme (?:ver|buscar|preguntar|revisar|consultar)|voy a (?:ver|buscar|preguntar|revisar|consultar))\b"
)

# «espere, mejor quiero la licencia», «un momento, no, cancele»: more than a pause.
_NOT_ONLY_WAITING = re.compile(
    r"\b(quiero|quisiera|necesito|deseo|mejor|pero|cancel\w*|asesor|persona|ayuda|hablar|no|gracias|chao)\b"
)


def asks_to_wait(text: str) -> bool:
    """Whether ``text`` only asks Chasqui to wait (the citizen is looking for a document, asking someone)."""
    plain = fold(text).strip()
    return (
        len(plain) <= 90
        and "?" not in text
        and not any(c.isdigit() for c in plain)
        and REFERENCE.search(text) is None
        and _WAIT.match(plain) is not None
        and _NOT_ONLY_WAITING.search(plain) is None
    )


# What the gateway answers by itself about consent; in the middle of a form, the form's question follows.
_SIDE_ANSWERS = frozenset(
    {"consentimiento_retirado", "consentimiento_aceptado", "consentimiento_rechazado_web", "le_espero"}
)


def split_signals(replies: list[BotMessage]) -> tuple[list[BotMessage], list[HandoffSignal], str | None]:
    """Separate what the citizen sees from the signals actions send to the gateway.

    Signals: ``{"handoff": {"reason", "team"}}`` asks for a person; ``{"secreto": "codigo_dactilar"}`` says
    the bot has just asked for a secret, so the next message goes whole to the vault; ``{"sesion": "cerrada"}``
    is attached to the message before it, for the web chat to forget its id.
    """
    visible: list[BotMessage] = []
    handoffs: list[HandoffSignal] = []
    secret: str | None = None
    for reply in replies:
        custom = reply.custom or {}
        if isinstance(custom.get("secreto"), str):
            secret = str(custom["secreto"])
            continue
        if "privacidad" in custom:  # e.g. {"privacidad": "borrar"}: acted on by the gateway, never shown
            continue
        if "sesion" in custom:  # {"sesion": "cerrada"}: rides on the message it follows (the web chat reads it)
            if visible:
                visible[-1] = replace(visible[-1], custom={**(visible[-1].custom or {}), "sesion": custom["sesion"]})
            continue
        handoff = custom.get("handoff")
        if isinstance(handoff, dict):
            handoffs.append(
                HandoffSignal(reason=str(handoff.get("reason", "sin_motivo")), team=str(handoff.get("team", "general")))
            )
            if reply.text or reply.buttons:
                visible.append(BotMessage(text=reply.text, buttons=reply.buttons))
            continue
        visible.append(reply)
    return visible, handoffs, secret
