"""What each action answered, kept for a few minutes so that a turn run again gets the same answer without the
action running twice.

A turn is run again when a Rasa replica died after its actions ran and before it saved the turn: the gateway
sends the same message (same message id) once Rasa's lock on the chat is free, and Rasa, which saved nothing,
calls the same actions in the same order with the same tracker. Without this, each would run again: a second
application created, a second payment link, a second notification. Here each call is keyed by the turn (the
chat and the channel's message id), the message, how many messages the chat's tracker holds, the action and its
place among the turn's actions; the first run's answer (events and responses) is stored under that key, encrypted,
and returned to the repeated call. Documents and the código dactilar have their own keys too
(`bot.documents.service.ISSUING_TURN`, the vault), so a run that died before its answer was stored repeats
nothing that matters to the citizen.

With one action server the answers live in its memory; with several (``REDIS_URL``) in Redis, since the retry may
reach another one.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections import OrderedDict
from typing import TYPE_CHECKING, Any, Protocol

import structlog

from bot.privacy.encryption import Protector

if TYPE_CHECKING:  # redis-py (with OpenTelemetry's SDK, about 20 MB) only in a process that talks to Redis
    import redis.asyncio

log = structlog.get_logger(__name__)

# Long enough for every retry: Rasa's lock freed 20 s after a replica died, a gateway restarted and recovering its
# unanswered messages, the web chat's own retries (about half a minute).
KEEP_SECONDS = 15 * 60


def call_key(action_call: dict[str, Any], *, turn: str | None, secret: bytes) -> str | None:
    """The key of this action call within ``turn`` (``<chat>:<message id>``, `bot.cli.actions_server.turn_of`);
    None without a turn (a message without an id: nothing to recognise a repetition by)."""
    tracker = action_call.get("tracker")
    name = action_call.get("next_action")
    if turn is None or not isinstance(tracker, dict) or not isinstance(name, str):
        return None
    events = tracker.get("events")
    events = events if isinstance(events, list) else []
    users = sum(1 for e in events if isinstance(e, dict) and e.get("event") == "user")
    since_user = 0  # the actions this turn already ran: the same action may run twice in one turn
    for event in reversed(events):
        if not isinstance(event, dict):
            continue
        if event.get("event") == "user":
            break
        if event.get("event") == "action":
            since_user += 1
    latest = tracker.get("latest_message")
    text = latest.get("text") if isinstance(latest, dict) else None
    # The state the action sees: a form calls its validation twice in one step (the slots given up front, then
    # the one it asked for) with no event between, but never with the same slots. Timestamps are left out: the
    # turn run again has a new one.
    state = json.dumps([tracker.get("slots"), tracker.get("active_loop"), len(events)], sort_keys=True, default=str)
    material = "\n".join(["accion", turn, str(users), str(text), name, str(since_user), state])
    return hmac.new(secret, material.encode("utf-8"), hashlib.sha256).hexdigest()


class ActionResults(Protocol):
    async def get(self, key: str) -> dict[str, Any] | None: ...

    async def put(self, key: str, result: dict[str, Any]) -> None: ...


class LocalActionResults:
    """This process's memory, the newest ``capacity`` answers for `KEEP_SECONDS` (one action server)."""

    def __init__(self, protector: Protector, *, capacity: int = 5000, keep: float = KEEP_SECONDS) -> None:
        self._protector = protector
        self._capacity = capacity
        self._keep = keep
        self._answers: OrderedDict[str, tuple[float, str]] = OrderedDict()

    async def get(self, key: str) -> dict[str, Any] | None:
        found = self._answers.get(key)
        if found is None or found[0] < time.monotonic():
            return None
        stored: dict[str, Any] = json.loads(self._protector.decrypt(found[1]))
        return stored

    async def put(self, key: str, result: dict[str, Any]) -> None:
        self._answers[key] = (time.monotonic() + self._keep, self._protector.encrypt(json.dumps(result)))
        self._answers.move_to_end(key)
        while len(self._answers) > self._capacity:
            self._answers.popitem(last=False)


class RedisActionResults:
    """Redis, shared by every action server, each answer expiring after `KEEP_SECONDS`. Redis down: the action
    runs and answers as usual (logged): a citizen answered matters more than the rare repeated turn."""

    def __init__(
        self,
        client: redis.asyncio.Redis,
        protector: Protector,
        *,
        prefix: str = "chasqui:accion:",
        keep: int = KEEP_SECONDS,
    ) -> None:
        from redis.exceptions import RedisError

        self._client = client
        self._protector = protector
        self._prefix = prefix
        self._keep = keep
        self._errors = (RedisError, OSError)

    async def get(self, key: str) -> dict[str, Any] | None:
        try:
            found = await self._client.get(self._prefix + key)
        except self._errors as exc:
            log.warning("accion.resultados_no_disponibles", reason=type(exc).__name__)
            return None
        if found is None:
            return None
        stored: dict[str, Any] = json.loads(
            self._protector.decrypt(found.decode() if isinstance(found, bytes) else found)
        )
        return stored

    async def put(self, key: str, result: dict[str, Any]) -> None:
        try:
            await self._client.set(self._prefix + key, self._protector.encrypt(json.dumps(result)), ex=self._keep)
        except self._errors as exc:
            log.warning("accion.resultado_no_guardado", reason=type(exc).__name__)
