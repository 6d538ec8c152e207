"""The one list of trámites: the help menu, identity resume, the worker, side questions, the catalogue
page and the staff console all read `TRAMITES`.

Adding a trámite = one package `bot/tramites/<clave>/` (declaration, service, actions) listed here, plus its
NLU (`intents/`) and its domain and rules (`dialogs/`).
"""

from __future__ import annotations

import importlib
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from bot.language import mentions, words
from bot.tramites import (
    antecedentes_penales,
    cedula_digital,
    certificado_nacimiento,
    certificado_votacion,
    estado_tramite,
    licencia,
    matricula,
    mis_documentos,
    multas,
    puntos_licencia,
    ruc,
)
from bot.tramites.declaration import Grupo, Tramite

if TYPE_CHECKING:
    from bot.services import Servicios
    from bot.tramites.solicitudes import Solicitud

# In the order of the help menu, within each group.
TRAMITES: tuple[Tramite, ...] = (
    certificado_nacimiento.TRAMITE,
    antecedentes_penales.TRAMITE,
    certificado_votacion.TRAMITE,
    licencia.TRAMITE,
    puntos_licencia.TRAMITE,
    multas.TRAMITE,
    matricula.TRAMITE,
    cedula_digital.TRAMITE,
    ruc.TRAMITE,
    mis_documentos.TRAMITE,
    estado_tramite.TRAMITE,
)

_BY_CLAVE = {t.clave: t for t in TRAMITES}
_BY_INTENT = {t.intent: t for t in TRAMITES}
if len(_BY_CLAVE) != len(TRAMITES) or len(_BY_INTENT) != len(TRAMITES):
    raise RuntimeError("two trámites share a clave or an intent")

Procesar = Callable[["Servicios", "Solicitud", str], Awaitable[object]]


def by_clave(clave: str | None) -> Tramite | None:
    return _BY_CLAVE.get(clave or "")


def by_intent(intent: str | None) -> Tramite | None:
    return _BY_INTENT.get(intent or "")


def by_form(form: str | None) -> Tramite | None:
    return next((t for t in TRAMITES if form and t.formulario == form), None)


def in_group(grupo: Grupo) -> tuple[Tramite, ...]:
    return tuple(t for t in TRAMITES if t.grupo is grupo)


def processor(clave: str) -> Procesar | None:
    """What processes an application of ``clave`` again (the worker's retries); None when it has none."""
    tramite = by_clave(clave)
    if tramite is None or not tramite.reintentable:
        return None
    procesar: Procesar = importlib.import_module(f"{tramite.package}.service").procesar
    return procesar


def import_actions() -> None:
    """Import every trámite's Rasa actions (the action server registers what is imported)."""
    for tramite in TRAMITES:
        importlib.import_module(f"{tramite.package}.actions")


def longest_name(text: str) -> tuple[Tramite, int] | None:
    """The trámite ``text`` names with the longest name, and that name's length in words."""
    best: tuple[Tramite, int] | None = None
    for tramite in TRAMITES:
        for palabra in tramite.palabras:
            size = len(words(palabra))
            if (best is None or size > best[1]) and mentions(text, palabra):
                best = (tramite, size)
    return best


def mentioned_tramites(text: str) -> list[Tramite]:
    """The trámites ``text`` names, in the order they appear (the longest name wins where two overlap)."""
    found: list[tuple[int, int, Tramite]] = []
    said = words(text)
    for tramite in TRAMITES:
        for palabra in sorted(tramite.palabras, key=lambda p: -len(p)):
            if mentions(text, palabra):
                target = words(palabra)
                position = next(
                    (i for i in range(len(said)) if mentions(" ".join(said[i : i + len(target)]), palabra)), 0
                )
                found.append((position, -len(target), tramite))
                break
    found.sort(key=lambda f: (f[0], f[1]))
    result: list[Tramite] = []
    taken: list[tuple[int, int]] = []  # word spans of the names kept: a shorter name inside one is not a request
    for index, (position, length, tramite) in enumerate(found):
        span = (position, position - length)
        if tramite in result or any(a < span[1] and span[0] < b for a, b in taken):
            continue
        # Part of an earlier trámite's name («los puntos de mi licencia»): a few words after it, no «y» between.
        if any(
            tramite.clave in earlier.incluye
            and 0 < position - start <= _PART_OF_NAME
            and not _CONNECTORS & set(said[start:position])
            for start, _, earlier in found[:index]
        ):
            continue
        result.append(tramite)
        taken.append(span)
    return result


_PART_OF_NAME = 5  # words between a trámite's name and a name that belongs to it («puntos de mi licencia»)
_CONNECTORS = frozenset({"y", "e", "tambien", "ademas", "mas", "otro", "otra", "aparte"})
