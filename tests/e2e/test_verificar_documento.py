"""Verifying a document in conversation: a citizen types the code of a document Chasqui issued."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import Chasqui

pytestmark = pytest.mark.conversation


def test_the_code_of_an_issued_document_is_valid_and_an_unknown_one_is_not(chasqui: Chasqui) -> None:
    owner = chasqui.citizen()
    owner.says("quiero ver mi cédula digital")
    owner.says("1712345675")
    replies = owner.says("V4443V4442")
    [code] = {m["custom"]["document"]["verification_code"] for m in replies if "custom" in m}

    verifier = chasqui.citizen()
    assert verifier.texts("quiero verificar un documento")[0].startswith("Escriba el código de verificación")
    verdict = verifier.texts(code)
    assert verdict[0].startswith("Documento válido. El documento fue emitido por Chasqui")
    assert "• Titular: Andrade Cevallos María José (17******75)" in verdict[0]
    verifier.says("/verificar_documento")
    assert verifier.texts("ZZZZ-ZZZZ-ZZZZ-ZZZZ")[0].startswith("Documento desconocido.")
