"""Gateway application factory: wiring is done once here, at start-up, never at import time."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import structlog
from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.channels.base import ChannelAdapter, ChannelRegistry, InvalidPayload
from bot.channels.telegram.adapter import TelegramAdapter
from bot.channels.web.adapter import WebAdapter
from bot.channels.whatsapp.adapter import WhatsAppAdapter
from bot.conversations.inbound import InboundProcessor
from bot.conversations.outbox import OutboxDispatcher
from bot.conversations.rasa_client import RasaClient
from bot.conversations.router import ConversationRouter, Outcome
from bot.documents.runtime import Documents, build_documents
from bot.documents.settings import document_settings_from
from bot.gateway.channels_setup import start_telegram, telegram_adapter, whatsapp_adapter
from bot.gateway.documentos import create_documentos_router
from bot.gateway.webhooks import build_router as build_webhooks
from bot.logs import configure_logging
from bot.settings import Settings, load_settings
from bot.storage.db import create_engine, session_factory
from bot.textos import load_textos

STATIC_DIR = Path(__file__).resolve().parent / "static"
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
    web: WebAdapter
    processor: InboundProcessor
    outbox: OutboxDispatcher
    documents: Documents | None = None
    telegram: TelegramAdapter | None = None
    whatsapp: WhatsAppAdapter | None = None
    tasks: list[asyncio.Task[Any]] = field(default_factory=list)

    async def receive(self, adapter: ChannelAdapter, payload: Any) -> None:
        """Asynchronous channels: convert, store (deduplicated) and schedule; the webhook answers at once."""
        inbound = adapter.parse(payload)
        if inbound is None:
            return
        accepted = await self.router.accept(inbound)
        if accepted.duplicate:
            log.info("webhook.redelivered", channel=adapter.code)
            return
        callback = inbound.metadata.get("callback_query_id")
        if callback and isinstance(adapter, TelegramAdapter):
            self.tasks.append(asyncio.create_task(adapter.answer_callback(str(callback))))
        self.processor.schedule(inbound.conversation_id)


async def read_limited_body(request: Request, limit: int) -> bytes:
    """Read the body, refusing it (413) as soon as it passes ``limit`` bytes."""
    declared = request.headers.get("content-length")
    if declared is not None:
        if not declared.isdigit():
            raise InvalidPayload("invalid Content-Length")
        if int(declared) > limit:
            raise InvalidPayload(f"body larger than {limit} bytes", status_code=413)
    body = bytearray()
    async for chunk in request.stream():
        body.extend(chunk)
        if len(body) > limit:
            raise InvalidPayload(f"body larger than {limit} bytes", status_code=413)
    return bytes(body)


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

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        configure_logging(level=settings.log_level, json=settings.log_json)
        engine = create_engine(settings.effective_database_url)
        sessions = session_factory(engine)
        textos = load_textos(settings.textos_dir)
        documents = await asyncio.to_thread(build_documents, document_settings_from(settings), sessions=sessions)
        app.state.documents = documents
        async with AsyncExitStack() as stack:
            http = await stack.enter_async_context(
                httpx.AsyncClient(
                    base_url=settings.effective_rasa_url,
                    timeout=httpx.Timeout(settings.rasa_timeout_seconds, connect=3.0),
                    transport=rasa_transport,
                )
            )
            rasa = RasaClient(http, token=settings.rasa_token)
            channels = ChannelRegistry()
            web = WebAdapter(max_text_length=settings.max_text_chars)
            channels.register(web)
            telegram = await telegram_adapter(settings, stack, documents)
            whatsapp = whatsapp_adapter(settings, textos, stack, documents)
            for adapter in (telegram, whatsapp):
                if adapter is not None:
                    channels.register(adapter)
            outbox = OutboxDispatcher(sessions=sessions, channels=channels)
            router = ConversationRouter(
                sessions=sessions, rasa=rasa, textos=textos, channels=channels, outbox_notify=outbox.notify
            )
            gateway = Gateway(
                settings=settings,
                engine=engine,
                sessions=sessions,
                rasa=rasa,
                router=router,
                channels=channels,
                web=web,
                processor=InboundProcessor(router=router, sessions=sessions),
                outbox=outbox,
                documents=documents,
                telegram=telegram,
                whatsapp=whatsapp,
            )
            app.state.gateway = gateway
            if start_background:
                gateway.tasks.append(asyncio.create_task(outbox.run(), name="outbox"))
                await gateway.processor.recover([c for c in channels.codes() if channels.get(c).asynchronous])
                if telegram is not None:
                    gateway.tasks.append(await start_telegram(settings, gateway, telegram))
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

    app = FastAPI(title="Chasqui gateway", version="0.1.0", lifespan=lifespan, docs_url=None, redoc_url=None)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.include_router(build_webhooks())
    app.include_router(create_documentos_router())

    @app.exception_handler(InvalidPayload)
    async def invalid_payload(_: Request, exc: InvalidPayload) -> JSONResponse:
        return JSONResponse({"detail": exc.reason}, status_code=exc.status_code)

    @app.get("/", include_in_schema=False)
    async def web_chat() -> FileResponse:
        return FileResponse(STATIC_DIR / "chat.html", media_type="text/html; charset=utf-8")

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz")
    async def readyz(request: Request) -> JSONResponse:
        gateway: Gateway = request.app.state.gateway
        checks = {"database": "ok", "rasa": "ok"}
        try:
            async with gateway.engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
        except Exception as exc:  # any driver error means "not ready"
            checks["database"] = type(exc).__name__
        if not await gateway.rasa.is_ready():
            checks["rasa"] = "cargando o no disponible"
        ready = all(v == "ok" for v in checks.values())
        return JSONResponse({"ready": ready, **checks}, status_code=200 if ready else 503)

    @app.post("/webhooks/rest/webhook")
    async def web_channel(request: Request) -> Response:
        gateway: Gateway = request.app.state.gateway
        raw = await read_limited_body(request, gateway.settings.max_body_bytes)
        try:
            payload = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise InvalidPayload("the body is not valid JSON") from exc
        inbound = gateway.web.parse(payload)
        result = await gateway.router.handle(inbound)
        body = gateway.web.render(str(payload["sender"]), result.replies)
        status = 503 if result.outcome is Outcome.UNAVAILABLE else 200
        headers = {"Retry-After": "10"} if status == 503 else None
        return JSONResponse(body, status_code=status, headers=headers)

    return app
