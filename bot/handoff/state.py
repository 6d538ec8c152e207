"""The owner state machine: owner ∈ {bot, queue, agent, closed}, every allowed transition in one table.

```
            handoff requested            claimed
   bot ───────────────────────► queue ───────────► agent ──┐ transfer / take over
    ▲  ◄──────── handed back ─────┘ ▲ ◄── to a team ──┘ ◄──┘
    │                               │                   │
    └──────── citizen writes ─── closed ◄───── closed ──┘
```
"""

from __future__ import annotations

from bot.storage.models import Owner


class InvalidTransition(Exception):
    """The requested change of owner is not in the table."""

    def __init__(self, from_owner: str, to_owner: str) -> None:
        super().__init__(f"owner cannot change from {from_owner} to {to_owner}")
        self.from_owner = from_owner
        self.to_owner = to_owner


TRANSITIONS: frozenset[tuple[Owner, Owner]] = frozenset(
    {
        (Owner.BOT, Owner.QUEUE),  # the bot or the citizen asked for a person
        (Owner.QUEUE, Owner.AGENT),  # an agent claimed it
        (Owner.QUEUE, Owner.BOT),  # handed back before anyone claimed it
        (Owner.QUEUE, Owner.CLOSED),  # closed from the queue (spam, duplicate)
        (Owner.AGENT, Owner.AGENT),  # transferred to another agent, or a supervisor took over
        (Owner.AGENT, Owner.QUEUE),  # transferred to a team
        (Owner.AGENT, Owner.BOT),  # handed back to the bot
        (Owner.AGENT, Owner.CLOSED),  # closed with a reason
        (Owner.CLOSED, Owner.BOT),  # the citizen writes again
    }
)


def check_transition(from_owner: str, to_owner: str) -> None:
    """Raise `InvalidTransition` unless ``from_owner → to_owner`` is allowed."""
    if (Owner(from_owner), Owner(to_owner)) not in TRANSITIONS:
        raise InvalidTransition(from_owner, to_owner)


def bot_answers(owner: str) -> bool:
    """The gate: a message goes to Rasa only while the bot owns the conversation."""
    return Owner(owner) in (Owner.BOT, Owner.CLOSED)
