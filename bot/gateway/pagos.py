"""The payment page (sandbox provider) and the provider's signed confirmation callback."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import structlog
import yaml
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from bot.tramites.pagos import PagosService
from integrations.pagos.base import CallbackInvalido, TarjetaRechazada

if TYPE_CHECKING:
    from bot.gateway.app import Gateway

log = structlog.get_logger(__name__)
TEMPLATES = Jinja2Templates(directory=str(Path(__file__).resolve().parent / "templates"))
CALLBACK_PATH = "/pagos/notificacion"
SIGNATURE_HEADER = "X-Chasqui-Firma"


def build_router(*, rechazos_path: Path) -> APIRouter:
    router = APIRouter()
    rechazos: dict[str, str] = yaml.safe_load(rechazos_path.read_text(encoding="utf-8"))["rechazos"]
    background: set[asyncio.Task[None]] = set()

    def service(request: Request) -> PagosService:
        gateway: Gateway = request.app.state.gateway
        assert gateway.pagos is not None
        return gateway.pagos

    def page(request: Request, template: str, status: int = 200, **context: Any) -> HTMLResponse:
        gateway: Gateway = request.app.state.gateway
        sandbox = gateway.settings.environment == "sandbox"
        return TEMPLATES.TemplateResponse(request, template, {"sandbox": sandbox, **context}, status_code=status)

    # Declared before /pagos/{pago_id}, which would otherwise take it.
    @router.post(CALLBACK_PATH)
    async def callback(request: Request) -> Response:
        pagos = service(request)
        body = await request.body()
        try:
            confirmacion = pagos.proveedor.verificar_callback(body, request.headers.get(SIGNATURE_HEADER, ""))
        except CallbackInvalido as exc:
            log.warning("pago.callback_invalido", codigo=exc.code)
            return Response(status_code=403 if exc.code == "firma_invalida" else 400)
        pago = await pagos.confirmar(confirmacion)
        if pago is None:
            return Response(status_code=404)
        log.info("pago.confirmado", pago=pago.id, solicitud=pago.numero_solicitud)
        return Response(status_code=204)

    @router.get("/pagos/{pago_id}", response_class=HTMLResponse)
    async def payment_page(request: Request, pago_id: str, t: str = "") -> HTMLResponse:
        pagos = service(request)
        pago = await pagos.consultar(pago_id) if pagos.token_valido(pago_id, t) else None
        if pago is None:
            return page(request, "pago_no_encontrado.html", status=404)
        return page(request, "pago.html", pago=pago, token=t)

    @router.post("/pagos/{pago_id}", response_class=HTMLResponse)
    async def pay(request: Request, pago_id: str) -> Response:
        pagos = service(request)
        form = await request.form()
        token = str(form.get("t", ""))
        pago = await pagos.consultar(pago_id) if pagos.token_valido(pago_id, token) else None
        if pago is None:
            return page(request, "pago_no_encontrado.html", status=404)
        if pago.pagado:
            return RedirectResponse(f"/pagos/{pago_id}?t={token}", status_code=303)
        try:
            confirmacion = pagos.proveedor.cobrar(
                pago_id=pago_id,
                monto=pago.monto,
                numero_tarjeta=str(form.get("numero", "")),
                vencimiento=str(form.get("vencimiento", "")),
                cvv=str(form.get("cvv", "")),
            )
        except TarjetaRechazada as exc:
            return page(
                request, "pago.html", status=422, pago=pago, token=token, error=rechazos.get(exc.code, exc.code)
            )
        # Like a real provider, the confirmation arrives separately, as a signed HTTP callback.
        gateway: Gateway = request.app.state.gateway
        body = pagos.proveedor.cuerpo_callback(confirmacion)  # type: ignore[attr-defined]
        task = asyncio.create_task(_send_callback(gateway.settings.effective_gateway_internal_url, body, pagos))
        background.add(task)
        task.add_done_callback(background.discard)
        return RedirectResponse(f"/pagos/{pago_id}/resultado?t={token}", status_code=303)

    @router.get("/pagos/{pago_id}/resultado", response_class=HTMLResponse)
    async def result(request: Request, pago_id: str, t: str = "") -> HTMLResponse:
        pagos = service(request)
        pago = await pagos.consultar(pago_id) if pagos.token_valido(pago_id, t) else None
        if pago is None:
            return page(request, "pago_no_encontrado.html", status=404)
        return page(request, "pago.html", pago=pago, token=t, refrescar=not pago.pagado)

    return router


async def _send_callback(base_url: str, body: bytes, pagos: PagosService) -> None:
    headers = {"Content-Type": "application/json", SIGNATURE_HEADER: pagos.proveedor.firmar(body)}
    async with httpx.AsyncClient(base_url=base_url, timeout=10) as client:
        for attempt in range(5):
            try:
                response = await client.post(CALLBACK_PATH, content=body, headers=headers)
                if response.status_code < 500:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.5 * 2**attempt)
    log.error("pago.callback_no_entregado")
