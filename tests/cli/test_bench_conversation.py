"""`chasqui bench-conversacion`: its rounds, statistics, report and CLI, against fake gateway and Rasa servers.

The fakes speak the real protocols (the web channel, Rasa's signed channel, Prometheus's text exposition)
through `httpx.MockTransport`; nothing here starts Rasa, and no figure here is a timing assertion.
"""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client import CollectorRegistry, Histogram, generate_latest

from bot.cli import bench_conversation as bench
from bot.cli.bench_conversation import (
    CONSENT_PAYLOAD,
    CONVERSATIONS,
    GATEWAY,
    RASA,
    RASA_WEBHOOK,
    RELAY,
    TURN_KEY,
    BenchResult,
    Figures,
    GatewaySide,
    Observed,
    RasaSide,
    Side,
    cached_model,
    isolated_settings,
    parse_stages,
    percentile,
    report,
    run_benchmark,
)
from bot.cli.main import main
from bot.cli.model import model_hash
from bot.settings import Settings
from integrations.rasa.signing import HEADER, verify

SECRET = "secreto-del-canal-de-prueba"
NOTICE = {"text": "Sobre sus datos: …", "buttons": [{"title": "Acepto", "payload": CONSENT_PAYLOAD}]}


class FakeGateway:
    """The web channel: a greeting asks for consent on first contact; ``/metrics`` from real histograms."""

    def __init__(self, log: list[tuple[str, str, str]], *, asks_consent: bool = True, empty_on: str = "") -> None:
        self.log = log
        self.asks_consent = asks_consent
        self.empty_on = empty_on
        self.seen: dict[str, list[str]] = {}
        self.registry = CollectorRegistry()
        self.stage = Histogram("chasqui_turn_stage_seconds", "stages", ["stage"], registry=self.registry)
        self.turn = Histogram("chasqui_turn_seconds", "turns", ["channel"], registry=self.registry)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.method == "GET" and request.url.path == "/metrics":
            return httpx.Response(200, content=generate_latest(self.registry))
        assert (request.method, request.url.path) == ("POST", "/webhooks/rest/webhook")
        body = json.loads(request.content)
        assert body["metadata"]["message_id"]
        sender, text = body["sender"], body["message"]
        first = sender not in self.seen
        self.seen.setdefault(sender, []).append(text)
        self.log.append((GATEWAY, sender, text))
        self.stage.labels(stage="store").observe(0.002)
        self.turn.labels(channel="web").observe(0.02)
        self.turn.labels(channel="tg").observe(5.0)  # another channel's turns: not the web chat's
        if text == CONSENT_PAYLOAD:
            self.stage.labels(stage="consent").observe(0.001)
            return httpx.Response(200, json=[{"recipient_id": sender, "text": "Gracias, quedó registrado."}])
        self.stage.labels(stage="rasa").observe(0.015)
        if text == self.empty_on:
            return httpx.Response(200, json=[])
        answer = [{"recipient_id": sender, "text": f"respuesta a {text}"}]
        return httpx.Response(200, json=answer + ([NOTICE] if first and self.asks_consent else []))


class FakeRasa:
    """Rasa's signed channel: refuses a message without a valid signature, as SignedRestInput does."""

    def __init__(self, log: list[tuple[str, str, str]], *, fails_on: str = "") -> None:
        self.log = log
        self.fails_on = fails_on
        self.seen: dict[str, list[str]] = {}

    def __call__(self, request: httpx.Request) -> httpx.Response:
        assert (request.method, request.url.path) == ("POST", RASA_WEBHOOK)
        if not verify(SECRET, request.content, request.headers.get(HEADER)):
            return httpx.Response(403, json={"error": "firma inválida"})
        body = json.loads(request.content)
        sender, text = body["sender"], body["message"]
        self.seen.setdefault(sender, []).append(text)
        self.log.append((RASA, sender, text))
        if text == self.fails_on:
            return httpx.Response(500, text="boom")
        return httpx.Response(200, json=[{"recipient_id": sender, "text": f"respuesta a {text}"}])


@pytest.fixture
def log() -> list[tuple[str, str, str]]:
    return []


def _sides(gateway: FakeGateway, rasa: FakeRasa, *, secret: str = SECRET) -> list[Side]:
    return [
        GatewaySide(httpx.AsyncClient(transport=httpx.MockTransport(gateway), base_url="http://pasarela")),
        RasaSide(httpx.AsyncClient(transport=httpx.MockTransport(rasa), base_url="http://rasa"), channel_secret=secret),
    ]


async def test_every_conversation_is_opened_then_talked_through_on_both_sides(
    log: list[tuple[str, str, str]],
) -> None:
    gateway, rasa = FakeGateway(log), FakeRasa(log)

    result = await run_benchmark(_sides(gateway, rasa), levels=(1, 4), conversations=8, warm_up=0)

    scripts = [[*CONVERSATIONS[i % len(CONVERSATIONS)]] for i in range(8)]
    expected_gateway = sorted(["hola", CONSENT_PAYLOAD, *s] for s in scripts * 2)  # 8 at c=1, 8 at c=4
    expected_rasa = sorted(["hola", *s] for s in scripts * 2)
    assert sorted(gateway.seen.values()) == expected_gateway
    assert sorted(rasa.seen.values()) == expected_rasa
    assert not set(gateway.seen) & {s.removeprefix("web:") for s in rasa.seen}
    for figures in result.figures:
        assert (figures.turns, figures.errors, figures.empty, figures.failed_openings) == (48, 0, 0, 0)
        assert len(figures.latencies) == 48


async def test_the_stage_breakdown_counts_the_measured_turns_only(log: list[tuple[str, str, str]]) -> None:
    gateway, rasa = FakeGateway(log), FakeRasa(log)

    result = await run_benchmark(_sides(gateway, rasa), levels=(2,), conversations=4, warm_up=1)

    stages = result.get(GATEWAY, 2).stages
    assert {k: v.count for k, v in stages.items()} == {"store": 24, "rasa": 24, "consent": 0, TURN_KEY: 24}
    assert stages["rasa"].total == pytest.approx(24 * 0.015)
    assert stages[TURN_KEY].total == pytest.approx(24 * 0.02)  # the tg channel's turns left out
    assert result.get(RASA, 2).stages == {}


async def test_rounds_alternate_which_side_goes_first(log: list[tuple[str, str, str]]) -> None:
    gateway, rasa = FakeGateway(log), FakeRasa(log)

    await run_benchmark(_sides(gateway, rasa), levels=(1,), conversations=4, warm_up=0)

    # At c = 1 a round is one conversation: the side of each new sender, in order, is the order of the rounds.
    conversations = list(dict.fromkeys((side, sender) for side, sender, _ in log))
    assert [side for side, _ in conversations] == [GATEWAY, RASA, RASA, GATEWAY, GATEWAY, RASA, RASA, GATEWAY]


async def test_failures_and_empty_answers_are_counted_not_timed(log: list[tuple[str, str, str]]) -> None:
    gateway, rasa = FakeGateway(log, empty_on="gracias"), FakeRasa(log, fails_on="chao")

    result = await run_benchmark(_sides(gateway, rasa), levels=(1,), conversations=3, warm_up=0)

    g, r = result.get(GATEWAY, 1), result.get(RASA, 1)
    # «gracias» is the second turn of two of the three conversations; «chao» the last turn of one.
    assert (g.turns, g.errors, g.empty, len(g.latencies)) == (18, 0, 2, 18)
    assert (r.turns, r.errors, r.empty, len(r.latencies)) == (18, 1, 0, 17)
    assert r.reasons == {"HTTP 500": 1}


async def test_a_wrong_signature_makes_every_rasa_turn_an_error(log: list[tuple[str, str, str]]) -> None:
    gateway, rasa = FakeGateway(log), FakeRasa(log)

    result = await run_benchmark(_sides(gateway, rasa, secret="otro"), levels=(1,), conversations=2, warm_up=0)

    r = result.get(RASA, 1)
    assert (r.turns, r.errors, r.failed_openings, r.latencies) == (12, 12, 2, [])
    assert rasa.seen == {}


async def test_no_consent_answer_when_the_gateway_does_not_ask(log: list[tuple[str, str, str]]) -> None:
    gateway, rasa = FakeGateway(log, asks_consent=False), FakeRasa(log)

    await run_benchmark(_sides(gateway, rasa), levels=(1,), conversations=1, warm_up=0)

    assert list(gateway.seen.values()) == [["hola", *CONVERSATIONS[0]]]


def test_percentile_is_nearest_rank() -> None:
    values = [float(v) for v in range(1, 21)]  # 1..20

    assert (percentile(values, 0.5), percentile(values, 0.95), percentile(values, 1.0)) == (11.0, 19.0, 20.0)
    assert percentile([], 0.5) != percentile([], 0.5)  # NaN


def test_parse_stages_reads_sums_and_counts() -> None:
    exposition = (
        "# TYPE chasqui_turn_stage_seconds histogram\n"
        'chasqui_turn_stage_seconds_bucket{le="+Inf",stage="store"} 3.0\n'
        'chasqui_turn_stage_seconds_count{stage="store"} 3.0\n'
        'chasqui_turn_stage_seconds_sum{stage="store"} 0.25\n'
        "# TYPE chasqui_turn_seconds histogram\n"
        'chasqui_turn_seconds_count{channel="web"} 2.0\n'
        'chasqui_turn_seconds_sum{channel="web"} 1.5\n'
        'chasqui_turn_seconds_count{channel="wa"} 9.0\n'
        'chasqui_turn_seconds_sum{channel="wa"} 9.5\n'
        "# TYPE chasqui_turns counter\n"
        'chasqui_turns_total{channel="web",outcome="answered"} 2.0\n'
    )

    assert parse_stages(exposition) == {"store": Observed(3.0, 0.25), TURN_KEY: Observed(2.0, 1.5)}


def _figures(side: str, concurrency: int, latencies: list[float], *, wall: float, errors: int = 0) -> Figures:
    return Figures(side, concurrency, latencies=latencies, wall=wall, errors=errors)


def test_report_prints_the_table_the_ratios_and_the_stages() -> None:
    gateway_1 = _figures(GATEWAY, 1, [0.06, 0.08, 0.10], wall=0.24)
    gateway_1.stages = {"store": Observed(3, 0.03), "rasa": Observed(3, 0.15), TURN_KEY: Observed(3, 0.21)}
    gateway_16 = _figures(GATEWAY, 16, [0.5, 0.6, 0.7, 2.0], wall=1.0, errors=1)
    gateway_16.reasons = {"ReadTimeout": 1}
    result = BenchResult(
        conversations=2,
        figures=(
            gateway_1,
            _figures(RASA, 1, [0.04, 0.05, 0.06], wall=0.15),
            gateway_16,
            _figures(RASA, 16, [0.4, 0.5, 0.6, 1.0], wall=0.8),
        ),
    )
    out = io.StringIO()

    report(result, header=["cabecera"], out=out)

    lines = out.getvalue().splitlines()
    assert lines[0] == "cabecera"
    assert "    1 pasarela            3        0       0      80     100      12.5" in lines
    assert "   16 pasarela            5        1       0     650    2000       4.0" in lines
    assert ["1", "1.60×", "1.67×", "0.62×", "30.0"] in [line.split() for line in lines]  # and p50 30 ms over
    assert ["16", "1.18×", "2.00×", "0.80×", "100.0"] in [line.split() for line in lines]
    assert "  p50 a c=1: 1.60×, meta ≤ 1.15×: NO cumple" in lines
    assert "  turnos/s a c=16: 0.80×, meta ≥ 0.90×: NO cumple" in lines
    assert "  p95 a c=16: pasarela 2000 ms, Rasa directo 1000 ms, meta no peor: NO cumple" in lines
    assert "  errores (turnos y aperturas): 1, meta 0: NO cumple" in lines
    assert "    pasarela a c=16: ReadTimeout ×1" in lines
    stage_lines = {
        line[: bench.LABEL_WIDTH].strip(): line[bench.LABEL_WIDTH :].split()
        for line in lines
        if line.startswith(("store", "rasa", "pasarela sin"))
    }
    assert stage_lines["store (guardar el mensaje, con la bóveda)"] == ["10.0", "0.0"]
    assert stage_lines["rasa (llamada a Rasa)"] == ["50.0", "0.0"]
    assert stage_lines["pasarela sin Rasa (turno completo − rasa)"] == ["20.0", "0.0"]


def test_report_prints_the_relays_ratios_beside_the_gateways() -> None:
    result = BenchResult(
        conversations=1,
        figures=(
            _figures(GATEWAY, 1, [0.050], wall=0.05),
            _figures(RASA, 1, [0.040], wall=0.04),
            _figures(RELAY, 1, [0.042], wall=0.042),
        ),
    )
    out = io.StringIO()

    report(result, out=out)

    lines = out.getvalue().splitlines()
    assert any(line.startswith("    1 relevo mínimo") for line in lines)
    relay = lines.index(next(line for line in lines if line.startswith("Relevo mínimo")))
    assert lines[relay + 2].split() == ["1", "1.05×", "1.05×", "0.95×", "2.0"]  # p50 2 ms over Rasa's
    gateway = lines.index("Pasarela / Rasa directo (misma corrida):")
    assert lines[gateway + 2].split() == ["1", "1.25×", "1.25×", "0.80×", "10.0"]


def test_report_says_when_the_gateway_gave_no_stages() -> None:
    result = BenchResult(
        conversations=1,
        figures=(_figures(GATEWAY, 1, [0.05], wall=0.05), _figures(RASA, 1, [0.05], wall=0.05)),
    )
    out = io.StringIO()

    report(result, out=out)

    assert "  p50 a c=1: 1.00×, meta ≤ 1.15×: cumple" in out.getvalue().splitlines()
    assert "Etapas de la pasarela: /metrics no respondió; sin desglose." in out.getvalue()


def test_isolated_settings_on_sqlite_and_postgres(tmp_path: Path) -> None:
    base = Settings(var_dir=tmp_path / "real")

    sqlite = isolated_settings(base, tmp_path / "var", database="sqlite", suffix="0123abcd")
    postgres = isolated_settings(
        base, tmp_path / "var", database="postgresql://postgres@127.0.0.1:5432/", suffix="0123abcd"
    )

    assert sqlite.effective_database_url == f"sqlite+aiosqlite:///{tmp_path / 'var' / 'chasqui.db'}"
    assert sqlite.effective_rasa_database_url == f"sqlite:///{tmp_path / 'var' / 'rasa.db'}"
    assert postgres.effective_database_url == "postgresql+asyncpg://postgres@127.0.0.1:5432/chasqui_bench_0123abcd"
    assert postgres.effective_rasa_database_url == "postgresql://postgres@127.0.0.1:5432/chasqui_bench_rasa_0123abcd"
    ports = {sqlite.gateway_port, sqlite.rasa_port, sqlite.actions_port, sqlite.registros_port}
    assert len(ports) == 4 and 8000 not in ports


def test_the_default_model_is_the_cached_one_for_the_current_inputs(tmp_path: Path) -> None:
    settings = Settings(var_dir=tmp_path, cache_dir=tmp_path / "cache")

    assert cached_model(settings) == tmp_path / "cache" / "models" / f"{model_hash(settings.project_dir)}.tar.gz"


def test_the_cli_refuses_a_missing_model_before_starting_anything(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "no-existe.tar.gz"

    code = main(["bench-conversacion", "--modelo", str(missing)])

    assert code == 2
    assert f"No encuentro el modelo {missing}." in capsys.readouterr().err


def test_the_cli_passes_its_options(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[dict[str, Any]] = []

    def fake(settings: Settings, **options: Any) -> int:
        calls.append(options)
        return 0

    monkeypatch.setattr(bench, "main_bench_conversacion", fake)

    assert main(["bench-conversacion", "--modelo", "m.tar.gz", "--postgres", "--conversaciones", "8"]) == 0
    assert main(["bench-conversacion"]) == 0
    assert calls == [
        {"model": "m.tar.gz", "postgres_url": "postgresql://postgres@127.0.0.1:5432", "conversations": 8},
        {"model": None, "postgres_url": None, "conversations": 48},
    ]


def test_the_whole_command_against_the_stack_and_a_fake_rasa(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The stack as `chasqui run` starts it (gateway, actions, registries, worker) with Rasa replaced."""
    rasa_bin = tmp_path / "rasa"
    rasa_bin.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{Path(__file__).parent / "fake_rasa.py"}" "$@"\n')
    rasa_bin.chmod(0o700)
    model = tmp_path / "modelo.tar.gz"
    model.write_bytes(b"")
    received = tmp_path / "rasa.jsonl"
    monkeypatch.setenv("FAKE_RASA_LOG", str(received))
    settings = Settings(var_dir=tmp_path / "real", rasa_bin=str(rasa_bin))
    out = io.StringIO()

    code = bench.main_bench_conversacion(settings, model=str(model), conversations=1, out=out)

    lines = out.getvalue().splitlines()
    assert code == 0, out.getvalue()
    for concurrency in (1, 4, 16):
        for side in (GATEWAY, RASA, RELAY):
            row = next(line.split() for line in lines if line.startswith(f"{concurrency:>5} {side}"))
            assert row[-6:-3] == [str(6 * concurrency), "0", "0"], row  # turns, errors, empty answers
    assert any(line.startswith("Relevo mínimo") for line in lines)  # the floor's ratios, in the same run
    assert "  errores (turnos y aperturas): 0, meta 0: cumple" in lines
    assert any(line.startswith("rasa (llamada a Rasa)") for line in lines)  # read from the gateway's /metrics
    # Rasa got the same conversations from every side (the relay passes them on as the gateway would): the
    # greeting that opens it, then the six turns; the answer to the privacy notice stayed in the gateway.
    conversations: dict[str, list[str]] = {}
    for line in received.read_text().splitlines():
        sender, text = json.loads(line)
        conversations.setdefault(sender, []).append(text)
    measured = [c for c in conversations.values() if len(c) == 1 + len(CONVERSATIONS[0])]
    assert len(measured) == 3 * (2 + 1 + 4 + 16)  # per side: two warm-up conversations, then c = 1, 4, 16
    assert all(c[0] == "hola" and tuple(c[1:]) in CONVERSATIONS for c in measured)
    assert all(CONSENT_PAYLOAD not in c for c in conversations.values())


def test_memory_report_prints_each_process_and_the_pair_target() -> None:
    rows = [
        bench.MemoryRow("gateway", 120.4, 131.0),
        bench.MemoryRow("actions", 150.2, 152.9),
        bench.MemoryRow("rasa", 700.0, 720.0),
    ]
    out = io.StringIO()

    bench.report_memory(rows, gateway_turns=1152, out=out)

    text = out.getvalue()
    assert "después de 1152 turnos" in text
    assert "gateway             120      131" in text
    assert "pasarela + acciones en reposo: 271 MB, meta ≤ 300 MB: cumple" in text
    out = io.StringIO()
    bench.report_memory(
        [bench.MemoryRow("gateway", 200, 210), bench.MemoryRow("actions", 150, 150)], gateway_turns=1, out=out
    )
    assert "350 MB, meta ≤ 300 MB: NO cumple" in out.getvalue()


def test_resident_memory_of_this_process_is_read_from_proc() -> None:
    import os

    mb = bench.resident_mb(os.getpid())
    assert mb > 10 or sys.platform != "linux"
    assert bench.resident_mb(2**22 + 7) != bench.resident_mb(2**22 + 7)  # no such process: NaN


def test_resident_memory_counts_the_processes_a_server_started() -> None:
    import os
    import subprocess

    alone = bench.resident_mb(os.getpid())
    children = [subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"]) for _ in range(2)]
    try:
        import time

        time.sleep(0.5)  # each child is an interpreter of its own by then (several MB)
        child = bench.resident_mb(children[0].pid)
        assert bench.resident_mb(os.getpid()) >= alone + 2 * child * 0.9 or sys.platform != "linux"
    finally:
        for process in children:
            process.kill()
            process.wait()
