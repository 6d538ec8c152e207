"""ANT client against the running sandbox: licences, points, citations, vehicles and registration through the BSG."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import date
from decimal import Decimal

import pytest

from integrations.registros import ant, soap
from integrations.registros.errors import NotFound, Rejected
from integrations.registros.records import (
    Citacion,
    EstadoCitacion,
    EstadoMatricula,
    Licencia,
    Matricula,
    ValorPendiente,
    Vehiculo,
)
from integrations.registros.sandbox.catalogues import cargar_catalogos
from integrations.registros.sandbox.model import VIN_ALFABETO, chasis, digito_verificador_vin
from tests.integrations.conftest import HOY, Clientes

DMAX = Vehiculo(
    placa="GBC-2468",
    marca="CHEVROLET",
    modelo="D-MAX",
    anio=2014,
    color="BLANCO",
    clase="CAMIONETA",
    servicio="PARTICULAR",
    chasis="8LBSDW3AXES025522",
    ficticio=True,
)


def citacion(
    numero: str, fecha: date, articulo: str, clase: int, descripcion: str, valor: str, **kw: object
) -> Citacion:
    return Citacion(
        numero=numero,
        fecha=fecha,
        articulo=articulo,
        clase=clase,
        descripcion=descripcion,
        valor=Decimal(valor),
        puntos=Decimal(kw.get("puntos", "0")),  # type: ignore[arg-type]
        estado=kw.get("estado", EstadoCitacion.PENDIENTE),  # type: ignore[arg-type]
        placa="GBC-2468",
        ficticio=True,
    )


CITACIONES_CARLOS = (
    citacion(
        "C20260000001", date(2026, 1, 20), "COIP Art. 387", 2, "CONDUCIR CON LICENCIA CADUCADA", "241.00", puntos="9"
    ),
    citacion("C20250000002", date(2025, 12, 16), "COIP Art. 389", 4, "CONDUCIR SIN PLACAS", "141.00"),
    citacion("C20250000003", date(2025, 11, 1), "COIP Art. 392", 7, "USAR INNECESARIAMENTE LA BOCINA", "23.50"),
    citacion(
        "C20250000004",
        date(2025, 5, 5),
        "COIP Art. 390",
        5,
        "USAR EL TELÉFONO CELULAR MIENTRAS CONDUCE",
        "70.50",
        estado=EstadoCitacion.PAGADA,
    ),
)


async def test_licence_expiring_within_90_days(registros: Clientes) -> None:
    licencia = await registros.ant.licencia("1811111119")
    assert licencia == Licencia(
        cedula="1811111119",
        tipo="C",
        fecha_emision=date(2021, 4, 15),
        fecha_vencimiento=date(2026, 4, 15),
        puntos=Decimal(30),
        tipo_sangre="O-",
        restricciones="USAR LENTES",
        ficticio=True,
    )
    assert (licencia.vigente(HOY), licencia.dias_para_vencer(HOY)) == (True, 45)


async def test_every_licence_and_vehicle_carries_blood_type_restrictions_and_chassis(registros: Clientes) -> None:
    licencia = await registros.ant.licencia("0923456784")
    assert licencia is not None and (licencia.tipo_sangre, licencia.restricciones) == ("A+", "NINGUNA")
    [vehiculo] = await registros.ant.vehiculos("1712345675")
    registro = await registros.ant.matricula("PDA-4521")
    assert vehiculo.chasis == registro.vehiculo.chasis == "KNAARVBW9KZ605638"


def test_an_answer_without_blood_type_restrictions_or_chassis_reads_as_none() -> None:
    """The fallback the documents print «No consta en la ANT» for: absent, null and blank are all None."""
    base = {"tipo": "B", "fecha_emision": "2021-04-15", "fecha_vencimiento": "2026-04-15", "puntos": "30"}
    for extra in ({}, {"tipo_sangre": None, "restricciones": None}, {"tipo_sangre": " ", "restricciones": ""}):
        licencia = ant.licencia("1811111119", {**base, **extra}, ficticio=True)
        assert (licencia.tipo_sangre, licencia.restricciones) == (None, None)
    coche = {"placa": "PDA-4521", "marca": "KIA", "modelo": "RIO", "anio": "2019", "color": "ROJO"}
    coche |= {"clase": "AUTOMÓVIL", "servicio": "PARTICULAR"}
    assert ant.vehiculo(coche, ficticio=True).chasis is None
    respuesta = ET.Element(soap.qname(ant.MATRICULA_NS, "Solicita_MatriculaResponse"))
    retorno = soap.sub(respuesta, "return")
    campos = {"cod_error": "0", **coche, "chasis": "", "estado_matricula": "al_dia", "mes_matriculacion": "2"}
    for campo, valor in {**campos, "anio_ultima_matricula": "2026", "total": "0.00"}.items():
        soap.sub(retorno, campo, valor)
    assert ant.matricula(respuesta).vehiculo.chasis is None


def test_sandbox_chassis_numbers_are_vins_with_a_valid_check_digit() -> None:
    catalogos = cargar_catalogos()
    numero = chasis("GBC-2468", "CHEVROLET", 2014, catalogos)
    assert (numero, chasis("GBC-2468", "CHEVROLET", 2014, catalogos)) == ("8LBSDW3AXES025522", numero)
    assert (numero[:3], numero[9]) == ("8LB", "E")  # the make's manufacturer code, model year 2014
    assert digito_verificador_vin("1M8GDM9AXKP042788") == "X"  # the standard's worked example
    for placa in ("PBA-1234", "GZZ-0001", "TAB-3579"):
        numero = chasis(placa, "MARCA SIN CÓDIGO", 2021, catalogos)
        assert len(numero) == 17 and set(numero) <= set(VIN_ALFABETO)
        assert numero[8] == digito_verificador_vin(numero)


async def test_a_person_without_licence_and_an_unknown_one(registros: Clientes) -> None:
    assert await registros.ant.licencia("1311111114") is None
    assert await registros.ant.puntos("1311111114") is None
    with pytest.raises(NotFound):
        await registros.ant.licencia("1700000019")


async def test_points_are_30_minus_the_deductions_of_citations(registros: Clientes) -> None:
    assert await registros.ant.puntos("0923456784") == Decimal(21)
    assert await registros.ant.puntos("1712345675") == Decimal(30)


async def test_citations_by_cedula_and_by_plate(registros: Clientes) -> None:
    assert await registros.ant.citaciones(cedula="0923456784") == CITACIONES_CARLOS
    assert await registros.ant.citaciones(placa="gbc 2468") == CITACIONES_CARLOS
    assert await registros.ant.citaciones(cedula="1712345675") == ()


async def test_citations_of_unknown_or_invalid_plates(registros: Clientes) -> None:
    with pytest.raises(NotFound):
        await registros.ant.citaciones(placa="PZZ-0000")
    with pytest.raises(Rejected) as rejected:
        await registros.ant.citaciones(placa="no es placa")
    assert rejected.value.code == "placa_invalida"
    with pytest.raises(Rejected) as both:
        await registros.ant.citaciones(cedula="0923456784", placa="GBC-2468")
    assert both.value.code == "parametros_invalidos"


async def test_vehicles_by_owner(registros: Clientes) -> None:
    assert await registros.ant.vehiculos("0923456784") == (DMAX,)
    assert await registros.ant.vehiculos("1311111114") == ()


async def test_registration_through_the_bsg(registros: Clientes) -> None:
    assert await registros.ant.matricula("GBC-2468") == Matricula(
        vehiculo=DMAX,
        estado=EstadoMatricula.VENCIDA,
        mes_matriculacion=9,
        anio_ultima_matricula=2024,
        valores=(
            ValorPendiente("IMPUESTO A LA PROPIEDAD DE VEHÍCULOS MOTORIZADOS", Decimal("326.40")),
            ValorPendiente("TASA DE MATRICULACIÓN", Decimal("31.00")),
            ValorPendiente("SPPAT", Decimal("12.50")),
            ValorPendiente("TASA JUNTA DE BENEFICENCIA DE GUAYAQUIL", Decimal("8.00")),
            ValorPendiente("IMPUESTO AL RODAJE", Decimal("5.00")),
            ValorPendiente("RECARGO POR MATRICULACIÓN TARDÍA", Decimal("150.00")),
        ),
        total=Decimal("532.90"),
        ficticio=True,
    )
    al_dia = await registros.ant.matricula("PDA-4521")
    assert (al_dia.estado, al_dia.valores, al_dia.total) == (EstadoMatricula.AL_DIA, (), Decimal("0.00"))
    pendiente = await registros.ant.matricula("TAB-3579")
    assert (pendiente.estado, pendiente.mes_matriculacion, pendiente.total) == (
        EstadoMatricula.PENDIENTE,
        10,
        Decimal("162.10"),
    )


async def test_registration_of_an_unknown_plate(registros: Clientes) -> None:
    with pytest.raises(NotFound):
        await registros.ant.matricula("PZZ-0000")
