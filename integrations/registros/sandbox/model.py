"""The sandbox registries' records: people and what each institution holds about them, and the rules on them."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from integrations.registros.sandbox.catalogues import Catalogos, IdentidadDemo, LugarVotacion

CENTS = Decimal("0.01")
PUNTOS_INICIALES = Decimal(30)
# Registration month by the plate's last digit (ecuador.md §4.2); December is for late registrations.
MES_MATRICULA = {1: 2, 2: 3, 3: 4, 4: 5, 5: 6, 6: 7, 7: 8, 8: 9, 9: 10, 0: 11}
# Chassis numbers (VIN, ISO 3779): 17 characters without I, O and Q; the 9th is a check digit over the others, as
# in North America (letters transliterated, weighted, modulo 11, 10 written X); the 10th codes the model year.
_VIN_LETRAS = "ABCDEFGHJKLMNPRSTUVWXYZ"
VIN_ALFABETO = _VIN_LETRAS + "0123456789"
_VIN_VALOR = dict(zip(_VIN_LETRAS, (1, 2, 3, 4, 5, 6, 7, 8, 1, 2, 3, 4, 5, 7, 9, 2, 3, 4, 5, 6, 7, 8, 9), strict=True))
_VIN_PESOS = (8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2)
_VIN_ANIOS = "ABCDEFGHJKLMNPRSTVWXY123456789"


def sumar_anios(fecha: date, anios: int) -> date:
    """``fecha`` plus ``anios`` years (29 February becomes 28 February)."""
    try:
        return fecha.replace(year=fecha.year + anios)
    except ValueError:
        return fecha.replace(year=fecha.year + anios, day=28)


def edad(nacimiento: date, hoy: date) -> int:
    """Age in whole years on ``hoy``."""
    return hoy.year - nacimiento.year - ((hoy.month, hoy.day) < (nacimiento.month, nacimiento.day))


def mes_matricula(placa: str) -> int:
    """The registration month set by the plate's last digit."""
    return MES_MATRICULA[int(placa[-1])]


def digito_verificador_vin(vin: str) -> str:
    """The check digit (9th character) of the 17-character chassis number ``vin`` (its own 9th is ignored)."""
    total = sum((int(c) if c.isdigit() else _VIN_VALOR[c]) * peso for c, peso in zip(vin, _VIN_PESOS, strict=True))
    resto = total % 11
    return "X" if resto == 10 else str(resto)


def chasis(placa: str, marca: str, anio: int, catalogos: Catalogos) -> str:
    """The chassis number of the vehicle ``placa``: the make's manufacturer code, five characters and a plant
    drawn from the plate, the check digit, the model-year code and a six-digit serial. Same plate, same number,
    whatever the seed, and the population's draws are not disturbed."""
    rng = random.Random(f"chasis:{placa}")
    wmi = catalogos.wmi.get(marca) or "".join(rng.choice(VIN_ALFABETO) for _ in range(3))
    descriptor = "".join(rng.choice(VIN_ALFABETO) for _ in range(5))
    planta = rng.choice(VIN_ALFABETO)
    serie = f"{rng.randrange(1_000_000):06d}"
    vin = f"{wmi}{descriptor}0{_VIN_ANIOS[(anio - 1980) % 30]}{planta}{serie}"
    return vin[:8] + digito_verificador_vin(vin) + vin[9:]


def datos_licencia(cedula: str, catalogos: Catalogos) -> tuple[str, str]:
    """The blood type and the restrictions the ANT records on the licence of ``cedula``: drawn from the cédula
    alone, so the same person has the same ones whatever the seed."""
    rng = random.Random(f"licencia:{cedula}")
    tipos, pesos = zip(*catalogos.tipos_sangre, strict=True)
    textos, pesos_restriccion = zip(*catalogos.restricciones, strict=True)
    return rng.choices(tipos, weights=pesos)[0], rng.choices(textos, weights=pesos_restriccion)[0]


@dataclass(slots=True)
class LicenciaRegistrada:
    """A driving licence in the sandbox ANT."""

    tipo: str
    fecha_emision: date
    fecha_vencimiento: date
    tipo_sangre: str
    restricciones: str
    puntos: Decimal = PUNTOS_INICIALES


@dataclass(slots=True)
class VehiculoRegistrado:
    """A vehicle in the sandbox ANT, with its registration status and what is owed."""

    placa: str
    marca: str
    modelo: str
    anio: int
    color: str
    clase: str
    chasis: str
    cedula_propietario: str
    estado_matricula: str
    anio_ultima_matricula: int
    valores: list[tuple[str, Decimal]] = field(default_factory=list)
    servicio: str = "PARTICULAR"

    @property
    def total(self) -> Decimal:
        return sum((v for _, v in self.valores), Decimal("0.00"))


@dataclass(slots=True)
class CitacionRegistrada:
    """A traffic citation in the sandbox ANT."""

    numero: str
    cedula: str
    fecha: date
    articulo: str
    clase: int
    descripcion: str
    valor: Decimal
    puntos: Decimal
    pagada: bool
    placa: str | None


@dataclass(slots=True)
class VotoRegistrado:
    """One round of the last election for one voter, in the sandbox CNE."""

    vuelta: str
    fecha: date
    estado: str
    motivo_exencion: str | None = None
    multa: Decimal | None = None
    multa_pagada: bool = False


@dataclass(slots=True)
class RucRegistrado:
    """A natural person's RUC in the sandbox SRI."""

    numero: str
    cedula: str
    estado: str
    fecha_inicio: date
    actividades: list[tuple[str, str]]
    obligado_contabilidad: bool = False


@dataclass(slots=True)
class Persona:
    """A fictitious citizen and everything the sandbox registries hold about them.

    Mutable while the generator links families; read-only once the population is built.
    """

    cedula: str
    codigo_dactilar: str
    nombres: str
    apellidos: str
    sexo: str
    fecha_nacimiento: date
    provincia: str
    canton: str
    fecha_cedulacion: date
    fecha_expiracion: date
    profesion: str = "NINGUNA"
    estado_civil: str = "SOLTERO"
    cedula_conyuge: str | None = None
    fecha_matrimonio: date | None = None
    cedula_padre: str | None = None
    cedula_madre: str | None = None
    nombre_padre: str | None = None
    nombre_madre: str | None = None
    fecha_defuncion: date | None = None
    grupo_facultativo: str | None = None
    antecedentes: bool = False
    licencia: LicenciaRegistrada | None = None
    placas: list[str] = field(default_factory=list)
    citaciones: list[CitacionRegistrada] = field(default_factory=list)
    votos: list[VotoRegistrado] = field(default_factory=list)
    ruc: str | None = None
    lugar_votacion: LugarVotacion | None = None  # set for demo identities; generated voters get `lugar_votacion`
    demo: str | None = None

    @property
    def nombre(self) -> str:
        """Surnames first, as the Registro Civil writes it."""
        return f"{self.apellidos} {self.nombres}"

    def viva_el(self, fecha: date) -> bool:
        """Born on or before ``fecha`` and not dead by then."""
        return self.fecha_nacimiento <= fecha and (self.fecha_defuncion is None or self.fecha_defuncion > fecha)


@dataclass
class Poblacion:
    """The whole sandbox population and its indexes."""

    semilla: int
    hoy: date
    catalogos: Catalogos
    personas: dict[str, Persona]
    vehiculos: dict[str, VehiculoRegistrado]
    rucs: dict[str, RucRegistrado]
    hijos: dict[str, list[str]]
    identidades_demo: tuple[IdentidadDemo, ...]

    def persona(self, cedula: str) -> Persona | None:
        """The person with ``cedula``, if any."""
        return self.personas.get(cedula)

    def citaciones_de_placa(self, placa: str) -> list[CitacionRegistrada]:
        """Citations recorded against the vehicle ``placa``, newest first."""
        vehiculo = self.vehiculos.get(placa)
        if vehiculo is None:
            return []
        owner = self.personas[vehiculo.cedula_propietario]
        return sorted((c for c in owner.citaciones if c.placa == placa), key=lambda c: c.fecha, reverse=True)


_FEMENINO = {"SOLTERO": "SOLTERA", "CASADO": "CASADA", "DIVORCIADO": "DIVORCIADA", "VIUDO": "VIUDA"}


def estado_civil(persona: Persona) -> str:
    """The civil status as the Registro Civil writes it, in the person's gender («SOLTERA», «VIUDO»); «UNIÓN DE
    HECHO» is the same for both."""
    if persona.sexo != "MUJER":
        return persona.estado_civil
    return _FEMENINO.get(persona.estado_civil, persona.estado_civil)


def lugar_votacion(persona: Persona, catalogos: Catalogos) -> LugarVotacion:
    """Where ``persona`` votes: a demo identity's fixed place, else one drawn from the cédula's digits (the same on
    every start) among the parishes of their cantón."""
    if persona.lugar_votacion is not None:
        return persona.lugar_votacion
    numero = int(persona.cedula)
    parroquias = catalogos.provincia(persona.provincia).parroquias_de(persona.canton)
    parroquia = parroquias[numero % len(parroquias)]
    return LugarVotacion(
        parroquia=parroquia,
        zona=str(numero // 7 % 4 + 1),
        recinto=f"UNIDAD EDUCATIVA FISCAL N.º {numero // 29 % 60 + 1}",
        junta=f"{numero // 11 % 40 + 1} {'FEMENINO' if persona.sexo == 'MUJER' else 'MASCULINO'}",
    )


def motivo_facultativo(persona: Persona, fecha: date) -> str | None:
    """Why voting is optional for ``persona`` on ``fecha`` (age or group), or None when it is compulsory."""
    anios = edad(persona.fecha_nacimiento, fecha)
    if anios < 18:
        return "edad_16_17"
    if anios >= 65:
        return "edad_65_o_mas"
    return persona.grupo_facultativo


def estado_matricula(placa: str, anio_ultima: int, hoy: date) -> str:
    """``al_dia`` (registered this year), ``pendiente`` (this year's month is now or ahead) or ``vencida``."""
    if anio_ultima >= hoy.year:
        return "al_dia"
    if anio_ultima == hoy.year - 1 and hoy.month <= mes_matricula(placa):
        return "pendiente"
    return "vencida"


def valores_matricula(
    vehiculo: VehiculoRegistrado, catalogos: Catalogos, hoy: date, *, avaluo: Decimal
) -> list[tuple[str, Decimal]]:
    """What is owed for the registration (nothing when it is up to date)."""
    if vehiculo.estado_matricula == "al_dia":
        return []
    t = catalogos.tarifas
    valores = [
        (
            "IMPUESTO A LA PROPIEDAD DE VEHÍCULOS MOTORIZADOS",
            (avaluo * t.impuesto_propiedad_porcentaje / 100).quantize(CENTS),
        ),
        ("TASA DE MATRICULACIÓN", t.tasa_matriculacion),
        ("SPPAT", t.sppat),
        ("TASA JUNTA DE BENEFICENCIA DE GUAYAQUIL", t.junta_beneficencia),
        ("IMPUESTO AL RODAJE", t.impuesto_rodaje),
    ]
    if vehiculo.estado_matricula == "vencida":
        meses = max(1, (hoy.year - vehiculo.anio_ultima_matricula - 1) * 12 + hoy.month - mes_matricula(vehiculo.placa))
        valores.append(("RECARGO POR MATRICULACIÓN TARDÍA", t.recargo_mensual * meses))
    return valores
