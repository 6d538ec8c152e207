"""What several gateway processes must share, and the refusal to start them without it.

With ``REDIS_URL`` set, the gateway keeps in Redis what would otherwise live in one process: the vault of
identifiers, the console's live updates (pub/sub) and the outbox's send limits per channel and per chat.
Identity lockouts (per chat, per cédula, per web client) and the console's login limit are rows in the app
database already, so they hold across processes that share it. Without Redis each of those lives in the
process, which is right for one gateway only: start-up refuses several (``CHASQUI_REPLICAS`` or
``WEB_CONCURRENCY`` above 1) when something would stay process-local or a secret would be invented per process.
"""

from __future__ import annotations

import sys
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass
from urllib.parse import urlsplit

from bot.channels.registry import process_problems as channel_problems
from bot.conversations.send_limits import RedisSendLimits, SendLimits, local_send_limits
from bot.conversations.turn_locks import LocalTurnLocks, RedisTurnLocks, TurnLocks
from bot.handoff.events import EventBus, RedisEventBus
from bot.privacy.vault import MemoryVault, RedisVault, Vault
from bot.settings import Settings

STARTUP_FAILURE = 3  # uvicorn's exit status for an app that cannot start (its supervisor then stops too)


@dataclass(frozen=True)
class SharedState:
    vault: Vault
    bus: EventBus
    send_limits: SendLimits
    turn_locks: TurnLocks
    rasa_busy: Callable[[str], Awaitable[bool]] | None = None  # Rasa's lock store, when it is in Redis


async def build_shared_state(settings: Settings, stack: AsyncExitStack) -> SharedState:
    """In this process's memory, or on Redis when ``REDIS_URL`` is set (closed with ``stack``)."""
    if not settings.redis_url:
        return SharedState(
            vault=MemoryVault(), bus=EventBus(), send_limits=local_send_limits, turn_locks=LocalTurnLocks()
        )
    import redis.asyncio

    client = redis.asyncio.from_url(settings.redis_url)
    stack.push_async_callback(client.aclose)
    prefix = settings.redis_prefix
    bus = RedisEventBus(client, channel=f"{prefix}consola:eventos")
    await bus.start()
    stack.push_async_callback(bus.close)
    return SharedState(
        vault=RedisVault(client, prefix=f"{prefix}boveda:"),
        bus=bus,
        send_limits=RedisSendLimits(client, prefix=f"{prefix}envios:"),
        turn_locks=RedisTurnLocks(client, prefix=f"{prefix}turno:"),
        rasa_busy=await rasa_locks(settings, stack),
    )


RASA_LOCK_PREFIX = "chasqui:lock:"  # endpoints.yml's `key_prefix: chasqui`, then Rasa's own "lock:"


async def rasa_locks(settings: Settings, stack: AsyncExitStack) -> Callable[[str], Awaitable[bool]]:
    """Whether Rasa holds a conversation's lock (a replica is processing one of its messages): Rasa's Redis
    lock store, in the database number of ``REDIS_URL`` (1 without one, as `chasqui run` configures Rasa)."""
    import redis.asyncio
    import redis.exceptions

    database = urlsplit(settings.redis_url).path.strip("/") or "1"
    client = redis.asyncio.from_url(settings.redis_url, db=int(database))
    stack.push_async_callback(client.aclose)

    async def busy(conversation_id: str) -> bool:
        try:
            return bool(await client.exists(RASA_LOCK_PREFIX + conversation_id))
        except (redis.exceptions.RedisError, OSError):
            return False  # cannot tell: read the tracker now

    return busy


class ProcessLocalState(SystemExit):
    """Several gateway processes are configured but some state or secret would be each process's own.

    A `SystemExit` with uvicorn's start-up failure status (3): the process stops whoever built the app, and
    uvicorn's supervisor does not restart workers that exit so (`refuse_process_local_state` prints the message).
    """

    def __init__(self, problems: list[str]) -> None:
        super().__init__(STARTUP_FAILURE)
        self.problems = problems
        self.message = (
            "Chasqui no inicia varios procesos del gateway con estado propio de cada proceso. Configure:\n"
            + "\n".join(f"  - {problem}" for problem in problems)
        )

    def __str__(self) -> str:
        return self.message


def process_local_problems(settings: Settings) -> list[str]:
    """What would stay in one process, as the settings to set; empty for one gateway process."""
    processes = settings.gateway_processes
    if processes <= 1:
        return []
    problems = []
    if not settings.redis_url:
        problems.append(
            "REDIS_URL (p. ej. redis://127.0.0.1:6379/1): la bóveda, las actualizaciones en vivo de la consola "
            f"y los límites de envío quedarían en cada uno de los {processes} procesos."
        )
    if settings.effective_database_url.startswith("sqlite"):
        problems.append(
            "DATABASE_URL con PostgreSQL (p. ej. postgresql://usuario@host:5432/chasqui): SQLite es un archivo "
            "de un solo equipo y admite un solo proceso que escribe a la vez."
        )
    problems.extend(channel_problems(settings))  # e.g. one webhook secret for every process
    return problems


def refuse_process_local_state(settings: Settings) -> None:
    """Stop here when several gateway processes would each keep their own state or secrets.

    Raises:
        ProcessLocalState: one or more settings are missing (the message names them).
    """
    problems = process_local_problems(settings)
    if problems:
        refusal = ProcessLocalState(problems)
        print(refusal.message, file=sys.stderr, flush=True)  # before logging is configured; no traceback follows
        raise refusal
