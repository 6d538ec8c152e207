"""What a payment provider offers Chasqui, and its one exception tree.

Exceptions::

    PagoError
     ├── CallbackInvalido   a confirmation whose signature or body does not check out (→ 4xx)
     └── TarjetaRechazada   the provider declined the card (code: fondos_insuficientes, tarjeta_vencida…)
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol


class PagoError(Exception):
    def __init__(self, code: str, message: str = "") -> None:
        super().__init__(message or code)
        self.code = code


class CallbackInvalido(PagoError):
    pass


class TarjetaRechazada(PagoError):
    pass


@dataclass(frozen=True)
class Confirmacion:
    """A provider's signed word that a payment went through."""

    pago_id: str
    referencia: str  # the provider's transaction id
    monto: Decimal
    ultimos_digitos: str


class ProveedorPagos(Protocol):
    nombre: str

    def cobrar(self, *, pago_id: str, monto: Decimal, numero_tarjeta: str, vencimiento: str, cvv: str) -> Confirmacion:
        """Charge a card (raises `TarjetaRechazada`)."""
        ...

    def firmar(self, body: bytes) -> str:
        """The signature header of a confirmation callback."""
        ...

    def verificar_callback(self, body: bytes, firma: str) -> Confirmacion:
        """Check a confirmation callback's signature and read it (raises `CallbackInvalido`)."""
        ...
