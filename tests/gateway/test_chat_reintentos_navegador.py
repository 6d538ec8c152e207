"""The web chat in Debian's Chromium when the balancer or the network fails for a moment (a gateway replica was
killed, a phone lost its signal): the message is sent again with the same id and answered once; when the service
stays away, the citizen is told in Spanish and may write again."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, Route, expect

from bot.settings import Settings
from tests.console.conftest import FakeRasa
from tests.console.navegador import PHONE, chromium, citizen_says, running_gateway

HAPROXY_502 = "<html><body><h1>502 Bad Gateway</h1>The server returned an invalid response.</body></html>"


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, FakeRasa]]:
    settings = Settings(
        var_dir=tmp_path / "var",
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'app.db'}",
        consentimiento_requerido=False,
    )
    rasa = FakeRasa()
    with running_gateway(settings, rasa) as url:
        yield url, rasa


@pytest.fixture
def page() -> Iterator[Page]:
    with chromium() as browser:
        yield browser.new_context(viewport=PHONE).new_page()


def failing_first(page: Page, failures: list[str], posted: list[dict[str, Any]]) -> None:
    """The webhook's first requests fail as ``failures`` says (a status from the balancer, or "red" for a
    dropped connection); the rest reach the gateway."""

    def handle(route: Route) -> None:
        posted.append(json.loads(route.request.post_data or "null"))
        if not failures:
            route.continue_()
            return
        failure = failures.pop(0)
        if failure == "red":
            route.abort("connectionreset")
        else:
            route.fulfill(status=int(failure), content_type="text/html", body=HAPROXY_502)

    page.route("**/webhooks/rest/webhook", handle)


def test_a_proxy_error_and_a_dropped_connection_are_retried_with_the_same_id(
    served: tuple[str, FakeRasa], page: Page
) -> None:
    url, rasa = served
    expect.set_options(timeout=20_000)
    posted: list[dict[str, Any]] = []
    failing_first(page, ["502", "red", "504"], posted)
    page.goto(url + "/")
    citizen_says(page, "hola")
    conversation = page.locator("#conversacion")
    expect(conversation).to_contain_text("eco: hola")
    assert len(posted) == 4
    assert len({body["metadata"]["message_id"] for body in posted}) == 1
    assert rasa.received == ["hola"]  # answered once
    expect(conversation.get_by_text("eco: hola")).to_have_count(1)
    expect(page.locator("#estado")).to_have_text("")


def test_a_service_that_stays_away_gets_a_spanish_notice_and_the_chat_stays_usable(
    served: tuple[str, FakeRasa], page: Page
) -> None:
    url, rasa = served
    expect.set_options(timeout=60_000)
    posted: list[dict[str, Any]] = []
    failing_first(page, ["502"] * 7, posted)
    page.goto(url + "/")
    citizen_says(page, "hola")
    conversation = page.locator("#conversacion")
    expect(conversation).to_contain_text("Chasqui no está disponible en este momento.")
    assert len(posted) == 7 and rasa.received == []
    citizen_says(page, "sigo aqui")  # the next message goes through
    expect(conversation).to_contain_text("eco: sigo aqui")
