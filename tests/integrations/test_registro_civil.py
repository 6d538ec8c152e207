"""Registro Civil client against the running sandbox: citizens, children and the identity check."""

from __future__ import annotations

from datetime import date

import pytest

from integrations.registros.base import AuditEvent, Outcome
from integrations.registros.errors import NotFound, Rejected
from integrations.registros.records import Ciudadano
from tests.integrations.conftest import Clientes, Kit

PABLO = Ciudadano(
    cedula="1744444447",
    nombre="TORRES BONILLA PABLO ANDRÉS",
    condicion="CIUDADANO",
    nombres="PABLO ANDRÉS",
    apellidos="TORRES BONILLA",
    sexo="HOMBRE",
    fecha_nacimiento=date(1980, 6, 11),
    lugar_nacimiento="PICHINCHA/QUITO",
    nacionalidad="ECUATORIANA",
    estado_civil="SOLTERO",
    nombre_padre="TORRES JARAMILLO SEGUNDO ENRIQUE",
    cedula_padre="1755555552",
    nombre_madre="BONILLA MOSCOSO MARTHA SOFÍA",
    profesion="ABOGADO",
    fecha_cedulacion=date(2020, 4, 11),
    fecha_expiracion=date(2030, 4, 11),
    anio_inscripcion="1980",
    tomo_inscripcion="5",
    pagina_inscripcion="112",
    acta_inscripcion="816",
    ficticio=True,
)


async def test_a_citizen_is_read_from_the_demographic_package(registros: Clientes, kit: Kit) -> None:
    assert await registros.registro_civil.consultar_ciudadano("1744444447") == PABLO
    assert kit.audit == [
        AuditEvent(
            institution="registro_civil",
            operation="consultar_ciudadano",
            duration_ms=kit.audit[0].duration_ms,
            outcome=Outcome.OK,
            identifiers=("17******47",),
            attempts=1,
        )
    ]


async def test_the_deceased_father_is_in_the_population(registros: Clientes) -> None:
    padre = await registros.registro_civil.consultar_ciudadano("1755555552")
    assert (padre.fallecido, padre.condicion, padre.fecha_defuncion) == (True, "FALLECIDO", date(2021, 8, 19))


async def test_an_unknown_cedula_is_not_found_and_an_invalid_one_is_rejected_locally(
    registros: Clientes, kit: Kit
) -> None:
    with pytest.raises(NotFound) as not_found:
        await registros.registro_civil.consultar_ciudadano("1700000019")
    assert (not_found.value.institution, not_found.value.code) == ("registro_civil", "no_encontrado")
    with pytest.raises(Rejected) as rejected:
        await registros.registro_civil.consultar_ciudadano("1712345670")
    assert rejected.value.code == "cedula_invalida"
    assert [(e.outcome, e.code) for e in kit.audit] == [
        (Outcome.NOT_FOUND, "no_encontrado"),
        (Outcome.REJECTED, "cedula_invalida"),
    ]


async def test_children_of_a_parent(registros: Clientes) -> None:
    hijos = await registros.registro_civil.hijos("1733333338")
    assert [(h.cedula, h.nombre, h.es_menor(date(2026, 3, 1))) for h in hijos] == [
        ("1723232326", "SALAZAR VILLACÍS MATEO SEBASTIÁN", True)
    ]
    assert hijos[0].cedula_madre == "1733333338"
    assert await registros.registro_civil.hijos("1311111114") == ()


async def test_identity_check_matches_case_insensitively(registros: Clientes, kit: Kit) -> None:
    assert await registros.registro_civil.verificar_identidad("1744444447", "i1234v4321") == PABLO
    assert [(e.operation, e.outcome, e.identifiers) for e in kit.audit] == [
        ("verificar_identidad", Outcome.OK, ("17******47",))
    ]


async def test_identity_check_rejects_a_wrong_code(registros: Clientes, kit: Kit) -> None:
    with pytest.raises(Rejected) as rejected:
        await registros.registro_civil.verificar_identidad("1744444447", "I1234V4322")
    assert rejected.value.code == "dactilar_no_coincide"
    assert "I1234V4322" not in repr(kit.audit) + str(rejected.value)


async def test_identity_check_of_an_unknown_cedula(registros: Clientes) -> None:
    with pytest.raises(NotFound):
        await registros.registro_civil.verificar_identidad("1700000019", "A1111A1111")


async def test_identity_check_of_a_deceased_person_is_rejected_even_with_the_right_code(registros: Clientes) -> None:
    with pytest.raises(Rejected) as rejected:
        await registros.registro_civil.verificar_identidad("1755555552", "E3141A2424")
    assert rejected.value.code == "ciudadano_fallecido"


async def test_identity_check_refuses_a_malformed_code_without_calling(registros: Clientes, kit: Kit) -> None:
    with pytest.raises(Rejected) as rejected:
        await registros.registro_civil.verificar_identidad("1744444447", "1234")
    assert rejected.value.code == "dactilar_formato_invalido"


async def test_five_wrong_codes_lock_the_cedula(registros: Clientes) -> None:
    for _ in range(5):
        with pytest.raises(Rejected):
            await registros.registro_civil.verificar_identidad("1712345675", "A1111A1111")
    with pytest.raises(Rejected) as locked:
        await registros.registro_civil.verificar_identidad("1712345675", "V4443V4442")
    assert locked.value.code == "demasiados_intentos"
