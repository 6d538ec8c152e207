"""The background worker: retries applications kept pending after a registry error, and records the
notification that tells the citizen when one completes (the gateway delivers it through their channel); records
the reminders citizens asked for (`bot.reminders`)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.analytics import open_data
from bot.analytics.service import Analytics
from bot.audit.chain import seal
from bot.privacy.encryption import protector_from
from bot.services import Servicios
from bot.settings import async_database_url
from bot.storage import duties as duty_rows
from bot.storage.db import create_engine, session_factory
from bot.storage.models_tramites import EstadoSolicitud
from bot.tramites import registry

log = structlog.get_logger(__name__)


async def retry_due(s: Servicios) -> int:
    """Process every application whose retry is due; returns how many completed."""
    completed = 0
    for solicitud, cedula in await s.solicitudes.pendientes_de_reintento():
        procesar = registry.processor(solicitud.tramite)
        if procesar is None:
            continue
        try:
            await procesar(s, solicitud, cedula)
        except Exception:
            log.exception("trabajador.fallo", solicitud=solicitud.numero)
            continue
        [current] = [a for a in await s.solicitudes.de_ciudadano(cedula) if a.id == solicitud.id]
        if current.estado == EstadoSolicitud.EMITIDA:
            completed += 1
            documents = list(await s.solicitudes.documentos(current.id))
            await s.solicitudes.notificar(
                current,
                plantilla="tramite_emitido_notificacion",
                valores={"numero": current.numero, "documentos": documents},
            )
        elif current.estado == EstadoSolicitud.RECHAZADA:
            completed += 1
            await s.solicitudes.notificar(
                current, plantilla="tramite_rechazado_notificacion", valores={"numero": current.numero}
            )
        if current.estado in (EstadoSolicitud.EMITIDA, EstadoSolicitud.RECHAZADA):
            log.info("trabajador.completada", solicitud=current.numero, estado=current.estado)
    return completed


# How often each periodic duty runs, whatever the number of workers (one of them claims it per period).
PURGE_EVERY = timedelta(hours=24)
SEAL_EVERY = timedelta(hours=1)
OPEN_DATA_EVERY = timedelta(hours=1)
# Each subscription is gone through once a day; a round this often starts the day soon after 08:00 and retries
# the chats whose registry did not answer.
REMINDERS_EVERY = timedelta(minutes=15)
# A worker that dies while running a duty leaves it to another one after this long.
DUTY_LEASE = timedelta(minutes=10)


def open_data_analytics(s: Servicios) -> Analytics:
    """What the open data is computed from: the app's tables and Rasa's tracker store."""
    settings = s.settings
    return Analytics(
        sessions=session_factory(create_engine(settings.effective_database_url)),
        rasa=create_engine(async_database_url(settings.effective_rasa_database_url)),
        tramites=registry.TRAMITES,
        zone=settings.zona_horaria,
        protector=protector_from(settings),
        clock=s.clock,
    )


@dataclass(frozen=True)
class Duty:
    """A periodic duty: its name (its row in ``duties``), how often, and what it does."""

    name: str
    every: timedelta
    run: Callable[[], Awaitable[object]]


def duties(s: Servicios, sessions: async_sessionmaker[AsyncSession]) -> list[Duty]:
    """The retention purge once a day; the audit log's closed days signed every hour (`bot.audit.chain.seal`);
    the open data every hour (`bot.analytics.open_data`); the reminders due (`bot.reminders.service`) every
    quarter of an hour."""
    analytics = open_data_analytics(s)
    found = [
        Duty("purga", PURGE_EVERY, s.privacidad.purgar),
        Duty("sellado", SEAL_EVERY, partial(seal, sessions, s.documents.signer)),
        Duty(
            "datos_abiertos",
            OPEN_DATA_EVERY,
            lambda: open_data.publish(analytics, s.settings.var_dir / "datos_abiertos", now=s.clock()),
        ),
    ]
    if s.recordatorios is not None:
        found.append(Duty("recordatorios", REMINDERS_EVERY, s.recordatorios.run))
    return found


async def run_due_duties(
    found: list[Duty], *, sessions: async_sessionmaker[AsyncSession], clock: Callable[[], datetime]
) -> list[str]:
    """Run each duty this worker claims (due, and not taken by another worker); returns the names it ran."""
    ran = []
    for duty in found:
        if not await duty_rows.claim(sessions=sessions, name=duty.name, now=clock(), lease=DUTY_LEASE):
            continue
        try:
            await duty.run()
        except Exception:  # left claimed: another try when the lease runs out
            log.exception("trabajador.tarea_fallida", tarea=duty.name)
            continue
        await duty_rows.reschedule(sessions=sessions, name=duty.name, due_at=clock() + duty.every)
        ran.append(duty.name)
    return ran


async def run_forever(s: Servicios, *, every_seconds: float = 5.0) -> None:
    """Retry due applications every few seconds, and run the periodic duties that fall due (`duties`): with
    several workers, each application and each duty is claimed by one of them."""
    sessions = session_factory(create_engine(s.settings.effective_database_url))
    found = duties(s, sessions)
    while True:
        try:
            await retry_due(s)
            await asyncio.to_thread(s.exportes.purge)  # this host's data copies never outlive their link
            await run_due_duties(found, sessions=sessions, clock=s.clock)
        except Exception:
            log.exception("trabajador.ciclo_fallido")
        await asyncio.sleep(every_seconds)
