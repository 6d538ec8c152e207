"""SRI client against the running sandbox, through the BSG's token step and WS-Security."""

from __future__ import annotations

from datetime import date

import httpx
import pytest

from integrations.registros.bsg import BsgConfig
from integrations.registros.errors import NotFound, Rejected
from integrations.registros.records import ActividadEconomica, EstadoRuc, Ruc
from integrations.registros.sri import SriClient, SriConfig
from tests.integrations.conftest import SSL_CONTEXT, Clientes, Kit, Sandbox


async def test_active_ruc_by_cedula(registros: Clientes) -> None:
    assert await registros.sri.ruc_por_cedula("0711111112") == Ruc(
        numero="0711111112001",
        razon_social="ROMERO CALLE GABRIELA ALEJANDRA",
        estado=EstadoRuc.ACTIVO,
        tipo_contribuyente="PERSONA NATURAL",
        obligado_contabilidad=False,
        actividades=(
            ActividadEconomica("G4711.01", "VENTA AL POR MENOR DE GRAN VARIEDAD DE PRODUCTOS EN TIENDAS DE ABARROTES"),
            ActividadEconomica("C1071.01", "ELABORACIÓN DE PAN Y OTROS PRODUCTOS DE PANADERÍA"),
        ),
        fecha_inicio_actividades=date(2019, 6, 10),
        ficticio=True,
    )


async def test_suspended_ruc_by_number(registros: Clientes) -> None:
    ruc = await registros.sri.ruc("1111111116001")
    assert (ruc.numero, ruc.estado) == ("1111111116001", EstadoRuc.SUSPENDIDO)


async def test_a_person_without_ruc_and_an_invalid_number(registros: Clientes) -> None:
    with pytest.raises(NotFound):
        await registros.sri.ruc_por_cedula("1712345675")
    with pytest.raises(Rejected) as rejected:
        await registros.sri.ruc("1712345675000")
    assert rejected.value.code == "ruc_invalido"


class Counting(httpx.AsyncBaseTransport):
    """A real HTTP transport that counts the requests per path."""

    def __init__(self) -> None:
        self.inner = httpx.AsyncHTTPTransport(verify=SSL_CONTEXT)
        self.paths: list[str] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.paths.append(request.url.path)
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


async def test_the_bsg_permission_is_obtained_once_and_reused(sandbox: Sandbox, kit: Kit) -> None:
    transport = Counting()
    async with httpx.AsyncClient(trust_env=False, transport=transport, verify=SSL_CONTEXT) as http:
        sri = SriClient(http, SriConfig.sandbox(sandbox.url), **kit.options())
        await sri.ruc("0711111112001")
        await sri.ruc("1111111116001")
    assert transport.paths == [
        "/bsg/sw/STI/BSGSW08_Acceder_BSG",
        "/bsg/sw/SRI/BSGSW01_Consultar_RucSRI",
        "/bsg/sw/SRI/BSGSW01_Consultar_RucSRI",
    ]


async def test_a_permission_past_its_renewal_time_is_renewed(sandbox: Sandbox, kit: Kit) -> None:
    transport = Counting()
    async with httpx.AsyncClient(trust_env=False, transport=transport, verify=SSL_CONTEXT) as http:
        sri = SriClient(http, SriConfig.sandbox(sandbox.url), **kit.options())
        await sri.ruc("0711111112001")
        kit.clock.advance(300)
        await sri.ruc("0711111112001")
    assert [p.rsplit("/", 1)[1] for p in transport.paths] == [
        "BSGSW08_Acceder_BSG",
        "BSGSW01_Consultar_RucSRI",
        "BSGSW08_Acceder_BSG",
        "BSGSW01_Consultar_RucSRI",
    ]


async def test_an_access_user_unknown_to_the_bsg_is_refused(
    sandbox: Sandbox, kit: Kit, http: httpx.AsyncClient
) -> None:
    config = SriConfig.sandbox(sandbox.url)
    otro = SriConfig(url_ruc=config.url_ruc, bsg=BsgConfig.sandbox(sandbox.url, cedula_acceso="1712345675"))
    with pytest.raises(Rejected) as rejected:
        await SriClient(http, otro, **kit.options()).ruc("0711111112001")
    assert rejected.value.code == "permiso_denegado"


async def test_a_call_without_ws_security_is_refused(sandbox: Sandbox, http: httpx.AsyncClient) -> None:
    from integrations.registros import soap
    from integrations.registros.sri import obtener_completo_request

    response = await http.post(
        sandbox.url + "/bsg/sw/SRI/BSGSW01_Consultar_RucSRI",
        content=soap.envelope(obtener_completo_request("0711111112001", fuente_datos="T")),
        headers={"Content-Type": soap.CONTENT_TYPE},
    )
    with pytest.raises(Rejected) as rejected:
        soap.read_response(response)
    assert (response.status_code, rejected.value.code) == (500, "autenticacion_fallida")
