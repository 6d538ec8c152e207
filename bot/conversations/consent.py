"""Consent at first contact, in the gateway: nothing reaches Rasa until the citizen has answered.

Chasqui's service rests on a public mission, so the notice informs; consent is asked where processing
rests on it: the international transfer that a channel with servers abroad implies (an adapter's
``transfers_abroad``: LOPDP Art. 60.2, explicit consent after being told the risks) and anonymous
analytics. Silence is not consent. Every answer is recorded in the ledger (`consent_records`) with the
notice version, the channel and the time, and can
be withdrawn as easily as it was given (the button or the word «retirar consentimiento»).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from enum import StrEnum

from sqlalchemy.ext.asyncio import AsyncSession

from bot import metrics
from bot.conversations.state import ConsentState, ConversationState
from bot.storage import privacy as repo
from bot.storage.models import Conversation
from bot.storage.models_privacy import ConsentRecord

TRANSFER = "transferencia_internacional"
ANALYTICS = "analitica"

ACCEPT = "/consentimiento_acepto"
REFUSE = "/consentimiento_rechazo"
WITHDRAW = "/consentimiento_retiro"
_YES = re.compile(r"^(si|acepto|de acuerdo|claro|ok|dale|bueno|ya(?! no\b)|simon)\b")
_NO = re.compile(r"^(no|no acepto|nop|nel|rechazo)\b")
# Withdrawal in the citizen's own words (matched without accents): «retiro mi consentimiento», «ya no acepto»,
# «revoco la autorización», «ya no doy permiso», «no quiero que usen mis datos».
_WITHDRAW = re.compile(
    r"\b(retir|revoc|quit|cancel|anul)\w*\s+(el\s+|la\s+|mi\s+|su\s+)?(consentimiento|permiso|autorizacion)\b"
    r"|\bya\s+no\s+(acepto|autorizo|consiento)\s*([,.;!]|$|(nada|eso|el\s+uso|que\s+usen|los\s+terminos|las\s+condiciones"
    r"|la\s+politica|el\s+aviso|el\s+tratamiento)\b)"
    r"|\bya\s+no\s+doy\s+(mi\s+|el\s+)?(permiso|consentimiento|autorizacion)\b"
    r"|\bno\s+(quiero|deseo)\s+que\s+(usen|utilicen|ocupen|procesen|traten)\s+mis\s+datos\b"
    r"|\bno\s+autorizo\s+(el\s+uso\s+de\s+)?mis\s+datos\b"
)


def _plain(text: str) -> str:
    text = "".join(c for c in unicodedata.normalize("NFD", text.lower()) if unicodedata.category(c) != "Mn")
    return " ".join(text.split())


class Respuesta(StrEnum):
    ACEPTA = "acepta"
    RECHAZA = "rechaza"
    RETIRA = "retira"
    OTRA = "otra"


_STRICT_YES = re.compile(r"^(si,? )?acepto\.?$")
_STRICT_NO = re.compile(r"^no acepto\.?$")


def read_answer(text: str, *, strict: bool = False) -> Respuesta:
    """What a message says about consent (a button payload or a typed answer).

    Args:
        text: the message.
        strict: only the buttons or «acepto» / «no acepto» count (where the conversation goes on while the
            question is open, a «sí» is likely the answer to another question).
    """
    if text == ACCEPT:
        return Respuesta.ACEPTA
    if text == REFUSE:
        return Respuesta.RECHAZA
    plain = _plain(text)
    if text == WITHDRAW or _WITHDRAW.search(plain):
        return Respuesta.RETIRA
    if (_STRICT_YES if strict else _YES).match(plain):
        return Respuesta.ACEPTA
    if (_STRICT_NO if strict else _NO).match(plain):
        return Respuesta.RECHAZA
    return Respuesta.OTRA


@dataclass(frozen=True)
class Decision:
    """What the gateway does with a message, as far as consent goes."""

    forward: bool  # the message may go on to Rasa (or a person)
    texto: str | None = None  # the template to answer with first (None: nothing to say)
    aviso: str | None = None  # a template to add after the answer (the notice, where service goes on)
    process_pending: int | None = None  # an earlier message, kept until consent, to process now
    valores: dict[str, str] = field(default_factory=dict)  # values of the template


Classify = Callable[[str], Awaitable[tuple[str, float] | None]]
UNDERSTOOD = 0.6  # the NLU's confidence from which a «dale» or a «nel» answers the consent question


class ConsentGate:
    def __init__(
        self,
        *,
        notice_version: str,
        public_base_url: str,
        transfers_abroad: frozenset[str],
        classify: Classify | None = None,
    ) -> None:
        """Args:
        notice_version: the privacy notice in force (recorded with every answer).
        public_base_url: where the notice and the web chat are published.
        transfers_abroad: the codes of the channels whose servers are abroad (consent before any service).
        classify: the NLU, read-only, for answers in the citizen's own words.
        """
        self._version = notice_version
        self._abroad = transfers_abroad
        self._values = {"politica": f"{public_base_url}/privacidad", "web": f"{public_base_url}/"}
        self._classify = classify  # the NLU, read-only (no conversation is touched)

    async def answer(self, text: str, *, strict: bool) -> Respuesta:
        """What ``text`` says about consent: the buttons and the plain words first, then the NLU's intent
        («dale», «simón», «nel»); anything else is another matter (a question, a request)."""
        direct = read_answer(text, strict=True)
        if direct is not Respuesta.OTRA or strict or text.startswith("/"):
            return direct
        if self._classify is not None:
            found = await self._classify(text)
            if found is not None:
                intent, confidence = found
                if intent == "afirmar" and confidence >= UNDERSTOOD:
                    return Respuesta.ACEPTA
                if intent == "negar" and confidence >= UNDERSTOOD:
                    return Respuesta.RECHAZA
                return Respuesta.OTRA
        return read_answer(text, strict=False)

    @staticmethod
    async def in_force(*, session: AsyncSession, conversation_id: str) -> dict[str, ConsentRecord]:
        """The conversation's latest record per purpose."""
        return await repo.consents_in_force(session=session, conversation_id=conversation_id)

    @staticmethod
    async def with_conversation(
        *, session: AsyncSession, conversation_id: str, channel: str
    ) -> tuple[Conversation, dict[str, ConsentRecord]]:
        """The conversation (created on first contact) and its latest record per purpose, in one statement."""
        return await repo.conversation_and_consents(session=session, conversation_id=conversation_id, channel=channel)

    @staticmethod
    def notice_shown(state: ConversationState) -> ConversationState:
        """Remember that the web notice was shown (it waits while a form asks something: one question at a time)."""
        return replace(state, consent=ConsentState(asked=True, open=True))

    def purposes(self, channel: str) -> tuple[str, ...]:
        return (TRANSFER, ANALYTICS) if channel in self._abroad else (ANALYTICS,)

    @metrics.timed("consent")
    async def decide(
        self,
        *,
        session: AsyncSession,
        conversation: Conversation,
        state: ConversationState,
        message_id: int,
        text: str,
        in_force: dict[str, ConsentRecord] | None = None,
    ) -> tuple[Decision, ConversationState]:
        """Apply the consent rules to one inbound message (records answers; the caller commits).

        ``in_force``: the conversation's records in force when the caller read them already (`in_force`).

        Returns:
            The decision, and the conversation's state with the consent question where it now stands.
        """
        if in_force is None:
            in_force = await self.in_force(session=session, conversation_id=conversation.id)
        required = TRANSFER in self.purposes(conversation.channel)
        asked = state.consent
        # On the web the notice's question is answered in plain words («dale», «no») only right after it was
        # asked (the pending question); later, only the buttons or «acepto» / «no acepto» count.
        pending = asked is not None and asked.open
        answer = await self.answer(text, strict=not (required or pending))

        async def record(purpose: str, granted: bool) -> None:
            await repo.record_consent(
                session=session,
                conversation_id=conversation.id,
                proposito=purpose,
                otorgado=granted,
                version_aviso=self._version,
                canal=conversation.channel,
            )

        if answer is Respuesta.RETIRA and in_force:
            for purpose in self.purposes(conversation.channel):
                await record(purpose, False)
            return Decision(forward=False, valores=self._values, texto="consentimiento_retirado"), state
        if answer is Respuesta.RETIRA:  # «ya no acepto» before ever answering: a refusal, said plainly
            answer = Respuesta.RECHAZA

        if not required:
            # The web chat: the service rests on the public mission, so it goes on; only analytics waits
            # for consent, asked once with the notice and recorded when the citizen answers.
            if asked is None and not in_force:  # the router shows it when no question is pending
                return Decision(forward=True, aviso="aviso_privacidad_web", valores=self._values), state
            if answer in (Respuesta.ACEPTA, Respuesta.RECHAZA):
                granted = answer is Respuesta.ACEPTA
                await record(ANALYTICS, granted)
                texto = "consentimiento_aceptado" if granted else "consentimiento_rechazado_web"
                return Decision(forward=False, texto=texto, valores=self._values), replace(state, consent=None)
            if pending:  # answered with something else: the question is no longer the pending one
                state = replace(state, consent=ConsentState(asked=True))
            return Decision(forward=True), state
        if asked is None and not in_force:
            # First contact: keep this message, show the notice and ask.
            decision = Decision(
                forward=False,
                valores=self._values,
                texto="aviso_privacidad_mensajeria" if required else "aviso_privacidad_web",
            )
            return decision, replace(state, consent=ConsentState(pending_message=message_id))
        if asked is not None:
            if answer is Respuesta.OTRA:
                return Decision(forward=False, valores=self._values, texto="consentimiento_responda"), state
            granted = answer is Respuesta.ACEPTA
            for purpose in self.purposes(conversation.channel):
                await record(purpose, granted)
            state = replace(state, consent=None)
            kept = asked.pending_message
            if required and not granted:
                return Decision(forward=False, valores=self._values, texto="consentimiento_rechazado_mensajeria"), state
            decision = Decision(
                forward=False,
                valores=self._values,
                texto="consentimiento_aceptado" if granted else "consentimiento_rechazado_web",
                process_pending=kept if kept != message_id else None,
            )
            return decision, state
        # Answered before: a refused transfer keeps the channel closed until the citizen accepts.
        transfer = in_force.get(TRANSFER)
        if required and (transfer is None or not transfer.otorgado):
            if answer is Respuesta.ACEPTA:
                for purpose in self.purposes(conversation.channel):
                    await record(purpose, True)
                return Decision(forward=False, valores=self._values, texto="consentimiento_aceptado"), state
            return Decision(forward=False, valores=self._values, texto="consentimiento_rechazado_mensajeria"), state
        return Decision(forward=True), state
