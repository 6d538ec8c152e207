"""The action server's vault client: asks again while the balancer has no gateway for a moment, not longer."""

from __future__ import annotations

import httpx
import pytest

from bot.identity.vault_client import VaultClient, VaultUnavailable

REFERENCE = "ced_3f9a0c21b7"


def client_answering(*answers: httpx.Response | Exception) -> tuple[VaultClient, list[httpx.Request]]:
    asked: list[httpx.Request] = []
    queue = list(answers)

    def handler(request: httpx.Request) -> httpx.Response:
        asked.append(request)
        answer = queue.pop(0) if len(queue) > 1 else queue[0]
        if isinstance(answer, Exception):
            raise answer
        return answer

    http = httpx.AsyncClient(base_url="http://gateway", transport=httpx.MockTransport(handler))
    return VaultClient(http, token="t", retry_delays=(0, 0, 0)), asked


async def test_a_moment_without_a_gateway_is_waited_out() -> None:
    vault, asked = client_answering(
        httpx.Response(503, text="No server is available to handle this request."),
        httpx.ConnectError("connection refused"),
        httpx.Response(200, json={"valor": "1712345675"}),
    )
    assert await vault.take(REFERENCE, owner="web:ana", consume=True, turn="m1") == "1712345675"
    assert len(asked) == 3
    assert {r.url.params["turno"] for r in asked} == {"m1"}  # a consumed value stays readable for its retry


async def test_no_gateway_for_long_is_unavailable() -> None:
    vault, asked = client_answering(httpx.Response(503))
    with pytest.raises(VaultUnavailable, match="HTTP 503"):
        await vault.take(REFERENCE, owner="web:ana")
    assert len(asked) == 4  # the first try and three more


@pytest.mark.parametrize(("status", "value"), [(404, None), (403, VaultUnavailable)])
async def test_an_answer_of_the_gateway_is_not_asked_again(status: int, value: object) -> None:
    vault, asked = client_answering(httpx.Response(status, json={"detail": "x"}))
    if value is VaultUnavailable:
        with pytest.raises(VaultUnavailable, match=f"HTTP {status}"):
            await vault.take(REFERENCE, owner="web:ana")
    else:
        assert await vault.take(REFERENCE, owner="web:ana") is value
    assert len(asked) == 1
