"""Messages to Rasa beyond the gateway's limit wait their turn, in arrival order, for a bounded time."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest

from bot.conversations.rasa_client import RasaClient, RasaUnavailable
from bot.gateway.app import create_app
from bot.settings import Settings
from bot.storage.db import migrate


class SlowRasa:
    """Rasa's REST answer after ``seconds``, noting how many messages it holds at once and in what order."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.holding = 0
        self.most = 0
        self.order: list[str] = []

    async def handler(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        self.order.append(body["message"])
        self.holding += 1
        self.most = max(self.most, self.holding)
        try:
            await asyncio.sleep(self.seconds)
        finally:
            self.holding -= 1
        return httpx.Response(200, json=[{"recipient_id": body["sender"], "text": f"eco: {body['message']}"}])


async def test_at_most_the_limit_is_with_rasa_and_the_rest_wait_in_order() -> None:
    rasa = SlowRasa(0.05)
    async with httpx.AsyncClient(transport=httpx.MockTransport(rasa.handler), base_url="http://rasa") as http:
        client = RasaClient(http, concurrency=2)
        sends = []
        for n in range(6):
            sends.append(asyncio.create_task(client.send(sender=f"web:{n}", message=f"mensaje {n}")))
            await asyncio.sleep(0)  # each starts before the next: its place in the queue
        answers = await asyncio.gather(*sends)
    assert rasa.most == 2
    assert rasa.order == [f"mensaje {n}" for n in range(6)]
    assert [a[0].text for a in answers] == [f"eco: mensaje {n}" for n in range(6)]


async def test_a_message_that_waited_too_long_is_an_apology_and_frees_nothing_it_did_not_take() -> None:
    rasa = SlowRasa(0.3)
    async with httpx.AsyncClient(transport=httpx.MockTransport(rasa.handler), base_url="http://rasa") as http:
        client = RasaClient(http, concurrency=1, queue_seconds=0.05)
        first = asyncio.create_task(client.send(sender="web:a", message="primero"))
        await asyncio.sleep(0)
        with pytest.raises(RasaUnavailable):
            await client.send(sender="web:b", message="segundo")
        assert (await first)[0].text == "eco: primero"
        rasa.seconds = 0.0
        again = await client.send(sender="web:b", message="segundo")  # the place came back once
        assert again[0].text == "eco: segundo"
        assert client._slots is not None and client._slots._value == 1  # one place, neither lost nor doubled
    assert rasa.order == ["primero", "segundo"]
    assert rasa.most == 1


async def test_no_limit_by_default() -> None:
    rasa = SlowRasa(0.05)
    async with httpx.AsyncClient(transport=httpx.MockTransport(rasa.handler), base_url="http://rasa") as http:
        client = RasaClient(http)
        await asyncio.gather(*(client.send(sender=f"web:{n}", message=str(n)) for n in range(5)))
    assert rasa.most == 5


async def test_the_gateway_takes_its_limit_from_the_settings(settings: Settings) -> None:
    await asyncio.to_thread(migrate, settings.effective_database_url)
    rasa = SlowRasa(0.05)
    app = create_app(
        settings.model_copy(update={"rasa_concurrency": 1}),
        rasa_transport=httpx.MockTransport(rasa.handler),
        start_background=False,
    )
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as web:
            answers = await asyncio.gather(
                *(
                    web.post("/webhooks/rest/webhook", json={"sender": f"cola{n}", "message": f"hola {n}"})
                    for n in range(3)
                )
            )
    assert [a.status_code for a in answers] == [200, 200, 200]
    assert sorted(a.json()[0]["text"] for a in answers) == [f"eco: hola {n}" for n in range(3)]
    assert rasa.most == 1
