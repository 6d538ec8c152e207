"""CNE client against the running sandbox: voters who voted, were fined, were exempt, or were not on the roll."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from integrations.registros.errors import NotFound
from integrations.registros.records import EstadoVoto, LugarVotacion, RegistroVotacion, Vuelta
from tests.integrations.conftest import Clientes


async def test_a_fined_voter(registros: Clientes) -> None:
    registro = await registros.cne.registro_votacion("0104567896")
    assert registro == RegistroVotacion(
        cedula="0104567896",
        nombre="GUAMÁN TENESACA JUAN PABLO",
        proceso="ELECCIONES GENERALES 2025",
        vueltas=(
            Vuelta("primera", date(2025, 2, 9), EstadoVoto.MULTA, multa=Decimal("47.00")),
            Vuelta("segunda", date(2025, 4, 13), EstadoVoto.MULTA, multa=Decimal("47.00")),
        ),
        lugar=LugarVotacion(
            provincia="AZUAY",
            canton="CUENCA",
            parroquia="SAN BLAS",
            zona="1",
            recinto="UNIDAD EDUCATIVA BENIGNO MALO",
            junta="8 MASCULINO",
        ),
        ficticio=True,
    )
    assert registro.multa_pendiente == Decimal("94.00")


async def test_a_voter_exempt_by_age(registros: Clientes) -> None:
    registro = await registros.cne.registro_votacion("1722222229")
    assert [(v.estado, v.motivo_exencion, v.multa) for v in registro.vueltas] == [
        (EstadoVoto.EXENTO, "edad_65_o_mas", None),
        (EstadoVoto.EXENTO, "edad_65_o_mas", None),
    ]
    assert registro.multa_pendiente == Decimal("0.00")


async def test_a_voter_who_voted(registros: Clientes) -> None:
    registro = await registros.cne.registro_votacion("1712345675")
    assert [v.estado for v in registro.vueltas] == [EstadoVoto.SUFRAGO, EstadoVoto.SUFRAGO]


async def test_a_child_is_not_on_the_roll_and_an_unknown_cedula_is_not_found(registros: Clientes) -> None:
    with pytest.raises(NotFound) as child:
        await registros.cne.registro_votacion("1723232326")
    assert child.value.code == "no_empadronado"
    with pytest.raises(NotFound) as unknown:
        await registros.cne.registro_votacion("1700000019")
    assert unknown.value.code == "no_encontrado"
