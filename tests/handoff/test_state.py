"""The owner state machine allows exactly the transitions in its table."""

from __future__ import annotations

import itertools

import pytest

from bot.handoff.state import TRANSITIONS, InvalidTransition, bot_answers, check_transition
from bot.storage.models import Owner


def test_allowed_transitions_pass_and_every_other_pair_is_refused() -> None:
    refused = []
    for from_owner, to_owner in itertools.product(Owner, Owner):
        try:
            check_transition(from_owner, to_owner)
        except InvalidTransition:
            refused.append((from_owner, to_owner))
    assert set(itertools.product(Owner, Owner)) - set(refused) == set(TRANSITIONS)
    assert (Owner.BOT, Owner.AGENT) in refused  # an agent must claim from the queue
    assert (Owner.CLOSED, Owner.AGENT) in refused


def test_invalid_transition_says_which() -> None:
    with pytest.raises(InvalidTransition, match="from bot to closed"):
        check_transition("bot", "closed")


def test_only_the_bot_or_a_closed_conversation_reaches_rasa() -> None:
    assert [o for o in Owner if bot_answers(o)] == [Owner.BOT, Owner.CLOSED]
