"""Bus de Servicios Gubernamentales (BSG): the ``ValidarPermiso`` token step and WS-Security calls behind it.

The BSG hands out, per target service (``Urlsw``), a ``Digest``, a ``Nonce`` and a validity window
(``Fecha`` … ``FechaF``); the call to the target service carries them as a WS-Security UsernameToken with
PasswordDigest. Permissions are cached until shortly before they expire, measured on our monotonic clock
from the window the BSG grants, so clock skew between the BSG and us does not matter.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import datetime

import httpx

from integrations.registros import soap
from integrations.registros.base import Clock
from integrations.registros.errors import Rejected

ACCESO_NS = "http://bsg.gob.ec/AccesoBSGService"
ACCESO_PATH = "/sw/STI/BSGSW08_Acceder_BSG"
SANDBOX_CEDULA_ACCESO = "1700000001"


@dataclass(frozen=True)
class BsgConfig:
    """Where the BSG's access service is and who we are to it.

    Attributes:
        url_acceso: endpoint of ``BSGSW08_Acceder_BSG`` (production ``https://www.bsg.gob.ec/sw/STI/BSGSW08_Acceder_BSG``,
            tests ``https://pru.bsg.gob.ec/...``).
        cedula_acceso: the cédula of the institution's access user, registered at the BSG.
        margen_renovacion: seconds before expiry at which a cached permission is renewed.
    """

    url_acceso: str
    cedula_acceso: str
    margen_renovacion: float = 30.0

    @classmethod
    def sandbox(cls, base_url: str, *, cedula_acceso: str = SANDBOX_CEDULA_ACCESO) -> BsgConfig:
        """The sandbox registries server's BSG at ``base_url`` (e.g. ``http://127.0.0.1:8300``)."""
        return cls(url_acceso=base_url.rstrip("/") + "/bsg" + ACCESO_PATH, cedula_acceso=cedula_acceso)


@dataclass(frozen=True)
class PermisoBsg:
    """A permission granted by ``ValidarPermiso`` for one target service."""

    digest: str
    nonce: str
    fecha: str
    fecha_f: str
    renovar_en: float


def validar_permiso_request(cedula_acceso: str, urlsw: str) -> bytes:
    """The ``ValidarPermiso`` request envelope."""
    operation = ET.Element(soap.qname(ACCESO_NS, "ValidarPermiso"))
    peticion = soap.sub(operation, "ValidarPermisoPeticion")
    soap.sub(peticion, "Cedula", cedula_acceso)
    soap.sub(peticion, "Urlsw", urlsw)
    return soap.envelope(operation)


def parse_permiso(payload: ET.Element, *, now: float, margin: float) -> PermisoBsg:
    """Read a ``ValidarPermisoResponse``; a ``CodError`` other than ``000`` is a refusal."""
    cod_error = soap.text(payload, "CodError")
    if cod_error != "000":
        raise Rejected("permiso_denegado", f"BSG CodError {cod_error}")
    fecha = soap.required_text(payload, "Fecha")
    fecha_f = soap.required_text(payload, "FechaF")
    window = (datetime.fromisoformat(fecha_f) - datetime.fromisoformat(fecha)).total_seconds()
    return PermisoBsg(
        digest=soap.required_text(payload, "Digest"),
        nonce=soap.required_text(payload, "Nonce"),
        fecha=fecha,
        fecha_f=fecha_f,
        renovar_en=now + max(0.0, window - margin),
    )


class BsgSession:
    """Calls services behind the BSG: obtains and caches permissions, signs each call with WS-Security."""

    def __init__(
        self, http: httpx.AsyncClient, config: BsgConfig, *, clock: Clock, timeout: float | httpx.Timeout
    ) -> None:
        self._http = http
        self._config = config
        self._clock = clock
        self._timeout = timeout
        self._permisos: dict[str, PermisoBsg] = {}

    async def permiso(self, urlsw: str) -> PermisoBsg:
        """A valid permission for the service ``urlsw``, from the cache or from ``ValidarPermiso``."""
        cached = self._permisos.get(urlsw)
        if cached is not None and self._clock() < cached.renovar_en:
            return cached
        response = await self._http.post(
            self._config.url_acceso,
            content=validar_permiso_request(self._config.cedula_acceso, urlsw),
            headers={"Content-Type": soap.CONTENT_TYPE, "SOAPAction": '""'},
            timeout=self._timeout,
        )
        permiso = parse_permiso(soap.read_response(response), now=self._clock(), margin=self._config.margen_renovacion)
        self._permisos[urlsw] = permiso
        return permiso

    def invalidar(self, urlsw: str) -> None:
        """Forget the cached permission for ``urlsw``."""
        self._permisos.pop(urlsw, None)

    async def call(self, *, url: str, urlsw: str, payload: ET.Element) -> ET.Element:
        """POST ``payload`` to ``url`` with a WS-Security header and return the answer's Body payload.

        A WS-Security fault (e.g. a permission the BSG no longer accepts) renews the permission once.
        """
        for renewed in (False, True):
            permiso = await self.permiso(urlsw)
            header = soap.security_header(
                username=self._config.cedula_acceso,
                digest=permiso.digest,
                nonce=permiso.nonce,
                created=permiso.fecha,
                expires=permiso.fecha_f,
            )
            response = await self._http.post(
                url,
                content=soap.envelope(payload, header=[header]),
                headers={"Content-Type": soap.CONTENT_TYPE, "SOAPAction": '""'},
                timeout=self._timeout,
            )
            try:
                return soap.read_response(response)
            except Rejected as exc:
                if exc.code != "autenticacion_fallida" or renewed:
                    raise
                self.invalidar(urlsw)
        raise AssertionError("unreachable")  # pragma: no cover
