"""`chasqui nlu-report`: train on part of `intents/`, test on the rest, print per-intent figures.

The split is stratified by intent and seeded, so two runs on the same data agree. It measures the data
as much as the pipeline; an unseen set of citizen phrasings is the real judge.
"""

from __future__ import annotations

import json
import subprocess
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

from bot.cli.model import rasa_env
from bot.settings import Settings

SEED = "42"


def _rasa(settings: Settings, *args: str) -> None:
    subprocess.run([str(settings.effective_rasa_bin), *args], cwd=settings.project_dir, env=rasa_env(), check=True)


def summarize(report: dict[str, Any], errors: list[dict[str, Any]]) -> str:
    """Render the figures of `rasa test nlu`'s intent report and errors as a plain-text table."""
    lines = [f"{'intent':34} {'precision':>9} {'recall':>7} {'f1':>6} {'n':>4}"]
    intents = sorted(k for k, v in report.items() if isinstance(v, dict) and "support" in v and "avg" not in k)
    for intent in intents:
        row = report[intent]
        lines.append(
            f"{intent:34} {row['precision']:9.2f} {row['recall']:7.2f} {row['f1-score']:6.2f} {row['support']:4d}"
        )
    macro = report.get("macro avg", {})
    lines.append("")
    lines.append(f"accuracy {report.get('accuracy', 0.0):.3f}   macro-F1 {macro.get('f1-score', 0.0):.3f}")
    pairs = Counter(
        (e["intent"], (e.get("intent_prediction") or {}).get("name", "?")) for e in errors if e.get("intent")
    )
    if pairs:
        lines.append("")
        lines.append("most confused pairs (true → predicted: count)")
        for (true, predicted), count in pairs.most_common(10):
            lines.append(f"  {true} → {predicted}: {count}")
    return "\n".join(lines)


def main_nlu_report(settings: Settings, *, fraction: float = 0.8) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        _rasa(
            settings,
            "data",
            "split",
            "nlu",
            "--nlu",
            "intents",
            "--training-fraction",
            str(fraction),
            "--random-seed",
            SEED,
            "--out",
            str(work / "split"),
        )
        _rasa(
            settings,
            "train",
            "nlu",
            "--nlu",
            str(work / "split" / "training_data.yml"),
            "--config",
            "config.yml",
            "--out",
            str(work / "models"),
            "--fixed-model-name",
            "heldout",
        )
        _rasa(
            settings,
            "test",
            "nlu",
            "--nlu",
            str(work / "split" / "test_data.yml"),
            "--model",
            str(work / "models" / "heldout.tar.gz"),
            "--out",
            str(work / "results"),
            "--no-plot",
        )
        report = json.loads((work / "results" / "intent_report.json").read_text())
        errors_path = work / "results" / "intent_errors.json"
        errors = json.loads(errors_path.read_text()) if errors_path.exists() else []
    text = summarize(report, errors)
    print(text)
    settings.var_dir.mkdir(parents=True, exist_ok=True)
    (settings.var_dir / "nlu-report.txt").write_text(text + "\n", encoding="utf-8")
    return 0
