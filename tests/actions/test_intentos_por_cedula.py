"""Guessing a código dactilar by opening new chats (issue 12): attempts count per cédula across chats; the
cédula pauses for minutes, not longer (its owner's correct attempt waits at most that); one staff case per
cédula, not per chat."""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.identity.service import CEDULA_PAUSE, CLIENT_FREE_FAILURES, CLIENT_PAUSE, IdentityService, Resultado
from bot.storage.models import utcnow
from tests.actions.conftest import World

CEDULA, DACTILAR, WRONG = "1712345675", "V4443V4442", "V1111V1111"


class Clock:
    def __init__(self) -> None:
        self.now = utcnow()

    def __call__(self) -> datetime:
        return self.now


def service(world: World, clock: Clock) -> IdentityService:
    s = world.services.identidad
    return IdentityService(
        sessions=s._sessions,
        registro_civil=s._registro_civil,
        protector=s._protector,
        clock=clock,
    )


async def test_new_chats_do_not_multiply_guesses_and_the_owner_waits_only_the_pause(world: World) -> None:
    clock = Clock()
    identity = service(world, clock)
    results = [(await identity.verify(f"web:ataque-{n}", CEDULA, WRONG)).resultado for n in range(8)]
    assert results[:3] == [Resultado.NO_COINCIDE] * 3
    assert results[3:] == [Resultado.EN_ESPERA] * 5  # paused: not even sent to the Registro Civil
    calls = [e for e in world.audit if getattr(e, "operation", "") == "verificar_identidad"]
    assert len(calls) == 3
    owner = await identity.verify("web:duena", CEDULA, DACTILAR)
    assert owner.resultado is Resultado.EN_ESPERA and owner.bloqueado_hasta is not None
    assert owner.bloqueado_hasta - clock.now <= CEDULA_PAUSE
    clock.now += CEDULA_PAUSE + timedelta(seconds=1)
    assert (await identity.verify("web:duena", CEDULA, DACTILAR)).resultado is Resultado.VERIFICADO


async def test_one_staff_case_per_cedula_not_per_chat(world: World) -> None:
    clock = Clock()
    identity = service(world, clock)
    outcomes = []
    for chat in ("web:a", "web:b"):
        for _ in range(3):
            outcomes.append((await identity.verify(chat, CEDULA, WRONG)).resultado)
            clock.now += CEDULA_PAUSE + timedelta(seconds=1)  # past each pause: the chats' own locks decide
    assert outcomes.count(Resultado.BLOQUEADO) == 1  # the first chat to lock opens the case
    assert outcomes[-1] is Resultado.EN_ESPERA  # the second chat locks without a second case


async def test_one_client_trying_many_cedulas_pauses_but_their_owners_do_not(world: World) -> None:
    clock = Clock()
    identity = service(world, clock)
    others = ["0923456784", "0104567896", "1722222229", "0922222229", "1311111114"]
    results = [
        (await identity.verify(f"web:ataque-{n}", others[n % len(others)], WRONG, client="k1")).resultado
        for n in range(CLIENT_FREE_FAILURES + 2)
    ]
    # Two guesses per cédula stay under each cédula's limit; the client's own limit stops the run.
    assert results[:CLIENT_FREE_FAILURES] == [Resultado.NO_COINCIDE] * CLIENT_FREE_FAILURES
    assert results[CLIENT_FREE_FAILURES:] == [Resultado.EN_ESPERA] * 2
    calls = [e for e in world.audit if getattr(e, "operation", "") == "verificar_identidad"]
    assert len(calls) == CLIENT_FREE_FAILURES
    # Even the right code waits on that client (the pause is what it costs an office behind one address) ...
    waited = await identity.verify("web:otra", CEDULA, DACTILAR, client="k1")
    assert waited.resultado is Resultado.EN_ESPERA and waited.bloqueado_hasta == clock.now + CLIENT_PAUSE
    # ... while the owner of a guessed cédula, from their own device, is not held back.
    owner = await identity.verify("telegram:carlos", "0923456784", "E1333I1222", client=None)
    assert owner.resultado is Resultado.VERIFICADO
    clock.now += CLIENT_PAUSE + timedelta(seconds=1)
    assert (await identity.verify("web:otra", CEDULA, DACTILAR, client="k1")).resultado is Resultado.VERIFICADO
