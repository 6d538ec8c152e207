"""Ministerio del Interior client against the running sandbox: the criminal-record certificate."""

from __future__ import annotations

from datetime import date

import pytest

from integrations.registros.errors import NotFound, Rejected
from tests.integrations.conftest import Clientes

MOTIVO = "Requisito para un empleo"


async def test_a_person_with_a_record(registros: Clientes) -> None:
    certificado = await registros.ministerio_interior.antecedentes("0922222229", motivo=MOTIVO)
    assert (certificado.nombre, certificado.registra, certificado.fecha_emision, certificado.valido_hasta) == (
        "INTRIAGO LOOR WILSON FABIÁN",
        True,
        date(2026, 3, 1),
        date(2026, 5, 30),
    )
    assert certificado.numero_certificado.startswith("MDI-")


async def test_a_person_without_record(registros: Clientes) -> None:
    certificado = await registros.ministerio_interior.antecedentes("1712345675", motivo=MOTIVO)
    assert (certificado.registra, certificado.ficticio) == (False, True)


async def test_the_reason_must_have_ten_characters(registros: Clientes) -> None:
    with pytest.raises(Rejected) as rejected:
        await registros.ministerio_interior.antecedentes("1712345675", motivo="trabajo")
    assert rejected.value.code == "motivo_invalido"


async def test_an_unknown_cedula(registros: Clientes) -> None:
    with pytest.raises(NotFound):
        await registros.ministerio_interior.antecedentes("1700000019", motivo=MOTIVO)
