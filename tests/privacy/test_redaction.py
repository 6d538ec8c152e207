"""What is personal is masked wherever it appears."""

from __future__ import annotations

from bot.privacy.redaction import REDACTED, mask_cedula, mask_phone, redact, redact_text


def test_cedula_is_masked_keeping_two_digits_at_each_end() -> None:
    assert mask_cedula("1712345675") == "17******75"
    assert redact_text("mi cédula es 1712345675, gracias") == "mi cédula es 17******75, gracias"
    assert redact_text("171234567-5") == "17******5"


def test_ruc_phone_and_dactilar_are_masked() -> None:
    assert redact_text("RUC 1712345675001") == "RUC 17********001"
    assert redact_text("escríbame al +593991234567") == "escríbame al +593*******67"
    assert mask_phone("+593991234567") == "+593*******67"
    assert redact_text("el código es V4443V4442") == "el código es [codigo dactilar]"
    assert redact_text("código v4443v4442.") == "código [codigo dactilar]."


def test_bot_tokens_and_long_numbers_are_masked() -> None:
    assert redact_text("token 123456789:AAHfiqksKZ8WmR2zSjiQ7_v4TMAKdiHm9T0") == f"token {REDACTED}"
    assert redact_text("cuenta 12345678") == "cuenta 12******"


def test_short_numbers_dates_and_plates_stay_readable() -> None:
    text = "placa PBX-4821, multa de 47,00 USD del 2026-03-01, trámite EC-2026-000123"
    assert redact_text(text) == text


def test_structures_are_redacted_recursively_and_declared_keys_whole() -> None:
    event = {
        "event": "inbound",
        "sender": "wa:+593991234567",
        "headers": {"Authorization": "Basic abc", "X-Other": "1"},
        "slots": [{"cedula": "0923456784"}],
        "codigo_dactilar": "E1333I1222",
        "count": 3,
    }
    assert redact(event) == {
        "event": "inbound",
        "sender": "wa:+593*******67",
        "headers": {"Authorization": REDACTED, "X-Other": "1"},
        "slots": [{"cedula": "09******84"}],
        "codigo_dactilar": REDACTED,
        "count": 3,
    }
