"""How fast the outbox may send: a channel's overall rate and the pause between two messages to one chat.

A message first waits for its chat's pause to end (other chats go on meanwhile), then reserves the channel's
next free instant and sleeps until it comes: messages wait in the order they asked and nothing spins.
`LocalSendLimiter` keeps the schedule in this process: right for one gateway. `RedisSendLimiter` keeps it in
Redis (one Lua script, on Redis's own clock), so several gateway processes together stay within a channel's
limits (Telegram: about 30 messages a second overall, one a second per chat); chosen when ``REDIS_URL`` is set.
While Redis does not answer, each process falls back to its own schedule, and the channel's "retry after"
answers absorb what the processes send together.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import TYPE_CHECKING

import structlog

if TYPE_CHECKING:
    import redis.asyncio

log = structlog.get_logger(__name__)


class SendLimiter(ABC):
    """One channel's limits. ``chat`` is any stable name of the chat (the outbox passes the pseudonymous
    conversation id, never the channel's address)."""

    @abstractmethod
    async def try_reserve(self, chat: str) -> tuple[bool, float]:
        """Ask for the channel's next free instant for a message to ``chat``.

        Returns:
            ``(True, seconds)``: the instant is taken, send after ``seconds``; ``(False, seconds)``: the chat's
            pause runs for ``seconds`` more, ask again then (a chat's pause never holds other chats back).
        """

    async def acquire(self, chat: str) -> None:
        """Wait for the chat's pause and then for the channel's next free instant."""
        while True:
            granted, delay = await self.try_reserve(chat)
            if delay > 0:
                await asyncio.sleep(delay)
            if granted:
                return


# Builds a channel's limiter: (channel code, messages per second overall, seconds between messages to one chat).
SendLimits = Callable[[str, float, float], SendLimiter]


class LocalSendLimiter(SendLimiter):
    """The schedule in this process's memory (one gateway)."""

    def __init__(self, *, per_second: float, per_chat_interval: float, clock: Callable[[], float] = time.monotonic):
        self._interval = 1.0 / per_second if per_second > 0 else 0.0
        self._per_chat = per_chat_interval
        self._clock = clock
        self._next_global = 0.0
        self._next_chat: dict[str, float] = {}

    async def try_reserve(self, chat: str) -> tuple[bool, float]:
        now = self._clock()  # no await between reading and writing: one reservation at a time in this loop
        chat_free = self._next_chat.get(chat, 0.0)
        if chat_free > now:
            return False, chat_free - now
        start = max(now, self._next_global)
        self._next_global = start + self._interval
        self._next_chat[chat] = start + self._per_chat
        if len(self._next_chat) > 10_000:  # forget chats whose pause is over
            self._next_chat = {key: at for key, at in self._next_chat.items() if at > now}
        return True, start - now


def local_send_limits(code: str, per_second: float, per_chat_interval: float) -> SendLimiter:
    return LocalSendLimiter(per_second=per_second, per_chat_interval=per_chat_interval)


# KEYS: the channel's next free instant, the chat's; ARGV: microseconds between messages overall, to the chat.
# Returns {1, wait} when the channel's instant is taken, {0, wait} while the chat's pause runs. Instants are
# microseconds on Redis's clock (exact in Lua's doubles for centuries); keys expire a second after their instant.
_RESERVE = """
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000000 + tonumber(clock[2])
local chat_free = tonumber(redis.call('GET', KEYS[2]))
if chat_free and chat_free > now then return {0, chat_free - now} end
local start = now
local channel_free = tonumber(redis.call('GET', KEYS[1]))
if channel_free and channel_free > start then start = channel_free end
local gaps = {tonumber(ARGV[1]), tonumber(ARGV[2])}
for i = 1, 2 do
  if gaps[i] > 0 then
    local free_at = start + gaps[i]
    redis.call('SET', KEYS[i], string.format('%.0f', free_at), 'PX', math.floor((free_at - now) / 1000) + 1000)
  end
end
return {1, start - now}
"""


class RedisSendLimiter(SendLimiter):
    """The schedule in Redis, shared by every gateway process that uses the same ``prefix``."""

    def __init__(
        self,
        redis: redis.asyncio.Redis,
        *,
        channel: str,
        per_second: float,
        per_chat_interval: float,
        prefix: str = "chasqui:envios:",
    ) -> None:
        self._script = redis.register_script(_RESERVE)
        self._channel_key = f"{prefix}{channel}"
        self._chat_prefix = f"{prefix}{channel}:chat:"
        self._gaps = (round(1_000_000 / per_second) if per_second > 0 else 0, round(per_chat_interval * 1_000_000))
        self._fallback = LocalSendLimiter(per_second=per_second, per_chat_interval=per_chat_interval)

    async def try_reserve(self, chat: str) -> tuple[bool, float]:
        chat_key = self._chat_prefix + hashlib.sha256(chat.encode("utf-8")).hexdigest()[:32]
        try:
            granted, wait = await self._script(keys=[self._channel_key, chat_key], args=list(self._gaps))
        except Exception as exc:  # any Redis error: keep sending within this process's own share
            log.warning("outbox.limites_sin_redis", error=type(exc).__name__)
            return await self._fallback.try_reserve(chat)
        return bool(granted), int(wait) / 1_000_000


class RedisSendLimits:
    """Builds `RedisSendLimiter`s on one Redis client (a `SendLimits`)."""

    def __init__(self, redis: redis.asyncio.Redis, *, prefix: str = "chasqui:envios:") -> None:
        self._redis = redis
        self._prefix = prefix

    def __call__(self, code: str, per_second: float, per_chat_interval: float) -> SendLimiter:
        return RedisSendLimiter(
            self._redis, channel=code, per_second=per_second, per_chat_interval=per_chat_interval, prefix=self._prefix
        )
