"""The conversation's own state between turns, typed: what the gateway remembers about a conversation.

Stored as JSON in ``conversations.options`` (the column keeps its name and shape); read once per turn with
`ConversationState.load` and written with `ConversationState.dump`. Keys this module does not know are
kept as they are, so a newer gateway's state survives an older one. The stored keys are Spanish as they
always were:

- ``buttons``: the options last offered, for channels that answer them by number («2», «dos»);
- ``secreto``: the bot has just asked for a secret (the código dactilar): the next message goes whole to
  the vault;
- ``consentimiento``: where the consent question stands (`ConsentState`);
- ``csat``: a person's attention ended and the citizen was asked for a rating
  (`bot.handoff.service.RatingAsked`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from bot.conversations.messages import BotMessage, Button
from bot.handoff.service import RatingAsked

_KNOWN = frozenset({"buttons", "secreto", "consentimiento", "csat"})


@dataclass(frozen=True)
class ConsentState:
    """The consent question, asked and not answered yet (absent once answered).

    Attributes:
        asked: the web notice was shown (``preguntado``).
        open: the notice's question is the pending one: a plain «dale» answers it (``abierto``).
        pending_message: on a messaging channel, the first message, kept until consent (``pendiente``).
    """

    asked: bool = False
    open: bool = False
    pending_message: int | None = None

    @classmethod
    def load(cls, data: Any) -> ConsentState | None:
        if not isinstance(data, dict):
            return None
        pending = data.get("pendiente")
        return cls(
            asked=bool(data.get("preguntado")),
            open=bool(data.get("abierto")),
            pending_message=pending if isinstance(pending, int) and not isinstance(pending, bool) else None,
        )

    def dump(self) -> dict[str, Any]:
        data: dict[str, Any] = {}
        if self.asked:
            data["preguntado"] = True
        if self.open:
            data["abierto"] = True
        if self.pending_message is not None:
            data["pendiente"] = self.pending_message
        return data


def _load_rating(data: Any) -> RatingAsked | None:
    if not isinstance(data, dict):
        return None
    try:
        case_id = int(data.get("caso", 0))
    except (TypeError, ValueError):
        case_id = 0
    resume = data.get("retomar")
    return RatingAsked(case_id=case_id, resume=str(resume) if resume else None)


def _dump_rating(rating: RatingAsked) -> dict[str, Any]:
    data: dict[str, Any] = {"caso": rating.case_id}
    if rating.resume:
        data["retomar"] = rating.resume
    return data


@dataclass(frozen=True)
class ConversationState:
    """What the gateway remembers about a conversation between turns (immutable: change with `replace`)."""

    options: tuple[Button, ...] = ()
    secret: str | None = None
    consent: ConsentState | None = None
    rating: RatingAsked | None = None
    unknown: Mapping[str, Any] = field(default_factory=dict)  # keys of a newer gateway, kept as they are

    @classmethod
    def load(cls, stored: Mapping[str, Any] | None) -> ConversationState:
        """The state stored in ``conversations.options`` (None or {} is the empty state)."""
        data = dict(stored or {})
        buttons = data.get("buttons")
        options = tuple(
            Button(title=str(b.get("title", "")), payload=str(b.get("payload", "")))
            for b in (buttons if isinstance(buttons, list) else ())
            if isinstance(b, dict)
        )
        secret = data.get("secreto")
        return cls(
            options=options,
            secret=str(secret) if secret else None,
            consent=ConsentState.load(data.get("consentimiento")),
            rating=_load_rating(data.get("csat")),
            unknown={k: v for k, v in data.items() if k not in _KNOWN},
        )

    def dump(self) -> dict[str, Any] | None:
        """The JSON to store; None when there is nothing to remember."""
        data: dict[str, Any] = dict(self.unknown)
        if self.options:
            data["buttons"] = [{"title": b.title, "payload": b.payload} for b in self.options]
        if self.secret:
            data["secreto"] = self.secret
        if self.consent is not None:
            data["consentimiento"] = self.consent.dump()
        if self.rating is not None:
            data["csat"] = _dump_rating(self.rating)
        return data or None

    def offering(self, messages: Sequence[BotMessage]) -> ConversationState:
        """After ``messages`` reach the citizen: their buttons, if any, are the ones a number picks."""
        offered = tuple(b for message in messages for b in message.buttons)
        return replace(self, options=offered) if offered else self

    def answered(self, replies: Sequence[BotMessage], *, secret: str | None) -> ConversationState:
        """After the answer to a citizen's message: only its buttons can be picked by number (none when it
        offers none), and ``secret`` says whether it asked for a secret."""
        return replace(self, options=(), secret=secret).offering(replies)

    def rating_asked(self, rating: RatingAsked) -> ConversationState:
        """A person's attention ended with the rating question: earlier options and a secret asked for are
        over (consent and unknown keys stay)."""
        return replace(self, options=(), secret=None, rating=rating)
