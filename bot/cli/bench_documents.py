"""`chasqui bench-documentos`: documents per second and p50/p95 of render+sign and of verification.

Everything runs in a throw-away folder (its own dev keys, SQLite database and document store), so the
figures never touch a real instance. Each step is timed over ``count`` documents cycling through every
document kind; ratios compare with the unsigned PDF render measured in the same run.
"""

from __future__ import annotations

import asyncio
import io
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO, TypeVar

from PIL import Image

from bot.documents.runtime import Documents, build_documents
from bot.documents.service import Draft, Holder, IssuedDocument
from bot.documents.settings import DocumentSettings
from bot.documents.templates import DocumentKind
from bot.logs import configure_logging
from bot.settings import Settings
from bot.storage.db import create_engine, migrate_async, session_factory

T = TypeVar("T")
SAMPLE_HOLDER = Holder(cedula="1710034065", name="MARÍA JOSÉ PEÑAFIEL ÁLVAREZ")


@dataclass(frozen=True)
class Timing:
    """Durations of one step, in seconds: wall clock, and CPU time of this process.

    CPU time is the steadier figure on a shared machine, where wall clock includes waiting for a core.
    """

    name: str
    seconds: tuple[float, ...]
    cpu_seconds: tuple[float, ...] = ()

    @property
    def cpu_p50(self) -> float:
        return statistics.median(self.cpu_seconds) if self.cpu_seconds else float("nan")

    @property
    def p50(self) -> float:
        return statistics.median(self.seconds)

    @property
    def p95(self) -> float:
        ordered = sorted(self.seconds)
        return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]

    @property
    def per_second(self) -> float:
        total = sum(self.seconds)
        return len(self.seconds) / total if total else float("inf")


def sample_fields(documents: Documents, kind: DocumentKind) -> dict[str, str]:
    """Plausible field values for ``kind``: each field's label, uppercased, as its value."""
    return {f.key: f.label.upper()[:24] for f in documents.plantillas.document(kind).fields}


def _jpeg(png: bytes, quality: int = 60) -> bytes:
    out = io.BytesIO()
    Image.open(io.BytesIO(png)).convert("RGB").save(out, format="JPEG", quality=quality)
    return out.getvalue()


def _time_sync(name: str, items: Sequence[T], step: Callable[[T], object]) -> Timing:
    seconds, cpu = [], []
    for item in items:
        start, start_cpu = time.perf_counter(), time.process_time()
        step(item)
        seconds.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    return Timing(name, tuple(seconds), tuple(cpu))


async def _time_async(name: str, items: Sequence[T], step: Callable[[T], Awaitable[object]]) -> Timing:
    seconds, cpu = [], []
    for item in items:
        start, start_cpu = time.perf_counter(), time.process_time()
        await step(item)
        seconds.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    return Timing(name, tuple(seconds), tuple(cpu))


@dataclass(frozen=True)
class BenchResult:
    """Timings (the baseline first) and file sizes in bytes."""

    count: int
    timings: tuple[Timing, ...]
    sizes: dict[str, list[int]]


async def run_benchmark(settings: Settings, *, count: int, workdir: Path) -> BenchResult:
    """Time every step over ``count`` documents in ``workdir``."""
    url = f"sqlite+aiosqlite:///{workdir / 'bench.db'}"
    await migrate_async(url)
    engine = create_engine(url)
    try:
        doc_settings = DocumentSettings(
            var_dir=workdir,
            templates_dir=settings.project_dir / "data" / "plantillas",
            public_base_url=settings.effective_public_base_url,
        )
        documents = await asyncio.to_thread(build_documents, doc_settings, sessions=session_factory(engine))
        kinds = [DocumentKind(k) for k in sorted(DocumentKind)]
        issuer, renderer, verifier = documents.issuer, documents.issuer.renderer, documents.verifier
        drafts = [
            issuer.draft(kind, SAMPLE_HOLDER, sample_fields(documents, kind))
            for kind in (kinds[i % len(kinds)] for i in range(count))
        ]
        # Rendering and signing block (pyHanko runs its own loop): time them in a worker thread, as
        # `DocumentService.issue` runs them. The first call loads fonts and warms pyHanko: not measured.
        await asyncio.to_thread(renderer.render, drafts[0])
        timings = [
            await asyncio.to_thread(_time_sync, "pdf sin firmar (base)", drafts, renderer.unsigned_pdf),
            await asyncio.to_thread(_time_sync, "pdf render+firma", drafts, renderer.signed_pdf),
            await asyncio.to_thread(_time_sync, "png render+token", drafts, renderer.signed_png),
        ]
        issued: list[IssuedDocument] = []

        async def issue(draft: Draft) -> None:
            issued.append(await issuer.issue(draft.template.kind, SAMPLE_HOLDER, dict(draft.fields)))

        timings.append(await _time_async("emitir (pdf+png+guardar)", drafts, issue))
        pdfs = [documents.store.get(d.id, d.pdf.filename) for d in issued]
        pngs = [documents.store.get(d.id, d.png.filename) for d in issued]
        jpegs = [_jpeg(p) for p in pngs]
        timings += [
            await _time_async("verificar código", [d.verification_code for d in issued], verifier.verify_code),
            await _time_async("verificar token", [d.token for d in issued], verifier.verify_text),
            await _time_async("verificar pdf", pdfs, verifier.verify_file),
            await _time_async("verificar png (QR)", pngs, verifier.verify_file),
            await _time_async("verificar jpeg q60 (QR)", jpegs, verifier.verify_file),
        ]
        sizes = {"pdf": [len(p) for p in pdfs], "png": [len(p) for p in pngs], "jpeg q60": [len(j) for j in jpegs]}
        return BenchResult(count=count, timings=tuple(timings), sizes=sizes)
    finally:
        await engine.dispose()


def report(result: BenchResult, *, out: TextIO) -> None:
    """Print the table: docs/s, p50 and p95 in ms, p50 against the baseline, and CPU p50 in ms."""
    baseline = result.timings[0].p50
    print(f"Documentos: {result.count} (los 7 tipos en turno)", file=out)
    print(f"{'paso':28} {'docs/s':>8} {'p50 ms':>8} {'p95 ms':>8} {'x base':>7} {'cpu p50':>8}", file=out)
    for timing in result.timings:
        print(
            f"{timing.name:28} {timing.per_second:8.1f} {timing.p50 * 1000:8.1f} {timing.p95 * 1000:8.1f}"
            f" {timing.p50 / baseline:7.2f} {timing.cpu_p50 * 1000:8.1f}",
            file=out,
        )
    for name, values in result.sizes.items():
        print(
            f"tamaño {name:9} mediana {statistics.median(values) / 1024:6.1f} KB, máximo {max(values) / 1024:6.1f} KB",
            file=out,
        )


def main_bench_documentos(settings: Settings, *, count: int = 21, out: TextIO = sys.stdout) -> int:
    """Entry point for ``chasqui bench-documentos [--n N]`` (wire it in `bot.cli.main`)."""
    count = max(2, count)
    configure_logging(level="WARNING")  # one line per issued document would bury the table
    with tempfile.TemporaryDirectory(prefix="chasqui-bench-") as workdir:
        result = asyncio.run(run_benchmark(settings, count=count, workdir=Path(workdir)))
    report(result, out=out)
    return 0
