"""Faults switched on the running sandbox at run time, seen through the clients."""

from __future__ import annotations

import httpx
import pytest

from integrations.registros.base import BreakerState, CircuitBreaker, Outcome, RetryPolicy
from integrations.registros.errors import Unavailable
from tests.integrations.conftest import Kit, Sandbox, clientes


async def test_an_institution_down_is_unavailable_and_the_others_still_answer(
    sandbox: Sandbox, http: httpx.AsyncClient, kit: Kit
) -> None:
    sandbox.fallas(institucion="cne", caida=True)
    registros = clientes(http, sandbox.url, kit)
    with pytest.raises(Unavailable) as unavailable:
        await registros.cne.registro_votacion("1712345675")
    assert (unavailable.value.code, kit.audit[-1].attempts) == ("http_503", 3)
    assert (await registros.ant.licencia("1712345675")) is not None


async def test_a_registry_that_hangs_past_the_timeout_is_unavailable(
    sandbox: Sandbox, http: httpx.AsyncClient, kit: Kit
) -> None:
    sandbox.fallas(institucion="ministerio_interior", colgar_ms=1500)
    registros = clientes(http, sandbox.url, kit, timeout=0.2, retry=RetryPolicy(max_attempts=2))
    with pytest.raises(Unavailable) as unavailable:
        await registros.ministerio_interior.antecedentes("1712345675", motivo="Requisito para un empleo")
    assert (unavailable.value.code, kit.audit[-1].attempts) == ("timeout", 2)


async def test_soap_services_fail_with_a_server_fault(sandbox: Sandbox, http: httpx.AsyncClient, kit: Kit) -> None:
    sandbox.fallas(institucion="registro_civil", tasa_error=1.0)
    with pytest.raises(Unavailable) as unavailable:
        await clientes(http, sandbox.url, kit).registro_civil.consultar_ciudadano("1712345675")
    assert unavailable.value.code == "soap_fault"


async def test_the_bsg_down_makes_the_services_behind_it_unavailable(
    sandbox: Sandbox, http: httpx.AsyncClient, kit: Kit
) -> None:
    sandbox.fallas(institucion="bsg", caida=True)
    with pytest.raises(Unavailable):
        await clientes(http, sandbox.url, kit).sri.ruc("0711111112001")


async def test_latency_is_added(sandbox: Sandbox, http: httpx.AsyncClient, kit: Kit) -> None:
    sandbox.fallas(institucion="cne", latencia_ms=150)
    await clientes(http, sandbox.url, kit).cne.registro_votacion("1712345675")
    assert kit.audit[-1].duration_ms >= 150


async def test_a_seeded_error_rate_fails_the_same_requests_every_time(
    sandbox: Sandbox, http: httpx.AsyncClient, kit: Kit
) -> None:
    async def pattern() -> list[str]:
        sandbox.fallas(institucion="cne", tasa_error=0.5, semilla=11)
        cne = clientes(http, sandbox.url, kit, retry=RetryPolicy(max_attempts=1), breaker=CircuitBreaker()).cne
        outcomes = []
        for _ in range(12):
            try:
                await cne.registro_votacion("1712345675")
                outcomes.append("ok")
            except Unavailable:
                outcomes.append("falla")
        return outcomes

    first = await pattern()
    assert (await pattern(), "ok" in first, "falla" in first) == (first, True, True)


async def test_the_breaker_stops_calling_a_registry_that_is_down(
    sandbox: Sandbox, http: httpx.AsyncClient, kit: Kit
) -> None:
    sandbox.fallas(institucion="ant", caida=True)
    ant = clientes(http, sandbox.url, kit, breaker=CircuitBreaker(failure_threshold=2, clock=kit.clock)).ant
    for _ in range(2):
        with pytest.raises(Unavailable):
            await ant.licencia("1712345675")
    assert [(e.attempts, e.code) for e in kit.audit] == [(2, "http_503"), (0, "circuito_abierto")]
    sandbox.reset()
    kit.clock.advance(30)
    assert (await ant.licencia("1712345675")) is not None
    assert (ant.breaker.state, kit.audit[-1].outcome) == (BreakerState.CLOSED, Outcome.OK)


def test_fault_switches_are_listed_validated_and_reset(sandbox: Sandbox) -> None:
    sandbox.fallas(institucion="sri", latencia_ms=10, tasa_error=0.25)
    assert sandbox.admin.get("/_sandbox/fallas").json() == {
        "fallas": {"sri": {"latencia_ms": 10, "tasa_error": 0.25, "colgar_ms": 0, "caida": False}}
    }
    bad = sandbox.admin.post("/_sandbox/fallas", json={"tasa_error": 2})
    assert (bad.status_code, bad.json()["codigo"]) == (400, "solicitud_invalida")
    sandbox.fallas(caida=True)
    assert sorted(sandbox.admin.get("/_sandbox/fallas").json()["fallas"]) == [
        "ant",
        "bsg",
        "cne",
        "ministerio_interior",
        "registro_civil",
        "sri",
    ]
    assert sandbox.admin.get("/healthz").status_code == 200
    sandbox.reset()
    assert sandbox.admin.get("/_sandbox/fallas").json() == {"fallas": {}}


def test_every_answer_is_marked_fictitious(sandbox: Sandbox) -> None:
    response = sandbox.admin.get("/cne/v1/votacion/1712345675")
    assert (response.headers["x-datos-ficticios"], response.json()["ficticio"]) == ("true", True)
