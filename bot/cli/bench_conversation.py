"""`chasqui bench-conversacion`: what a turn through the gateway costs over Rasa itself, side by side.

The same six-turn conversations (greeting, thanks, «¿eres un robot?», services, an out-of-scope question,
goodbye: no registry, no identity) go (a) through the gateway's web channel and (b) straight to Rasa, the same
Rasa with the same model and action server, in alternating rounds at each concurrency level. Every
conversation has a fresh sender id and is opened first, unmeasured: a greeting on both sides (so that Rasa
sees the same messages on both), then, on the web channel, the answer to the privacy notice when the gateway
asks it (the gateway keeps that answer; it never reaches Rasa). Only the six turns after the opening count.

A third side, the "minimal relay" (`bot.cli.bench_relay`), passes the same conversations to the same Rasa
through a process that stores and checks nothing: uvicorn, one route and an httpx client, as in the gateway.
Its ratio to Rasa direct is the floor of any process between the citizen and Rasa; what the gateway adds over
it is its own work.

"Rasa direct" is Rasa's signed input channel (`integrations/rasa/channel.py`, the only one credentials.yml
loads) with the same secret the gateway uses: enabling Rasa's unauthenticated REST channel would change the
Rasa being measured, and the signature costs an HMAC over the body, a few microseconds.

The gateway's own time per stage comes from its ``/metrics`` (``chasqui_turn_stage_seconds`` and
``chasqui_turn_seconds``), read just before and just after each measured window of the gateway.
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import re
import socket
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TextIO
from urllib.parse import urlsplit

import httpx

from bot.channels.registry import WEB
from bot.settings import Settings
from integrations.rasa.signing import HEADER, sign

if TYPE_CHECKING:
    from bot.cli.stack import Stack

# Each conversation: greeting, thanks, «¿eres un robot?», services / help, out of scope, goodbye.
CONVERSATIONS: tuple[tuple[str, ...], ...] = (
    ("hola", "gracias", "¿eres un robot?", "¿qué servicios tienen?", "cuéntame un chiste", "chao"),
    ("buenos días", "muchas gracias", "¿eres una persona real?", "ayuda", "¿cómo quedó Liga de Quito?", "hasta luego"),
    ("buenas tardes", "gracias", "¿eres un bot?", "¿en qué me puede ayudar?", "cántame una canción", "adiós"),
)
TURNS = len(CONVERSATIONS[0])
OPENING = "hola"
CONSENT_PAYLOAD = "/consentimiento_acepto"
LEVELS = (1, 4, 16)
GATEWAY, RASA, RELAY = "pasarela", "Rasa directo", "relevo mínimo"
RASA_WEBHOOK = "/webhooks/firmado/webhook"  # the channel the gateway's RasaClient uses
TURN_FAMILY, STAGE_FAMILY = "chasqui_turn_seconds", "chasqui_turn_stage_seconds"
TURN_KEY = "turno completo"
TARGET_PAIR_MB = 300  # issue 15: gateway + action server at rest
LABEL_WIDTH = 46
STAGE_NOTES = {
    "store": "guardar el mensaje, con la bóveda",
    "consent": "consentimiento",
    "rasa": "llamada a Rasa",
    "rasa_wait": "espera de un lugar con Rasa",
    "answer": "guardar las respuestas",
    "outbox_send": "envío de la bandeja de salida",
}
# Issue 15's «done when»: gateway p50 ≤ 1.15× Rasa direct at c = 1, throughput ≥ 0.9× at c = 16,
# p95 at c = 16 no worse than Rasa direct's, no errors.
TARGET_P50, TARGET_THROUGHPUT = 1.15, 0.9
# Variables that would point the throw-away instance's processes at a real database or Redis (a child reads
# DATABASE_URL before the CHASQUI_DATABASE_URL the stack gives it).
SHARED_STATE_VARIABLES = (
    "DATABASE_URL",
    "CHASQUI_DATABASE_URL",
    "RASA_DATABASE_URL",
    "CHASQUI_RASA_DATABASE_URL",
    "REDIS_URL",
    "CHASQUI_REDIS_URL",
)


class TurnFailed(Exception):
    """A turn got no usable answer (connection error, timeout, HTTP status other than 200, not a JSON list)."""


def percentile(values: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile of ``values`` (NaN when there are none)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


@dataclass(frozen=True)
class Observed:
    """A histogram's count and sum of seconds, as exposed by Prometheus."""

    count: float = 0.0
    total: float = 0.0

    def __sub__(self, other: Observed) -> Observed:
        return Observed(self.count - other.count, self.total - other.total)

    def __add__(self, other: Observed) -> Observed:
        return Observed(self.count + other.count, self.total + other.total)


def parse_stages(exposition: str, *, channel: str = WEB.code) -> dict[str, Observed]:
    """Count and sum of each turn stage, and of whole turns of ``channel`` (key `TURN_KEY`), from ``/metrics``."""
    from prometheus_client.parser import text_string_to_metric_families

    counts: dict[str, float] = {}
    sums: dict[str, float] = {}
    for family in text_string_to_metric_families(exposition):
        if family.name not in (STAGE_FAMILY, TURN_FAMILY):
            continue
        for sample in family.samples:
            if family.name == STAGE_FAMILY:
                key = sample.labels.get("stage", "")
            elif sample.labels.get("channel") == channel:
                key = TURN_KEY
            else:
                continue
            if sample.name.endswith("_count"):
                counts[key] = counts.get(key, 0.0) + sample.value
            elif sample.name.endswith("_sum"):
                sums[key] = sums.get(key, 0.0) + sample.value
    return {key: Observed(counts.get(key, 0.0), sums.get(key, 0.0)) for key in counts.keys() | sums.keys()}


def stage_difference(after: dict[str, Observed], before: dict[str, Observed]) -> dict[str, Observed]:
    return {key: value - before.get(key, Observed()) for key, value in after.items()}


class Side(Protocol):
    """One way of talking to Rasa: through the gateway or straight to it."""

    name: str

    def new_sender(self) -> str: ...

    async def send(self, sender: str, text: str) -> list[dict[str, Any]]:
        """The answer's messages; raises `TurnFailed`."""
        ...

    async def open(self, sender: str) -> None:
        """Start the conversation, unmeasured; raises `TurnFailed`."""
        ...

    async def stages(self) -> dict[str, Observed] | None:
        """The side's own per-stage figures so far, when it has any."""
        ...


def _messages(response: httpx.Response) -> list[dict[str, Any]]:
    if response.status_code != 200:
        raise TurnFailed(f"HTTP {response.status_code}")
    try:
        data = response.json()
    except ValueError as exc:
        raise TurnFailed("not JSON") from exc
    if not isinstance(data, list):
        raise TurnFailed("not a list")
    return [m for m in data if isinstance(m, dict)]


@dataclass
class GatewaySide:
    """The gateway's web channel (``POST /webhooks/rest/webhook``), as the web chat uses it."""

    http: httpx.AsyncClient
    metrics_token: str = ""
    name: str = GATEWAY

    def new_sender(self) -> str:
        return f"bench-{uuid.uuid4().hex[:16]}"

    async def send(self, sender: str, text: str) -> list[dict[str, Any]]:
        body = {"sender": sender, "message": text, "metadata": {"message_id": uuid.uuid4().hex}}
        try:
            response = await self.http.post("/webhooks/rest/webhook", json=body)
        except httpx.HTTPError as exc:
            raise TurnFailed(type(exc).__name__) from exc
        return _messages(response)

    async def open(self, sender: str) -> None:
        answer = await self.send(sender, OPENING)
        payloads = {b.get("payload") for m in answer for b in (m.get("buttons") or []) if isinstance(b, dict)}
        if CONSENT_PAYLOAD in payloads:  # the privacy notice of first contact asks for an answer
            await self.send(sender, CONSENT_PAYLOAD)

    async def stages(self) -> dict[str, Observed] | None:
        headers = {"Authorization": f"Bearer {self.metrics_token}"} if self.metrics_token else None
        try:
            response = await self.http.get("/metrics", headers=headers)
        except httpx.HTTPError:
            return None
        return parse_stages(response.text) if response.status_code == 200 else None


@dataclass
class RasaSide:
    """Rasa's signed input channel, signed with the gateway's own secret (see the module's docstring)."""

    http: httpx.AsyncClient
    channel_secret: str
    name: str = RASA

    def new_sender(self) -> str:
        return f"{WEB.code}:bench-{uuid.uuid4().hex[:16]}"

    async def send(self, sender: str, text: str) -> list[dict[str, Any]]:
        content = json.dumps({"sender": sender, "message": text}, ensure_ascii=False).encode("utf-8")
        headers = {"Content-Type": "application/json", HEADER: sign(self.channel_secret, content)}
        try:
            response = await self.http.post(RASA_WEBHOOK, content=content, headers=headers)
        except httpx.HTTPError as exc:
            raise TurnFailed(type(exc).__name__) from exc
        return _messages(response)

    async def open(self, sender: str) -> None:
        await self.send(sender, OPENING)

    async def stages(self) -> dict[str, Observed] | None:
        return None


@dataclass
class Figures:
    """The measured turns of one side at one concurrency level."""

    side: str
    concurrency: int
    latencies: list[float] = field(default_factory=list)  # seconds, answered turns only
    errors: int = 0
    reasons: dict[str, int] = field(default_factory=dict)  # why turns failed: "HTTP 503", "ReadTimeout"…
    empty: int = 0  # answered with no message at all
    failed_openings: int = 0
    wall: float = 0.0  # seconds inside the measured windows
    stages: dict[str, Observed] = field(default_factory=dict)

    @property
    def turns(self) -> int:
        return len(self.latencies) + self.errors

    @property
    def p50(self) -> float:
        return statistics.median(self.latencies) if self.latencies else float("nan")

    @property
    def p95(self) -> float:
        return percentile(self.latencies, 0.95)

    @property
    def per_second(self) -> float:
        return len(self.latencies) / self.wall if self.wall > 0 else float("nan")


async def _converse(side: Side, sender: str, script: Sequence[str], figures: Figures) -> None:
    for text in script:
        started = time.perf_counter()
        try:
            answer = await side.send(sender, text)
        except TurnFailed as exc:
            figures.errors += 1
            figures.reasons[str(exc)] = figures.reasons.get(str(exc), 0) + 1
            continue
        figures.latencies.append(time.perf_counter() - started)
        figures.empty += not answer


async def run_round(side: Side, scripts: Sequence[Sequence[str]], figures: Figures) -> None:
    """Open one conversation per script (unmeasured), then talk them all through at once (measured)."""
    senders = [side.new_sender() for _ in scripts]
    opened = await asyncio.gather(*(side.open(s) for s in senders), return_exceptions=True)
    figures.failed_openings += sum(isinstance(o, BaseException) for o in opened)
    before = await side.stages()
    started = time.perf_counter()
    await asyncio.gather(*(_converse(side, s, script, figures) for s, script in zip(senders, scripts, strict=True)))
    figures.wall += time.perf_counter() - started
    after = await side.stages()
    if before is not None and after is not None:
        for key, value in stage_difference(after, before).items():
            figures.stages[key] = figures.stages.get(key, Observed()) + value


@dataclass(frozen=True)
class BenchResult:
    """Figures of every side at every level, in the order measured."""

    conversations: int
    figures: tuple[Figures, ...]

    def get(self, side: str, concurrency: int) -> Figures:
        return next(f for f in self.figures if f.side == side and f.concurrency == concurrency)

    @property
    def sides(self) -> list[str]:
        """The sides measured, in the order first measured."""
        return list(dict.fromkeys(f.side for f in self.figures))

    @property
    def levels(self) -> list[int]:
        return sorted({f.concurrency for f in self.figures})


async def run_benchmark(
    sides: Sequence[Side],
    *,
    levels: Sequence[int] = LEVELS,
    conversations: int = 48,
    warm_up: int = 2,
    progress: TextIO | None = None,
) -> BenchResult:
    """Talk ``conversations`` conversations per side at each concurrency level, in alternating rounds.

    A round is ``concurrency`` conversations of one side at once; the sides take turns, and the side that goes
    first changes every round, so that a busy machine slows both alike. ``warm_up`` conversations per side
    go first, unmeasured (Rasa's first predictions are slow).
    """
    if warm_up:
        for side in sides:
            await run_round(side, CONVERSATIONS[:1] * warm_up, Figures(side.name, 0))
    all_figures: list[Figures] = []
    for concurrency in levels:
        if progress is not None:
            print(f"  concurrencia {concurrency}…", file=progress, flush=True)
        figures = {side.name: Figures(side.name, concurrency) for side in sides}
        all_figures += figures.values()
        for number in range(max(1, math.ceil(conversations / concurrency))):
            first = number * concurrency
            scripts = [CONVERSATIONS[(first + i) % len(CONVERSATIONS)] for i in range(concurrency)]
            order = sides if number % 2 == 0 else list(reversed(sides))
            for side in order:
                await run_round(side, scripts, figures[side.name])
    return BenchResult(conversations=conversations, figures=tuple(all_figures))


def _ms(seconds: float) -> str:
    return "—" if math.isnan(seconds) else f"{seconds * 1000:.0f}"


def _ratio(a: float, b: float) -> float:
    return a / b if b and not math.isnan(a) and not math.isnan(b) else float("nan")


def _times(value: float) -> str:
    return "—" if math.isnan(value) else f"{value:.2f}×"


def report(result: BenchResult, *, header: Sequence[str] = (), out: TextIO) -> None:
    """Print the table per side and level, the ratios against Rasa direct, the targets and the gateway's stages."""
    for line in header:
        print(line, file=out)
    print(
        f"{TURNS} turnos medidos por conversación; {result.conversations} conversaciones por lado y concurrencia,"
        " remitentes nuevos, rondas alternadas.",
        file=out,
    )
    print(
        f"{'conc.':>5} {'lado':13} {'turnos':>7} {'errores':>8} {'vacías':>7} {'p50 ms':>7} {'p95 ms':>7}"
        f" {'turnos/s':>9}",
        file=out,
    )
    for concurrency in result.levels:
        for side in result.sides:
            f = result.get(side, concurrency)
            print(
                f"{concurrency:>5} {side:13} {f.turns:>7} {f.errors:>8} {f.empty:>7} {_ms(f.p50):>7} {_ms(f.p95):>7}"
                f" {f.per_second:>9.1f}",
                file=out,
            )
    for side in (s for s in result.sides if s != RASA):
        title = "Pasarela" if side == GATEWAY else "Relevo mínimo (el piso de un segundo salto, ver bench_relay)"
        print(f"\n{title} / Rasa directo (misma corrida):", file=out)
        print(f"{'conc.':>5} {'p50':>7} {'p95':>7} {'turnos/s':>9} {'p50 + ms':>9}", file=out)
        for concurrency in result.levels:
            g, r = result.get(side, concurrency), result.get(RASA, concurrency)
            print(
                f"{concurrency:>5} {_times(_ratio(g.p50, r.p50)):>7} {_times(_ratio(g.p95, r.p95)):>7}"
                f" {_times(_ratio(g.per_second, r.per_second)):>9} {_ms_fraction(g.p50 - r.p50):>9}",
                file=out,
            )
    low, high = min(result.levels), max(result.levels)
    g_low, r_low = result.get(GATEWAY, low), result.get(RASA, low)
    g_high, r_high = result.get(GATEWAY, high), result.get(RASA, high)
    errors = sum(f.errors + f.failed_openings for f in result.figures)
    throughput = _ratio(g_high.per_second, r_high.per_second)

    def verdict(ok: bool) -> str:
        return "cumple" if ok else "NO cumple"

    print("Metas del issue 15:", file=out)
    print(
        f"  p50 a c={low}: {_times(_ratio(g_low.p50, r_low.p50))}, meta ≤ {TARGET_P50:.2f}×: "
        f"{verdict(_ratio(g_low.p50, r_low.p50) <= TARGET_P50)}",
        file=out,
    )
    print(
        f"  turnos/s a c={high}: {_times(throughput)}, meta ≥ {TARGET_THROUGHPUT:.2f}×:"
        f" {verdict(throughput >= TARGET_THROUGHPUT)}",
        file=out,
    )
    print(
        f"  p95 a c={high}: pasarela {_ms(g_high.p95)} ms, Rasa directo {_ms(r_high.p95)} ms, meta no peor: "
        f"{verdict(g_high.p95 <= r_high.p95)}",
        file=out,
    )
    print(f"  errores (turnos y aperturas): {errors}, meta 0: {verdict(errors == 0)}", file=out)
    for f in result.figures:
        if f.reasons:
            why = ", ".join(f"{reason} ×{count}" for reason, count in sorted(f.reasons.items()))
            print(f"    {f.side} a c={f.concurrency}: {why}", file=out)
    _report_stages(result, out=out)


def _report_stages(result: BenchResult, *, out: TextIO) -> None:
    gateway = [result.get(GATEWAY, c) for c in result.levels]
    if not any(f.stages for f in gateway):
        print("\nEtapas de la pasarela: /metrics no respondió; sin desglose.", file=out)
        return
    print(
        "\nTiempo de la pasarela por etapa (de su /metrics, solo las ventanas medidas), ms por turno medido:", file=out
    )
    print(f"{'etapa':{LABEL_WIDTH}} " + " ".join(f"{'c=' + str(f.concurrency):>8}" for f in gateway), file=out)
    stage_names = sorted({k for f in gateway for k in f.stages if k != TURN_KEY})

    def per_turn(f: Figures, key: str) -> float:
        return f.stages.get(key, Observed()).total / f.turns if f.turns else float("nan")

    rows = [
        (f"{name} ({STAGE_NOTES.get(name, 'etapa')})", [per_turn(f, name) for f in gateway]) for name in stage_names
    ]
    rows.append((f"{TURN_KEY} (con la espera del candado)", [per_turn(f, TURN_KEY) for f in gateway]))
    rows.append(
        ("pasarela sin Rasa (turno completo − rasa)", [per_turn(f, TURN_KEY) - per_turn(f, "rasa") for f in gateway])
    )
    rows.append(
        ("medido por el cliente (media)", [statistics.fmean(f.latencies) if f.latencies else math.nan for f in gateway])
    )
    for label, values in rows:
        print(f"{label:{LABEL_WIDTH}} " + " ".join(f"{_ms_fraction(v):>8}" for v in values), file=out)
    print(
        "  Etapas que se superponen: «consent» puede llamar a Rasa para leer una respuesta; «rasa» incluye"
        " «rasa_wait»; el resto del turno completo es el enrutamiento (dueño, opciones, señales) sin medidor propio.",
        file=out,
    )


def resident_mb(pid: int) -> float:
    """Resident memory of a process and every process it started, in MB (``VmRSS``, Linux); NaN when the process
    cannot be read. A server that forks or spawns helpers (Sanic's manager and workers, multiprocessing's
    resource tracker) is counted whole."""
    own = _vm_rss_kb(pid)
    if own is None:
        return float("nan")
    return (own + sum(_vm_rss_kb(child) or 0 for child in _descendants(pid))) / 1024


def _vm_rss_kb(pid: int) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return None


def _descendants(pid: int) -> list[int]:
    """Every live process below ``pid`` (from each process's parent in ``/proc/<pid>/stat``)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            parent = int(stat.rsplit(")", 1)[1].split()[1])  # the name may hold spaces and parentheses
        except (OSError, ValueError, IndexError):
            continue
        children.setdefault(parent, []).append(int(entry.name))
    found, todo = [], list(children.get(pid, []))
    while todo:
        child = todo.pop()
        found.append(child)
        todo.extend(children.get(child, []))
    return found


@dataclass(frozen=True)
class MemoryRow:
    """One process's resident memory at rest (ready, before any measured turn) and after the benchmark."""

    process: str
    at_rest: float
    after: float


def report_memory(rows: Sequence[MemoryRow], *, gateway_turns: int, out: TextIO) -> None:
    """Resident memory per process, and the target of issue 15 for the gateway and the action server."""
    print(f"\nMemoria residente (VmRSS, MB): en reposo y después de {gateway_turns} turnos por la pasarela:", file=out)
    print(f"{'proceso':14} {'reposo':>8} {'después':>8}", file=out)
    for row in rows:
        print(f"{row.process:14} {row.at_rest:>8.0f} {row.after:>8.0f}", file=out)
    pair = [r for r in rows if r.process in ("gateway", "actions")]
    if len(pair) == 2:
        at_rest = sum(r.at_rest for r in pair)
        verdict = "cumple" if at_rest <= TARGET_PAIR_MB else "NO cumple"
        print(f"  pasarela + acciones en reposo: {at_rest:.0f} MB, meta ≤ {TARGET_PAIR_MB} MB: {verdict}", file=out)


def _ms_fraction(seconds: float) -> str:
    return "—" if math.isnan(seconds) else f"{seconds * 1000:.1f}"


def cached_model(settings: Settings) -> Path:
    """The model `chasqui run` would use for the current training inputs (never trained here)."""
    from bot.cli.model import model_hash

    return settings.cache_dir / "models" / f"{model_hash(settings.project_dir)}.tar.gz"


def isolated_settings(settings: Settings, var_dir: Path, *, database: str, suffix: str) -> Settings:
    """Settings for a throw-away instance on free ports: SQLite files in ``var_dir``, or two new PostgreSQL
    databases on the server of ``database`` (a ``postgresql://`` URL), named with ``suffix``."""
    if database.startswith(("postgresql", "postgres")):
        base = database.rstrip("/")
        app_url, rasa_url = f"{base}/chasqui_bench_{suffix}", f"{base}/chasqui_bench_rasa_{suffix}"
    else:
        app_url, rasa_url = f"sqlite+aiosqlite:///{var_dir / 'chasqui.db'}", f"sqlite:///{var_dir / 'rasa.db'}"
    return Settings(
        var_dir=var_dir,
        cache_dir=settings.cache_dir,
        database_url=app_url,
        rasa_database_url=rasa_url,
        gateway_port=free_port(),
        rasa_port=free_port(),
        actions_port=free_port(),
        registros_port=free_port(),
        rasa_bin=str(settings.effective_rasa_bin),
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def _drop_postgres_databases(settings: Settings) -> None:
    """Remove the instance's two throw-away databases (the names `isolated_settings` made)."""
    import asyncpg

    for url in (settings.effective_database_url, settings.effective_rasa_database_url):
        parts = urlsplit(url.replace("+asyncpg", "").replace("+psycopg2", ""))
        name = parts.path.lstrip("/")
        if not parts.scheme.startswith("postgres") or not re.fullmatch(r"chasqui_bench_[a-z_]*[0-9a-f]{8}", name):
            continue
        connection = await asyncpg.connect(parts._replace(path="/postgres").geturl())
        try:
            await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await connection.close()


async def _measure(stack: Stack, *, conversations: int, progress: TextIO) -> BenchResult:
    s = stack.settings
    timeout = httpx.Timeout(120.0)
    limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
    secret = s.rasa_channel_secret or stack.channel_secret
    async with (
        _relay(s.effective_rasa_url, secret, s.var_dir / "logs" / "relevo.log") as relay_url,
        httpx.AsyncClient(base_url=f"http://{s.host}:{s.gateway_port}", timeout=timeout, limits=limits) as gateway,
        httpx.AsyncClient(base_url=s.effective_rasa_url, timeout=timeout, limits=limits) as rasa,
        httpx.AsyncClient(base_url=relay_url, timeout=timeout, limits=limits) as relay,
    ):
        sides: list[Side] = [
            GatewaySide(gateway, metrics_token=s.metrics_token),
            RasaSide(rasa, channel_secret=secret),
            GatewaySide(relay, name=RELAY),  # no consent notice, no /metrics: Rasa's answers as they come
        ]
        return await run_benchmark(sides, conversations=conversations, progress=progress)


@asynccontextmanager
async def _relay(upstream: str, secret: str, log: Path) -> AsyncIterator[str]:
    """Start `bot.cli.bench_relay` on a free port (its own process, as the gateway is) and yield its address."""
    port = free_port()
    log.parent.mkdir(parents=True, exist_ok=True)
    environment = os.environ | {"CHASQUI_RELAY_UPSTREAM": upstream, "CHASQUI_RELAY_SECRET": secret}
    with log.open("ab") as output:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "uvicorn",
            "bot.cli.bench_relay:app",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--no-access-log",
            env=environment,
            stdout=output,
            stderr=output,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient(base_url=url) as http:
            for _ in range(150):  # about 15 s
                try:
                    if (await http.get("/listo")).status_code == 200:
                        break
                except httpx.TransportError:
                    await asyncio.sleep(0.1)
            else:
                raise RuntimeError(f"el relevo mínimo no arrancó; vea {log}")
        yield url
    finally:
        if process.returncode is None:
            process.terminate()
            await process.wait()


def main_bench_conversacion(
    settings: Settings,
    *,
    model: str | None = None,
    postgres_url: str | None = None,
    conversations: int = 48,
    out: TextIO = sys.stdout,
) -> int:
    """Entry point for ``chasqui bench-conversacion [--modelo PATH] [--postgres] [--conversaciones N]``.

    Starts a throw-away instance the way `chasqui run` does (registries sandbox, action server, Rasa, gateway,
    worker), measures, stops it and removes its databases.
    """
    from bot.cli.stack import Stack, StackError

    path = Path(model) if model else cached_model(settings)
    if not path.is_file():
        print(
            f"No encuentro el modelo {path}. Entrénelo con `chasqui train` o indique uno con --modelo.",
            file=sys.stderr,
        )
        return 2
    if not settings.effective_rasa_bin.exists():
        print(f"No encuentro Rasa en {settings.effective_rasa_bin}. Use `make bench-conversacion`.", file=sys.stderr)
        return 2
    for variable in SHARED_STATE_VARIABLES:  # this process's children only: the instance is a throw-away one
        os.environ.pop(variable, None)
    database = postgres_url or "sqlite"
    with tempfile.TemporaryDirectory(prefix="chasqui-bench-conversacion-") as workdir:
        bench = isolated_settings(settings, Path(workdir) / "var", database=database, suffix=uuid.uuid4().hex[:8])
        bench.var_dir.mkdir(parents=True)
        stack = Stack(bench)
        try:
            print("Preparando una instancia temporal y cargando Rasa (cerca de un minuto)…", file=out, flush=True)
            stack.prepare()
            stack.start_all(path)
            stack.wait_ready(timeout=600)
            at_rest = {p.name: resident_mb(p.popen.pid) for p in stack.processes}
            print("Midiendo…", file=out, flush=True)
            result = asyncio.run(_measure(stack, conversations=conversations, progress=out))
            memory = [MemoryRow(p.name, at_rest[p.name], resident_mb(p.popen.pid)) for p in stack.processes]
        except StackError as exc:
            print(f"La instancia temporal no pudo iniciar: {exc}", file=sys.stderr)
            return 1
        finally:
            stack.stop()
            if postgres_url:
                asyncio.run(_drop_postgres_databases(bench))
    where = (
        "PostgreSQL (app y rastreador de Rasa, bases temporales)" if postgres_url else "SQLite (archivos temporales)"
    )
    header = [
        "Conversación: pasarela (canal web) frente a Rasa directo: el mismo Rasa, modelo y servidor de acciones.",
        f"Modelo: {path.name}. Base de datos: {where}.",
        "Rasa directo: el canal firmado de Rasa con el secreto de la pasarela; el canal REST de Rasa no está"
        " habilitado (credentials.yml carga solo el firmado) y habilitarlo cambiaría el Rasa medido. Firmar cuesta"
        " un HMAC del cuerpo, microsegundos.",
        "Cada conversación se abre sin medir: un saludo en ambos lados y, en la pasarela, la respuesta al aviso"
        " de privacidad.",
    ]
    report(result, header=header, out=out)
    # Every conversation of the gateway side: its opening (greeting, and the privacy notice's answer) and turns.
    gateway_turns = sum(f.turns + f.errors for f in result.figures if f.side == GATEWAY) + 2 * sum(
        math.ceil(result.conversations / c) * c for c in result.levels
    )
    report_memory(memory, gateway_turns=gateway_turns, out=out)
    return 0
