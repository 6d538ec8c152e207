"""Values the registry clients return: frozen dataclasses, converted from the wire at each client's edge."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum


def _age(birth: date, today: date) -> int:
    return today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))


@dataclass(frozen=True)
class Ciudadano:
    """A person as the Registro Civil knows them; ``nombre`` is written surnames first, as the registry does."""

    cedula: str
    nombre: str
    condicion: str
    nombres: str | None = None
    apellidos: str | None = None
    sexo: str | None = None
    fecha_nacimiento: date | None = None
    lugar_nacimiento: str | None = None
    nacionalidad: str | None = None
    estado_civil: str | None = None
    conyuge: str | None = None
    cedula_conyuge: str | None = None
    nombre_padre: str | None = None
    cedula_padre: str | None = None
    nombre_madre: str | None = None
    cedula_madre: str | None = None
    profesion: str | None = None
    fecha_defuncion: date | None = None
    fecha_cedulacion: date | None = None
    fecha_expiracion: date | None = None
    anio_inscripcion: str | None = None  # the birth's registration: year, tomo, página and acta
    tomo_inscripcion: str | None = None
    pagina_inscripcion: str | None = None
    acta_inscripcion: str | None = None
    ficticio: bool = False

    @property
    def fallecido(self) -> bool:
        """True when the registry records a death."""
        return self.fecha_defuncion is not None or self.condicion.upper() == "FALLECIDO"

    def edad(self, hoy: date) -> int | None:
        """Age in whole years on ``hoy`` (None when the birth date is unknown)."""
        return None if self.fecha_nacimiento is None else _age(self.fecha_nacimiento, hoy)

    def es_menor(self, hoy: date) -> bool:
        """True for a living person under 18 on ``hoy``."""
        edad = self.edad(hoy)
        return edad is not None and edad < 18 and not self.fallecido


@dataclass(frozen=True)
class Licencia:
    """A driving licence (ANT): type, validity, the points left out of 30, and the holder's blood type and driving
    restrictions as the ANT records them (None when its answer lacks them)."""

    cedula: str
    tipo: str
    fecha_emision: date
    fecha_vencimiento: date
    puntos: Decimal
    tipo_sangre: str | None = None
    restricciones: str | None = None
    ficticio: bool = False

    def vigente(self, hoy: date) -> bool:
        """True while the licence has not expired on ``hoy``."""
        return hoy <= self.fecha_vencimiento

    def dias_para_vencer(self, hoy: date) -> int:
        """Days from ``hoy`` to expiry; negative once expired."""
        return (self.fecha_vencimiento - hoy).days


class EstadoCitacion(StrEnum):
    """Whether a traffic citation is still owed."""

    PENDIENTE = "pendiente"
    PAGADA = "pagada"


@dataclass(frozen=True)
class Citacion:
    """A traffic citation: COIP article and class, fine in USD and points deducted."""

    numero: str
    fecha: date
    articulo: str
    clase: int
    descripcion: str
    valor: Decimal
    puntos: Decimal
    estado: EstadoCitacion
    placa: str | None = None
    ficticio: bool = False


@dataclass(frozen=True)
class Vehiculo:
    """A registered vehicle; ``chasis`` is its chassis number (VIN), None when the ANT's answer lacks it."""

    placa: str
    marca: str
    modelo: str
    anio: int
    color: str
    clase: str
    servicio: str
    chasis: str | None = None
    ficticio: bool = False


class EstadoMatricula(StrEnum):
    """Annual registration status of a vehicle."""

    AL_DIA = "al_dia"
    PENDIENTE = "pendiente"
    VENCIDA = "vencida"


@dataclass(frozen=True)
class ValorPendiente:
    """One line of what is owed for a vehicle's registration."""

    concepto: str
    valor: Decimal


@dataclass(frozen=True)
class Matricula:
    """A vehicle's registration: status, the month set by the plate's last digit, and the amounts due."""

    vehiculo: Vehiculo
    estado: EstadoMatricula
    mes_matriculacion: int
    anio_ultima_matricula: int | None
    valores: tuple[ValorPendiente, ...]
    total: Decimal
    ficticio: bool = False


@dataclass(frozen=True)
class AntecedentesPenales:
    """The criminal-record certificate (Ministerio del Interior); sensitive data, show only to its holder."""

    cedula: str
    nombre: str
    registra: bool
    numero_certificado: str
    fecha_emision: date
    valido_hasta: date
    ficticio: bool = False


class EstadoVoto(StrEnum):
    """What the CNE records for one voter in one round."""

    SUFRAGO = "sufrago"
    MULTA = "multa"
    EXENTO = "exento"


@dataclass(frozen=True)
class Vuelta:
    """One round of an election for one voter."""

    vuelta: str
    fecha: date
    estado: EstadoVoto
    motivo_exencion: str | None = None
    multa: Decimal | None = None
    multa_pagada: bool = False


@dataclass(frozen=True)
class LugarVotacion:
    """Where the CNE registers a voter to vote."""

    provincia: str
    canton: str
    parroquia: str
    zona: str
    recinto: str
    junta: str


@dataclass(frozen=True)
class RegistroVotacion:
    """A voter's record in the last election (CNE); ``lugar`` is None when the CNE's answer carries no place."""

    cedula: str
    nombre: str
    proceso: str
    vueltas: tuple[Vuelta, ...]
    lugar: LugarVotacion | None = None
    ficticio: bool = False

    @property
    def multa_pendiente(self) -> Decimal:
        """Sum of the fines not yet paid, over every round."""
        return sum((v.multa for v in self.vueltas if v.multa is not None and not v.multa_pagada), Decimal("0.00"))


class EstadoRuc(StrEnum):
    """State of a taxpayer's RUC at the SRI."""

    ACTIVO = "ACTIVO"
    SUSPENDIDO = "SUSPENDIDO"
    PASIVO = "PASIVO"


@dataclass(frozen=True)
class ActividadEconomica:
    """An economic activity of a taxpayer, with its CIIU-style code."""

    codigo: str
    descripcion: str


@dataclass(frozen=True)
class Ruc:
    """A taxpayer registration (SRI)."""

    numero: str
    razon_social: str
    estado: EstadoRuc
    tipo_contribuyente: str
    obligado_contabilidad: bool
    actividades: tuple[ActividadEconomica, ...]
    fecha_inicio_actividades: date | None = None
    ficticio: bool = False
