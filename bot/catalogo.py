"""The service catalogue (`data/catalogo.yml`): institution, fee, requirements, identity level per trámite."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import yaml

NIVELES = ("ninguno", "dactilar")


@dataclass(frozen=True)
class Servicio:
    clave: str
    intent: str
    nombre: str
    institucion: str
    equipo: str
    costo_usd: Decimal
    nivel_identidad: str
    vigencia_dias: int | None
    tiempo: str
    documento: str | None
    requisitos: tuple[str, ...]


@dataclass(frozen=True)
class Catalogo:
    servicios: dict[str, Servicio]

    def get(self, clave: str) -> Servicio:
        return self.servicios[clave]

    def por_intent(self, intent: str) -> Servicio | None:
        return next((s for s in self.servicios.values() if s.intent == intent), None)


def load_catalogo(path: Path) -> Catalogo:
    """Read and check the catalogue; an unknown identity level or a missing field is an error."""
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))["servicios"]
    servicios: dict[str, Servicio] = {}
    for clave, entry in raw.items():
        if entry["nivel_identidad"] not in NIVELES:
            raise ValueError(f"{clave}: nivel_identidad must be one of {NIVELES}")
        servicios[clave] = Servicio(
            clave=clave,
            intent=str(entry["intent"]),
            nombre=str(entry["nombre"]),
            institucion=str(entry["institucion"]),
            equipo=str(entry["equipo"]),
            costo_usd=Decimal(str(entry["costo_usd"])),
            nivel_identidad=str(entry["nivel_identidad"]),
            vigencia_dias=entry.get("vigencia_dias"),
            tiempo=str(entry["tiempo"]),
            documento=entry.get("documento"),
            requisitos=tuple(str(r) for r in entry.get("requisitos") or ()),
        )
    return Catalogo(servicios)
