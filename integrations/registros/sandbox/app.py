"""The sandbox registries server: one FastAPI app for the five institutions and the BSG, over fictitious people."""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from integrations.registros.sandbox import ant, cne, ministerio_interior, registro_civil, sri
from integrations.registros.sandbox.bsg import Bsg
from integrations.registros.sandbox.catalogues import DATA_DIR, cargar_catalogos, cargar_identidades
from integrations.registros.sandbox.common import error
from integrations.registros.sandbox.faults import ConfiguracionFalla, Fallas, FallasMiddleware
from integrations.registros.sandbox.population import generar_poblacion

ECUADOR = timezone(timedelta(hours=-5))
DESCRIPTION = """Sandbox of Ecuador's public registries for Chasqui's development, demos and tests.

**Every record is FICTITIOUS** (`ficticio: true`, header `X-Datos-Ficticios: true`). Protocols follow the
real exchange where it is known (DINARDAP interoperador, BSG with WS-Security) and are plain REST elsewhere.
Faults are switched at run time under `/_sandbox/fallas`.
"""


@dataclass(frozen=True)
class Credenciales:
    """Who may call the sandbox: DINARDAP's HTTP Basic user and the BSG access users (cédula → secret).

    The BSG secrets never leave the server: the BSG hands out digests computed with them.
    """

    dinardap_usuario: str = "chasqui"
    dinardap_contrasena: str = field(default="sandbox", repr=False)
    bsg_usuarios: tuple[str, ...] = ("1700000001",)


def ecuador_today() -> date:
    """Today in Ecuador (UTC-5 all year)."""
    return datetime.now(ECUADOR).date()


def create_app(
    *,
    seed: int = 2026,
    population: int = 2000,
    hoy: date | None = None,
    data_dir: Path = DATA_DIR,
    credenciales: Credenciales | None = None,
    clock: Callable[[], float] = time.monotonic,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> FastAPI:
    """Build the sandbox registries app; the population is generated here, never at import time.

    Args:
        seed: seed of the population and of the fault draws; same seed and day, same data.
        population: number of fictitious people, the demo identities included.
        hoy: the sandbox's day (default: today in Ecuador); expiry dates and citations are placed around it.
        data_dir: folder with the word lists, catalogues and demo identities.
        credenciales: accepted credentials (default: ``chasqui``/``sandbox`` and BSG user ``1700000001``).
        clock: monotonic clock of the identity-check lock-out.
        now: wall clock of the BSG permissions.
    """
    credenciales = credenciales or Credenciales()
    poblacion = generar_poblacion(
        cargar_catalogos(directory=data_dir),
        semilla=seed,
        tamano=population,
        hoy=hoy or ecuador_today(),
        identidades=cargar_identidades(directory=data_dir),
    )
    fallas = Fallas(semilla=seed)
    bloqueos = registro_civil.Bloqueos(reloj=clock)
    bsg = Bsg(usuarios={c: secrets.token_urlsafe(24) for c in credenciales.bsg_usuarios}, ahora=now)

    app = FastAPI(
        title="Registros públicos del Ecuador (sandbox, datos ficticios)", description=DESCRIPTION, version="1"
    )
    app.state.poblacion = poblacion
    app.add_middleware(FallasMiddleware, fallas=fallas)

    @app.exception_handler(RequestValidationError)
    async def solicitud_invalida(_: Request, __: RequestValidationError) -> JSONResponse:
        return error(400, "solicitud_invalida", "SOLICITUD INVALIDA")

    app.include_router(
        registro_civil.router(
            poblacion,
            usuario=credenciales.dinardap_usuario,
            contrasena=credenciales.dinardap_contrasena,
            bloqueos=bloqueos,
        )
    )
    app.include_router(bsg.router())
    app.include_router(ant.router(poblacion, bsg))
    app.include_router(sri.router(poblacion, bsg))
    app.include_router(ministerio_interior.router(poblacion))
    app.include_router(cne.router(poblacion))

    @app.get("/healthz", tags=["Sandbox"])
    async def healthz() -> dict[str, Any]:
        """Liveness, and what this instance holds."""
        return {
            "estado": "ok",
            "ficticio": True,
            "semilla": poblacion.semilla,
            "poblacion": len(poblacion.personas),
            "hoy": poblacion.hoy.isoformat(),
        }

    @app.get("/_sandbox/fallas", tags=["Sandbox"])
    async def ver_fallas() -> dict[str, Any]:
        """The faults in force, by institution."""
        return {"fallas": fallas.estado()}

    @app.post("/_sandbox/fallas", tags=["Sandbox"])
    async def configurar_fallas(configuracion: ConfiguracionFalla) -> dict[str, Any]:
        """Set the faults of one institution (or of all): latency, error rate, hang, down."""
        fallas.configurar(configuracion)
        return {"fallas": fallas.estado()}

    @app.post("/_sandbox/reset", tags=["Sandbox"])
    async def reset() -> dict[str, Any]:
        """Clear every fault and identity-check lock-out; the error draw restarts from the seed."""
        fallas.reset()
        bloqueos.reset()
        return {"fallas": fallas.estado()}

    @app.get("/_sandbox/identidades", tags=["Sandbox"])
    async def identidades() -> dict[str, Any]:
        """The documented demo identities (fictitious)."""
        return {
            "identidades": [
                {
                    "clave": i.clave,
                    "cedula": i.cedula,
                    "codigo_dactilar": i.codigo_dactilar,
                    "nombre": i.nombre,
                    "demuestra": i.demuestra,
                }
                for i in poblacion.identidades_demo
            ],
            "ficticio": True,
        }

    return app
