"""Identifiers a citizen types are found in any format and kept out of the database and Rasa (issue 12):
phones written «+593 99 887 7665», e-mails, a código dactilar glued to a word, names and addresses given about
oneself; a mobile number is not a cédula."""

from __future__ import annotations

import pytest

from bot.privacy.redaction import find_identifiers, redact_text
from bot.privacy.vault import MemoryVault, pseudonymize


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("mi número es +593 99 887 7665", [("telefono", "+593 99 887 7665")]),
        ("llámeme al 099 887 7665 por favor", [("telefono", "099 887 7665")]),
        ("0998877665", [("telefono", "0998877665")]),  # a mobile number, not a cédula
        ("mi correo es ana.perez+chasqui@gmail.com", [("correo", "ana.perez+chasqui@gmail.com")]),
        ("mi cédula 1712345675 y el códigoV4443V4442", [("cedula", "1712345675"), ("codigo_dactilar", "V4443V4442")]),
        ("me llamo maría josé andrade y necesito el récord", [("nombre", "maría josé andrade")]),
        ("Soy Carlos Alberto Zambrano, vivo en la calle Amazonas N23-45 y Colón", [
            ("nombre", "Carlos Alberto Zambrano"), ("direccion", "la calle Amazonas N23-45 y Colón")
        ]),
        ("0923456784", [("cedula", "0923456784")]),  # a valid cédula of Guayas stays a cédula
        ("para un trabajo nuevo", []),
        ("la placa PBX-4821", []),
        ("estado de la solicitud EC-2026-000123", []),  # an application number is not a cédula
        ("como va el ec 2026 000045", []),
        ("cedula1712345675", [("cedula", "1712345675")]),  # glued to the word, still a cédula
    ],
)  # fmt: skip
def test_identifiers_in_any_format(text: str, expected: list[tuple[str, str]]) -> None:
    assert [(i.kind, i.value) for i in find_identifiers(text)] == expected


async def test_nothing_personal_reaches_what_is_stored() -> None:
    text = "Soy Ana Pérez, mi cel +593 99 887 7665, correo ana@correo.ec, vivo en la avenida 6 de Diciembre"
    protected = await pseudonymize(text, MemoryVault())
    for secret in ("Ana Pérez", "887 7665", "ana@correo.ec", "6 de Diciembre"):
        assert secret not in protected.text
    assert sorted(protected.masked.values()) == ["+593*******65", "[correo]", "[dirección]", "[nombre]"]


def test_logs_mask_e_mails() -> None:
    assert redact_text("escribió ana@correo.ec") == "escribió [correo]"
