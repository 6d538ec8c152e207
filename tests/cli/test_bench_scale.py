"""`chasqui bench-escala`'s table: each profile's figures and its throughput against 1+1 from the same run."""

from __future__ import annotations

import io

from bot.cli.bench_conversation import GATEWAY, BenchResult, Figures
from bot.cli.bench_scale import report


def result(per_turn: float, *, levels: tuple[int, ...] = (4, 16)) -> BenchResult:
    figures = []
    for level in levels:
        f = Figures(GATEWAY, level, latencies=[per_turn] * 20, wall=per_turn * 20 / level)
        figures.append(f)
    return BenchResult(conversations=8, figures=tuple(figures))


def test_the_table_gives_each_profile_and_its_ratio_against_one_replica() -> None:
    out = io.StringIO()
    report({1: result(0.2), 2: result(0.1)}, cores=2, out=out)
    lines = out.getvalue().splitlines()
    assert "(2 núcleos)" in lines[1]
    assert lines[4] == "| 1+1 | 4 | 20.0 | 200 | 200 | 0 | 1.00× |"
    assert lines[7] == "| 2+2 | 16 | 160.0 | 100 | 100 | 0 | 2.00× |"
