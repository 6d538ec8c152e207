"""Warning signs a fake «government» message carries: urgency, payment to a person, requests for secrets, prizes."""

from __future__ import annotations

import re
from collections.abc import Mapping
from enum import StrEnum

from bot.language import fold


class Signal(StrEnum):
    """A warning sign; the names are the keys of `data/senales_fraude.yml` and of the answers' templates."""

    URGENCIA = "urgencia"  # «urgente», «último aviso», «será bloqueada en 24 horas»
    PAGO_A_PERSONA = "pago_a_persona"  # transfer or deposit to an account, gift cards, «envíe el comprobante»
    CODIGO_DACTILAR = "codigo_dactilar"  # the código dactilar, fingerprints, a photo of the cédula
    TARJETA = "tarjeta"  # card number, CVV, expiry
    CLAVE = "clave"  # password, PIN, «usuario y clave»
    CODIGO_OTP = "codigo_otp"  # a verification code sent by SMS, «reenvíe el código»
    PREMIO = "premio"  # prizes, draws, «ha sido seleccionado», «cobre su bono»


def find_signals(text: str, patterns: Mapping[Signal, tuple[re.Pattern[str], ...]]) -> tuple[Signal, ...]:
    """The signs ``text`` carries, in the order of `Signal` (each once)."""
    plain = fold(text)
    return tuple(signal for signal in Signal if any(p.search(plain) for p in patterns.get(signal, ())))
