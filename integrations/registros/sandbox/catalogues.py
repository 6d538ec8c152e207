"""The sandbox's word lists, catalogues and demo identities, read from ``data/sandbox/*.yml``."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml

DATA_DIR = Path(__file__).resolve().parents[3] / "data" / "sandbox"


@dataclass(frozen=True)
class Provincia:
    """A province: cédula code, name, first letter of its plates, population weight and some cantons."""

    codigo: str
    nombre: str
    letra_placa: str
    peso: float
    cantones: tuple[str, ...]
    parroquias: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # urban parishes of some cantons

    def parroquias_de(self, canton: str) -> tuple[str, ...]:
        """The parishes a voter of ``canton`` may vote in: those listed, else the one named after the cantón."""
        return self.parroquias.get(canton) or (canton,)


@dataclass(frozen=True)
class Contravencion:
    """A class of traffic contravention (COIP Arts. 386-392)."""

    clase: int
    articulo: str
    porcentaje_sbu: Decimal
    puntos: Decimal
    peso: float
    descripciones: tuple[str, ...]


@dataclass(frozen=True)
class Modelo:
    """A vehicle make and model."""

    marca: str
    modelo: str
    clase: str


@dataclass(frozen=True)
class Vuelta:
    """One round of the election the CNE record covers."""

    vuelta: str
    fecha: date


@dataclass(frozen=True)
class Eleccion:
    """The last election: its name, rounds and the fine for not voting."""

    proceso: str
    multa: Decimal
    vueltas: tuple[Vuelta, ...]


@dataclass(frozen=True)
class TarifasMatricula:
    """Illustrative amounts of a vehicle registration."""

    tasa_matriculacion: Decimal
    sppat: Decimal
    junta_beneficencia: Decimal
    impuesto_rodaje: Decimal
    impuesto_propiedad_porcentaje: Decimal
    recargo_mensual: Decimal


@dataclass(frozen=True)
class Catalogos:
    """Everything the population generator draws from."""

    nombres_hombre: tuple[str, ...]
    nombres_mujer: tuple[str, ...]
    apellidos: tuple[str, ...]
    profesiones: tuple[str, ...]
    provincias: tuple[Provincia, ...]
    licencias: tuple[tuple[str, float], ...]
    tipos_sangre: tuple[tuple[str, float], ...]
    restricciones: tuple[tuple[str, float], ...]
    contravenciones: tuple[Contravencion, ...]
    modelos: tuple[Modelo, ...]
    colores: tuple[str, ...]
    wmi: dict[str, str]
    tarifas: TarifasMatricula
    actividades: dict[str, str]
    sbu: dict[int, Decimal]
    eleccion: Eleccion

    def provincia(self, codigo: str) -> Provincia:
        """The province with cédula code ``codigo``."""
        return next(p for p in self.provincias if p.codigo == codigo)

    def contravencion(self, clase: int) -> Contravencion:
        """The contravention class ``clase``."""
        return next(c for c in self.contravenciones if c.clase == clase)

    def sbu_de(self, anio: int) -> Decimal:
        """The SBU of ``anio`` (the latest known one for later years, the earliest for earlier)."""
        known = sorted(self.sbu)
        return self.sbu[max((y for y in known if y <= anio), default=known[0])]


@dataclass(frozen=True)
class VehiculoDemo:
    """A vehicle of a demo identity, with its registration status fixed."""

    placa: str
    marca: str
    modelo: str
    anio: int
    color: str
    clase: str
    matricula: str
    chasis: str | None = None


@dataclass(frozen=True)
class CitacionDemo:
    """A citation of a demo identity, dated relative to the sandbox's day."""

    clase: int
    dias_atras: int
    pagada: bool
    placa: str | None


@dataclass(frozen=True)
class LugarVotacion:
    """Where a voter is registered to vote (CNE): parish, electoral zone, polling place and junta."""

    parroquia: str
    zona: str
    recinto: str
    junta: str


@dataclass(frozen=True)
class RucDemo:
    """The RUC of a demo identity."""

    estado: str
    inicio: date
    actividades: tuple[str, ...]


@dataclass(frozen=True)
class IdentidadDemo:
    """A documented, stable demo identity (``data/sandbox/identidades_demo.yml``)."""

    clave: str
    cedula: str
    codigo_dactilar: str
    nombres: str
    apellidos: str
    sexo: str
    fecha_nacimiento: date
    provincia: str
    canton: str
    demuestra: str
    estado_civil: str = "SOLTERO"
    profesion: str = "NINGUNA"
    padre: str | None = None
    madre: str | None = None
    fecha_defuncion: date | None = None
    antecedentes: bool = False
    licencia_tipo: str | None = None
    licencia_vence_en_dias: int = 0
    licencia_tipo_sangre: str | None = None
    licencia_restricciones: str | None = None
    vehiculos: tuple[VehiculoDemo, ...] = ()
    citaciones: tuple[CitacionDemo, ...] = ()
    votacion: tuple[str, ...] = ()
    lugar_votacion: LugarVotacion | None = None
    ruc: RucDemo | None = None

    @property
    def nombre(self) -> str:
        """Surnames first, as the Registro Civil writes it."""
        return f"{self.apellidos} {self.nombres}"


def _yaml(directory: Path, name: str) -> dict[str, Any]:
    # The C loader, when libyaml is present, reads the word lists about ten times faster.
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    data = yaml.load((directory / name).read_text(encoding="utf-8"), Loader=loader)  # noqa: S506 - a safe loader
    if not isinstance(data, dict):
        raise ValueError(f"{name}: expected a mapping")
    return data


def cargar_catalogos(*, directory: Path = DATA_DIR) -> Catalogos:
    """Read the word lists and catalogues from ``directory``."""
    nombres = _yaml(directory, "nombres.yml")
    territorio = _yaml(directory, "territorio.yml")
    cat = _yaml(directory, "catalogos.yml")
    eleccion = cat["eleccion"]
    sbu = {int(k): Decimal(str(v)) for k, v in cat["sbu"].items()}
    multa = (sbu[int(eleccion["anio_sbu"])] * Decimal(str(eleccion["porcentaje_multa"])) / 100).quantize(
        Decimal("0.01")
    )
    return Catalogos(
        nombres_hombre=tuple(nombres["nombres_hombre"]),
        nombres_mujer=tuple(nombres["nombres_mujer"]),
        apellidos=tuple(nombres["apellidos"]),
        profesiones=tuple(nombres["profesiones"]),
        provincias=tuple(
            Provincia(
                codigo=str(p["codigo"]),
                nombre=str(p["nombre"]),
                letra_placa=str(p["letra_placa"]),
                peso=float(p["peso"]),
                cantones=tuple(p["cantones"]),
                parroquias={str(c): tuple(ps) for c, ps in (p.get("parroquias") or {}).items()},
            )
            for p in territorio["provincias"]
        ),
        licencias=tuple((str(item["tipo"]), float(item["peso"])) for item in cat["licencias"]),
        tipos_sangre=tuple((str(item["tipo"]), float(item["peso"])) for item in cat["tipos_sangre"]),
        restricciones=tuple((str(item["texto"]), float(item["peso"])) for item in cat["restricciones_licencia"]),
        contravenciones=tuple(
            Contravencion(
                clase=int(c["clase"]),
                articulo=str(c["articulo"]),
                porcentaje_sbu=Decimal(str(c["porcentaje_sbu"])),
                puntos=Decimal(str(c["puntos"])),
                peso=float(c["peso"]),
                descripciones=tuple(c["descripciones"]),
            )
            for c in cat["contravenciones"]
        ),
        modelos=tuple(Modelo(marca=m["marca"], modelo=str(m["modelo"]), clase=m["clase"]) for m in cat["vehiculos"]),
        colores=tuple(cat["colores"]),
        wmi={str(marca): str(codigo) for marca, codigo in cat["wmi"].items()},
        tarifas=TarifasMatricula(**{k: Decimal(str(v)) for k, v in cat["matricula"].items()}),
        actividades={str(a["codigo"]): str(a["descripcion"]) for a in cat["actividades"]},
        sbu=sbu,
        eleccion=Eleccion(
            proceso=str(eleccion["proceso"]),
            multa=multa,
            vueltas=tuple(Vuelta(vuelta=str(v["vuelta"]), fecha=v["fecha"]) for v in eleccion["vueltas"]),
        ),
    )


def cargar_identidades(*, directory: Path = DATA_DIR) -> tuple[IdentidadDemo, ...]:
    """Read the demo identities from ``directory/identidades_demo.yml``."""
    return tuple(_identidad(item) for item in _yaml(directory, "identidades_demo.yml")["identidades"])


def _identidad(item: dict[str, Any]) -> IdentidadDemo:
    licencia = item.get("licencia") or {}
    ruc = item.get("ruc")
    return IdentidadDemo(
        clave=str(item["clave"]),
        cedula=str(item["cedula"]),
        codigo_dactilar=str(item["codigo_dactilar"]),
        nombres=str(item["nombres"]),
        apellidos=str(item["apellidos"]),
        sexo=str(item["sexo"]),
        fecha_nacimiento=item["fecha_nacimiento"],
        provincia=str(item["provincia"]),
        canton=str(item["canton"]),
        demuestra=str(item["demuestra"]),
        estado_civil=str(item.get("estado_civil", "SOLTERO")),
        profesion=str(item.get("profesion", "NINGUNA")),
        padre=item.get("padre"),
        madre=item.get("madre"),
        fecha_defuncion=item.get("fecha_defuncion"),
        antecedentes=bool(item.get("antecedentes", False)),
        licencia_tipo=licencia.get("tipo"),
        licencia_vence_en_dias=int(licencia.get("vence_en_dias", 0)),
        licencia_tipo_sangre=_opcional(licencia.get("tipo_sangre")),
        licencia_restricciones=_opcional(licencia.get("restricciones")),
        vehiculos=tuple(
            VehiculoDemo(
                placa=str(v["placa"]),
                marca=str(v["marca"]),
                modelo=str(v["modelo"]),
                anio=int(v["anio"]),
                color=str(v["color"]),
                clase=str(v["clase"]),
                matricula=str(v["matricula"]),
                chasis=_opcional(v.get("chasis")),
            )
            for v in item.get("vehiculos", [])
        ),
        citaciones=tuple(
            CitacionDemo(
                clase=int(c["clase"]), dias_atras=int(c["dias_atras"]), pagada=bool(c["pagada"]), placa=c.get("placa")
            )
            for c in item.get("citaciones", [])
        ),
        votacion=tuple(str(v) for v in item.get("votacion", [])),
        lugar_votacion=None
        if "lugar_votacion" not in item
        else LugarVotacion(**{k: str(v) for k, v in item["lugar_votacion"].items()}),
        ruc=None
        if ruc is None
        else RucDemo(estado=str(ruc["estado"]), inicio=ruc["inicio"], actividades=tuple(ruc["actividades"])),
    )


def _opcional(value: Any) -> str | None:
    return None if value is None else str(value)
