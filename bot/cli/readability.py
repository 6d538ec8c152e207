"""`chasqui legibilidad`: the reading ease of every text Chasqui says, the hardest first.

Sources: the templates of the actions and the gateway (`dialogs/textos`), each trámite's and the common FAQ
answers (`bot/tramites/*/preguntas.yml`, `bot/tramites/preguntas_comunes.yml`), the directory of other
institutions (`data/directorio.yml`), and, reported apart because this command's owners do not edit them,
the responses of Rasa's domain (`dialogs/dominio`).
"""

from __future__ import annotations

import statistics
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from bot.readability import FERNANDEZ_HUERTA_SCALE, INFLESZ_SCALE, Readability, label, measure

# Citizen texts should read «bastante fácil» (Fernández-Huerta ≥ 70) on average, and none below «normal» (60).
TARGET_AVERAGE = 70.0
FLOOR = 60.0
# Under this many words a text is a fragment («a su nombre», «del vehículo {placa}») put inside another
# template: its score says nothing, so it is listed but neither ranked nor held to the floor.
MIN_WORDS = 8
# Templates that are vocabularies, not sentences: the action picks one word.
NOT_PROSE = frozenset({"matricula_meses"})


@dataclass(frozen=True)
class CitizenText:
    """One text a citizen reads, where it lives, and its counts."""

    source: str  # "dialogs/textos/multas.yml"
    key: str  # template key, or "<trámite>:<tema>" / "<servicio>"
    text: str
    editable: bool  # False for Rasa's domain, which only the NLU engineers change (it retrains the model)

    @property
    def readability(self) -> Readability:
        return measure(self.text)

    @property
    def judged(self) -> bool:
        return self.key not in NOT_PROSE and self.readability.words >= MIN_WORDS


def _yaml(path: Path) -> Any:
    if not path.is_file():
        return {}
    return yaml.safe_load(path.read_text(encoding="utf-8")) or {}


def _faq_answers(path: Path, project_dir: Path, prefix: str) -> Iterator[CitizenText]:
    for pregunta in _yaml(path).get("preguntas") or ():
        answer = pregunta.get("respuesta")
        if answer:
            key = f"{prefix}:{pregunta['tema']}" if prefix else str(pregunta["tema"])
            yield CitizenText(str(path.relative_to(project_dir)), key, str(answer), editable=True)


def citizen_texts(project_dir: Path, *, include_domain: bool = True) -> list[CitizenText]:
    """Every citizen-facing text of the project, in file order.

    Args:
        project_dir: the repository's root.
        include_domain: also read the responses of Rasa's domain (not editable here).

    Returns:
        One entry per template, FAQ answer, directory answer and (optionally) domain response variant.
    """
    texts: list[CitizenText] = []
    for path in sorted((project_dir / "dialogs" / "textos").glob("*.yml")):
        for key, entry in (_yaml(path).get("textos") or {}).items():
            texts.append(CitizenText(str(path.relative_to(project_dir)), key, str(entry["text"]), editable=True))
    tramites = project_dir / "bot" / "tramites"
    texts.extend(_faq_answers(tramites / "preguntas_comunes.yml", project_dir, ""))
    for path in sorted(tramites.glob("*/preguntas.yml")):
        texts.extend(_faq_answers(path, project_dir, path.parent.name))
    directory = project_dir / "data" / "directorio.yml"
    for servicio in _yaml(directory).get("servicios") or ():
        if servicio.get("respuesta"):
            texts.append(
                CitizenText(str(directory.relative_to(project_dir)), servicio["clave"], servicio["respuesta"], True)
            )
    if include_domain:
        for path in sorted((project_dir / "dialogs" / "dominio").glob("*.yml")):
            for key, variants in (_yaml(path).get("responses") or {}).items():
                for n, variant in enumerate(variants):
                    if variant.get("text"):
                        name = key if len(variants) == 1 else f"{key}[{n}]"
                        texts.append(CitizenText(str(path.relative_to(project_dir)), name, variant["text"], False))
    return texts


def _summary(texts: list[CitizenText]) -> str:
    judged = [t for t in texts if t.judged]
    if not judged:
        return "ninguno con texto suficiente para medir"
    scores = [t.readability.fernandez_huerta for t in judged]
    inflesz = [t.readability.inflesz for t in judged]
    lengths = [t.readability.words_per_sentence for t in judged]
    worst = min(judged, key=lambda t: t.readability.fernandez_huerta)
    average = statistics.fmean(scores)
    return (
        f"{len(judged)} medidos ({len(texts) - len(judged)} fragmentos de menos de {MIN_WORDS} palabras aparte); "
        f"Fernández-Huerta media {average:.1f} ({label(average, FERNANDEZ_HUERTA_SCALE)}), "
        f"mediana {statistics.median(scores):.1f}, peor {worst.readability.fernandez_huerta:.1f} ({worst.key}), "
        f"bajo {FLOOR:.0f}: {sum(s < FLOOR for s in scores)}; "
        f"INFLESZ media {statistics.fmean(inflesz):.1f}; palabras por oración media {statistics.fmean(lengths):.1f}"
    )


def report(texts: list[CitizenText], *, worst: int = 20) -> str:
    """The report printed by `chasqui legibilidad`: thresholds, every text, the hardest, the averages."""
    lines = [
        "Legibilidad de los textos de Chasqui",
        "Fernández-Huerta (FH): " + ", ".join(f"≥ {f:g} {n}" for f, n in FERNANDEZ_HUERTA_SCALE[:-1]) + ".",
        "INFLESZ (Szigriszt-Pazos): " + ", ".join(f"≥ {f:g} {n}" for f, n in INFLESZ_SCALE[:-1]) + ".",
        f"Meta: media FH ≥ {TARGET_AVERAGE:g} y ningún texto bajo {FLOOR:g}; "
        f"no se juzgan fragmentos de menos de {MIN_WORDS} palabras.",
        "",
        f"{'FH':>6} {'INFLESZ':>7} {'pal/or':>6} {'pal':>4}  texto",
    ]
    source = ""
    for text in texts:
        if text.source != source:
            source = text.source
            lines.append(f"── {source}{'' if text.editable else ' (dominio de Rasa: no se edita aquí)'}")
        r = text.readability
        mark = " " if text.judged else "·"
        lines.append(
            f"{r.fernandez_huerta:6.1f} {r.inflesz:7.1f} {r.words_per_sentence:6.1f} {r.words:4d} {mark}{text.key}"
        )
    judged = sorted((t for t in texts if t.judged), key=lambda t: t.readability.fernandez_huerta)
    lines += ["", f"Los {worst} más difíciles:"]
    for text in judged[:worst]:
        r = text.readability
        lines.append(
            f"{r.fernandez_huerta:6.1f} {label(r.fernandez_huerta, FERNANDEZ_HUERTA_SCALE):<15} "
            f"{r.words_per_sentence:5.1f} pal/or  {text.source} {text.key}"
        )
    editable = [t for t in texts if t.editable]
    domain = [t for t in texts if not t.editable]
    lines += ["", "Resumen:", f"  textos, preguntas y directorio: {_summary(editable)}"]
    if domain:
        lines.append(f"  dominio de Rasa: {_summary(domain)}")
    return "\n".join(lines)


def main_legibilidad(project_dir: Path, *, worst: int = 20) -> int:
    """Print the report; exit 1 when an editable citizen text is under the floor or the average misses."""
    texts = citizen_texts(project_dir)
    print(report(texts, worst=worst))
    editable = [t for t in texts if t.editable and t.judged]
    scores = [t.readability.fernandez_huerta for t in editable]
    return 0 if scores and min(scores) >= FLOOR and statistics.fmean(scores) >= TARGET_AVERAGE else 1
