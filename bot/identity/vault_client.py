"""The action server's side of the vault: redeem a reference through the gateway's internal API."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Sequence

import httpx

from bot.privacy.vault import REFERENCE


class VaultUnavailable(Exception):
    """The gateway's vault could not be asked."""


# A balancer with no gateway for a moment (one restarting, the other slow to answer its health check) or a
# gateway gone mid-request: asked again after these pauses, within the action's time, before the turn fails.
AGAIN = frozenset({502, 503, 504})
RETRY_DELAYS = (0.5, 1.0, 2.0)


class VaultClient:
    """Redeems references such as ``ced_3f9a0c21b7`` for the values the citizen typed."""

    def __init__(self, http: httpx.AsyncClient, *, token: str, retry_delays: Sequence[float] = RETRY_DELAYS) -> None:
        self._http = http
        self._token = token
        self._retry_delays = tuple(retry_delays)

    async def take(self, reference: str, *, owner: str, consume: bool = False, turn: str | None = None) -> str | None:
        """The value behind ``reference``, if the conversation ``owner`` created it; a single-use value redeemed
        with ``turn`` (the message's id) stays readable for that message's retry (`bot.privacy.vault`)."""
        params = {"conversacion": owner}
        if consume:
            params["consumir"] = "true"
        if turn:
            params["turno"] = turn
        for pause in (*self._retry_delays, None):
            try:
                response = await self._http.get(
                    f"/interno/boveda/{reference}",
                    params=params,
                    headers={"Authorization": f"Bearer {self._token}"},
                )
            except httpx.TransportError as exc:
                failure = type(exc).__name__
            else:
                if response.status_code == 404:
                    return None
                if response.status_code == 200:
                    return str(response.json()["valor"])
                failure = f"HTTP {response.status_code}"
                if response.status_code not in AGAIN:
                    break
            if pause is None:
                break
            await asyncio.sleep(pause)  # a value consumed by a request that got no answer stays readable: ``turn``
        raise VaultUnavailable(failure)

    async def reveal(
        self, text: str, *, kind: str, owner: str, consume: bool = False, turn: str | None = None
    ) -> str | None:
        """The value behind the first reference of ``kind`` in ``text``; None when there is none or it expired.

        Args:
            text: a slot value (a reference, or text containing one).
            kind: ``ced``, ``ruc``, ``dac`` or ``tel``.
            owner: the conversation asking (a reference from another conversation is unknown to it).
            consume: forget the value once read.
            turn: the message being processed, so that its retry may read a single-use value again.
        """
        match = re.search(rf"\b{kind}_[0-9a-f]{{10}}\b", text)
        if match is None or not REFERENCE.fullmatch(match.group(0)):
            return None
        return await self.take(match.group(0), owner=owner, consume=consume, turn=turn)
