"""Repository functions of applications, their history, documents, payments and notifications."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage.models import utcnow
from bot.storage.models_tramites import (
    Application,
    ApplicationDocument,
    ApplicationEvent,
    EstadoPago,
    EstadoSolicitud,
    Notification,
    Payment,
)


def numero_de(application: Application) -> str:
    """The number the citizen sees: ``EC-<year>-<id, six digits>``."""
    return f"EC-{application.created_at.year}-{application.id:06d}"


async def create_application(
    *,
    session: AsyncSession,
    tramite: str,
    conversation_id: str,
    titular_hash: str,
    titular_cifrado: str,
    datos: dict[str, Any],
    estado: EstadoSolicitud = EstadoSolicitud.RECIBIDA,
) -> Application:
    application = Application(
        tramite=tramite,
        conversation_id=conversation_id,
        titular_hash=titular_hash,
        titular_cifrado=titular_cifrado,
        datos=datos,
        estado=estado,
    )
    session.add(application)
    await session.flush()
    application.numero = numero_de(application)
    session.add(ApplicationEvent(application_id=application.id, estado=estado))
    await session.flush()
    return application


async def set_estado(
    *, session: AsyncSession, application: Application, estado: EstadoSolicitud, nota: str | None = None
) -> None:
    """Change the status and append it to the history."""
    application.estado = estado
    session.add(ApplicationEvent(application_id=application.id, estado=estado, nota=nota))
    await session.flush()


async def by_numero(*, session: AsyncSession, numero: str) -> Application | None:
    return await session.scalar(select(Application).where(Application.numero == numero))


async def for_titular(*, session: AsyncSession, titular_hash: str, limit: int = 20) -> Sequence[Application]:
    result = await session.scalars(
        select(Application).where(Application.titular_hash == titular_hash).order_by(Application.id.desc()).limit(limit)
    )
    return result.all()


async def for_conversation(*, session: AsyncSession, conversation_id: str, limit: int = 20) -> Sequence[Application]:
    result = await session.scalars(
        select(Application)
        .where(Application.conversation_id == conversation_id)
        .order_by(Application.id.desc())
        .limit(limit)
    )
    return result.all()


async def history(*, session: AsyncSession, application_id: int) -> Sequence[ApplicationEvent]:
    result = await session.scalars(
        select(ApplicationEvent).where(ApplicationEvent.application_id == application_id).order_by(ApplicationEvent.id)
    )
    return result.all()


async def attach_document(*, session: AsyncSession, application_id: int, document_id: str) -> None:
    session.add(ApplicationDocument(application_id=application_id, document_id=document_id))
    await session.flush()


async def documents_of(*, session: AsyncSession, application_id: int) -> Sequence[str]:
    result = await session.scalars(
        select(ApplicationDocument.document_id).where(ApplicationDocument.application_id == application_id)
    )
    return result.all()


IN_PROGRESS = (EstadoSolicitud.EN_PROCESO, EstadoSolicitud.APROBADA)


async def due_retries(*, session: AsyncSession, now: datetime, limit: int = 50) -> Sequence[Application]:
    """Applications in progress whose next attempt is due: kept pending after a registry error, or left half
    done by a process that died (their lease, ``proximo_intento``, ran out)."""
    result = await session.scalars(
        select(Application)
        .where(Application.estado.in_(IN_PROGRESS), Application.proximo_intento <= now)
        .order_by(Application.proximo_intento)
        .limit(limit)
    )
    return result.all()


async def claim_retry(*, session: AsyncSession, application_id: int, now: datetime, until: datetime) -> bool:
    """Take a due application for processing until ``until``, in one conditional UPDATE: of several workers
    exactly one wins, and if it dies another takes the application over once ``until`` has passed."""
    result = await session.execute(
        update(Application)
        .where(
            Application.id == application_id,
            Application.estado.in_(IN_PROGRESS),
            Application.proximo_intento <= now,
        )
        .values(proximo_intento=until)
        .returning(Application.id)
    )
    return result.scalar_one_or_none() is not None


async def create_payment(
    *,
    session: AsyncSession,
    payment_id: str,
    application: Application,
    concepto: str,
    monto: Decimal,
    proveedor: str,
    detalle: dict[str, Any],
) -> Payment:
    payment = Payment(
        id=payment_id,
        application_id=application.id,
        concepto=concepto,
        monto=monto,
        proveedor=proveedor,
        detalle=detalle,
    )
    session.add(payment)
    await session.flush()
    return payment


async def payment(*, session: AsyncSession, payment_id: str) -> Payment | None:
    return await session.get(Payment, payment_id)


async def payments_of(*, session: AsyncSession, application_id: int) -> Sequence[Payment]:
    result = await session.scalars(
        select(Payment).where(Payment.application_id == application_id).order_by(Payment.created_at)
    )
    return result.all()


def mark_paid(payment: Payment, *, recibo: str, referencia: str, detalle: dict[str, Any]) -> bool:
    """Record the provider's confirmation once; a repeated callback changes nothing (returns False)."""
    if payment.estado == EstadoPago.PAGADO:
        return False
    payment.estado = EstadoPago.PAGADO
    payment.recibo = recibo
    payment.referencia_proveedor = referencia
    payment.detalle = {**payment.detalle, **detalle}
    payment.paid_at = utcnow()
    return True


async def add_notification(
    *, session: AsyncSession, conversation_id: str, application_id: int | None, plantilla: str, valores: dict[str, Any]
) -> Notification:
    notification = Notification(
        conversation_id=conversation_id, application_id=application_id, plantilla=plantilla, valores=valores
    )
    session.add(notification)
    await session.flush()
    return notification


async def undelivered_notifications(*, session: AsyncSession, limit: int = 100) -> Sequence[Notification]:
    result = await session.scalars(
        select(Notification).where(Notification.delivered_at.is_(None)).order_by(Notification.id).limit(limit)
    )
    return result.all()


async def claim_notification(*, session: AsyncSession, notification_id: int, now: datetime) -> bool:
    """Mark a notification delivered in one conditional UPDATE, within the transaction that delivers it: of
    several gateway processes polling at once exactly one gets it (the others' UPDATE finds it taken)."""
    result = await session.execute(
        update(Notification)
        .where(Notification.id == notification_id, Notification.delivered_at.is_(None))
        .values(delivered_at=now)
        .returning(Notification.id)
    )
    return result.scalar_one_or_none() is not None
