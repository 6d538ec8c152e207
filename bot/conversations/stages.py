"""The stages of a turn: what happens to a citizen's message, in order, each stage small and named.

A `Turn` (the stored message, its conversation and the conversation's typed `ConversationState`) goes
through the stages of `ConversationRouter` in order::

    dedupe → reopen → owner gate → numbered choice → rating → consent      (the inbound transaction)
    → media → wait → message check → Rasa → signals                        (outside any transaction)

Each stage reads the turn and returns it (changed: another text, another state) for the next stage, or an
`Answer` that ends the pipeline. The router stores the answer (`bot.conversations.delivery.deliver`) and
the final state in one transaction. Stages of the inbound transaction may write through ``turn.session``
(the caller commits); the later ones call Rasa, a channel or the documents and write nothing.
"""

from __future__ import annotations

import re
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.channels.base import ChannelAdapter
from bot.conversations.consent import ConsentGate, Decision
from bot.conversations.delivery import deliver
from bot.conversations.media import MediaVerifier
from bot.conversations.message_check import MessageCheck
from bot.conversations.messages import BotMessage, Button, HandoffSignal, InboundKind, MediaReference
from bot.conversations.rasa_client import RasaClient, RasaUnavailable
from bot.conversations.state import ConversationState
from bot.handoff.events import CaseEvent
from bot.handoff.service import HandoffService
from bot.handoff.state import bot_answers, check_transition
from bot.language import fold
from bot.privacy.vault import REFERENCE
from bot.storage import conversations as repo
from bot.storage.models import Conversation, Message, MessageStatus, Owner
from bot.storage.models_privacy import ConsentRecord
from bot.texts import Texto, Textos


class Outcome(StrEnum):
    ANSWERED = "answered"  # the bot answered now
    DUPLICATE = "duplicate"  # seen before: the stored answer is returned again
    WAITING = "waiting"  # a person owns the conversation; the message waits in the console
    UNAVAILABLE = "unavailable"  # Rasa is down or loading: the citizen got an apology


@dataclass(frozen=True)
class Turn:
    """One inbound message on its way through the stages.

    Attributes:
        session: the turn's session (the inbound stages write through it; the router commits).
        message: the stored inbound message.
        conversation: its conversation, looked up once.
        state: the conversation's state as the stages leave it (written by the router).
        adapter: the conversation's channel (None for a channel no longer configured).
        kind: what the citizen sent (text, a photo, a contact…).
        text: the text as the stages read it (a number picked from options becomes the option's payload).
        content: a file's bytes that came with the message (the web chat), for this turn only.
        log: the turn's logger (conversation and message bound).
        request_id: the request that brought the message (every log line of the turn carries it).
        consent: what the consent stage decided (the signals stage adds the notice it asks for).
        replies: the answer found by media, wait, message check or Rasa (the signals stage reads it).
        secret_kept: the secret still expected after «espere, ya le paso el código».
        consents: the consent records in force, read before the message was stored (the web channel's turn, so
            that its write transaction holds SQLite's lock for the least time); None: the consent stage reads them.
        retry: the message may have reached Rasa before (a channel's or the web chat's retry, a message recovered
            after a crash or retried after an error): Rasa's answer to it is looked up before asking again.
    """

    session: AsyncSession
    message: Message
    conversation: Conversation
    state: ConversationState
    adapter: ChannelAdapter | None
    kind: InboundKind
    text: str
    content: bytes | None
    log: Any
    request_id: str | None = None
    consent: Decision | None = None
    replies: tuple[BotMessage, ...] | None = None
    secret_kept: str | None = None
    consents: dict[str, ConsentRecord] | None = None
    retry: bool = False

    @property
    def asynchronous(self) -> bool:
        """Telegram, WhatsApp: answers go through the outbox, not in an HTTP response."""
        return self.adapter is not None and self.adapter.asynchronous

    @property
    def payload(self) -> dict[str, Any]:
        return self.message.payload or {}


@dataclass(frozen=True)
class Answer:
    """How a turn ends.

    Attributes:
        outcome: what kind of answer (for the channel and the metrics).
        replies: what the citizen sees.
        state: the conversation's state after the turn (before the answer's own buttons and secret).
        handoffs: persons asked for by an action.
        secret: the answer asks for a secret: the next message goes whole to the vault.
        stored: the stage stored and committed what it had to (a duplicate, a message waiting for a person).
        follow_form: a side answer: the question a form is waiting for comes back after it.
        then_process: an earlier message kept until consent, processed after this one.
        delete_data: an action asked to delete the citizen's data (after the answer is stored).
        queued: the stage queued messages in the outbox.
        events: what the consoles are told once committed.
    """

    outcome: Outcome
    replies: tuple[BotMessage, ...]
    state: ConversationState
    handoffs: tuple[HandoffSignal, ...] = ()
    secret: str | None = None
    stored: bool = False
    follow_form: bool = False
    then_process: int | None = None
    delete_data: bool = False
    queued: bool = False
    events: tuple[CaseEvent, ...] = ()


Stage = Callable[[Turn], Awaitable["Turn | Answer"]]


def from_texto(texto: Texto) -> BotMessage:
    """A rendered template as a message for the citizen."""
    return BotMessage(text=texto.text, buttons=tuple(Button(t, p) for t, p in texto.buttons))


# --------------------------------------------------------------------------------- the inbound stages


async def dedupe(turn: Turn) -> Turn | Answer:
    """A message answered before (a channel's retry, a second tab) gets the stored answer again."""
    if turn.message.status not in (MessageStatus.ANSWERED, MessageStatus.WAITING):
        return turn
    earlier = await repo.replies_to(session=turn.session, message=turn.message)
    turn.log.info("inbound.duplicate")
    replies = tuple(BotMessage.from_payload(r.payload or {}) for r in earlier)
    return Answer(Outcome.DUPLICATE, replies, turn.state, stored=True)


async def reopen(turn: Turn) -> Turn | Answer:
    """A citizen writing to a closed conversation reopens it with the bot."""
    if turn.conversation.owner == Owner.CLOSED:
        check_transition(turn.conversation.owner, Owner.BOT)
        await repo.record_owner_change(
            session=turn.session,
            conversation=turn.conversation,
            to_owner=Owner.BOT,
            actor="ciudadano",
            reason="nuevo_mensaje",
        )
    return turn


@dataclass(frozen=True)
class OwnerGate:
    """While a person owns the conversation the message waits in the console; the citizen is told their place
    and wait (or the opening time), never left with an empty answer."""

    handoff: HandoffService | None

    async def __call__(self, turn: Turn) -> Turn | Answer:
        if bot_answers(turn.conversation.owner):
            return turn
        await repo.set_status(session=turn.session, message=turn.message, status=MessageStatus.WAITING)
        events: tuple[CaseEvent, ...] = ()
        acks: list[BotMessage] = []
        if self.handoff is not None:
            waiting = await self.handoff.waiting(session=turn.session, conversation_id=turn.conversation.id)
            ack = await self.handoff.acknowledge(session=turn.session, conversation_id=turn.conversation.id)
            events = (waiting,) if waiting is not None else ()
            acks = [from_texto(ack)] if ack is not None else []
        # Telegram, WhatsApp: through the outbox. The web chat gets it in this answer: stored as the reply to
        # this message, so that the polling of news does not show it a second time.
        delivered = await deliver(
            turn.session,
            conversation=turn.conversation,
            channel=turn.adapter,
            messages=acks,
            author="system",
            reply_to=None if turn.asynchronous else turn.message,
        )
        turn.log.info("inbound.waiting_for_person", owner=turn.conversation.owner)
        state = turn.state.offering(acks) if turn.asynchronous else turn.state
        return Answer(Outcome.WAITING, tuple(acks), state, queued=delivered.queued or bool(acks), events=events)


# Spanish number words a citizen may use to pick a numbered option on WhatsApp.
NUMBER_WORDS = {
    "uno": 1, "una": 1, "primera": 1, "primero": 1, "dos": 2, "segunda": 2, "segundo": 2, "tres": 3,
    "tercera": 3, "tercero": 3, "cuatro": 4, "cinco": 5, "seis": 6, "siete": 7, "ocho": 8, "nueve": 9, "diez": 10,
}  # fmt: skip
_OPTION = re.compile(
    r"^\s*(?:(?:la\s+)?opci[oó]n\s+)?(?:n[uú]mero\s+)?(\d{1,2}|[a-záéíóú]+)\s*[.)]?\s*$", re.IGNORECASE
)


def chosen_option(text: str, options: Sequence[dict[str, str]]) -> str | None:
    """The payload of the option a citizen picked by number ("2", "dos", "opción 2"), if any."""
    match = _OPTION.match(text)
    if match is None or not options:
        return None
    token = match.group(1).lower()
    number = int(token) if token.isdigit() else NUMBER_WORDS.get(token)
    if number is None or not 1 <= number <= len(options):
        return None
    return options[number - 1]["payload"]


async def numbered_choice(turn: Turn) -> Turn | Answer:
    """On a channel that shows options as a numbered list, «2» or «dos» is the second option's payload."""
    if turn.adapter is None or not turn.adapter.numbered_options:
        return turn
    options = [{"title": b.title, "payload": b.payload} for b in turn.state.options]
    picked = chosen_option(turn.text, options)
    return replace(turn, text=picked) if picked else turn


@dataclass(frozen=True)
class Rating:
    """The reply to the rating question asked when a person's attention ended never reaches Rasa."""

    handoff: HandoffService | None

    async def __call__(self, turn: Turn) -> Turn | Answer:
        rating = turn.state.rating
        if self.handoff is None or turn.kind is not InboundKind.TEXT or rating is None:
            return turn
        rated = await self.handoff.answer_csat(session=turn.session, rating=rating, text=turn.text)
        if not rated:
            return turn
        turn.log.info("inbound.rating_recorded")
        state = replace(turn.state, rating=None)  # asked once: a later «5» is a normal message
        return Answer(Outcome.ANSWERED, tuple(from_texto(t) for t in rated), state)


# What the gateway answers by itself about consent; in the middle of a form, the form's question follows.
SIDE_ANSWERS = frozenset(
    {"consentimiento_retirado", "consentimiento_aceptado", "consentimiento_rechazado_web", "le_espero"}
)


@dataclass(frozen=True)
class Consent:
    """At first contact nothing goes on until the citizen answers (`bot.conversations.consent`)."""

    gate: ConsentGate | None
    textos: Textos

    async def __call__(self, turn: Turn) -> Turn | Answer:
        if self.gate is None:
            return turn
        decision, state = await self.gate.decide(
            session=turn.session,
            conversation=turn.conversation,
            state=turn.state,
            message_id=turn.message.id,
            text=turn.text,
            in_force=turn.consents,
        )
        if decision.forward:
            return replace(turn, state=state, consent=decision)
        answer = [from_texto(self.textos.render(decision.texto, **decision.valores))] if decision.texto else []
        turn.log.info("inbound.consent", texto=decision.texto)
        return Answer(
            Outcome.ANSWERED,
            tuple(answer),
            state,
            follow_form=decision.texto in SIDE_ANSWERS,  # said in the middle of a form: its question comes back
            then_process=decision.process_pending,  # the message that came before the consent
        )


# ----------------------------------------------------------------- the stages outside the transaction


async def pending_question(turn: Turn, rasa: RasaClient, textos: Textos) -> list[BotMessage]:
    """The question a form is waiting for, asked again after an answer the gateway gave by itself
    (consent withdrawn or given mid-form, «espere»): «Sigamos con su trámite:» and the form's last question."""
    if await rasa.active_loop(turn.conversation.id) is None:
        return []
    recent = await repo.latest_outbound_messages(session=turn.session, conversation_id=turn.conversation.id, limit=8)
    side = {textos.render(key).text.split("{")[0][:30] for key in SIDE_ANSWERS}
    for message in recent:  # newest first
        if message.author != "bot" or not message.text:
            continue
        if any(message.text.startswith(prefix) for prefix in side):
            continue  # an earlier side answer: look further back
        return [
            from_texto(textos.render("seguimos_tramite")),
            BotMessage.from_payload(message.payload or {"text": message.text}),
        ]
    return []


_DIRECT = {
    InboundKind.UNSUPPORTED: "solo_texto",
    InboundKind.OWN_CONTACT: "contacto_recibido",
    InboundKind.OTHER_CONTACT: "contacto_ajeno",
}


@dataclass(frozen=True)
class Media:
    """What is not text never reaches Rasa: a voice note or a contact gets a fixed answer; a photo or a PDF is
    verified like the /verificar page verifies an upload (`bot.conversations.media`)."""

    verifier: MediaVerifier | None
    textos: Textos

    async def __call__(self, turn: Turn) -> Turn | Answer:
        if turn.replies is not None or turn.kind is InboundKind.TEXT:
            return turn
        if turn.kind is InboundKind.MEDIA and self.verifier is not None:
            media = MediaReference.from_payload(turn.payload.get("media"))
            answer = await self.verifier.answer(turn.adapter, media, content=turn.content)
            return replace(turn, replies=(from_texto(answer.texto),))
        return replace(turn, replies=(from_texto(self.textos.render(_DIRECT.get(turn.kind, "solo_texto"))),))


@dataclass(frozen=True)
class Wait:
    """«Espere que le pregunto a mi esposo», «ahorita le paso el código»: nothing to understand; the form keeps
    its question (and the código dactilar still goes whole to the vault when it comes)."""

    rasa: RasaClient
    textos: Textos

    async def __call__(self, turn: Turn) -> Turn | Answer:
        if turn.replies is not None or turn.kind is not InboundKind.TEXT or not asks_to_wait(turn.text):
            return turn
        expected = turn.payload.get("secreto_esperado")
        replies = [from_texto(self.textos.render("le_espero"))]
        replies += (await pending_question(turn, self.rasa, self.textos))[1:]  # the question stays on screen
        return replace(turn, replies=tuple(replies), secret_kept=str(expected) if expected else None)


@dataclass(frozen=True)
class CheckMessage:
    """«¿Esto es oficial?»: a forwarded or pasted message with a link is checked here, never by Rasa; in the
    middle of a form, its question comes back after the verdict."""

    check: MessageCheck | None
    rasa: RasaClient
    textos: Textos

    async def __call__(self, turn: Turn) -> Turn | Answer:
        if turn.replies is not None or turn.kind is not InboundKind.TEXT or self.check is None:
            return turn
        forwarded = turn.payload.get("reenviado") is True
        checked = await self.check.answer(turn.text, conversation_id=turn.conversation.id, forwarded=forwarded)
        if checked is None:
            return turn
        return replace(turn, replies=(from_texto(checked), *await pending_question(turn, self.rasa, self.textos)))


@dataclass(frozen=True)
class AskRasa:
    """Everything else is Rasa's to answer; while Rasa is down the citizen gets an apology (kept for a retry)."""

    rasa: RasaClient
    textos: Textos

    async def __call__(self, turn: Turn) -> Turn | Answer:
        if turn.replies is not None:
            return turn
        if turn.adapter is not None and turn.asynchronous:
            await turn.adapter.typing(turn.conversation.id.split(":", 1)[1])
        metadata = {"channel": turn.conversation.channel, "message_id": turn.message.channel_message_id}
        client = turn.payload.get("cliente")
        if isinstance(client, str):
            metadata["cliente"] = client
        if turn.request_id is not None:
            metadata["request_id"] = turn.request_id
        try:
            replies = await self._answered(turn) if turn.retry else None
            if replies is None:
                replies = await self.rasa.send(sender=turn.conversation.id, message=turn.text, metadata=metadata)
        except RasaUnavailable as exc:
            turn.log.warning("rasa.unavailable", error=str(exc))
            apology = from_texto(self.textos.render("rasa_no_disponible"))
            return Answer(Outcome.UNAVAILABLE, (apology,), turn.state)
        if not replies:
            turn.log.warning("rasa.empty_reply")
            replies = [from_texto(self.textos.render("respuesta_vacia"))]
        return replace(turn, replies=tuple(replies))

    async def _answered(self, turn: Turn) -> list[BotMessage] | None:
        """Rasa's answer to this message if it already processed it (a gateway died before storing it)."""
        if turn.message.channel_message_id is None:
            return None
        started = time.monotonic()
        earlier = await self.rasa.replies_to(turn.conversation.id, turn.message.channel_message_id)
        turn.log.info(
            "rasa.answer_reused" if earlier is not None else "rasa.not_answered_before",
            replies=len(earlier or ()),
            seconds=round(time.monotonic() - started, 2),
        )
        return earlier


@dataclass(frozen=True)
class Signals:
    """What actions tell the gateway rides on their messages (a person asked for, a secret asked for, the data
    to delete); the privacy notice follows the first answer that asks nothing (one question at a time)."""

    rasa: RasaClient
    textos: Textos

    async def __call__(self, turn: Turn) -> Turn | Answer:
        replies = list(turn.replies or ())
        visible, handoffs, secret = split_signals(replies)
        state = turn.state
        decision = turn.consent
        if decision is not None and decision.aviso and await self.rasa.active_loop(turn.conversation.id) is None:
            visible.append(from_texto(self.textos.render(decision.aviso, **decision.valores)))
            state = ConsentGate.notice_shown(state)
        turn.log.info("inbound.answered", replies=len(visible), handoffs=len(handoffs))
        return Answer(
            Outcome.ANSWERED,
            tuple(visible),
            state,
            handoffs=tuple(handoffs),
            secret=secret or turn.secret_kept,
            delete_data=any((r.custom or {}).get("privacidad") == "borrar" for r in replies),
        )


# --------------------------------------------------------------------------------------- helpers

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
