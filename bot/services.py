"""The services a trámite needs, built once where a process starts: registries, identity, documents,
applications, payments. The action server and the background worker share this container."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import httpx
import structlog

from bot import metrics
from bot.documents.runtime import Documents, build_documents
from bot.documents.settings import document_settings_from
from bot.identity.service import IdentityService
from bot.identity.vault_client import VaultClient
from bot.privacy.encryption import protector_from
from bot.privacy.exports import ExportStore, build_export_store
from bot.privacy.rights import PrivacyService, build_privacy
from bot.reminders.service import RemindersService
from bot.settings import Settings
from bot.storage.db import create_engine, session_factory
from bot.storage.models import utcnow
from bot.tramites.payments import PagosService, build_pagos
from bot.tramites.solicitudes import SolicitudesService
from integrations.registros.ant import AntClient, AntConfig
from integrations.registros.base import AuditEvent, BaseClient, CircuitBreaker
from integrations.registros.cne import CneClient, CneConfig
from integrations.registros.ministerio_interior import MinisterioInteriorClient, MinisterioInteriorConfig
from integrations.registros.registro_civil import RegistroCivilClient, RegistroCivilConfig
from integrations.registros.sri import SriClient, SriConfig

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class Registros:
    registro_civil: RegistroCivilClient
    ant: AntClient
    ministerio_interior: MinisterioInteriorClient
    cne: CneClient
    sri: SriClient


@dataclass(frozen=True)
class Servicios:
    settings: Settings
    vault: VaultClient
    identidad: IdentityService
    registros: Registros
    documents: Documents
    solicitudes: SolicitudesService
    pagos: PagosService
    privacidad: PrivacyService
    exportes: ExportStore
    clock: Callable[[], datetime] = utcnow  # tests pass a fixed one
    recordatorios: RemindersService | None = None  # built by `build_servicios`; tests add their own

    def now(self) -> datetime:
        """The current time in Ecuador (`Settings.timezone`, America/Guayaquil)."""
        return self.clock().astimezone(self.settings.zona_horaria)

    def today(self) -> date:
        """Today in Ecuador: the day every calendar rule (`bot.legal_calendar`) is asked about."""
        return self.now().date()


def audit_registry_call(event: AuditEvent) -> None:
    """Every registry call, with identifiers already masked by the client; counted for the metrics too."""
    metrics.REGISTRY_CALLS.labels(institution=event.institution, outcome=event.outcome.value).inc()
    metrics.REGISTRY_SECONDS.labels(institution=event.institution).observe(event.duration_ms / 1000)
    log.info(
        "registro.llamada",
        institucion=event.institution,
        operacion=event.operation,
        duracion_ms=event.duration_ms,
        resultado=event.outcome.value,
        intentos=event.attempts,
        codigo=event.code,
        identificadores=list(event.identifiers),
    )


async def build_servicios(settings: Settings) -> Servicios:
    """Build every service once, where a process starts (action server, background worker)."""
    engine = create_engine(settings.effective_database_url)
    sessions = session_factory(engine)
    registros_http = httpx.AsyncClient(timeout=settings.registros_timeout_seconds)
    base = settings.effective_registros_url
    common: dict[str, Any] = {"audit": audit_registry_call, "timeout": settings.registros_timeout_seconds}

    def breaker(client: type[BaseClient[Any]]) -> CircuitBreaker:
        gauge = metrics.BREAKER_STATE.labels(institution=client.institution)
        gauge.set(0)
        return CircuitBreaker(on_change=lambda state: gauge.set(metrics.BREAKER_VALUES[state.value]))

    registros = Registros(
        registro_civil=RegistroCivilClient(
            registros_http, RegistroCivilConfig.sandbox(base), breaker=breaker(RegistroCivilClient), **common
        ),
        ant=AntClient(registros_http, AntConfig.sandbox(base), breaker=breaker(AntClient), **common),
        ministerio_interior=MinisterioInteriorClient(
            registros_http,
            MinisterioInteriorConfig.sandbox(base),
            breaker=breaker(MinisterioInteriorClient),
            **common,
        ),
        cne=CneClient(registros_http, CneConfig.sandbox(base), breaker=breaker(CneClient), **common),
        sri=SriClient(registros_http, SriConfig.sandbox(base), breaker=breaker(SriClient), **common),
    )
    gateway_http = httpx.AsyncClient(base_url=settings.effective_gateway_internal_url, timeout=5.0)
    protector = protector_from(settings)
    identidad = IdentityService(
        sessions=sessions,
        registro_civil=registros.registro_civil,
        protector=protector,
        link_minutes=settings.identidad_minutos,
        max_failures=settings.identidad_intentos,
        lock_minutes=settings.identidad_bloqueo_minutos,
    )
    documents = await asyncio.to_thread(build_documents, document_settings_from(settings), sessions=sessions)
    recordatorios = RemindersService(
        sessions=sessions,
        protector=protector,
        ant=registros.ant,
        registro_civil=registros.registro_civil,
        holder_key=documents.issuer.holder_key,
        document_titles={str(kind): t.title for kind, t in documents.plantillas.documents.items()},
        notice_version=settings.aviso_privacidad_version,
        zone=settings.zona_horaria,
    )
    return Servicios(
        settings=settings,
        vault=VaultClient(gateway_http, token=settings.internal_token),
        identidad=identidad,
        registros=registros,
        documents=documents,
        solicitudes=SolicitudesService(sessions=sessions, protector=protector),
        pagos=build_pagos(settings, sessions),
        privacidad=build_privacy(settings, sessions, documents),
        exportes=build_export_store(settings),
        recordatorios=recordatorios,
    )
