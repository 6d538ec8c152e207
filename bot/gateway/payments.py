"""The payment page (sandbox provider) and the provider's signed confirmation callback."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

import httpx
import structlog
import yaml
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from bot.channels.base import InvalidPayload
from bot.gateway.limits import read_limited_body
from bot.tramites.payments import PagosService
from integrations.pagos.base import CallbackInvalido, TarjetaRechazada

if TYPE_CHECKING:
    from bot.gateway.app import Gateway

log = structlog.get_logger(__name__)
TEMPLATES = Jinja2Templates(directory=str(Path(__file__).resolve().parent / "templates"))
CALLBACK_PATH = "/pagos/notificacion"
SIGNATURE_HEADER = "X-Chasqui-Firma"
MAX_CALLBACK_BYTES = 16 * 1024  # a provider's confirmation is a few hundred bytes
MAX_FORM_BYTES = 4 * 1024  # the card form: four short fields
# A payment id is ``secrets.token_hex(8)`` and its link token 32 hex digits; nothing else is looked up.
_HEX = re.compile(r"[0-9a-f]{1,64}")
# For the OpenAPI description: what the provider posts and what the card form sends.
CALLBACK_BODY: dict[str, Any] = {
    "required": True,
    "content": {
        "application/json": {
            "schema": {
                "type": "object",
                "properties": {
                    "pago_id": {"type": "string"},
                    "referencia": {"type": "string"},
                    "monto": {"type": "string"},
                    "ultimos_digitos": {"type": "string"},
                    "estado": {"type": "string"},
                },
            }
        }
    },
}
CARD_FORM: dict[str, Any] = {
    "required": True,
    "content": {
        "application/x-www-form-urlencoded": {
            "schema": {
                "type": "object",
                "properties": {name: {"type": "string"} for name in ("t", "numero", "vencimiento", "cvv")},
            }
        }
    },
}


def _well_formed(pago_id: str, token: str) -> bool:
    return _HEX.fullmatch(pago_id) is not None and _HEX.fullmatch(token) is not None


async def _card_form(request: Request) -> dict[str, str]:
    """The card form's fields (URL-encoded, bounded); a larger body is a 413 before anything is parsed."""
    raw = await read_limited_body(request, MAX_FORM_BYTES)
    try:
        return dict(parse_qsl(raw.decode("utf-8"), keep_blank_values=True, max_num_fields=8))
    except (UnicodeDecodeError, ValueError) as exc:
        raise InvalidPayload("the form is not URL-encoded UTF-8") from exc


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
    @router.post(CALLBACK_PATH, openapi_extra={"requestBody": CALLBACK_BODY})
    async def callback(request: Request) -> Response:
        pagos = service(request)
        body = await read_limited_body(request, MAX_CALLBACK_BYTES)  # bounded before the signature is computed
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
        found = _well_formed(pago_id, t) and pagos.token_valido(pago_id, t)
        pago = await pagos.consultar(pago_id) if found else None
        if pago is None:
            return page(request, "pago_no_encontrado.html", status=404)
        return page(request, "pago.html", pago=pago, token=t)

    @router.post("/pagos/{pago_id}", response_class=HTMLResponse, openapi_extra={"requestBody": CARD_FORM})
    async def pay(request: Request, pago_id: str) -> Response:
        pagos = service(request)
        form = await _card_form(request)
        token = form.get("t", "")
        found = _well_formed(pago_id, token) and pagos.token_valido(pago_id, token)
        pago = await pagos.consultar(pago_id) if found else None
        if pago is None:
            return page(request, "pago_no_encontrado.html", status=404)
        if pago.pagado:
            return RedirectResponse(f"/pagos/{pago_id}?t={token}", status_code=303)
        try:
            confirmacion = pagos.proveedor.cobrar(
                pago_id=pago_id,
                monto=pago.monto,
                numero_tarjeta=form.get("numero", ""),
                vencimiento=form.get("vencimiento", ""),
                cvv=form.get("cvv", ""),
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
        found = _well_formed(pago_id, t) and pagos.token_valido(pago_id, t)
        pago = await pagos.consultar(pago_id) if found else None
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
