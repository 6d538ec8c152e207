"""The background worker: retries applications kept pending after a registry error, and records the
notification that tells the citizen when one completes (the gateway delivers it through their channel); records
the reminders citizens asked for (`bot.reminders`)."""

from __future__ import annotations

import asyncio

import structlog

from bot.analytics import open_data
from bot.analytics.service import Analytics
from bot.audit.chain import seal
from bot.privacy.encryption import protector_from
from bot.services import Servicios
from bot.settings import async_database_url
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


PURGE_EVERY_SECONDS = 24 * 3600
SEAL_EVERY_SECONDS = 3600
OPEN_DATA_EVERY_SECONDS = 3600
# Each subscription is gone through once a day; a round this often starts the day soon after 08:00 and retries
# the chats whose registry did not answer.
REMINDERS_EVERY_SECONDS = 900


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


async def run_forever(s: Servicios, *, every_seconds: float = 5.0) -> None:
    """Retry due applications every few seconds; run the retention purge once a day; sign the audit
    log's closed days every hour (`bot.audit.chain.seal`); publish the open data every hour
    (`bot.analytics.open_data`); record the reminders due (`bot.reminders.service`) every quarter of an hour."""
    next_purge = next_seal = next_open_data = next_reminders = 0.0
    loop = asyncio.get_running_loop()
    audit_sessions = session_factory(create_engine(s.settings.effective_database_url))
    analytics = open_data_analytics(s)
    while True:
        try:
            await retry_due(s)
            await asyncio.to_thread(s.exportes.purge)  # data copies never outlive their link
            if loop.time() >= next_purge:
                await s.privacidad.purgar()
                next_purge = loop.time() + PURGE_EVERY_SECONDS
            if loop.time() >= next_seal:
                next_seal = loop.time() + SEAL_EVERY_SECONDS
                await seal(audit_sessions, s.documents.signer)
            if s.recordatorios is not None and loop.time() >= next_reminders:
                next_reminders = loop.time() + REMINDERS_EVERY_SECONDS
                await s.recordatorios.run()
            if loop.time() >= next_open_data:
                next_open_data = loop.time() + OPEN_DATA_EVERY_SECONDS
                await open_data.publish(analytics, s.settings.var_dir / "datos_abiertos", now=s.clock())
        except Exception:
            log.exception("trabajador.ciclo_fallido")
        await asyncio.sleep(every_seconds)
