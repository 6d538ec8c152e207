"""Payments of fees and fines: a payment page link per payment, confirmation by the provider's signed callback.

The link carries an HMAC token, so only whoever received it in the chat can open the page. The
provider's callback is idempotent: a repeated confirmation changes nothing.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.documents.keys import load_or_create_secret
from bot.settings import Settings
from bot.storage import tramites as repo
from bot.storage.models import utcnow
from bot.storage.models_tramites import Application, EstadoPago, EstadoSolicitud
from integrations.pagos.base import Confirmacion, ProveedorPagos
from integrations.pagos.sandbox import SandboxProveedor


@dataclass(frozen=True)
class Pago:
    id: str
    solicitud_id: int
    numero_solicitud: str
    concepto: str
    monto: Decimal
    estado: str
    recibo: str | None
    pagado_en: datetime | None
    detalle: dict[str, Any]

    @property
    def pagado(self) -> bool:
        return self.estado == EstadoPago.PAGADO


class PagosService:
    def __init__(
        self,
        *,
        sessions: async_sessionmaker[AsyncSession],
        proveedor: ProveedorPagos,
        secreto: bytes,
        public_base_url: str,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._sessions = sessions
        self.proveedor = proveedor
        self._secreto = secreto
        self._base = public_base_url.rstrip("/")
        self._clock = clock

    def token(self, pago_id: str) -> str:
        return hmac.new(self._secreto, f"pago:{pago_id}".encode(), hashlib.sha256).hexdigest()[:32]

    def token_valido(self, pago_id: str, token: str) -> bool:
        return hmac.compare_digest(self.token(pago_id).encode(), token.encode())

    def url(self, pago_id: str) -> str:
        """The payment page of ``pago_id`` (the link sent in the chat)."""
        return f"{self._base}/pagos/{pago_id}?t={self.token(pago_id)}"

    async def crear(self, solicitud_id: int, *, concepto: str, monto: Decimal, detalle: dict[str, Any]) -> Pago:
        """Open a payment for an application and put the application in ``pendiente_pago``."""
        async with self._sessions() as session:
            application = await session.get(Application, solicitud_id)
            if application is None:
                raise LookupError(f"no application {solicitud_id}")
            payment = await repo.create_payment(
                session=session,
                payment_id=secrets.token_hex(8),
                application=application,
                concepto=concepto,
                monto=monto,
                proveedor=self.proveedor.nombre,
                detalle=detalle,
            )
            await repo.set_estado(session=session, application=application, estado=EstadoSolicitud.PENDIENTE_PAGO)
            await session.commit()
            return _pago(payment, application)

    async def consultar(self, pago_id: str) -> Pago | None:
        async with self._sessions() as session:
            payment = await repo.payment(session=session, payment_id=pago_id)
            if payment is None:
                return None
            application = await session.get(Application, payment.application_id)
            assert application is not None
            return _pago(payment, application)

    async def de_solicitud(self, solicitud_id: int) -> list[Pago]:
        async with self._sessions() as session:
            application = await session.get(Application, solicitud_id)
            if application is None:
                return []
            return [_pago(p, application) for p in await repo.payments_of(session=session, application_id=solicitud_id)]

    async def confirmar(self, confirmacion: Confirmacion) -> Pago | None:
        """Apply a provider's confirmation once: the payment is paid and the application goes on.

        Returns the payment, or None when it is unknown or the amount does not match.
        """
        async with self._sessions() as session:
            payment = await repo.payment(session=session, payment_id=confirmacion.pago_id)
            if payment is None or payment.monto != confirmacion.monto:
                return None
            application = await session.get(Application, payment.application_id)
            assert application is not None
            recibo = f"R-{self._clock().year}-{secrets.token_hex(4).upper()}"
            changed = repo.mark_paid(
                payment,
                recibo=recibo,
                referencia=confirmacion.referencia,
                detalle={"tarjeta": f"**** {confirmacion.ultimos_digitos}"},
            )
            if changed and application.estado == EstadoSolicitud.PENDIENTE_PAGO:
                await repo.set_estado(
                    session=session, application=application, estado=EstadoSolicitud.EN_PROCESO, nota="pago confirmado"
                )
                application.proximo_intento = self._clock()  # the background worker goes on with it now
                await repo.add_notification(
                    session=session,
                    conversation_id=application.conversation_id,
                    application_id=application.id,
                    plantilla="pago_confirmado",
                    valores={"numero": application.numero, "recibo": payment.recibo, "monto": f"{payment.monto:.2f}"},
                )
            await session.commit()
            return _pago(payment, application)


def _pago(payment: Any, application: Application) -> Pago:
    return Pago(
        id=payment.id,
        solicitud_id=application.id,
        numero_solicitud=application.numero or "",
        concepto=payment.concepto,
        monto=Decimal(payment.monto),
        estado=payment.estado,
        recibo=payment.recibo,
        pagado_en=payment.paid_at,
        detalle=dict(payment.detalle),
    )


def build_pagos(settings: Settings, sessions: async_sessionmaker[AsyncSession]) -> PagosService:
    """The payments service of the configured provider (the sandbox provider is the only one so far)."""
    if settings.pagos_secreto:
        secreto = settings.pagos_secreto.encode("utf-8")
    elif settings.environment == "sandbox":
        secreto = load_or_create_secret(settings.var_dir / "keys" / "pagos.key")
    else:
        raise ValueError("CHASQUI_PAGOS_SECRETO must be set outside the sandbox")
    return PagosService(
        sessions=sessions,
        proveedor=SandboxProveedor(secreto=secreto),
        secreto=secreto,
        public_base_url=settings.effective_public_base_url,
    )
