"""What a trámite is, declared once: `Tramite`, read from its package's `tramite.yml` and `preguntas.yml`.

Each trámite is a package `bot/tramites/<clave>/` whose `__init__.py` says ``TRAMITE = declare(__name__)``.
The facts (institution, fee, requirements, identity level, validity, time, document, who else it may be
asked for, its frequently asked questions) live in YAML beside the code, in Spanish; the package's
`service.py` does the work and `actions.py` is its Rasa glue. `bot.tramites.registry` lists them all.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from importlib import resources
from typing import Any

import yaml


class NivelIdentidad(StrEnum):
    NINGUNO = "ninguno"  # anyone may ask
    DACTILAR = "dactilar"  # cédula + código dactilar checked by the Registro Civil


class Grupo(StrEnum):
    """The service menu's groups (a WhatsApp list holds at most 10 rows)."""

    CERTIFICADOS = "certificados"
    VEHICULOS = "vehiculos"
    DATOS = "datos"


# Generic question topics answered from a trámite's declared facts (dialogs/textos/preguntas.yml).
TEMAS_GENERICOS = (
    "costo",
    "requisitos",
    "tiempo",
    "vigencia",
    "lugar_horario",
    "seguridad",
    "formas_pago",
)


class DeclarationError(ValueError):
    """A trámite's YAML is missing a field or holds a value that is not allowed."""


@dataclass(frozen=True)
class Pregunta:
    """A frequently asked question: how citizens ask it and the answer."""

    tema: str
    ejemplos: tuple[str, ...]
    respuesta: str


@dataclass(frozen=True)
class Tramite:
    """One service Chasqui provides in chat, as the catalogue, the help menu, identity, the worker and the
    answers to side questions read it."""

    clave: str
    package: str
    intent: str
    nombre: str
    institucion: str
    equipo: str
    grupo: Grupo
    costo_usd: Decimal
    nivel_identidad: NivelIdentidad
    vigencia_dias: int | None
    tiempo: str
    documento: str | None
    requisitos: tuple[str, ...]
    servicio: str  # what the citizen is doing, for sentences: «para {servicio} primero necesito…»
    formulario: str | None = None  # the Rasa form that resumes after identity (None: a look-up action)
    reintentable: bool = False  # the worker retries it after a registry error (service.procesar)
    palabras: tuple[str, ...] = ()  # how citizens name it (unaccented), to find it inside a sentence
    familiares: frozenset[str] = frozenset()  # relatives it may be asked for, besides oneself
    # Trámites whose name may be part of this one's in a sentence («los puntos de mi licencia»: not a second
    # request for the licence): named right after it, with no «y» in between, they are not counted apart.
    incluye: frozenset[str] = frozenset()
    se_paga: bool = False  # something is paid through it: «cancelar la multa» means paying it
    # What the citizen pays depends on their own record (their vehicle, their fines): «¿cuánto pago?» is answered
    # by the look-up itself, not by a general answer.
    valores_propios: bool = False
    preguntas: tuple[Pregunta, ...] = field(default=())

    @property
    def gratis(self) -> bool:
        return self.costo_usd == 0

    def pregunta(self, tema: str) -> Pregunta | None:
        """The declared answer for ``tema``, if this trámite has its own."""
        return next((p for p in self.preguntas if p.tema == tema), None)


def _required(raw: dict[str, Any], key: str, where: str) -> Any:
    if raw.get(key) in (None, ""):
        raise DeclarationError(f"{where}: missing {key!r}")
    return raw[key]


def parse(raw: dict[str, Any], *, clave: str, package: str, faq: dict[str, Any] | None = None) -> Tramite:
    """Build a `Tramite` from its YAML mappings (``tramite.yml`` and, if any, ``preguntas.yml``)."""
    where = f"bot/tramites/{clave}/tramite.yml"
    try:
        nivel = NivelIdentidad(_required(raw, "nivel_identidad", where))
        grupo = Grupo(_required(raw, "grupo", where))
    except ValueError as exc:
        raise DeclarationError(f"{where}: {exc}") from exc
    preguntas = []
    for entry in (faq or {}).get("preguntas") or ():
        tema = str(_required(entry, "tema", f"{where} (preguntas)"))
        preguntas.append(
            Pregunta(
                tema=tema,
                ejemplos=tuple(str(e) for e in entry.get("ejemplos") or ()),
                respuesta=str(_required(entry, "respuesta", f"{where} (pregunta {tema})")).strip(),
            )
        )
    if len({p.tema for p in preguntas}) != len(preguntas):
        raise DeclarationError(f"{where}: a question topic is declared twice")
    vigencia = raw.get("vigencia_dias")
    return Tramite(
        clave=clave,
        package=package,
        intent=str(_required(raw, "intent", where)),
        nombre=str(_required(raw, "nombre", where)),
        institucion=str(_required(raw, "institucion", where)),
        equipo=str(_required(raw, "equipo", where)),
        grupo=grupo,
        costo_usd=Decimal(str(raw.get("costo_usd", "0"))),
        nivel_identidad=nivel,
        vigencia_dias=int(vigencia) if vigencia is not None else None,
        tiempo=str(_required(raw, "tiempo", where)),
        documento=raw.get("documento"),
        requisitos=tuple(str(r) for r in raw.get("requisitos") or ()),
        servicio=str(_required(raw, "servicio", where)),
        formulario=raw.get("formulario"),
        reintentable=bool(raw.get("reintentable", False)),
        palabras=tuple(str(p) for p in raw.get("palabras") or ()),
        familiares=frozenset(str(f) for f in raw.get("familiares") or ()),
        incluye=frozenset(str(f) for f in raw.get("incluye") or ()),
        se_paga=bool(raw.get("se_paga", False)),
        valores_propios=bool(raw.get("valores_propios", False)),
        preguntas=tuple(preguntas),
    )


def declare(package: str) -> Tramite:
    """Read the declaration of the trámite whose package is ``package`` (its ``__name__``)."""
    folder = resources.files(package)
    raw = yaml.safe_load(folder.joinpath("tramite.yml").read_text(encoding="utf-8"))
    faq_file = folder.joinpath("preguntas.yml")
    faq = yaml.safe_load(faq_file.read_text(encoding="utf-8")) if faq_file.is_file() else None
    own = list((faq or {}).get("preguntas") or ())
    themes = {str(entry.get("tema")) for entry in own}
    common = [entry for entry in _common_questions() if str(entry.get("tema")) not in themes]
    return parse(raw, clave=package.rsplit(".", 1)[-1], package=package, faq={"preguntas": own + common})


def _common_questions() -> list[dict[str, Any]]:
    """The questions every trámite answers alike (`preguntas_comunes.yml` beside this module)."""
    path = resources.files(__package__).joinpath("preguntas_comunes.yml")
    return list((yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("preguntas") or ())
