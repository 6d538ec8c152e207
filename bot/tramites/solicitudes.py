"""Applications: create, move through their statuses, attach documents, list a citizen's own."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.privacy.encryption import Protector
from bot.storage import tramites as repo
from bot.storage.models import utcnow
from bot.storage.models_tramites import Application, EstadoSolicitud

RETRY_MINUTES = (1, 5, 15, 60, 240)  # after a registry error; then every 4 hours
# While an application is being processed (in process, approved), ``proximo_intento`` is a lease: a process that
# dies half-way (a worker, the action server after a payment) leaves it to a worker once the lease runs out.
# Far longer than processing takes (a few registry calls and one signature).
PROCESSING_LEASE = timedelta(minutes=10)
IN_PROGRESS = (EstadoSolicitud.EN_PROCESO, EstadoSolicitud.APROBADA)


@dataclass(frozen=True)
class Solicitud:
    """An application as the citizen sees it."""

    id: int
    numero: str
    tramite: str
    conversation_id: str
    estado: str
    datos: dict[str, Any]
    creada: datetime
    actualizada: datetime


@dataclass(frozen=True)
class Movimiento:
    estado: str
    fecha: datetime
    nota: str | None


def _solicitud(application: Application) -> Solicitud:
    return Solicitud(
        id=application.id,
        numero=application.numero or "",
        tramite=application.tramite,
        conversation_id=application.conversation_id,
        estado=application.estado,
        datos=dict(application.datos),
        creada=application.created_at,
        actualizada=application.updated_at,
    )


class SolicitudesService:
    def __init__(
        self,
        *,
        sessions: async_sessionmaker[AsyncSession],
        protector: Protector,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._sessions = sessions
        self._protector = protector
        self._clock = clock

    async def crear(
        self,
        *,
        tramite: str,
        conversation_id: str,
        cedula: str,
        datos: dict[str, Any],
        estado: EstadoSolicitud = EstadoSolicitud.RECIBIDA,
    ) -> Solicitud:
        async with self._sessions() as session:
            application = await repo.create_application(
                session=session,
                tramite=tramite,
                conversation_id=conversation_id,
                titular_hash=self._protector.lookup_hash(cedula),
                titular_cifrado=self._protector.encrypt(cedula),
                datos=datos,
                estado=estado,
            )
            await session.commit()
            return _solicitud(application)

    async def cambiar_estado(
        self,
        solicitud_id: int,
        estado: EstadoSolicitud,
        *,
        nota: str | None = None,
        datos: dict[str, Any] | None = None,
    ) -> Solicitud:
        async with self._sessions() as session:
            application = await session.get(Application, solicitud_id)
            if application is None:
                raise LookupError(f"no application {solicitud_id}")
            if datos:
                application.datos = {**application.datos, **datos}
            application.proximo_intento = self._clock() + PROCESSING_LEASE if estado in IN_PROGRESS else None
            await repo.set_estado(session=session, application=application, estado=estado, nota=nota)
            await session.commit()
            return _solicitud(application)

    async def reintentar_despues(self, solicitud_id: int, *, nota: str) -> Solicitud:
        """Keep the application in process and schedule a background retry with a growing pause."""
        async with self._sessions() as session:
            application = await session.get(Application, solicitud_id)
            if application is None:
                raise LookupError(f"no application {solicitud_id}")
            pause = RETRY_MINUTES[min(application.intentos, len(RETRY_MINUTES) - 1)]
            application.intentos += 1
            application.proximo_intento = self._clock() + timedelta(minutes=pause)
            if application.estado != EstadoSolicitud.EN_PROCESO:
                await repo.set_estado(
                    session=session, application=application, estado=EstadoSolicitud.EN_PROCESO, nota=nota
                )
            await session.commit()
            return _solicitud(application)

    async def adjuntar_documento(self, solicitud_id: int, document_id: str) -> None:
        async with self._sessions() as session:
            await repo.attach_document(session=session, application_id=solicitud_id, document_id=document_id)
            await session.commit()

    async def documentos(self, solicitud_id: int) -> Sequence[str]:
        async with self._sessions() as session:
            return await repo.documents_of(session=session, application_id=solicitud_id)

    async def de_ciudadano(self, cedula: str) -> list[Solicitud]:
        async with self._sessions() as session:
            found = await repo.for_titular(session=session, titular_hash=self._protector.lookup_hash(cedula))
            return [_solicitud(a) for a in found]

    async def de_conversacion(self, conversation_id: str) -> list[Solicitud]:
        """The applications made from one chat, the newest first (before the citizen proves who they are)."""
        async with self._sessions() as session:
            found = await repo.for_conversation(session=session, conversation_id=conversation_id)
            return [_solicitud(a) for a in found]

    async def por_numero(self, numero: str, *, cedula: str) -> Solicitud | None:
        """The application ``numero``, only if it belongs to ``cedula``."""
        async with self._sessions() as session:
            application = await repo.by_numero(session=session, numero=numero.strip().upper())
            if application is None or application.titular_hash != self._protector.lookup_hash(cedula):
                return None
            return _solicitud(application)

    async def historial(self, solicitud_id: int) -> list[Movimiento]:
        async with self._sessions() as session:
            events = await repo.history(session=session, application_id=solicitud_id)
            return [Movimiento(e.estado, e.created_at, e.nota) for e in events]

    async def pendientes_de_reintento(self) -> list[tuple[Solicitud, str]]:
        """Applications whose retry is due, each claimed for this worker (`repo.claim_retry`: another worker
        running at the same time gets the others), with the applicant's cédula."""
        now = self._clock()
        claimed: list[tuple[Solicitud, str]] = []
        async with self._sessions() as session:
            due = [(a.id, _solicitud(a), a.titular_cifrado) for a in await repo.due_retries(session=session, now=now)]
        for application_id, solicitud, cifrado in due:
            async with self._sessions() as session:
                mine = await repo.claim_retry(
                    session=session, application_id=application_id, now=now, until=now + PROCESSING_LEASE
                )
                await session.commit()
            if mine:
                claimed.append((solicitud, self._protector.decrypt(cifrado)))
        return claimed

    async def notificar(self, solicitud: Solicitud, *, plantilla: str, valores: dict[str, Any]) -> None:
        """Record a notification for the citizen (the gateway delivers it through their channel)."""
        async with self._sessions() as session:
            await repo.add_notification(
                session=session,
                conversation_id=solicitud.conversation_id,
                application_id=solicitud.id,
                plantilla=plantilla,
                valores=valores,
            )
            await session.commit()
