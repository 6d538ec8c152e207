"""The sandbox payment provider: documented test card numbers, HMAC-signed confirmation callbacks.

| tarjeta de prueba     | resultado |
|-----------------------|-----------|
| 4111 1111 1111 1111   | aprobada |
| 5555 5555 5555 4444   | aprobada |
| 4000 0000 0000 0002   | rechazada: fondos insuficientes |
| 4000 0000 0000 0069   | rechazada: tarjeta vencida |

Any other number that passes the Luhn check is declined as unknown; expiry must be MM/AA in the future.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
from datetime import date
from decimal import Decimal

from stdnum import luhn

from integrations.pagos.base import CallbackInvalido, Confirmacion, TarjetaRechazada

APROBADAS = frozenset({"4111111111111111", "5555555555554444"})
RECHAZADAS = {"4000000000000002": "fondos_insuficientes", "4000000000000069": "tarjeta_vencida"}


class SandboxProveedor:
    nombre = "sandbox"

    def __init__(self, *, secreto: bytes, hoy: date | None = None) -> None:
        self._secreto = secreto
        self._hoy = hoy

    def cobrar(self, *, pago_id: str, monto: Decimal, numero_tarjeta: str, vencimiento: str, cvv: str) -> Confirmacion:
        numero = re.sub(r"[\s-]", "", numero_tarjeta)
        if not numero.isdigit() or not 13 <= len(numero) <= 19 or not luhn.is_valid(numero):
            raise TarjetaRechazada("numero_invalido")
        if not re.fullmatch(r"\d{3,4}", cvv.strip()):
            raise TarjetaRechazada("cvv_invalido")
        match = re.fullmatch(r"(\d{2})\s*/\s*(\d{2})", vencimiento.strip())
        hoy = self._hoy or date.today()
        if match is None or not 1 <= int(match.group(1)) <= 12:
            raise TarjetaRechazada("vencimiento_invalido")
        if (2000 + int(match.group(2)), int(match.group(1))) < (hoy.year, hoy.month):
            raise TarjetaRechazada("tarjeta_vencida")
        if numero in RECHAZADAS:
            raise TarjetaRechazada(RECHAZADAS[numero])
        if numero not in APROBADAS:
            raise TarjetaRechazada("tarjeta_desconocida")
        return Confirmacion(
            pago_id=pago_id, referencia=f"SBX-{secrets.token_hex(6).upper()}", monto=monto, ultimos_digitos=numero[-4:]
        )

    def cuerpo_callback(self, confirmacion: Confirmacion) -> bytes:
        return json.dumps(
            {
                "pago_id": confirmacion.pago_id,
                "referencia": confirmacion.referencia,
                "monto": str(confirmacion.monto),
                "ultimos_digitos": confirmacion.ultimos_digitos,
                "estado": "aprobado",
            },
            sort_keys=True,
        ).encode()

    def firmar(self, body: bytes) -> str:
        return "sha256=" + hmac.new(self._secreto, body, hashlib.sha256).hexdigest()

    def verificar_callback(self, body: bytes, firma: str) -> Confirmacion:
        if not hmac.compare_digest(self.firmar(body).encode(), firma.encode()):
            raise CallbackInvalido("firma_invalida")
        try:
            data = json.loads(body)
            if data["estado"] != "aprobado":
                raise CallbackInvalido("estado_desconocido")
            return Confirmacion(
                pago_id=str(data["pago_id"]),
                referencia=str(data["referencia"]),
                monto=Decimal(str(data["monto"])),
                ultimos_digitos=str(data["ultimos_digitos"]),
            )
        except (KeyError, ValueError, TypeError, ArithmeticError) as exc:
            raise CallbackInvalido("cuerpo_invalido") from exc
