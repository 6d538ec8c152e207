"""The privacy policy page and the download of a citizen's copy of their data."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import TYPE_CHECKING

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from fastapi.templating import Jinja2Templates

if TYPE_CHECKING:
    from bot.gateway.app import Gateway

TEMPLATES = Jinja2Templates(directory=str(Path(__file__).resolve().parent / "templates"))
# A copy's token is ``secrets.token_urlsafe(24)`` (32 characters); anything else never reaches the disk.
_EXPORT_TOKEN = re.compile(r"[A-Za-z0-9_-]{16,64}")


def build_router() -> APIRouter:
    router = APIRouter()

    @router.get("/privacidad", response_class=HTMLResponse)
    async def policy(request: Request) -> HTMLResponse:
        gateway: Gateway = request.app.state.gateway
        settings = gateway.settings
        return TEMPLATES.TemplateResponse(
            request,
            "privacidad.html",
            {
                "version": settings.aviso_privacidad_version,
                "dias_anonimas": settings.retencion_dias_anonimas,
                "dias_identificadas": settings.retencion_dias_identificadas,
                "minutos_identidad": settings.identidad_minutos,
            },
        )

    @router.get("/mis-datos/{token}")
    async def export(request: Request, token: str) -> Response:
        gateway: Gateway = request.app.state.gateway
        well_formed = _EXPORT_TOKEN.fullmatch(token) is not None
        data = None
        if well_formed and gateway.exports is not None:
            data = await asyncio.to_thread(gateway.exports.get, token)  # a disk or a bucket: off the event loop
        if data is None:
            return TEMPLATES.TemplateResponse(request, "mis_datos_vencido.html", {}, status_code=404)
        return Response(
            data,
            media_type="application/json",
            headers={
                "Content-Disposition": 'attachment; filename="mis-datos-chasqui.json"',
                "Cache-Control": "no-store",
            },
        )

    return router
