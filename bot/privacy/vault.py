"""The vault: personal identifiers typed by citizens, kept server-side for minutes; Rasa sees references.

The gateway replaces every cédula, RUC, código dactilar and phone number in an inbound message with a
reference such as ``ced_3f9a0c21b7`` before the message is stored or reaches Rasa. Actions redeem the
reference through the gateway's internal API. A código dactilar can be redeemed once; nothing here is
written to disk (a Redis vault, for several gateway workers, keeps values in memory with an expiry).
A reference is bound to the conversation whose message created it: redeemed for another one, it is unknown.

"Once" means for one turn: a redemption may name the message being processed (``turn``, its channel message
id). Then the value stays readable for that same message only, for `RETRY_GRACE_SECONDS`: when a Rasa replica
dies after the check and before saving it, the retried message is checked again instead of the citizen being
asked for the code a second time. Any other message, and any redemption without a turn, finds it used.
"""

from __future__ import annotations

import json
import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from bot.privacy.redaction import find_identifiers

SECRET_DACTILAR = "codigo_dactilar"  # noqa: S105 - the name of a kind of data, not a password
PREFIXES = {
    "cedula": "ced",
    "ruc": "ruc",
    "codigo_dactilar": "dac",
    "telefono": "tel",
    "correo": "eml",
    "nombre": "nom",
    "direccion": "dir",
}
KINDS = {prefix: kind for kind, prefix in PREFIXES.items()}
REFERENCE = re.compile(r"\b(ced|ruc|dac|tel|eml|nom|dir)_[0-9a-f]{10}\b")
# A código dactilar lives only as long as it takes to check it; the others as long as a trámite.
TTL_SECONDS = {
    "codigo_dactilar": 10 * 60,
    "cedula": 60 * 60,
    "ruc": 60 * 60,
    "telefono": 60 * 60,
    "correo": 60 * 60,
    "nombre": 60 * 60,
    "direccion": 60 * 60,
}


RETRY_GRACE_SECONDS = 120


@dataclass(frozen=True)
class Entry:
    kind: str
    value: str
    expires_at: float
    owner: str | None = None  # the conversation the value came from
    turn: str | None = None  # the message that used it up (single-use values redeemed with a turn)


class Vault(Protocol):
    async def put(self, kind: str, value: str, *, owner: str | None = None) -> str: ...

    async def take(
        self, reference: str, *, consume: bool = False, owner: str | None = None, turn: str | None = None
    ) -> str | None: ...


class MemoryVault:
    """One gateway process: a dict with expiries (the embedded default)."""

    def __init__(self, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._entries: dict[str, Entry] = {}
        self._clock = clock

    async def put(self, kind: str, value: str, *, owner: str | None = None) -> str:
        self._purge()
        reference = f"{PREFIXES[kind]}_{secrets.token_hex(5)}"
        self._entries[reference] = Entry(kind, value, self._clock() + TTL_SECONDS[kind], owner)
        return reference

    async def take(
        self, reference: str, *, consume: bool = False, owner: str | None = None, turn: str | None = None
    ) -> str | None:
        entry = self._entries.get(reference)
        if entry is None or entry.expires_at < self._clock():
            self._entries.pop(reference, None)
            return None
        if entry.owner is not None and entry.owner != owner:
            return None  # another conversation's value: unknown to this one (and not consumed)
        if not (consume or entry.kind == SECRET_DACTILAR):
            return entry.value
        if entry.turn is not None:  # used up, except for its own message's retry
            if turn is None:
                del self._entries[reference]
            return entry.value if turn == entry.turn else None
        if turn is None:
            del self._entries[reference]
        else:
            expires = min(entry.expires_at, self._clock() + RETRY_GRACE_SECONDS)
            self._entries[reference] = Entry(entry.kind, entry.value, expires, entry.owner, turn)
        return entry.value

    def _purge(self) -> None:
        now = self._clock()
        for reference in [r for r, e in self._entries.items() if e.expires_at < now]:
            del self._entries[reference]


class RedisVault:
    """Several gateway workers: Redis with key expiry, nothing persisted (``--save ""`` on our machines)."""

    def __init__(self, redis: object, *, prefix: str = "chasqui:boveda:") -> None:
        self._redis = redis
        self._prefix = prefix

    async def put(self, kind: str, value: str, *, owner: str | None = None) -> str:
        reference = f"{PREFIXES[kind]}_{secrets.token_hex(5)}"
        await self._redis.set(  # type: ignore[attr-defined]
            self._prefix + reference,
            json.dumps({"kind": kind, "value": value, "owner": owner}),
            ex=TTL_SECONDS[kind],
        )
        return reference

    async def take(
        self, reference: str, *, consume: bool = False, owner: str | None = None, turn: str | None = None
    ) -> str | None:
        key = self._prefix + reference
        raw = await self._redis.get(key)  # type: ignore[attr-defined]
        if raw is None:
            return None
        entry = json.loads(raw)
        if entry.get("owner") is not None and entry["owner"] != owner:
            return None  # another conversation's value: unknown to this one (and not consumed)
        if not (consume or reference.startswith("dac_")):
            return str(entry["value"])
        if turn is None:
            if not await self._redis.delete(key):  # type: ignore[attr-defined]
                return None  # redeemed at the same moment by another request: one use only
            return str(entry["value"]) if entry.get("turn") is None else None
        # Bound to the first turn that redeems it, atomically: racing messages get it once.
        used_by = await self._redis.eval(  # type: ignore[attr-defined]
            _BIND_TURN, 1, key, turn, RETRY_GRACE_SECONDS
        )
        return str(entry["value"]) if used_by is not None and _text(used_by) == turn else None


# KEYS[1]: the entry; ARGV: the turn, the grace in seconds. Binds the entry to the turn unless another one has
# it, keeps it for the grace at most; returns the turn it is bound to (nil when it is gone).
_BIND_TURN = """
local raw = redis.call('GET', KEYS[1])
if not raw then return nil end
local entry = cjson.decode(raw)
if entry['turn'] then return entry['turn'] end
entry['turn'] = ARGV[1]
local ttl = redis.call('TTL', KEYS[1])
local grace = tonumber(ARGV[2])
if ttl > 0 and ttl < grace then grace = ttl end
redis.call('SET', KEYS[1], cjson.encode(entry), 'EX', grace)
return ARGV[1]
"""


def _text(value: object) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


@dataclass(frozen=True)
class Pseudonymized:
    text: str  # what is stored and what Rasa sees
    masked: dict[str, str]  # reference -> masked form, for transcripts


async def pseudonymize(
    text: str, vault: Vault, *, secret_expected: str | None = None, owner: str | None = None
) -> Pseudonymized:
    """Replace the identifiers in ``text`` with vault references.

    Args:
        text: the citizen's message.
        vault: where the values go.
        secret_expected: ``"codigo_dactilar"`` when the bot has just asked for it; then a reply that looks
            like an attempt at the code (even a mistyped one) is kept whole in the vault.
        owner: the conversation the message belongs to; only it can redeem the references.
    """
    if secret_expected == SECRET_DACTILAR and looks_like_code_attempt(text):
        reference = await vault.put("codigo_dactilar", text.strip(), owner=owner)
        return Pseudonymized(reference, {reference: "[codigo dactilar]"})
    pieces: list[str] = []
    masked: dict[str, str] = {}
    cursor = 0
    for identifier in find_identifiers(text):
        reference = await vault.put(identifier.kind, identifier.value, owner=owner)
        masked[reference] = identifier.masked
        pieces.append(text[cursor : identifier.start])
        pieces.append(reference)
        cursor = identifier.end
    pieces.append(text[cursor:])
    return Pseudonymized("".join(pieces), masked)


def looks_like_code_attempt(text: str) -> bool:
    """A short reply mixing letters and digits, e.g. ``V4443V4442``, ``v 4443 v 4442`` or ``V444V4442``."""
    compact = re.sub(r"[\s.-]", "", text)
    return (
        6 <= len(compact) <= 14
        and compact.isalnum()
        and any(c.isdigit() for c in compact)
        and any(c.isalpha() for c in compact)
    )


def unmask(text: str, masked: dict[str, str]) -> str:
    """How a stored text reads in a transcript: references shown as their masked values."""
    return REFERENCE.sub(lambda m: masked.get(m.group(0), "[dato protegido]"), text)
