"""Gateway application factory: wiring is done once here, at start-up, never at import time."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import structlog
from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.channels.base import ChannelRegistry, InvalidPayload
from bot.channels.web.adapter import WebAdapter
from bot.conversations.rasa_client import RasaClient
from bot.conversations.router import ConversationRouter, Outcome
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


def create_app(settings: Settings | None = None, *, rasa_transport: httpx.AsyncBaseTransport | None = None) -> FastAPI:
    """Build the gateway for ``settings`` (read from the environment when not given).

    Args:
        settings: the process settings.
        rasa_transport: how to reach Rasa; tests pass an `httpx.MockTransport`, production the default.
    """
    settings = settings or load_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        configure_logging(level=settings.log_level, json=settings.log_json)
        engine = create_engine(settings.effective_database_url)
        sessions = session_factory(engine)
        textos = load_textos(settings.textos_dir)
        async with httpx.AsyncClient(
            base_url=settings.effective_rasa_url,
            timeout=httpx.Timeout(settings.rasa_timeout_seconds, connect=3.0),
            transport=rasa_transport,
        ) as http:
            rasa = RasaClient(http, token=settings.rasa_token)
            channels = ChannelRegistry()
            web = WebAdapter(max_text_length=settings.max_text_chars)
            channels.register(web)
            app.state.gateway = Gateway(
                settings=settings,
                engine=engine,
                sessions=sessions,
                rasa=rasa,
                router=ConversationRouter(sessions=sessions, rasa=rasa, textos=textos),
                channels=channels,
                web=web,
            )
            log.info("gateway.started", rasa=settings.effective_rasa_url)
            yield
        await engine.dispose()

    app = FastAPI(title="Chasqui gateway", version="0.1.0", lifespan=lifespan, docs_url=None, redoc_url=None)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

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
        adapter = gateway.web
        inbound = adapter.parse(payload)
        result = await gateway.router.handle(inbound)
        body = adapter.render(str(payload["sender"]), result.replies)
        status = 503 if result.outcome is Outcome.UNAVAILABLE else 200
        headers = {"Retry-After": "10"} if status == 503 else None
        return JSONResponse(body, status_code=status, headers=headers)

    return app
