"""Multas de tránsito (ANT): the citations of the citizen's cédula or of a vehicle they own, and paying one or
all of them through the payment provider.

The ANT client has no operation to pay a citation (nor has the sandbox), so once the provider confirms a
payment the background worker checks the citations again and the application keeps which ones were paid:
the list the citizen sees marks them paid from then on.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Any

from bot.services import Servicios
from bot.storage.models_tramites import EstadoSolicitud
from bot.tramites.matricula.service import placa_en, propio
from bot.tramites.multas import TRAMITE
from bot.tramites.payments import Pago
from bot.tramites.solicitudes import Solicitud
from integrations.registros.errors import NotFound, Rejected, Unavailable
from integrations.registros.records import Citacion, EstadoCitacion, Vehiculo

CLAVE = TRAMITE.clave
POR_CEDULA = "cedula"  # the search criterion when it is not a plate
_CERRADAS = (EstadoSolicitud.RECHAZADA, EstadoSolicitud.CANCELADA)


class EstadoMulta(StrEnum):
    """A citation as Chasqui shows it: the registry's status plus what was paid through Chasqui."""

    PENDIENTE = "pendiente"  # owed: it can be paid now
    PAGO_ABIERTO = "pago_abierto"  # in an application that waits for its payment
    PAGADA_EN_CHASQUI = "pagada_en_chasqui"  # paid through Chasqui (the ANT may not show it yet)
    PAGADA = "pagada"  # paid, as the ANT records it


@dataclass(frozen=True)
class Multa:
    citacion: Citacion
    estado: EstadoMulta
    solicitud: str | None = None  # the Chasqui application that pays it
    recibo: str | None = None
    enlace: str | None = None  # the payment page of an open payment


@dataclass(frozen=True)
class Resultado:
    estado: EstadoSolicitud
    solicitud: Solicitud
    pagadas: tuple[str, ...] = ()
    no_aplicadas: tuple[str, ...] = ()


def dato(citacion: Citacion) -> dict[str, str]:
    """A citation as kept in a slot or an application (plain strings, nothing personal beyond the plate)."""
    return {
        "numero": citacion.numero,
        "fecha": citacion.fecha.isoformat(),
        "descripcion": citacion.descripcion,
        "articulo": citacion.articulo,
        "valor": f"{citacion.valor:.2f}",
        "puntos": str(citacion.puntos),
        "placa": citacion.placa or "",
    }


def total(citaciones: Iterable[Mapping[str, Any]]) -> Decimal:
    """The sum of the ``valor`` of citations kept with `dato`."""
    return sum((Decimal(str(c["valor"])) for c in citaciones), Decimal("0.00"))


@dataclass(frozen=True)
class _EnChasqui:
    estado: EstadoMulta
    solicitud: str
    recibo: str | None = None
    enlace: str | None = None


async def _en_chasqui(s: Servicios, cedula: str, *, excepto: int | None = None) -> dict[str, _EnChasqui]:
    """Citations paid, or waiting for a payment, in the citizen's multas applications (keyed by number)."""
    found: dict[str, _EnChasqui] = {}
    for solicitud in await s.solicitudes.de_ciudadano(cedula):
        if solicitud.tramite != CLAVE or solicitud.id == excepto or solicitud.estado in _CERRADAS:
            continue
        pagos = await s.pagos.de_solicitud(solicitud.id)
        if not pagos:
            continue
        pago = pagos[-1]
        numeros = [str(c["numero"]) for c in solicitud.datos.get("citaciones", [])]
        if pago.pagado:
            for numero in solicitud.datos.get("citaciones_pagadas", numeros):
                found[numero] = _EnChasqui(EstadoMulta.PAGADA_EN_CHASQUI, solicitud.numero, recibo=pago.recibo)
        elif solicitud.estado == EstadoSolicitud.PENDIENTE_PAGO:
            for numero in numeros:
                found.setdefault(
                    numero, _EnChasqui(EstadoMulta.PAGO_ABIERTO, solicitud.numero, enlace=s.pagos.url(pago.id))
                )
    return found


async def consultar(s: Servicios, cedula: str, criterio: str) -> list[Multa]:
    """The citations of ``cedula`` (criterion `POR_CEDULA`) or of the plate ``criterio``, newest first.

    Raises:
        Unavailable: the ANT does not answer.
        Rejected: the ANT refused the plate.
    """
    try:
        if criterio == POR_CEDULA:
            citaciones = await s.registros.ant.citaciones(cedula=cedula)
        else:
            citaciones = await s.registros.ant.citaciones(placa=criterio)
    except NotFound:
        citaciones = ()
    en_chasqui = await _en_chasqui(s, cedula)
    multas: list[Multa] = []
    for citacion in citaciones:
        known = en_chasqui.get(citacion.numero)
        if citacion.estado is EstadoCitacion.PAGADA:
            multas.append(Multa(citacion, EstadoMulta.PAGADA))
        elif known is not None:
            multas.append(Multa(citacion, known.estado, known.solicitud, known.recibo, known.enlace))
        else:
            multas.append(Multa(citacion, EstadoMulta.PENDIENTE))
    return multas


_NUMEROS = {
    "uno": 1, "una": 1, "primera": 1, "primero": 1, "dos": 2, "segunda": 2, "segundo": 2, "tres": 3,
    "tercera": 3, "tercero": 3, "cuatro": 4, "cuarta": 4, "cuarto": 4, "cinco": 5, "quinta": 5, "quinto": 5,
    "seis": 6, "sexta": 6, "siete": 7, "septima": 7, "ocho": 8, "octava": 8, "nueve": 9, "novena": 9,
}  # fmt: skip
_TODAS = {"todas", "todos", "todo", "ambas", "ambos", "total"}
_SI = {"si", "ok", "dale", "claro", "bueno", "pagar", "pagarla", "pago", "simon", "listo"}  # with one fine only
_NINGUNA = {"ninguna", "ninguno", "nada", "no", "nop", "despues", "luego", "tarde", "ahorita"}
_PALABRA = re.compile(r"[a-z0-9]+")
_MIAS = {"cedula", "mias", "mios", "yo", "mis", "personal", "personales", "conductor"}
_VEHICULO = {"carro", "auto", "vehiculo", "camioneta", "moto", "placa", "carrito"}


def sin_tildes(text: str) -> str:
    """Lower case without accents: «Cédula» → «cedula»."""
    return "".join(c for c in unicodedata.normalize("NFD", text.lower()) if unicodedata.category(c) != "Mn")


def leer_criterio(texto: str, vehiculos: Sequence[Vehiculo]) -> str | None:
    """`POR_CEDULA`, or the plate of the vehicle the citizen named («GBC-2468», «la camioneta», «el chevrolet»).

    None when the answer is unclear or names a plate that is not among ``vehiculos``.
    """
    placa = placa_en(texto)
    if placa is not None:
        vehiculo = propio(vehiculos, placa)
        return vehiculo.placa if vehiculo else None
    words = set(_PALABRA.findall(sin_tildes(texto)))
    named = [v for v in vehiculos if words & set(_PALABRA.findall(sin_tildes(f"{v.marca} {v.modelo} {v.clase}")))]
    if len(named) == 1:
        return named[0].placa
    if len(vehiculos) == 1 and words & _VEHICULO:
        return vehiculos[0].placa
    return POR_CEDULA if words & _MIAS or not vehiculos else None


def leer_seleccion(texto: str, pendientes: Sequence[Mapping[str, Any]]) -> tuple[str, ...] | None:
    """Which of the numbered ``pendientes`` the citizen chose, as citation numbers.

    «todas», «1 y 3», «la segunda», «todas menos la 2», a citation number; ``()`` for «ninguna» / «después»;
    None when the answer is unclear or names a number that is not on the list.
    """
    text = sin_tildes(texto)
    words = _PALABRA.findall(text)
    numeros = [str(p["numero"]) for p in pendientes]
    chosen: list[int] = []
    for word in words:
        by_number = next((i for i, n in enumerate(numeros) if n.lower() == word), None)
        if by_number is not None:
            chosen.append(by_number + 1)
        elif word.isdigit() and len(word) <= 2:
            chosen.append(int(word))
        elif word in _NUMEROS:
            chosen.append(_NUMEROS[word])
    everything = (
        bool(_TODAS & set(words))
        or (len(numeros) == 2 and re.search(r"\b(las|los) dos\b", text) is not None)
        or (len(numeros) == 1 and bool(_SI & set(words)) and "no" not in words)
    )
    if everything:
        excluded = set(chosen) if "menos" in words or "excepto" in words else set()
        if any(i < 1 or i > len(numeros) for i in excluded):
            return None
        return tuple(n for i, n in enumerate(numeros, start=1) if i not in excluded)
    if chosen:
        if any(i < 1 or i > len(numeros) for i in chosen):
            return None
        return tuple(numeros[i - 1] for i in sorted(set(chosen)))
    if _NINGUNA & set(words) or "ahora no" in text:
        return ()
    return None


async def preparar_pago(
    s: Servicios, *, cedula: str, conversation_id: str, criterio: str, numeros: Sequence[str], concepto: str
) -> tuple[Solicitud, Pago] | None:
    """Open an application and its payment for the chosen citations that are still owed.

    The amounts come from the ANT again, never from the conversation. None when none of them is owed any more.

    Raises:
        Unavailable: the ANT does not answer.
    """
    multas = await consultar(s, cedula, criterio)
    elegidas = [m.citacion for m in multas if m.estado is EstadoMulta.PENDIENTE and m.citacion.numero in numeros]
    if not elegidas:
        return None
    citaciones = [dato(c) for c in elegidas]
    monto = total(citaciones)
    solicitud = await s.solicitudes.crear(
        tramite=CLAVE,
        conversation_id=conversation_id,
        cedula=cedula,
        datos={"criterio": criterio, "citaciones": citaciones, "total": f"{monto:.2f}"},
    )
    pago = await s.pagos.crear(
        solicitud.id,
        concepto=concepto,
        monto=monto,
        detalle={"tramite": CLAVE, "citaciones": [c.numero for c in elegidas]},
    )
    return solicitud, pago


async def procesar(s: Servicios, solicitud: Solicitud, cedula: str) -> Resultado:
    """After the payment: check the citations at the ANT again and record which ones this payment settled.

    A citation the ANT already shows paid, or that another Chasqui payment settled, is left out and noted so
    a person can return the money; the ANT down keeps the application in process for a retry.
    """
    pagos = await s.pagos.de_solicitud(solicitud.id)
    pago = next((p for p in reversed(pagos) if p.pagado), None)
    if pago is None:  # nothing to apply until the provider confirms the payment
        return Resultado(EstadoSolicitud(solicitud.estado), solicitud)
    numeros = [str(c["numero"]) for c in solicitud.datos.get("citaciones", [])]
    criterio = str(solicitud.datos.get("criterio") or POR_CEDULA)
    try:
        if criterio == POR_CEDULA:
            citaciones = await s.registros.ant.citaciones(cedula=cedula)
        else:
            citaciones = await s.registros.ant.citaciones(placa=criterio)
    except Unavailable:
        return Resultado(
            EstadoSolicitud.EN_PROCESO, await s.solicitudes.reintentar_despues(solicitud.id, nota="ant_no_disponible")
        )
    except (NotFound, Rejected):
        citaciones = ()
    owed = {c.numero for c in citaciones if c.estado is EstadoCitacion.PENDIENTE}
    otras = await _en_chasqui(s, cedula, excepto=solicitud.id)
    ya_pagadas = {n for n, marca in otras.items() if marca.estado is EstadoMulta.PAGADA_EN_CHASQUI}
    pagadas = tuple(n for n in numeros if n in owed and n not in ya_pagadas)
    no_aplicadas = tuple(n for n in numeros if n not in pagadas)
    datos: dict[str, Any] = {"citaciones_pagadas": list(pagadas), "recibo": pago.recibo}
    if no_aplicadas:
        datos["citaciones_no_aplicadas"] = list(no_aplicadas)
    if not pagadas:
        rechazada = await s.solicitudes.cambiar_estado(
            solicitud.id, EstadoSolicitud.RECHAZADA, nota="citaciones_ya_pagadas", datos=datos
        )
        return Resultado(EstadoSolicitud.RECHAZADA, rechazada, (), no_aplicadas)
    # A fine has no document to issue: the application ends approved, with the citations it paid.
    aprobada = await s.solicitudes.cambiar_estado(
        solicitud.id, EstadoSolicitud.APROBADA, nota="pago_registrado", datos=datos
    )
    if no_aplicadas:
        await s.solicitudes.notificar(
            aprobada,
            plantilla="multas_no_aplicadas_notificacion",
            valores={"numero": aprobada.numero, "citaciones": ", ".join(no_aplicadas)},
        )
    return Resultado(EstadoSolicitud.APROBADA, aprobada, pagadas, no_aplicadas)
