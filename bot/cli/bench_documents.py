"""`chasqui bench-documentos`: what signing costs over rendering, documents per second, and verification.

Everything runs in a throw-away folder (its own dev keys, SQLite database and document store), so the
figures never touch a real instance. Each step is timed over ``count`` documents cycling through every
document kind. The four render steps (PDF unsigned and signed, PNG without and with its token) run
interleaved, document by document in rotating order, so that a busy machine slows them alike; the ratios
compare each signed step with its unsigned baseline measured in the same run. A reference section times,
on the same documents, how the work was done before it was prepared once per process: pyHanko assembling
each signature's CMS container, and segno encoding each QR code.
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

from bot.documents.pades import sign_pdf
from bot.documents.render import qr_matrix, render_pdf
from bot.documents.runtime import Documents, build_documents
from bot.documents.service import DocumentRenderer, Draft, Holder, IssuedDocument, document_keywords
from bot.documents.settings import DocumentSettings
from bot.documents.signing import Signer
from bot.documents.templates import DocumentKind
from bot.logs import configure_logging
from bot.settings import Settings
from bot.storage.db import create_engine, migrate_async, session_factory

T = TypeVar("T")
SAMPLE_HOLDER = Holder(cedula="1710034065", name="MARÍA JOSÉ PEÑAFIEL ÁLVAREZ")
PDF_BASE, PDF_SIGNED = "pdf sin firmar (base)", "pdf render+firma"
PNG_BASE, PNG_SIGNED = "png sin token (base png)", "png render+token"
TARGETS = {PDF_SIGNED: (PDF_BASE, 1.3), PNG_SIGNED: (PNG_BASE, 1.2)}  # issue 15: signed ≤ target × unsigned


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


def _time_interleaved(items: Sequence[T], steps: dict[str, Callable[[T], object]]) -> list[Timing]:
    """Time every step on every item, item by item, starting each item at the next step in turn."""
    names = list(steps)
    seconds: dict[str, list[float]] = {name: [] for name in names}
    cpu: dict[str, list[float]] = {name: [] for name in names}
    for i, item in enumerate(items):
        for name in names[i % len(names) :] + names[: i % len(names)]:
            start, start_cpu = time.perf_counter(), time.process_time()
            steps[name](item)
            seconds[name].append(time.perf_counter() - start)
            cpu[name].append(time.process_time() - start_cpu)
    return [Timing(name, tuple(seconds[name]), tuple(cpu[name])) for name in names]


def _reference_timings(renderer: DocumentRenderer, drafts: Sequence[Draft]) -> list[Timing]:
    """Signing and QR encoding as they were done before being prepared once per process, and as they are now.

    Both signatures sign the same unsigned PDFs; ``before`` lets pyHanko assemble each CMS container.
    """
    import segno  # only the reference needs it

    signer = renderer.signer
    before = Signer(signer.pdf_signer, trust_roots=signer.trust_roots, backend=signer.backend)
    before.cms_signer = signer.pdf_signer
    unsigned = [
        render_pdf(
            renderer.content(d, for_image=False),
            fonts=renderer.fonts,
            issued_at=d.issued_at,
            keywords=document_keywords(d.id, d.code),
        )
        for d in drafts
    ]
    tokens = [renderer.token(d) for d in drafts]
    signing = _time_interleaved(
        unsigned,
        {
            "firma preparada (ahora)": lambda p: sign_pdf(p[0], signer=signer, box=p[1], wording=renderer.wording),
            "firma pyHanko por documento (antes)": lambda p: sign_pdf(
                p[0], signer=before, box=p[1], wording=renderer.wording
            ),
        },
    )
    qr = _time_interleaved(
        tokens,
        {
            "QR del token, zxing-cpp (ahora)": lambda t: qr_matrix(t, error="q"),
            "QR del token, segno (antes)": lambda t: segno.make(t, error="q", boost_error=False).matrix,
        },
    )
    return signing + qr  # pairs: now, before


@dataclass(frozen=True)
class BenchResult:
    """Render timings (interleaved), issue and verification timings, the reference, and file sizes in bytes."""

    count: int
    timings: tuple[Timing, ...]
    sizes: dict[str, list[int]]
    reference: tuple[Timing, ...] = ()

    def timing(self, name: str) -> Timing:
        return next(t for t in (*self.timings, *self.reference) if t.name == name)


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
        # `DocumentService.issue` runs them. The first call loads fonts, prepares the signer's CMS layout
        # and warms pyHanko, once per process: not measured.
        await asyncio.to_thread(renderer.render, drafts[0])
        steps: dict[str, Callable[[Draft], object]] = {
            PDF_BASE: renderer.unsigned_pdf,
            PDF_SIGNED: renderer.signed_pdf,
            PNG_BASE: renderer.unsigned_png,
            PNG_SIGNED: renderer.signed_png,
        }
        timings = await asyncio.to_thread(_time_interleaved, drafts, steps)
        reference = await asyncio.to_thread(_reference_timings, renderer, drafts)
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
        return BenchResult(count=count, timings=tuple(timings), sizes=sizes, reference=tuple(reference))
    finally:
        await engine.dispose()


def report(result: BenchResult, *, out: TextIO) -> None:
    """Print the table (docs/s, p50 and p95 in ms, p50 against the PDF baseline, CPU p50), ratios and reference."""
    baseline = result.timing(PDF_BASE).p50
    print(f"Documentos: {result.count} (los 7 tipos en turno; los 4 pasos de render intercalados)", file=out)
    print(f"{'paso':28} {'docs/s':>8} {'p50 ms':>8} {'p95 ms':>8} {'x base':>7} {'cpu p50':>8}", file=out)
    for timing in result.timings:
        print(
            f"{timing.name:28} {timing.per_second:8.1f} {timing.p50 * 1000:8.1f} {timing.p95 * 1000:8.1f}"
            f" {timing.p50 / baseline:7.2f} {timing.cpu_p50 * 1000:8.1f}",
            file=out,
        )
    print("Razones en la misma corrida (p50 de reloj; p50 de CPU), meta del issue 15:", file=out)
    for signed, (base, target) in TARGETS.items():
        a, b = result.timing(signed), result.timing(base)
        wall, cpu = a.p50 / b.p50, a.cpu_p50 / b.cpu_p50
        verdict = "cumple" if wall <= target else "NO cumple"
        print(f"  {signed} / {base}: {wall:.2f}× (cpu {cpu:.2f}×), meta ≤ {target:.1f}×: {verdict}", file=out)
    if result.reference:
        print(
            "Referencia en la misma corrida: antes (por documento) y ahora (preparado una vez por proceso):", file=out
        )
        for now, before in zip(result.reference[::2], result.reference[1::2], strict=True):
            print(
                f"  {before.name:38} p50 {before.p50 * 1000:6.1f} ms   {now.name:34} p50 {now.p50 * 1000:6.1f} ms"
                f"   {before.p50 / now.p50:5.1f}× más rápido",
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
