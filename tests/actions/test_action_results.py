"""A turn run again (a Rasa replica died after the actions ran, before it saved the turn) gets each action's
first answer back without running the action again: once with one action server, once across two on Redis. A
new message, or the next action of the same turn, runs as usual."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import redis.asyncio
from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.actions.results import LocalActionResults, RedisActionResults
from bot.cli.actions_server import MeasuredExecutor
from bot.privacy.encryption import Protector, protector_from
from bot.settings import Settings
from tests.redis_support import redis_client, unique_prefix

RUNS: list[str] = []


async def crear_solicitud(dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[Any]:
    """Stands for an action with effects (an application, a payment link): each run is a new one. A function,
    not an `Action` subclass: rasa-sdk registers every subclass it can find, and the action server's own test
    expects exactly the domain's actions."""
    RUNS.append(tracker.sender_id)
    numero = f"EC-2026-{len(RUNS):06d}"
    dispatcher.utter_message(text=f"Su solicitud {numero} fue registrada, Rosa.")
    return [SlotSet("numero_solicitud", numero)]


def call(
    text: str = "quiero mi certificado",
    *,
    message_id: str | None = "tg-77",
    actions_before: int = 0,
    slots: dict[str, Any] | None = None,
) -> dict[str, Any]:
    events: list[dict[str, Any]] = [{"event": "user", "text": "hola"}, {"event": "action", "name": "utter_saludo"}]
    events.append({"event": "user", "text": text})
    events += [{"event": "action", "name": f"paso_{n}"} for n in range(actions_before)]
    metadata = {"message_id": message_id} if message_id else {}
    return {
        "next_action": "action_crear_solicitud_prueba",
        "sender_id": "tg:rosa",
        "version": "3.6.21",
        "domain": {"responses": {}, "slots": {}, "forms": {}, "intents": [], "entities": [], "actions": []},
        "tracker": {
            "sender_id": "tg:rosa",
            "slots": slots or {},
            "latest_message": {"text": text, "intent": {"name": "solicitar"}, "metadata": metadata},
            "events": events,
            "paused": False,
            "followup_action": None,
            "active_loop": {},
            "latest_action_name": "action_listen",
        },
    }


def executor(protector: Protector, results: Any) -> MeasuredExecutor:
    made = MeasuredExecutor(results, secret=protector.hash_key)
    made.register_function("action_crear_solicitud_prueba", crear_solicitud)
    return made


def protector(tmp_path: Path) -> Protector:
    return protector_from(Settings(var_dir=tmp_path / "var"))


async def test_a_repeated_call_gets_the_first_answer_and_runs_once(tmp_path: Path) -> None:
    RUNS.clear()
    keys = protector(tmp_path)
    server = executor(keys, LocalActionResults(keys))
    first = await server.run(call())
    again = await server.run(copy.deepcopy(call()))
    assert RUNS == ["tg:rosa"]
    assert again == first
    assert first.responses[0]["text"] == "Su solicitud EC-2026-000001 fue registrada, Rosa."


async def test_new_messages_and_the_turns_next_actions_run_as_usual(tmp_path: Path) -> None:
    RUNS.clear()
    keys = protector(tmp_path)
    server = executor(keys, LocalActionResults(keys))
    await server.run(call())
    await server.run(call(message_id="tg-78"))  # the citizen's next message
    await server.run(call("otra vez el certificado"))  # another message the gateway sent for the same update
    await server.run(call(actions_before=1))  # the same action later in the same turn
    await server.run(call(slots={"placa": "PBX1234"}))  # a form validating again, now with the slot it asked for
    await server.run(call(message_id=None))  # no id: nothing to recognise a repetition by
    await server.run(call(message_id=None))
    assert len(RUNS) == 7


async def test_two_action_servers_on_redis_run_a_repeated_call_once(tmp_path: Path) -> None:
    RUNS.clear()
    keys = protector(tmp_path)
    prefix = unique_prefix()
    async with redis_client(prefix) as one, redis_client(prefix) as two:
        first = await executor(keys, RedisActionResults(one, keys, prefix=prefix)).run(call())
        again = await executor(keys, RedisActionResults(two, keys, prefix=prefix)).run(call())
        stored = [await one.get(key) async for key in one.scan_iter(match=f"{prefix}*")]
        ttl = [await one.ttl(key) async for key in one.scan_iter(match=f"{prefix}*")]
    assert RUNS == ["tg:rosa"] and again == first
    assert len(stored) == 1 and b"Rosa" not in stored[0] and b"EC-2026" not in stored[0]  # encrypted
    assert 0 < ttl[0] <= 15 * 60


async def test_with_redis_down_the_action_still_runs_and_answers(tmp_path: Path) -> None:
    RUNS.clear()
    keys = protector(tmp_path)
    down = redis.asyncio.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.2)
    server = executor(keys, RedisActionResults(down, keys))
    answer = await server.run(call())
    assert answer.responses[0]["text"].startswith("Su solicitud")
    await down.aclose()
