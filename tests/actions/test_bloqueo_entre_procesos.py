"""Identity lockouts hold across processes: attempts per chat and per cédula are rows in the shared database, so
a lockout reached through one action server (its own engine, as another process has) holds on another."""

from __future__ import annotations

from bot.identity.service import IdentityService, Resultado
from bot.storage.db import create_engine, session_factory
from tests.actions.conftest import World
from tests.actions.test_intentos_por_cedula import CEDULA, DACTILAR, WRONG, Clock


async def test_a_lockout_reached_through_one_process_holds_on_another(world: World) -> None:
    clock = Clock()
    shared = world.services.identidad
    first = IdentityService(
        sessions=shared._sessions, registro_civil=shared._registro_civil, protector=shared._protector, clock=clock
    )
    engine = create_engine(world.services.settings.effective_database_url)
    try:
        second = IdentityService(
            sessions=session_factory(engine),
            registro_civil=shared._registro_civil,
            protector=shared._protector,
            clock=clock,
        )
        results = [(await first.verify("web:ataque", CEDULA, WRONG)).resultado for _ in range(3)]
        assert results == [Resultado.NO_COINCIDE, Resultado.NO_COINCIDE, Resultado.BLOQUEADO]
        # The same chat, through the other process, with the right code: still locked, not even asked.
        locked = await second.verify("web:ataque", CEDULA, DACTILAR)
        assert locked.resultado is Resultado.EN_ESPERA and locked.bloqueado_hasta is not None
        # A new chat on the other process: the cédula's own pause holds there too.
        paused = await second.verify("web:otro-chat", CEDULA, DACTILAR)
        assert paused.resultado is Resultado.EN_ESPERA
        calls = [e for e in world.audit if getattr(e, "operation", "") == "verificar_identidad"]
        assert len(calls) == 3
    finally:
        await engine.dispose()
