"""The gateway's observability: /metrics after a turn (and who may read it), the request id, readiness."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator

import httpx
import pytest
import structlog
from fastapi.testclient import TestClient

from bot.conversations import router as router_module
from bot.gateway.app import create_app
from bot.settings import Settings
from bot.storage.db import migrate
from tests.gateway.test_web_channel import FakeRasa

PRIVATE = ("10.0.0.7", 40000)


def gateway(settings: Settings, fake_rasa: FakeRasa, *, client: tuple[str, int] = PRIVATE) -> TestClient:
    migrate(settings.effective_database_url)
    app = create_app(settings, rasa_transport=httpx.MockTransport(fake_rasa.handler))
    return TestClient(app, client=client)


@pytest.fixture
def fake_rasa() -> FakeRasa:
    return FakeRasa()


@pytest.fixture
def private_client(settings: Settings, fake_rasa: FakeRasa) -> Iterator[TestClient]:
    with gateway(settings, fake_rasa) as test_client:
        yield test_client


def sample(text: str, name: str, **labels: str) -> float | None:
    """The value of one series in a text exposition, or None when it is absent."""
    wanted = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    for line in text.splitlines():
        if line.startswith("#"):
            continue
        series, _, value = line.rpartition(" ")
        found = re.fullmatch(r"([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?", series)
        if found is None or found.group(1) != name:
            continue
        given = ",".join(sorted(p for p in (found.group(2) or "").split(",") if p))
        if given == wanted:
            return float(value)
    return None


def test_metrics_show_the_turn_its_stages_and_the_backlogs(private_client: TestClient) -> None:
    before = private_client.get("/metrics").text
    turns_before = sample(before, "chasqui_turns_total", channel="web", outcome="answered") or 0.0
    rasa_before = sample(before, "chasqui_turn_stage_seconds_count", stage="rasa") or 0.0

    assert (
        private_client.post("/webhooks/rest/webhook", json={"sender": "web:m1", "message": "hola"}).status_code == 200
    )
    response = private_client.get("/metrics")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    text = response.text
    assert sample(text, "chasqui_turns_total", channel="web", outcome="answered") == turns_before + 1
    assert sample(text, "chasqui_turn_stage_seconds_count", stage="rasa") == rasa_before + 1
    for stage in ("store", "answer"):
        assert (sample(text, "chasqui_turn_stage_seconds_count", stage=stage) or 0) >= 1
    assert (sample(text, "chasqui_turn_seconds_count", channel="web") or 0) >= 1
    assert sample(text, "chasqui_metrics_database_up") == 1
    assert sample(text, "chasqui_inbound_unanswered", status="received") == 0
    assert sample(text, "chasqui_inbound_oldest_unanswered_seconds") == 0
    # Every family is declared even before it has a sample (the action server and worker fill the others).
    for family in (
        "chasqui_outbox_backlog",
        "chasqui_outbox_oldest_pending_seconds",
        "chasqui_handoff_queue_size",
        "chasqui_handoff_oldest_waiting_seconds",
        "chasqui_inbound_lag_seconds",
        "chasqui_registry_calls_total",
        "chasqui_registry_breaker_state",
        "chasqui_documents_issued_total",
        "chasqui_documents_verified_total",
    ):
        assert f"# TYPE {family} " in text, family


def test_a_scrape_is_cheap(private_client: TestClient) -> None:
    for i in range(20):
        private_client.post("/webhooks/rest/webhook", json={"sender": f"web:s{i}", "message": "hola"})
    started = time.perf_counter()
    for _ in range(20):
        assert private_client.get("/metrics").status_code == 200
    per_scrape = (time.perf_counter() - started) / 20
    print(f"\n/metrics: {per_scrape * 1000:.1f} ms per scrape (SQLite, through the test client)")
    assert per_scrape < 0.5


@pytest.mark.parametrize(
    ("client", "headers"),
    [
        (("testclient", 50000), {}),  # not an address
        (("190.152.10.4", 50000), {}),  # a public address
        (("127.0.0.1", 50000), {"X-Forwarded-For": "190.152.10.4"}),  # the public, through a proxy
        (("10.0.0.2", 50000), {"Forwarded": "for=190.152.10.4"}),
    ],
)
def test_metrics_are_refused_to_the_public(
    settings: Settings, fake_rasa: FakeRasa, client: tuple[str, int], headers: dict[str, str]
) -> None:
    with gateway(settings, fake_rasa, client=client) as test_client:
        response = test_client.get("/metrics", headers=headers)
    assert (response.status_code, "chasqui_" in response.text) == (403, False)


def test_with_a_metrics_token_only_the_token_opens_them(settings: Settings, fake_rasa: FakeRasa) -> None:
    settings = settings.model_copy(update={"metrics_token": "secreto-de-metricas"})
    with gateway(settings, fake_rasa, client=("127.0.0.1", 50000)) as local:
        assert local.get("/metrics").status_code == 403
        assert local.get("/metrics", headers={"Authorization": "Bearer otro"}).status_code == 403
    with gateway(settings, fake_rasa, client=("190.152.10.4", 50000)) as public:
        response = public.get("/metrics", headers={"Authorization": "Bearer secreto-de-metricas"})
    assert response.status_code == 200
    assert "# TYPE chasqui_turns_total counter" in response.text


def test_the_request_id_reaches_rasa_the_logs_and_the_answer(
    private_client: TestClient, fake_rasa: FakeRasa, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The processors every process uses (bot.logs) start with structlog's contextvars; capture after that step.
    # A fresh logger proxy: structlog keeps a module's logger from its first use, in whichever test came first.
    captured = structlog.testing.LogCapture()
    saved = structlog.get_config()
    structlog.configure(processors=[structlog.contextvars.merge_contextvars, captured], cache_logger_on_first_use=False)
    monkeypatch.setattr(router_module, "log", structlog.get_logger(router_module.__name__))
    try:
        response = private_client.post(
            "/webhooks/rest/webhook",
            json={"sender": "web:rid", "message": "hola"},
            headers={"X-Request-ID": "prueba-7f3a"},
        )
    finally:
        structlog.configure(**saved)
    assert response.status_code == 200
    assert response.headers["X-Request-ID"] == "prueba-7f3a"
    assert fake_rasa.received[-1]["metadata"]["request_id"] == "prueba-7f3a"
    events = [(e["event"], e.get("request_id")) for e in captured.entries if e["event"].startswith("inbound.")]
    assert events == [("inbound.stored", "prueba-7f3a"), ("inbound.answered", "prueba-7f3a")]


def test_a_request_id_is_made_when_none_or_an_unsafe_one_is_given(
    private_client: TestClient, fake_rasa: FakeRasa
) -> None:
    plain = private_client.post("/webhooks/rest/webhook", json={"sender": "web:a", "message": "hola"})
    unsafe = private_client.post(
        "/webhooks/rest/webhook",
        json={"sender": "web:b", "message": "hola"},
        headers={"X-Request-ID": "x\tforged=1 level=error"},
    )
    made = [plain.headers["X-Request-ID"], unsafe.headers["X-Request-ID"]]
    assert all(re.fullmatch(r"[a-z]{24}", value) for value in made)
    assert made[0] != made[1]
    assert [body["metadata"]["request_id"] for body in fake_rasa.received[-2:]] == made
    assert private_client.get("/healthz").headers["X-Request-ID"]


def test_ready_while_rasa_is_down_and_it_says_so(settings: Settings) -> None:
    migrate(settings.effective_database_url)
    app = create_app(settings, rasa_transport=httpx.MockTransport(lambda r: httpx.Response(503)))
    with TestClient(app) as test_client:
        ready = test_client.get("/readyz")
        whole = test_client.get("/readyz", params={"completo": "1"})
        answer = test_client.post("/webhooks/rest/webhook", json={"sender": "web:x", "message": "hola"})
    assert (ready.status_code, ready.json()) == (
        200,
        {"ready": True, "database": "ok", "rasa": "cargando o no disponible"},
    )
    assert (whole.status_code, whole.json()["ready"]) == (503, False)
    # The gateway is what a citizen reaches meanwhile: a Spanish apology, not a load balancer's error page.
    assert answer.status_code == 503 and answer.json()[0]["text"]
