"""Sandbox Bus de Servicios Gubernamentales: ``ValidarPermiso`` and the WS-Security check of the services behind it.

``ValidarPermiso{Cedula, Urlsw}`` grants, for one target service, a Nonce, ``Fecha``/``FechaF`` (validity) and
the PasswordDigest Base64(SHA-1(nonce + Fecha + secret)) computed with the access user's secret, which the
caller never sees. A target service accepts a call whose UsernameToken carries a granted nonce, the same
``Created`` and digest, the granted user, within the window, for that service.
"""

from __future__ import annotations

import base64
import hmac
import secrets
import xml.etree.ElementTree as ET
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from fastapi import APIRouter, Request
from fastapi.responses import Response

from integrations.registros import soap
from integrations.registros.sandbox.common import fault, soap_body, xml

ACCESO_NS = "http://bsg.gob.ec/AccesoBSGService"
SERVICIOS = ("BSGSW01_Consultar_RucSRI", "BSGSW01_Consultar_MatriculaLic")
SOAP_DOC = {
    "requestBody": {"content": {"text/xml": {"schema": {"type": "string"}}}, "required": True},
    "responses": {"200": {"content": {"text/xml": {"schema": {"type": "string"}}}}},
}


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class PermisoEmitido:
    """A permission granted by ``ValidarPermiso``."""

    usuario: str
    urlsw: str
    nonce: str
    fecha: str
    fecha_f: str
    digest: str
    vence: datetime


class Bsg:
    """Grants permissions and checks the WS-Security header of calls to the services behind the bus."""

    def __init__(
        self, *, usuarios: Mapping[str, str], ahora: Callable[[], datetime], vigencia: timedelta = timedelta(minutes=5)
    ) -> None:
        self._usuarios = dict(usuarios)
        self._ahora = ahora
        self._vigencia = vigencia
        self._permisos: dict[str, PermisoEmitido] = {}

    def emitir(self, cedula: str, urlsw: str) -> PermisoEmitido:
        """Grant a permission to the access user ``cedula`` for the service ``urlsw``."""
        ahora = self._ahora()
        self._permisos = {n: p for n, p in self._permisos.items() if p.vence > ahora}
        nonce = secrets.token_bytes(16)
        fecha = _iso(ahora)
        permiso = PermisoEmitido(
            usuario=cedula,
            urlsw=urlsw,
            nonce=base64.b64encode(nonce).decode(),
            fecha=fecha,
            fecha_f=_iso(ahora + self._vigencia),
            digest=soap.password_digest(nonce, fecha, self._usuarios[cedula]),
            vence=ahora + self._vigencia,
        )
        self._permisos[permiso.nonce] = permiso
        return permiso

    def verificar(self, documento: ET.Element, servicio: str) -> Response | None:
        """None when the envelope's WS-Security header is valid for ``servicio``; otherwise the fault to answer."""
        security = soap.header_block(documento, soap.qname(soap.WSSE, "Security"))
        if security is None:
            return fault("wsse:InvalidSecurity", "Falta la cabecera de seguridad")
        token = security.find(soap.qname(soap.WSSE, "UsernameToken"))
        password = None if token is None else token.find(soap.qname(soap.WSSE, "Password"))
        if token is None or password is None or password.get("Type") != soap.PASSWORD_DIGEST:
            return fault("wsse:InvalidSecurity", "UsernameToken con PasswordDigest requerido")
        usuario = token.findtext(soap.qname(soap.WSSE, "Username")) or ""
        nonce = token.findtext(soap.qname(soap.WSSE, "Nonce")) or ""
        created = token.findtext(soap.qname(soap.WSU, "Created")) or ""
        permiso = self._permisos.get(nonce)
        if (
            permiso is None
            or permiso.usuario != usuario
            or servicio not in permiso.urlsw
            or permiso.fecha != created
            or not hmac.compare_digest((password.text or "").strip(), permiso.digest)
        ):
            return fault("wsse:FailedAuthentication", "Token de seguridad no valido")
        if self._ahora() > permiso.vence:
            return fault("wsse:MessageExpired", "Token de seguridad caducado")
        return None

    def reset(self) -> None:
        """Forget every permission granted."""
        self._permisos.clear()

    def router(self) -> APIRouter:
        """The ``ValidarPermiso`` route."""
        api = APIRouter(tags=["BSG"])

        @api.post(
            "/bsg/sw/STI/BSGSW08_Acceder_BSG",
            summary="BSG: ValidarPermiso (SOAP 1.1)",
            response_class=Response,
            openapi_extra=SOAP_DOC,
        )
        async def validar_permiso(request: Request) -> Response:
            body = await soap_body(request)
            if body is None:
                return fault("soap:Client", "Mensaje demasiado grande")
            try:
                payload = soap.body_payload(soap.parse(body))
            except ValueError:
                return fault("soap:Client", "Mensaje SOAP mal formado")
            if soap.local(payload.tag) != "ValidarPermiso":
                return fault("soap:Client", "Operacion no soportada")
            cedula = soap.text(payload, "Cedula") or ""
            urlsw = soap.text(payload, "Urlsw") or ""
            if cedula not in self._usuarios:
                return xml(respuesta_permiso(None, "001", "USUARIO NO AUTORIZADO"))
            if not any(s in urlsw for s in SERVICIOS):
                return xml(respuesta_permiso(None, "002", "SERVICIO NO AUTORIZADO"))
            return xml(respuesta_permiso(self.emitir(cedula, urlsw), "000", "OK"))

        return api


def respuesta_permiso(permiso: PermisoEmitido | None, cod_error: str, mensaje: str) -> bytes:
    """A ``ValidarPermisoResponse`` envelope."""
    response = ET.Element(soap.qname(ACCESO_NS, "ValidarPermisoResponse"))
    retorno = soap.sub(response, "return")
    if permiso is not None:
        soap.sub(retorno, "Digest", permiso.digest)
        soap.sub(retorno, "Fecha", permiso.fecha)
        soap.sub(retorno, "FechaF", permiso.fecha_f)
        soap.sub(retorno, "Nonce", permiso.nonce)
    estado = soap.sub(retorno, "Mensaje")
    soap.sub(estado, "CodError", cod_error)
    soap.sub(estado, "DesError", mensaje)
    return soap.envelope(response)


async def leer_llamada(request: Request, bsg: Bsg, servicio: str, operacion: str) -> ET.Element | Response:
    """Read a call to a service behind the bus: its Body payload, or the fault to answer."""
    body = await soap_body(request)
    if body is None:
        return fault("soap:Client", "Mensaje demasiado grande")
    try:
        documento = soap.parse(body)
        payload = soap.body_payload(documento)
    except ValueError:
        return fault("soap:Client", "Mensaje SOAP mal formado")
    rechazo = bsg.verificar(documento, servicio)
    if rechazo is not None:
        return rechazo
    if soap.local(payload.tag) != operacion:
        return fault("soap:Client", "Operacion no soportada")
    return payload
