"""The console's campaign pages (admins and the ``comunicaciones`` role), added to the console's router.

| route | what |
|---|---|
| ``GET /consola/campanas`` | the latest campaigns and the form for a new one |
| ``POST /consola/campanas`` | create a draft |
| ``GET /consola/campanas/{id}`` | the campaign: its text, segment, state and counts |
| ``GET /consola/campanas/{id}/vista-previa`` | how many citizens it reaches and the message one of them reads |
| ``POST /consola/campanas/{id}/enviar``, ``…/cancelar`` | send a draft; stop a draft or a campaign being sent |

Every page and action is written to the audit log (refusals too, with their notice).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from bot.console.auth import StaffSessionInfo
from bot.console.campaigns import CampaignError, Campaigns, Draft, summary
from bot.console.service import Consola, Outcome
from bot.handoff.service import Agent
from bot.reminders.schedule import Kind
from bot.storage.models_console import Rol

PATH = "/campanas"
CAMPAIGN_ROLES = (Rol.ADMIN, Rol.COMUNICACIONES)


def may_send_campaigns(agent: Agent) -> bool:
    return agent.rol in CAMPAIGN_ROLES


def _int(value: str, default: int) -> int:
    return int(value) if value.strip().isdigit() else default


def add_campaign_routes(
    router: APIRouter,
    *,
    prefix: str,
    consola_of: Callable[[Request], Consola],
    ip_of: Callable[[Request], str],
    who: Callable[[Request], Awaitable[StaffSessionInfo]],
    posted: Callable[[Request, StaffSessionInfo], Awaitable[dict[str, str]]],
    page: Callable[..., HTMLResponse],
    back: Callable[[str, Outcome], RedirectResponse],
    forbidden: Callable[[Request, StaffSessionInfo], HTMLResponse],
) -> None:
    """Add the campaign routes to the console's ``router`` with its helpers (session, CSRF, pages, audit)."""
    base = f"{prefix}{PATH}"

    def service(request: Request, info: StaffSessionInfo) -> Campaigns | None:
        campaigns = consola_of(request).campaigns
        return campaigns if campaigns is not None and may_send_campaigns(info.agent) else None

    async def audit(request: Request, info: StaffSessionInfo, action: str, detail: dict[str, Any]) -> None:
        await consola_of(request).audit(info.agent, action, ip=ip_of(request), detail=detail)

    def form_context(campaigns: Campaigns) -> dict[str, Any]:
        return {
            "instituciones": list(campaigns.config.institutions.values()),
            "tipos": [k.value for k in Kind],
            "canales": campaigns.channel_codes(),
        }

    @router.get(PATH)
    async def campaign_list(request: Request, aviso: str = "") -> Response:
        info = await who(request)
        campaigns = service(request, info)
        if campaigns is None:
            return forbidden(request, info)
        rows = await campaigns.latest()
        await audit(request, info, "ver_campanas", {"filas": len(rows)})
        return page(request, info, "campanas.html", campanas=rows, aviso=aviso, **form_context(campaigns))

    @router.post(PATH)
    async def create(request: Request) -> Response:
        info = await who(request)
        campaigns = service(request, info)
        if campaigns is None:
            return forbidden(request, info)
        fields = await posted(request, info)
        form = await request.form()
        draft = Draft(
            titulo=fields.get("titulo", ""),
            texto=fields.get("texto", ""),
            institucion=fields.get("institucion", "") or None,
            tipos=tuple(str(v) for v in form.getlist("tipos")),
            canales=tuple(str(v) for v in form.getlist("canales")),
            por_minuto=_int(fields.get("por_minuto", ""), 0),
            plantilla=fields.get("plantilla", "") or None,
            horas_respuesta=_int(fields.get("horas_respuesta", ""), 0),
        )
        try:
            campaign = await campaigns.create(draft, staff_id=info.agent.id, usuario=info.agent.usuario)
        except CampaignError as exc:
            await audit(request, info, "crear_campana_rechazado", {"aviso": exc.code})
            return back(base, Outcome(exc.code, ok=False))
        await audit(request, info, "crear_campana", summary(campaign))
        return back(f"{base}/{campaign.id}", Outcome("campana_creada", ok=True))

    @router.get(PATH + "/{campaign_id}")
    async def detail(request: Request, campaign_id: int, aviso: str = "") -> Response:
        info = await who(request)
        campaigns = service(request, info)
        if campaigns is None:
            return forbidden(request, info)
        campaign = await campaigns.get(campaign_id)
        if campaign is None:
            return page(request, info, "error.html", codigo="campana_no_encontrada", status_code=404)
        counts = await campaigns.counts(campaign)
        await audit(request, info, "ver_campana", {"campana": campaign_id})
        return page(
            request,
            info,
            "campana.html",
            c=campaign,
            cuentas=counts,
            vista=None,
            aviso=aviso,
            **form_context(campaigns),
        )

    @router.get(PATH + "/{campaign_id}/vista-previa")
    async def preview(request: Request, campaign_id: int) -> Response:
        info = await who(request)
        campaigns = service(request, info)
        if campaigns is None:
            return forbidden(request, info)
        campaign = await campaigns.get(campaign_id)
        if campaign is None:
            return page(request, info, "error.html", codigo="campana_no_encontrada", status_code=404)
        seen = await campaigns.preview(campaign)
        counts = await campaigns.counts(campaign)
        await audit(
            request,
            info,
            "previsualizar_campana",
            {"campana": campaign_id, "destinatarios": seen.total, "por_canal": seen.por_canal},
        )
        return page(
            request, info, "campana.html", c=campaign, cuentas=counts, vista=seen, aviso="", **form_context(campaigns)
        )

    @router.post(PATH + "/{campaign_id}/{accion}")
    async def act(request: Request, campaign_id: int, accion: str) -> Response:
        info = await who(request)
        campaigns = service(request, info)
        if campaigns is None:
            return forbidden(request, info)
        await posted(request, info)
        if accion not in ("enviar", "cancelar"):
            return page(request, info, "error.html", codigo="campana_no_encontrada", status_code=404)
        action = "enviar_campana" if accion == "enviar" else "cancelar_campana"
        try:
            if accion == "enviar":
                count = await campaigns.start(campaign_id)
                detail, aviso = {"campana": campaign_id, "destinatarios": count}, "campana_enviando"
            else:
                count = await campaigns.cancel(campaign_id)
                detail, aviso = {"campana": campaign_id, "detenidos": count}, "campana_cancelada"
        except CampaignError as exc:
            await audit(request, info, f"{action}_rechazado", {"campana": campaign_id, "aviso": exc.code})
            return back(f"{base}/{campaign_id}", Outcome(exc.code, ok=False))
        await audit(request, info, action, detail)
        return back(f"{base}/{campaign_id}", Outcome(aviso, ok=True))
