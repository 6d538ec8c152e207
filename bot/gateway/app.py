"""Gateway application factory: wiring is done once here, at start-up, never at import time."""

from __future__ import annotations

import asyncio
import hmac
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field, replace
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any

import httpx
import structlog
from fastapi import FastAPI, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.analytics.nlu_review import known_intents
from bot.analytics.service import Analytics
from bot.channels.base import ChannelAdapter, ChannelRegistry, InvalidPayload
from bot.channels.registry import abroad_codes, build_channels, routers, start_channels
from bot.console.auth import StaffAuth
from bot.console.campaigns import CampaignConfig, Campaigns, CampaignSender
from bot.console.routes import create_console_router
from bot.console.service import Consola, seed_canned_replies
from bot.conversations.addresses import AddressBook
from bot.conversations.consent import ConsentGate
from bot.conversations.inbound import InboundProcessor
from bot.conversations.media import MediaVerifier
from bot.conversations.message_check import MessageCheck
from bot.conversations.notifications import NotificationDispatcher
from bot.conversations.outbox import OutboxDispatcher
from bot.conversations.rasa_client import RasaClient
from bot.conversations.router import ConversationRouter
from bot.documents.runtime import Documents, build_documents
from bot.documents.settings import document_settings_from
from bot.gateway.channel_host import GatewayHost, channel_context
from bot.gateway.documents import create_documentos_router
from bot.gateway.observability import RequestId, current_request_id
from bot.gateway.observability import build_router as build_observability_router
from bot.gateway.open_data import build_router as build_datos_abiertos_router
from bot.gateway.payments import build_router as build_pagos_router
from bot.gateway.privacy import build_router as build_privacidad_router
from bot.gateway.shared_state import build_shared_state, refuse_process_local_state
from bot.handoff.service import HandoffService
from bot.handoff.teams import load_equipos
from bot.logs import configure_logging
from bot.metrics import process_exited
from bot.phishing.catalogue import load_catalogue
from bot.phishing.senders import OwnSenders
from bot.privacy.encryption import Protector, protector_from
from bot.privacy.exports import ExportStore, build_export_store
from bot.privacy.rights import build_privacy
from bot.privacy.vault import Vault
from bot.security_headers import SecurityHeaders
from bot.settings import Settings, async_database_url, load_settings
from bot.storage.db import create_engine, session_factory
from bot.texts import load_textos
from bot.tramites import registry
from bot.tramites.payments import PagosService, build_pagos

STATIC_DIR = Path(__file__).resolve().parent / "static"
CONSOLE_STATIC_DIR = Path(__file__).resolve().parent.parent / "console" / "static"
log = structlog.get_logger(__name__)


@dataclass
class Gateway:
    """What the routes need, built once per process."""

    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    rasa: RasaClient
    router: ConversationRouter
    channels: ChannelRegistry
    processor: InboundProcessor
    outbox: OutboxDispatcher
    documents: Documents | None = None
    vault: Vault | None = None
    pagos: PagosService | None = None
    exports: ExportStore | None = None
    protector: Protector | None = None
    tasks: list[asyncio.Task[Any]] = field(default_factory=list)

    def client_key(self, request: Request) -> str | None:
        """A keyed hash of the web client's address: identity attempts are also counted per client."""
        if self.protector is None or request.client is None:
            return None
        return self.protector.lookup_hash(f"cliente|{request.client.host}")[:32]

    async def receive(self, adapter: ChannelAdapter, payload: Any) -> None:
        """Asynchronous channels: convert, store (deduplicated) and schedule; the webhook answers at once."""
        inbound = adapter.parse(payload)
        if inbound is None:
            return
        inbound = replace(inbound, metadata={**inbound.metadata, "request_id": current_request_id()})
        accepted = await self.router.accept(inbound)
        if accepted.duplicate:
            log.info("webhook.redelivered", channel=adapter.code)
            return
        acknowledgement = adapter.acknowledge(inbound)  # e.g. a tapped button's spinner stops
        if acknowledgement is not None:
            self.tasks.append(asyncio.ensure_future(acknowledgement))
        self.processor.schedule(inbound.conversation_id)


async def analytics_for(
    settings: Settings, sessions: async_sessionmaker[AsyncSession], stack: AsyncExitStack
) -> Analytics:
    """The console's service analytics: the app's tables, Rasa's tracker store, provinces from cédulas."""
    rasa_engine = create_engine(async_database_url(settings.effective_rasa_database_url))
    stack.push_async_callback(rasa_engine.dispose)
    return Analytics(
        sessions=sessions,
        rasa=rasa_engine,
        tramites=registry.TRAMITES,
        zone=settings.zona_horaria,
        protector=await asyncio.to_thread(protector_from, settings),
        intents=await asyncio.to_thread(known_intents, settings.project_dir / "intents"),
    )


def create_app(
    settings: Settings | None = None,
    *,
    rasa_transport: httpx.AsyncBaseTransport | None = None,
    start_background: bool = True,
) -> FastAPI:
    """Build the gateway for ``settings`` (read from the environment when not given).

    Args:
        settings: the process settings.
        rasa_transport: how to reach Rasa; tests pass an `httpx.MockTransport`, production the default.
        start_background: run the outbox dispatcher, recovery and Telegram polling (tests may drive them).
    """
    settings = settings or load_settings()
    refuse_process_local_state(settings)  # several processes need Redis

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        configure_logging(
            level=settings.log_level,
            json=settings.log_json,
            pseudonym_key=(await asyncio.to_thread(protector_from, settings)).hash_key,
        )
        engine = create_engine(settings.effective_database_url)
        sessions = session_factory(engine)
        textos = load_textos(settings.textos_dir)
        documents = await asyncio.to_thread(build_documents, document_settings_from(settings), sessions=sessions)
        app.state.documents = documents
        async with AsyncExitStack() as stack:
            transport = rasa_transport or httpx.AsyncHTTPTransport()  # the client closes it
            http = await stack.enter_async_context(
                httpx.AsyncClient(
                    base_url=settings.effective_rasa_url,
                    timeout=httpx.Timeout(settings.rasa_timeout_seconds, connect=3.0),
                    transport=transport,
                )
            )
            rasa = RasaClient(
                http,
                transport=transport,
                token=settings.rasa_token,
                channel_secret=settings.rasa_channel_secret,
                concurrency=settings.rasa_concurrency,
                queue_seconds=settings.rasa_timeout_seconds,
            )
            addresses = AddressBook(sessions=sessions, protector=protector_from(settings))
            channels = await build_channels(  # the configured ones of bot.channels.registry.CHANNELS
                channel_context(
                    settings, textos=textos, stack=stack, documents=documents, pseudonym=addresses.pseudonym
                )
            )
            shared = await build_shared_state(settings, stack)  # in memory, or on Redis with REDIS_URL
            rasa.busy = shared.rasa_busy
            outbox = OutboxDispatcher(
                sessions=sessions,
                channels=channels,
                resolve=addresses.resolve,
                limits=shared.send_limits,
                lease=timedelta(seconds=settings.outbox_lease_seconds),
            )
            vault = shared.vault
            # --- handoff and console: teams and hours from data/consola; events feed the console's SSE.
            data_dir = settings.project_dir / "data"
            equipos = await asyncio.to_thread(lambda: load_equipos(data_dir / "consola", tramites=registry.TRAMITES))
            bus = shared.bus
            handoff = HandoffService(equipos=equipos, textos=textos, bus=bus)
            privacy = build_privacy(settings, sessions, documents)
            consent = (
                ConsentGate(
                    notice_version=settings.aviso_privacidad_version,
                    public_base_url=settings.effective_public_base_url,
                    transfers_abroad=abroad_codes(),
                    classify=rasa.parse,
                )
                if settings.consentimiento_requerido
                else None
            )
            router = ConversationRouter(
                sessions=sessions,
                rasa=rasa,
                textos=textos,
                channels=channels,
                vault=vault,
                outbox_notify=outbox.notify,
                handoff=handoff,
                consent=consent,
                privacy=privacy.borrar,
                addresses=addresses,
                media=MediaVerifier(documents=documents, textos=textos, zone=settings.zona_horaria),
                message_check=MessageCheck(  # «¿esto es oficial?» on a forwarded message with a link
                    catalogue=await asyncio.to_thread(load_catalogue, data_dir),
                    own=OwnSenders.from_settings(
                        whatsapp_from=settings.twilio_whatsapp_from,
                        telegram_username=settings.telegram_bot_username,
                    ),
                    textos=textos,
                    vault=vault,
                ),
                turn_locks=shared.turn_locks,
            )
            campaigns = Campaigns(  # campaigns from the console, paced into the outbox by `CampaignSender`
                sessions=sessions,
                channels=channels,
                config=await asyncio.to_thread(CampaignConfig.load, data_dir / "consola" / "campanas.yml"),
                protector=await asyncio.to_thread(protector_from, settings),
                zone=settings.zona_horaria,
                outbox_notify=outbox.notify,
            )
            app.state.consola = Consola(
                sessions=sessions,
                auth=StaffAuth(sessions=sessions),
                handoff=handoff,
                router=router,
                rasa=rasa,
                bus=bus,
                equipos=equipos,
                protector=await asyncio.to_thread(protector_from, settings),
                download_url=documents.issuer.download_url,
                secure_cookies=settings.effective_public_base_url.startswith("https://"),
                audit_key=documents.signer,
                analytics=await analytics_for(settings, sessions, stack),
                campaigns=campaigns,
            )
            await seed_canned_replies(sessions, equipos)
            gateway = Gateway(
                settings=settings,
                engine=engine,
                sessions=sessions,
                rasa=rasa,
                router=router,
                channels=channels,
                processor=InboundProcessor(router=router, sessions=sessions),
                outbox=outbox,
                documents=documents,
                vault=vault,
                pagos=build_pagos(settings, sessions),
                exports=build_export_store(settings),
                protector=await asyncio.to_thread(protector_from, settings),
            )
            app.state.gateway = gateway
            notifications = NotificationDispatcher(
                sessions=sessions,
                channels=channels,
                textos=textos,
                outbox_notify=outbox.notify,
                documents=documents,
            )
            if start_background:
                gateway.tasks.append(asyncio.create_task(outbox.run(), name="outbox"))
                gateway.tasks.append(asyncio.create_task(notifications.run(), name="notificaciones"))
                gateway.tasks.append(asyncio.create_task(CampaignSender(campaigns).run(), name="campanas"))
                asynchronous = [c for c in channels.codes() if channels.get(c).asynchronous]
                await gateway.processor.recover(asynchronous)
                gateway.tasks.append(asyncio.create_task(gateway.processor.sweep_forever(asynchronous), name="barrido"))
                gateway.tasks.extend(await start_channels(channels, GatewayHost(gateway)))
            log.info("gateway.started", rasa=settings.effective_rasa_url, channels=channels.codes())
            try:
                yield
            finally:
                for task in gateway.tasks:
                    task.cancel()
                await asyncio.gather(*gateway.tasks, return_exceptions=True)
                await gateway.processor.close()
                await outbox.close()
        await engine.dispose()
        process_exited()

    app = FastAPI(title="Chasqui gateway", version="0.1.0", lifespan=lifespan, docs_url=None, redoc_url=None)
    app.add_middleware(SecurityHeaders)
    app.add_middleware(RequestId)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.mount("/consola/static", StaticFiles(directory=CONSOLE_STATIC_DIR), name="consola-static")
    for channel_router in routers(GatewayHost.of):  # each channel's webhooks (bot/channels/<code>/webhook.py)
        app.include_router(channel_router)
    app.include_router(build_observability_router())
    app.include_router(build_privacidad_router())
    app.include_router(create_documentos_router())
    app.include_router(create_console_router())
    app.include_router(build_pagos_router(rechazos_path=settings.project_dir / "data" / "pagos.yml"))
    app.include_router(build_datos_abiertos_router())

    @app.exception_handler(InvalidPayload)
    async def invalid_payload(_: Request, exc: InvalidPayload) -> JSONResponse:
        return JSONResponse({"detail": exc.reason}, status_code=exc.status_code)

    chat_page = (
        (STATIC_DIR / "chat.html")
        .read_text(encoding="utf-8")
        .replace('data-sesion-minutos="60"', f'data-sesion-minutos="{settings.identidad_minutos}"', 1)
    )

    @app.get("/", include_in_schema=False)
    async def web_chat() -> HTMLResponse:
        return HTMLResponse(chat_page)

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz")
    async def readyz(request: Request, completo: Annotated[bool, Query()] = False) -> JSONResponse:
        """Ready to serve citizens: the database answers. Rasa's state is reported, not required: while it is
        down or loading the gateway answers with a Spanish apology, which beats a load balancer's error page.
        ``?completo=1`` requires Rasa too (`chasqui run` and the end-to-end tests wait for that)."""
        gateway: Gateway = request.app.state.gateway
        checks = {"database": "ok", "rasa": "ok"}
        try:
            async with gateway.engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
        except Exception as exc:  # any driver error means "not ready"
            checks["database"] = type(exc).__name__
        if not await gateway.rasa.is_ready():
            checks["rasa"] = "cargando o no disponible"
        ready = checks["database"] == "ok" and (checks["rasa"] == "ok" or not completo)
        return JSONResponse({"ready": ready, **checks}, status_code=200 if ready else 503)

    @app.get("/interno/boveda/{reference}", include_in_schema=False)
    async def vault_take(
        request: Request, reference: str, consumir: bool = False, conversacion: str = "", turno: str = ""
    ) -> JSONResponse:
        """The action server redeems a reference for the conversation it came from (internal token only)."""
        gateway: Gateway = request.app.state.gateway
        token = gateway.settings.internal_token
        given = request.headers.get("authorization", "").removeprefix("Bearer ")
        if not token or not hmac.compare_digest(given.encode(), token.encode()) or gateway.vault is None:
            return JSONResponse({"detail": "forbidden"}, status_code=403)
        value = await gateway.vault.take(
            reference, consume=consumir, owner=conversacion[:200] or None, turn=turno[:100] or None
        )
        if value is None:
            return JSONResponse({"detail": "unknown or expired reference"}, status_code=404)
        return JSONResponse({"valor": value}, headers={"Cache-Control": "no-store"})

    return app
