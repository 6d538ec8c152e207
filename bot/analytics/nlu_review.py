"""The NLU training data review list as Rasa NLU YAML: candidates under the intent a reviewer chose, the others
as ``# sin_clasificar`` comments. The file is a proposal: a person reads it and moves the examples into
``intents/`` (replacing a placeholder such as ``[cédula]`` with an invented value first)."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence
from datetime import date
from pathlib import Path

import yaml

from bot.storage.nlu_review import ReviewRow

UNCLASSIFIED = "sin_clasificar"
PLACEHOLDER = re.compile(r"\[[^\]]+\]")


def known_intents(intents_dir: Path) -> tuple[str, ...]:
    """The intents the training data declares (``- intent:`` entries of ``intents/*.yml``), sorted."""
    found: set[str] = set()
    for path in sorted(intents_dir.glob("*.yml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for entry in data.get("nlu") or ():
            if isinstance(entry, dict) and isinstance(entry.get("intent"), str):
                found.add(entry["intent"])
    return tuple(sorted(found))


def export_yaml(rows: Sequence[ReviewRow], *, today: date) -> str:
    """The list as a Rasa 3.x NLU file: ``nlu:`` holds the classified candidates, comments the rest."""
    by_intent: dict[str, list[str]] = defaultdict(list)
    unclassified: list[str] = []
    for row in rows:
        (by_intent[row.intent] if row.intent else unclassified).append(row.text)
    lines = [
        'version: "3.1"',
        f"# Candidatos de la lista de revisión de la consola (chasqui revision-nlu exportar, {today.isoformat()}).",
        "# Revise cada ejemplo y muévalo a mano al archivo de su intención en intents/.",
        "# Los textos ya ocultan los datos personales; cambie [cédula], [nombre]… por un valor inventado.",
    ]
    if by_intent:
        lines.append("nlu:")
        for intent in sorted(by_intent):
            lines += [f"- intent: {intent}", "  examples: |"]
            lines += [f"    - {text}" for text in by_intent[intent]]
    else:
        lines.append("nlu: []")
    if unclassified:
        lines.append(f"# {UNCLASSIFIED}: elija su intención en la consola o muévalos a mano.")
        lines += [f"#   - {text}" for text in unclassified]
    return "\n".join(lines) + "\n"
