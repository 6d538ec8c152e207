"""Retries, circuit breaker, audit and error mapping, with httpx.MockTransport standing in for the registries."""

from __future__ import annotations

import base64
import json
import random
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from integrations.registros.base import (
    AuditEvent,
    BaseClient,
    BreakerState,
    CircuitBreaker,
    Outcome,
    RetryPolicy,
    mask_identifier,
)
from integrations.registros.cne import CneClient, CneConfig
from integrations.registros.errors import NotFound, Rejected, Unavailable
from integrations.registros.registro_civil import RegistroCivilClient, RegistroCivilConfig
from tests.integrations.conftest import FakeClock, Kit

FIXTURES = Path(__file__).resolve().parent / "fixtures"
BASE = "http://registros.invalid"
VOTACION = (FIXTURES / "cne" / "votacion_0104567896.json").read_bytes()

Handler = Callable[[httpx.Request], httpx.Response]


class Registry:
    """A fake registry: answers each request with the next entry of a script and counts requests."""

    def __init__(self, *answers: httpx.Response | Exception) -> None:
        self.answers = list(answers)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        if isinstance(answer, Exception):
            raise answer
        return answer


def ok() -> httpx.Response:
    return httpx.Response(200, content=VOTACION, headers={"Content-Type": "application/json"})


def cne(registry: Registry, kit: Kit, **options: object) -> CneClient:
    http = httpx.AsyncClient(trust_env=False, transport=httpx.MockTransport(registry))
    return CneClient(http, CneConfig.sandbox(BASE), **{**kit.options(), **options})


async def test_timeouts_are_retried_with_backoff_then_unavailable(kit: Kit) -> None:
    registry = Registry(httpx.ReadTimeout("slow"))
    with pytest.raises(Unavailable) as unavailable:
        await cne(registry, kit).registro_votacion("0104567896")
    assert (unavailable.value.code, unavailable.value.institution, len(registry.requests)) == ("timeout", "cne", 3)
    assert len(kit.sleeps) == 2
    assert 0 <= kit.sleeps[0] <= 0.2
    assert 0 <= kit.sleeps[1] <= 0.4
    assert kit.audit == [
        AuditEvent(
            institution="cne",
            operation="registro_votacion",
            duration_ms=kit.audit[0].duration_ms,
            outcome=Outcome.UNAVAILABLE,
            identifiers=("01******96",),
            attempts=3,
            code="timeout",
        )
    ]


async def test_5xx_and_refused_connections_are_retried_then_unavailable(kit: Kit) -> None:
    registry = Registry(httpx.Response(503), httpx.ConnectError("refused"), httpx.Response(500))
    with pytest.raises(Unavailable) as unavailable:
        await cne(registry, kit).registro_votacion("0104567896")
    assert (unavailable.value.code, len(registry.requests)) == ("http_500", 3)


async def test_a_retry_that_succeeds(kit: Kit) -> None:
    registry = Registry(httpx.Response(502), ok())
    registro = await cne(registry, kit).registro_votacion("0104567896")
    assert (registro.nombre, len(registry.requests), kit.audit[0].attempts, kit.audit[0].outcome) == (
        "GUAMÁN TENESACA JUAN PABLO",
        2,
        2,
        Outcome.OK,
    )


@pytest.mark.parametrize(
    ("status", "body", "error", "code"),
    [
        (400, {"codigo": "cedula_invalida"}, Rejected, "cedula_invalida"),
        (401, {}, Rejected, "credenciales_invalidas"),
        (404, {"codigo": "no_empadronado"}, NotFound, "no_empadronado"),
        (422, {}, Rejected, "http_422"),
        (429, {"codigo": "demasiados_intentos"}, Rejected, "demasiados_intentos"),
    ],
)
async def test_4xx_are_not_retried(
    kit: Kit, status: int, body: dict[str, str], error: type[Exception], code: str
) -> None:
    registry = Registry(httpx.Response(status, json=body))
    with pytest.raises(error) as raised:
        await cne(registry, kit).registro_votacion("0104567896")
    assert (getattr(raised.value, "code", None), len(registry.requests), kit.sleeps) == (code, 1, [])


async def test_an_unreadable_answer_is_unavailable_and_not_retried(kit: Kit) -> None:
    registry = Registry(httpx.Response(200, content=b"<html>mantenimiento</html>"))
    with pytest.raises(Unavailable) as unavailable:
        await cne(registry, kit).registro_votacion("0104567896")
    assert (unavailable.value.code, unavailable.value.retryable, len(registry.requests)) == (
        "respuesta_invalida",
        False,
        1,
    )


async def test_retries_stop_once_the_breaker_opens(kit: Kit) -> None:
    registry = Registry(httpx.Response(500))
    client = cne(
        registry, kit, retry=RetryPolicy(max_attempts=5), breaker=CircuitBreaker(failure_threshold=2, clock=kit.clock)
    )
    with pytest.raises(Unavailable) as first:
        await client.registro_votacion("0104567896")
    assert (first.value.code, len(registry.requests), len(kit.sleeps), client.breaker.state) == (
        "http_500",
        2,
        1,
        BreakerState.OPEN,
    )
    with pytest.raises(Unavailable) as second:
        await client.registro_votacion("0104567896")
    assert (second.value.code, len(registry.requests)) == ("circuito_abierto", 2)
    assert [(e.attempts, e.code) for e in kit.audit] == [(2, "http_500"), (0, "circuito_abierto")]


async def test_half_open_lets_one_probe_through_and_recovers(kit: Kit) -> None:
    registry = Registry(httpx.Response(500), httpx.Response(500), ok())
    breaker = CircuitBreaker(failure_threshold=1, cooldown=30, clock=kit.clock)
    client = cne(registry, kit, retry=RetryPolicy(max_attempts=1), breaker=breaker)
    with pytest.raises(Unavailable):
        await client.registro_votacion("0104567896")
    assert [breaker.state] == [BreakerState.OPEN]
    kit.clock.advance(29)
    with pytest.raises(Unavailable):
        await client.registro_votacion("0104567896")
    assert len(registry.requests) == 1
    kit.clock.advance(1)
    assert [breaker.state] == [BreakerState.HALF_OPEN]
    with pytest.raises(Unavailable):
        await client.registro_votacion("0104567896")  # the probe fails: open for another cool-down
    assert (len(registry.requests), breaker.state) == (2, BreakerState.OPEN)
    kit.clock.advance(30)
    assert (await client.registro_votacion("0104567896")).cedula == "0104567896"
    assert (len(registry.requests), breaker.state) == (3, BreakerState.CLOSED)
    await client.registro_votacion("0104567896")
    assert len(registry.requests) == 4


def test_half_open_allows_a_single_probe_at_a_time() -> None:
    clock = FakeClock()
    breaker = CircuitBreaker(failure_threshold=1, cooldown=10, clock=clock)
    breaker.record_failure()
    clock.advance(10)
    assert [breaker.allow(), breaker.allow()] == [True, False]
    breaker.abandon()
    assert breaker.allow() is True
    breaker.record_success()
    assert (breaker.state, breaker.allow()) == (BreakerState.CLOSED, True)


class Eco(BaseClient[str]):
    """A minimal client to exercise a non-idempotent operation."""

    institution = "eco"

    async def enviar(self) -> int:
        async def exchange() -> int:
            response = await self.http.post(self.config)
            if response.status_code >= 500:
                raise Unavailable("HTTP 5xx")
            return response.status_code

        return await self._call("enviar", exchange, idempotent=False)


async def test_non_idempotent_operations_are_never_retried(kit: Kit) -> None:
    registry = Registry(httpx.ReadTimeout("slow"))
    client = Eco(httpx.AsyncClient(trust_env=False, transport=httpx.MockTransport(registry)), BASE, **kit.options())
    with pytest.raises(Unavailable):
        await client.enviar()
    assert len(registry.requests) == 1


def soap_fault(code: str) -> httpx.Response:
    body = (
        '<?xml version="1.0"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>'
        f"<soap:Fault><faultcode>{code}</faultcode><faultstring>x</faultstring></soap:Fault></soap:Body></soap:Envelope>"
    )
    return httpx.Response(500, content=body.encode(), headers={"Content-Type": "text/xml"})


async def test_soap_server_faults_are_retried_and_client_faults_are_not(kit: Kit) -> None:
    server = Registry(soap_fault("soap:Server"))
    http = httpx.AsyncClient(trust_env=False, transport=httpx.MockTransport(server))
    with pytest.raises(Unavailable) as unavailable:
        await RegistroCivilClient(http, RegistroCivilConfig.sandbox(BASE), **kit.options()).consultar_ciudadano(
            "1744444447"
        )
    assert (unavailable.value.code, len(server.requests)) == ("soap_fault", 3)
    client_fault = Registry(soap_fault("soap:Client"))
    http = httpx.AsyncClient(trust_env=False, transport=httpx.MockTransport(client_fault))
    with pytest.raises(Rejected) as rejected:
        await RegistroCivilClient(http, RegistroCivilConfig.sandbox(BASE), **kit.options()).consultar_ciudadano(
            "1744444447"
        )
    assert (rejected.value.code, len(client_fault.requests)) == ("solicitud_rechazada", 1)


async def test_the_soap_request_carries_basic_auth_and_the_package(kit: Kit) -> None:
    registry = Registry(httpx.Response(200, content=(FIXTURES / "registro_civil" / "consultar_001.xml").read_bytes()))
    http = httpx.AsyncClient(trust_env=False, transport=httpx.MockTransport(registry))
    config = RegistroCivilConfig(
        url_interoperador="https://interoperabilidad.example/interoperador-v2",
        url_validacion="https://interoperabilidad.example/validate-individual-person",
        usuario="usuario",
        contrasena="clave",
    )
    with pytest.raises(NotFound):
        await RegistroCivilClient(http, config, **kit.options()).consultar_ciudadano("1700000019")
    (request,) = registry.requests
    assert (str(request.url), request.headers["authorization"], request.headers["soapaction"]) == (
        "https://interoperabilidad.example/interoperador-v2",
        "Basic " + base64.b64encode(b"usuario:clave").decode(),
        "http://interoperabilidad.dinardap.gob.ec/interoperador/consultar",
    )
    assert request.content == (FIXTURES / "registro_civil" / "consultar_request.xml").read_bytes()
    assert "clave" not in repr(config)


def test_identifiers_are_masked() -> None:
    assert [mask_identifier(v) for v in ("1712345675", "1712345675001", "PBA-1234", "12345", "ABC")] == [
        "17******75",
        "17********001",
        "PBA-1234",
        "12*45",
        "***",
    ]


def test_backoff_grows_exponentially_up_to_the_ceiling_with_full_jitter() -> None:
    policy = RetryPolicy(max_attempts=6, base_delay=0.5, max_delay=3.0)
    rng = random.Random(1)
    delays = [policy.delay(n, rng) for n in range(1, 6) for _ in range(200)]
    ceilings = [0.5, 1.0, 2.0, 3.0, 3.0]
    for n, ceiling in enumerate(ceilings):
        chunk = delays[n * 200 : (n + 1) * 200]
        assert (min(chunk) >= 0, max(chunk) <= ceiling, max(chunk) > ceiling * 0.9) == (True, True, True)


def test_nothing_is_created_at_import_time() -> None:
    import integrations.registros.ant as ant_module

    assert [n for n, v in vars(ant_module).items() if isinstance(v, httpx.AsyncClient | CircuitBreaker)] == []
    assert json.loads(VOTACION)["ficticio"] is True
