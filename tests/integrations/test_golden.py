"""Golden payloads: the sandbox answers exactly what is recorded, and the clients read what is recorded.

Run with ``CHASQUI_GOLDEN=regenerar`` to rewrite the files after a deliberate change of the wire format.
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import httpx
import pytest

from integrations.registros import soap
from integrations.registros.ant import AntClient, AntConfig, solicita_matricula_request
from integrations.registros.bsg import SANDBOX_CEDULA_ACCESO, BsgConfig, BsgSession, validar_permiso_request
from integrations.registros.cne import CneClient, CneConfig
from integrations.registros.ministerio_interior import MinisterioInteriorClient, MinisterioInteriorConfig
from integrations.registros.records import AntecedentesPenales, EstadoMatricula, Licencia
from integrations.registros.registro_civil import RegistroCivilClient, RegistroCivilConfig, consultar_request
from integrations.registros.sandbox.bsg import PermisoEmitido, respuesta_permiso
from integrations.registros.sri import SriClient, SriConfig, obtener_completo_request
from tests.integrations.conftest import Kit, Sandbox
from tests.integrations.test_ant import CITACIONES_CARLOS, DMAX
from tests.integrations.test_registro_civil import PABLO

FIXTURES = Path(__file__).resolve().parent / "fixtures"
REGENERATE = os.environ.get("CHASQUI_GOLDEN") == "regenerar"
BASE = "http://registros.invalid"
PERMISO = PermisoEmitido(
    usuario=SANDBOX_CEDULA_ACCESO,
    urlsw=f"{BASE}/bsg/sw/SRI/BSGSW01_Consultar_RucSRI?wsdl",
    nonce="MDEyMzQ1Njc4OWFiY2RlZg==",
    fecha="2026-03-01T15:00:00Z",
    fecha_f="2026-03-01T15:05:00Z",
    digest="kCzaqAi3SK1YpHgNsqwFq9hF2w8=",
    vence=datetime(2026, 3, 1, 15, 5, tzinfo=UTC),
)


def golden(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def assert_golden(name: str, actual: bytes) -> None:
    path = FIXTURES / name
    if REGENERATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        if name.endswith(".json"):
            actual = (json.dumps(json.loads(actual), ensure_ascii=False, indent=2) + "\n").encode()
        path.write_bytes(actual)
    if name.endswith(".json"):
        assert json.loads(actual) == json.loads(path.read_bytes())
    else:
        assert actual == path.read_bytes()


# -- what the sandbox (and the clients) put on the wire ------------------------------------------------------


def test_request_envelopes() -> None:
    assert_golden("registro_civil/consultar_request.xml", consultar_request("5362", "1700000019"))
    assert_golden(
        "bsg/validar_permiso_request.xml",
        validar_permiso_request(SANDBOX_CEDULA_ACCESO, f"{BASE}/bsg/sw/SRI/BSGSW01_Consultar_RucSRI?wsdl"),
    )
    assert_golden("bsg/validar_permiso.xml", respuesta_permiso(PERMISO, "000", "OK"))


@pytest.mark.parametrize(
    ("name", "paquete", "cedula"),
    [
        ("registro_civil/consultar_5362_1744444447.xml", "5362", "1744444447"),
        ("registro_civil/consultar_9001_1733333338.xml", "9001", "1733333338"),
        ("registro_civil/consultar_001.xml", "5362", "1700000019"),
    ],
)
def test_the_sandbox_interoperador_answers_the_golden_payloads(
    sandbox: Sandbox, name: str, paquete: str, cedula: str
) -> None:
    response = sandbox.admin.post(
        "/dinardap/interoperador-v2", content=consultar_request(paquete, cedula), auth=("chasqui", "sandbox")
    )
    assert_golden(name, response.content)


@pytest.mark.parametrize(
    ("name", "path"),
    [
        ("ant/licencia_1811111119.json", "/ant/v1/personas/1811111119/licencia"),
        ("ant/vehiculos_0923456784.json", "/ant/v1/personas/0923456784/vehiculos"),
        ("ant/citaciones_0923456784.json", "/ant/v1/citaciones?cedula=0923456784"),
        ("cne/votacion_0104567896.json", "/cne/v1/votacion/0104567896"),
        (
            "ministerio_interior/antecedentes_0922222229.json",
            "/ministerio-interior/v1/antecedentes/0922222229?motivo=Requisito+para+un+empleo",
        ),
    ],
)
def test_the_sandbox_rest_services_answer_the_golden_payloads(sandbox: Sandbox, name: str, path: str) -> None:
    assert_golden(name, sandbox.admin.get(path).content)


def test_the_identity_check_answers_the_golden_payload(sandbox: Sandbox) -> None:
    response = sandbox.admin.post(
        "/registro-civil/v1/validate-individual-person",
        json={"identificacion": "1744444447", "individualDactilar": "I1234V4321"},
        auth=("chasqui", "sandbox"),
    )
    assert_golden("registro_civil/validate_individual_person.json", response.content)


async def test_the_sandbox_bsg_services_answer_the_golden_payloads(sandbox: Sandbox, http: httpx.AsyncClient) -> None:
    session = BsgSession(http, BsgConfig.sandbox(sandbox.url), clock=lambda: 0.0, timeout=5)
    sri = SriConfig.sandbox(sandbox.url)
    ant = AntConfig.sandbox(sandbox.url)
    for name, config_url, urlsw, payload in (
        (
            "sri/obtener_completo_0711111112001.xml",
            sri.url_ruc,
            sri.effective_urlsw,
            obtener_completo_request("0711111112001", fuente_datos="T"),
        ),
        (
            "ant/solicita_matricula_GBC-2468.xml",
            ant.url_matricula,
            ant.effective_urlsw,
            solicita_matricula_request("GBC-2468", canal="1", usuario="CHASQUI"),
        ),
    ):
        permiso = await session.permiso(urlsw)
        header = soap.security_header(
            username=SANDBOX_CEDULA_ACCESO,
            digest=permiso.digest,
            nonce=permiso.nonce,
            created=permiso.fecha,
            expires=permiso.fecha_f,
        )
        response = await http.post(config_url, content=soap.envelope(payload, header=[header]))
        assert_golden(name, response.content)


# -- what the clients read -----------------------------------------------------------------------------------


def serve(routes: dict[str, bytes]) -> httpx.AsyncClient:
    """An httpx client whose requests are answered from golden files, by path."""

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=routes[request.url.path])

    return httpx.AsyncClient(trust_env=False, transport=httpx.MockTransport(handler))


async def test_the_registro_civil_client_reads_the_golden_payloads(kit: Kit) -> None:
    http = serve(
        {
            "/dinardap/interoperador-v2": golden("registro_civil/consultar_5362_1744444447.xml"),
            "/registro-civil/v1/validate-individual-person": golden("registro_civil/validate_individual_person.json"),
        }
    )
    client = RegistroCivilClient(http, RegistroCivilConfig.sandbox(BASE), **kit.options())
    assert await client.consultar_ciudadano("1744444447") == PABLO
    assert await client.verificar_identidad("1744444447", "I1234V4321") == PABLO


async def test_the_rest_clients_read_the_golden_payloads(kit: Kit) -> None:
    http = serve(
        {
            "/ant/v1/personas/1811111119/licencia": golden("ant/licencia_1811111119.json"),
            "/ant/v1/citaciones": golden("ant/citaciones_0923456784.json"),
            "/cne/v1/votacion/0104567896": golden("cne/votacion_0104567896.json"),
            "/ministerio-interior/v1/antecedentes/0922222229": golden(
                "ministerio_interior/antecedentes_0922222229.json"
            ),
        }
    )
    ant = AntClient(http, AntConfig.sandbox(BASE), **kit.options())
    assert await ant.licencia("1811111119") == Licencia(
        cedula="1811111119",
        tipo="C",
        fecha_emision=datetime(2021, 4, 15).date(),
        fecha_vencimiento=datetime(2026, 4, 15).date(),
        puntos=Decimal(30),
        tipo_sangre="O-",
        restricciones="USAR LENTES",
        ficticio=True,
    )
    assert await ant.citaciones(cedula="0923456784") == CITACIONES_CARLOS
    votos = await CneClient(http, CneConfig.sandbox(BASE), **kit.options()).registro_votacion("0104567896")
    assert votos.multa_pendiente == Decimal("94.00")
    certificado = await MinisterioInteriorClient(
        http, MinisterioInteriorConfig.sandbox(BASE), **kit.options()
    ).antecedentes("0922222229", motivo="Requisito para un empleo")
    assert certificado == AntecedentesPenales(
        cedula="0922222229",
        nombre="INTRIAGO LOOR WILSON FABIÁN",
        registra=True,
        numero_certificado=certificado.numero_certificado,
        fecha_emision=datetime(2026, 3, 1).date(),
        valido_hasta=datetime(2026, 3, 1).date() + timedelta(days=90),
        ficticio=True,
    )


async def test_the_bsg_clients_read_the_golden_payloads(kit: Kit) -> None:
    http = serve(
        {
            "/bsg/sw/STI/BSGSW08_Acceder_BSG": golden("bsg/validar_permiso.xml"),
            "/bsg/sw/SRI/BSGSW01_Consultar_RucSRI": golden("sri/obtener_completo_0711111112001.xml"),
            "/bsg/sw/ANT/BSGSW01_Consultar_MatriculaLic": golden("ant/solicita_matricula_GBC-2468.xml"),
        }
    )
    ruc = await SriClient(http, SriConfig.sandbox(BASE), **kit.options()).ruc("0711111112001")
    assert (ruc.razon_social, [a.codigo for a in ruc.actividades]) == (
        "ROMERO CALLE GABRIELA ALEJANDRA",
        ["G4711.01", "C1071.01"],
    )
    matricula = await AntClient(http, AntConfig.sandbox(BASE), **kit.options()).matricula("GBC-2468")
    assert (matricula.vehiculo, matricula.estado, matricula.total) == (DMAX, EstadoMatricula.VENCIDA, Decimal("532.90"))
