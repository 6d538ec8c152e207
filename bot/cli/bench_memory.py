"""`chasqui bench-memoria`: resident memory of the `chasqui run` supervisor, each figure from a fresh interpreter.

A probe is a new Python process that goes along the supervisor's own path without starting any service: it
imports `bot.cli.run` (everything `chasqui run` loads), builds the `Stack` and prepares a throw-away SQLite
instance (migrations and sandbox keys). ``ahora`` prepares it as `chasqui run` does, in a child process
(`Stack.prepare`); ``antes`` calls `prepare_databases` inside the probe, as `chasqui run` did before. Each
probe reports its resident set (``VmRSS``) after the imports and after the preparation, and its peak.

This module imports only the standard library at the top, so that a probe measures the supervisor alone.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any, TextIO

TARGET_MB = 60  # issue 15: the supervisor should not hold a full application import
MODES = {"ahora": "migración en un proceso hijo", "antes": "migración en el mismo proceso"}
# What the gateway, the actions and the migrations import, and the supervisor should not.
APPLICATION_PACKAGES = ("sqlalchemy", "alembic", "pyhanko", "fpdf", "PIL", "bot.storage", "bot.documents")
# Variables that would point a probe at a real database instead of its throw-away folder.
DATABASE_VARIABLES = ("DATABASE_URL", "CHASQUI_DATABASE_URL", "RASA_DATABASE_URL", "CHASQUI_RASA_DATABASE_URL")


def resident_mb() -> float:
    """This process's resident set in MB (Linux ``/proc``; the peak elsewhere)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return peak_mb()


def peak_mb() -> float:
    """The largest resident set this process reached, in MB (``ru_maxrss`` is in KB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def probe(mode: str) -> dict[str, Any]:
    """Go along the supervisor's path in this (fresh) process and measure it; the settings come from the
    environment, which `measure` points at a throw-away folder."""
    import bot.cli.run  # noqa: F401  (what `chasqui run` imports, and nothing else)
    from bot.cli.stack import Stack, prepare_databases
    from bot.settings import load_settings

    after_import = resident_mb()
    modules = len(sys.modules)
    settings = load_settings()
    if mode == "ahora":
        Stack(settings).prepare()
    else:
        prepare_databases(settings)
    after_prepare = resident_mb()
    return {
        "after_import": after_import,
        "after_prepare": after_prepare,
        "peak": max(peak_mb(), after_prepare),
        "modules": modules,
        "modules_after": len(sys.modules),
        "application": sorted(p for p in APPLICATION_PACKAGES if p in sys.modules),
    }


def measure(mode: str) -> dict[str, Any]:
    """Run one probe in a new interpreter over a throw-away folder and return its figures."""
    with tempfile.TemporaryDirectory(prefix="chasqui-memoria-") as workdir:
        env = {k: v for k, v in os.environ.items() if k not in DATABASE_VARIABLES}
        env["CHASQUI_VAR_DIR"] = workdir
        done = subprocess.run(
            [sys.executable, "-m", "bot.cli.bench_memory", mode],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
    if done.returncode != 0:
        raise RuntimeError(f"probe {mode} failed ({done.returncode}): {done.stderr[-2000:]}")
    figures: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return figures


def report(results: dict[str, dict[str, Any]], *, out: TextIO) -> None:
    print("Memoria del supervisor de `chasqui run` (intérprete nuevo, sin iniciar servicios), en MB:", file=out)
    print(f"{'modo':42} {'importar':>9} {'preparar':>9} {'pico':>7} {'módulos':>8}", file=out)
    for mode, figures in results.items():
        print(
            f"{mode + ' (' + MODES[mode] + ')':42} {figures['after_import']:9.1f} {figures['after_prepare']:9.1f}"
            f" {figures['peak']:7.1f} {figures['modules_after']:8d}",
            file=out,
        )
        print(f"  de la aplicación: {', '.join(figures['application']) or 'nada'}", file=out)
    now = results["ahora"]["peak"]
    verdict = "cumple" if now <= TARGET_MB else "NO cumple"
    print(f"Pico del supervisor: {now:.1f} MB, meta ≤ {TARGET_MB} MB: {verdict}", file=out)
    if "antes" in results:
        before = results["antes"]["peak"]
        print(f"Antes {before:.1f} MB: {before - now:.1f} MB menos ({before / now:.1f}×)", file=out)


def main_bench_memoria(*, out: TextIO = sys.stdout) -> int:
    """Entry point for ``chasqui bench-memoria``: the supervisor now, and as it was before, in one run."""
    report({mode: measure(mode) for mode in MODES}, out=out)
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 2 or sys.argv[1] not in MODES:
        sys.exit(f"usage: python -m bot.cli.bench_memory {{{','.join(MODES)}}}")
    print(json.dumps(probe(sys.argv[1])))
