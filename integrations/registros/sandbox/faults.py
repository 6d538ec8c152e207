"""Fault injection switched at run time: latency, error rate, hangs and an institution fully down."""

from __future__ import annotations

import asyncio
import random
from dataclasses import asdict, dataclass
from typing import Literal

from pydantic import BaseModel, Field
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from integrations.registros import soap

Institucion = Literal["registro_civil", "ant", "ministerio_interior", "cne", "sri", "bsg"]
INSTITUCIONES: tuple[Institucion, ...] = ("registro_civil", "ant", "ministerio_interior", "cne", "sri", "bsg")

# Which institution answers each path prefix; the BSG's own token service is "bsg".
_PREFIJOS: tuple[tuple[str, Institucion], ...] = (
    ("/dinardap/", "registro_civil"),
    ("/registro-civil/", "registro_civil"),
    ("/ant/", "ant"),
    ("/bsg/sw/ANT/", "ant"),
    ("/bsg/sw/SRI/", "sri"),
    ("/bsg/sw/STI/", "bsg"),
    ("/ministerio-interior/", "ministerio_interior"),
    ("/cne/", "cne"),
)
CABECERA_FICTICIO = (b"x-datos-ficticios", b"true")


class ConfiguracionFalla(BaseModel):
    """Faults of one institution (or of all when ``institucion`` is omitted); replaces what was set before."""

    institucion: Institucion | None = Field(default=None, description="Omitted: every institution.")
    latencia_ms: int = Field(default=0, ge=0, le=60_000, description="Delay added to every answer.")
    tasa_error: float = Field(default=0.0, ge=0.0, le=1.0, description="Share of requests answered with a 500.")
    colgar_ms: int = Field(
        default=0, ge=0, le=300_000, description="Hold every request this long before answering (beyond a timeout)."
    )
    caida: bool = Field(default=False, description="Answer 503 to everything.")
    semilla: int | None = Field(default=None, description="Reseed the error draws, for repeatable runs.")


@dataclass
class Falla:
    """The faults in force for one institution."""

    latencia_ms: int = 0
    tasa_error: float = 0.0
    colgar_ms: int = 0
    caida: bool = False


def institucion_de(path: str) -> Institucion | None:
    """The institution that answers ``path`` (None for the sandbox's own routes)."""
    return next((inst for prefix, inst in _PREFIJOS if path.startswith(prefix)), None)


class Fallas:
    """The faults in force, per institution, and the seeded draw that decides which requests fail."""

    def __init__(self, *, semilla: int) -> None:
        self._semilla = semilla
        self._rng = random.Random(semilla)
        self._fallas: dict[str, Falla] = {}

    def configurar(self, configuracion: ConfiguracionFalla) -> None:
        """Apply ``configuracion`` to its institution, or to every institution."""
        if configuracion.semilla is not None:
            self._rng = random.Random(configuracion.semilla)
        falla = Falla(
            latencia_ms=configuracion.latencia_ms,
            tasa_error=configuracion.tasa_error,
            colgar_ms=configuracion.colgar_ms,
            caida=configuracion.caida,
        )
        for institucion in (configuracion.institucion,) if configuracion.institucion else INSTITUCIONES:
            self._fallas[institucion] = Falla(**asdict(falla))

    def reset(self) -> None:
        """No faults anywhere; the error draw starts again from the server's seed."""
        self._fallas.clear()
        self._rng = random.Random(self._semilla)

    def estado(self) -> dict[str, dict[str, int | float | bool]]:
        """The faults in force, by institution (institutions without faults are omitted)."""
        return {k: asdict(v) for k, v in self._fallas.items() if v != Falla()}

    def de(self, institucion: str) -> Falla | None:
        """The faults of ``institucion``, if any."""
        falla = self._fallas.get(institucion)
        return None if falla is None or falla == Falla() else falla

    def sortear_error(self, tasa: float) -> bool:
        """Whether this request fails, with probability ``tasa``."""
        return tasa > 0 and self._rng.random() < tasa


def _respuesta_falla(path: str, status: int) -> Response:
    headers = {"Retry-After": "30"} if status == 503 else {}
    if path.startswith(("/dinardap/", "/bsg/")):
        mensaje = "Servicio no disponible" if status == 503 else "Error interno del servicio"
        return Response(
            soap.fault_envelope("soap:Server", mensaje),
            status_code=status,
            media_type=soap.CONTENT_TYPE,
            headers=headers,
        )
    codigo = "servicio_no_disponible" if status == 503 else "error_interno"
    return JSONResponse({"codigo": codigo}, status_code=status, headers=headers)


class FallasMiddleware:
    """Pure ASGI middleware: applies the faults in force and marks every answer as fictitious data."""

    def __init__(self, app: ASGIApp, fallas: Fallas) -> None:
        self.app = app
        self.fallas = fallas

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_marked(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), CABECERA_FICTICIO]
            await send(message)

        path: str = scope["path"]
        institucion = institucion_de(path)
        falla = None if institucion is None else self.fallas.de(institucion)
        if falla is not None:
            if falla.caida:
                await _respuesta_falla(path, 503)(scope, receive, send_marked)
                return
            pausa = falla.latencia_ms + falla.colgar_ms
            if pausa:
                await asyncio.sleep(pausa / 1000)
            if self.fallas.sortear_error(falla.tasa_error):
                await _respuesta_falla(path, 500)(scope, receive, send_marked)
                return
        await self.app(scope, receive, send_marked)
