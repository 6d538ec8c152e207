"""The lists «¿esto es oficial?» reads: official domains, look-alike words, link shorteners and warning signs."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from bot.phishing.signals import Signal


class CatalogueError(ValueError):
    """A list in `data/` is malformed: an unknown sign, a pattern that does not compile, an entry without a domain."""


@dataclass(frozen=True)
class OfficialDomain:
    """A domain of the State: matched exactly or as the parent of the link's host."""

    dominio: str  # registrocivil.gob.ec
    institucion: str  # «el Registro Civil», as the answer names it
    nombres: tuple[str, ...] = ()  # words a look-alike borrows («registrocivil», «sri»)


@dataclass(frozen=True)
class Catalogue:
    suffixes: tuple[OfficialDomain, ...]  # every domain under these is official (gob.ec)
    domains: tuple[OfficialDomain, ...]  # official one by one (biess.fin.ec), or named (registrocivil.gob.ec)
    state_words: frozenset[str]  # glued to a short name they make a look-alike («srienlinea», «antmultas»)
    shorteners: frozenset[str]
    signals: dict[Signal, tuple[re.Pattern[str], ...]]
    calls_to_open: tuple[re.Pattern[str], ...]  # «ingrese aquí», «haga clic»: a message about its link


def _patterns(where: str, raw: Any) -> tuple[re.Pattern[str], ...]:
    if not isinstance(raw, list) or not raw:
        raise CatalogueError(f"{where}: a non-empty list of patterns is expected")
    try:
        return tuple(re.compile(rf"\b(?:{pattern})\b") for pattern in map(str, raw))
    except re.error as exc:
        raise CatalogueError(f"{where}: {exc}") from exc


def _domain(entry: Any, key: str) -> OfficialDomain:
    if not isinstance(entry, dict) or not entry.get(key) or not entry.get("institucion"):
        raise CatalogueError(f"an entry of {key}s needs {key} and institucion: {entry!r}")
    return OfficialDomain(
        dominio=str(entry[key]).lower().strip("."),
        institucion=str(entry["institucion"]),
        nombres=tuple(str(n).lower() for n in entry.get("nombres") or ()),
    )


def parse_catalogue(domains: dict[str, Any], signals: dict[str, Any]) -> Catalogue:
    """Build the catalogue from the two files' content (already read as YAML)."""
    known = {s.value: s for s in Signal}
    raw_signals = signals.get("senales") or {}
    unknown = set(raw_signals) - set(known)
    if unknown:
        raise CatalogueError(f"senales: unknown signs {sorted(unknown)}")
    return Catalogue(
        suffixes=tuple(_domain(e, "sufijo") for e in domains.get("sufijos") or ()),
        domains=tuple(_domain(e, "dominio") for e in domains.get("dominios") or ()),
        state_words=frozenset(str(w).lower() for w in domains.get("palabras_del_estado") or ()),
        shorteners=frozenset(str(s).lower() for s in domains.get("acortadores") or ()),
        signals={known[k]: _patterns(f"senales.{k}", v) for k, v in raw_signals.items()},
        calls_to_open=_patterns("llamado_al_enlace", signals.get("llamado_al_enlace")),
    )


def load_catalogue(data_dir: Path) -> Catalogue:
    """Read `dominios_oficiales.yml` and `senales_fraude.yml` from ``data_dir``."""
    return _load(data_dir.resolve())


@lru_cache(maxsize=4)
def _load(data_dir: Path) -> Catalogue:
    def read(name: str) -> dict[str, Any]:
        content = yaml.safe_load((data_dir / name).read_text(encoding="utf-8")) or {}
        if not isinstance(content, dict):
            raise CatalogueError(f"{name}: a mapping is expected")
        return content

    return parse_catalogue(read("dominios_oficiales.yml"), read("senales_fraude.yml"))
