"""The public open data page and its files (``/datos-abiertos``), as the worker last published them."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from fastapi.templating import Jinja2Templates

from bot.analytics.open_data import DATASETS, generated_at

if TYPE_CHECKING:
    from bot.gateway.app import Gateway

TEMPLATES = Jinja2Templates(directory=str(Path(__file__).resolve().parent / "templates"))
MEDIA_TYPES = {"csv": "text/csv; charset=utf-8", "json": "application/json"}


def folder_of(request: Request) -> Path:
    gateway: Gateway = request.app.state.gateway
    return gateway.settings.var_dir / "datos_abiertos"


def dictionary(project_dir: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((project_dir / "data" / "datos_abiertos.yml").read_text(encoding="utf-8"))
    return loaded


def build_router() -> APIRouter:
    router = APIRouter()

    @router.get("/datos-abiertos", response_class=HTMLResponse)
    async def page(request: Request) -> HTMLResponse:
        gateway: Gateway = request.app.state.gateway
        moment = generated_at(folder_of(request))
        shown = moment.astimezone(gateway.settings.zona_horaria).strftime("%d/%m/%Y %H:%M") if moment else None
        context = {"d": dictionary(gateway.settings.project_dir), "generado": shown}
        return TEMPLATES.TemplateResponse(request, "datos_abiertos.html", context)

    @router.get("/datos-abiertos/{name}.{extension}")
    async def file(request: Request, name: str, extension: str) -> Response:
        path = folder_of(request) / f"{name}.{extension}"
        if name not in DATASETS or extension not in MEDIA_TYPES or not path.is_file():
            return Response("No encontrado.", status_code=404, media_type="text/plain; charset=utf-8")
        return Response(
            path.read_bytes(),
            media_type=MEDIA_TYPES[extension],
            headers={"Cache-Control": "public, max-age=300", "Access-Control-Allow-Origin": "*"},
        )

    return router
