"""`chasqui bench-escala`: turns per second and latency with one replica of each process, then with two behind
HAProxy, on PostgreSQL and Redis, in the same run (`make bench-escala`).

The same conversations as `chasqui bench-conversacion` (`bot.cli.bench_conversation`), through the gateway's web
channel only, at each concurrency level. Each profile is a throw-away instance (`isolated_settings`) started the way
`chasqui run` starts it: with one replica, processes on the usual ports; with two, HAProxy on the usual ports in
front of them (`bot.cli.balancer`). On one machine the replicas share its cores: the figure that matters is the
ratio against 1+1 measured in the same run, and the machine's core count is printed with it.
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
import uuid
from pathlib import Path
from typing import TextIO

import httpx

from bot.cli.bench_conversation import (
    GATEWAY,
    SHARED_STATE_VARIABLES,
    BenchResult,
    GatewaySide,
    _drop_postgres_databases,
    _ms,
    _ratio,
    _times,
    cached_model,
    isolated_settings,
    run_benchmark,
)
from bot.settings import Settings

LEVELS = (4, 16)


async def _measure(url: str, *, conversations: int, progress: TextIO) -> BenchResult:
    limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
    async with httpx.AsyncClient(base_url=url, timeout=httpx.Timeout(120.0), limits=limits) as http:
        return await run_benchmark([GatewaySide(http)], levels=LEVELS, conversations=conversations, progress=progress)


def _profile(settings: Settings, model: Path, *, replicas: int, conversations: int, out: TextIO) -> BenchResult:
    from bot.cli.stack import Stack

    stack = Stack(settings.model_copy(update={"replicas": replicas}))
    stack.check_replicas()
    try:
        print(f"Iniciando {replicas}+{replicas} (pasarelas + Rasa, y acciones y trabajadores)…", file=out, flush=True)
        stack.prepare()
        stack.start_all(model)
        stack.wait_ready(timeout=900)
        url = f"http://{settings.host}:{settings.gateway_port}"
        return asyncio.run(_measure(url, conversations=conversations, progress=out))
    finally:
        stack.stop()


def report(results: dict[int, BenchResult], *, cores: int, out: TextIO) -> None:
    print(f"\nEscala en esta máquina ({cores} núcleos), PostgreSQL y Redis, por la pasarela (canal web):", file=out)
    print("| réplicas | concurrencia | turnos/s | p50 (ms) | p95 (ms) | errores | turnos/s frente a 1+1 |", file=out)
    print("|---|---|---|---|---|---|---|", file=out)
    base = results[min(results)]
    for replicas, result in sorted(results.items()):
        for level in result.levels:
            figures = result.get(GATEWAY, level)
            ratio = _ratio(figures.per_second, base.get(GATEWAY, level).per_second)
            print(
                f"| {replicas}+{replicas} | {level} | {figures.per_second:.1f} | {_ms(figures.p50)} | "
                f"{_ms(figures.p95)} | {figures.errors} | {_times(ratio)} |",
                file=out,
            )


def main_bench_escala(
    settings: Settings, *, postgres_url: str, redis_url: str, conversations: int = 32, out: TextIO = sys.stdout
) -> int:
    """Entry point for ``chasqui bench-escala [--postgres URL] [--redis URL] [--conversaciones N]``."""
    from bot.cli.stack import StackError

    path = cached_model(settings)
    if not path.is_file():
        print(f"No encuentro el modelo {path}. Entrénelo con `chasqui train`.", file=sys.stderr)
        return 2
    for variable in SHARED_STATE_VARIABLES:
        os.environ.pop(variable, None)
    results: dict[int, BenchResult] = {}
    for replicas in (1, 2):
        suffix = uuid.uuid4().hex[:8]
        with tempfile.TemporaryDirectory(prefix="chasqui-bench-escala-") as workdir:
            bench = isolated_settings(settings, Path(workdir) / "var", database=postgres_url, suffix=suffix)
            bench = bench.model_copy(update={"redis_url": redis_url, "redis_prefix": f"bench{suffix}:"})
            bench.var_dir.mkdir(parents=True)
            try:
                results[replicas] = _profile(bench, path, replicas=replicas, conversations=conversations, out=out)
            except StackError as exc:
                print(f"La instancia con {replicas} réplicas no pudo iniciar: {exc}", file=sys.stderr)
                return 1
            finally:
                asyncio.run(_drop_postgres_databases(bench))
    report(results, cores=os.cpu_count() or 1, out=out)
    return 0
