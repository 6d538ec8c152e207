"""The background worker: an application kept pending by a registry outage completes later and the
citizen gets a notification through their channel."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from rasa_sdk.executor import CollectingDispatcher

from bot.storage import tramites as repo
from bot.storage.models import utcnow
from bot.tramites.antecedentes_penales.actions import ActionSolicitarAntecedentesPenales
from bot.tramites.solicitudes import PROCESSING_LEASE
from bot.tramites.worker import retry_due
from tests.actions.builders import tracker
from tests.actions.conftest import World, keys_dir, sandbox_fallas, world  # noqa: F401 - fixtures


async def test_a_pending_application_completes_in_the_background_and_is_notified(world: World) -> None:  # noqa: F811
    s = world.services
    await pending_after_outage(world)
    [pending] = await s.solicitudes.de_ciudadano("1712345675")
    assert pending.estado == "en_proceso"

    assert await retry_due(s) == 0  # not due yet
    s.solicitudes._clock = lambda: utcnow() + timedelta(minutes=2)  # type: ignore[method-assign]
    assert await retry_due(s) == 1

    [done] = await s.solicitudes.de_ciudadano("1712345675")
    assert done.estado == "emitida"
    assert len(await s.solicitudes.documentos(done.id)) == 1
    history = [m.estado for m in await s.solicitudes.historial(done.id)]
    assert history == ["recibida", "en_proceso", "en_proceso", "aprobada", "emitida"]
    async with s.identidad._sessions() as session:  # the notification waits for the gateway to deliver it
        [notification] = await repo.undelivered_notifications(session=session)
    assert (notification.conversation_id, notification.plantilla, notification.valores) == (
        "web:rosa",
        "tramite_emitido_notificacion",
        {"numero": done.numero, "documentos": list(await s.solicitudes.documentos(done.id))},
    )


async def pending_after_outage(world: World) -> None:  # noqa: F811
    s = world.services
    await s.identidad.verify("web:rosa", "1712345675", "V4443V4442")
    await sandbox_fallas(world, institucion="ministerio_interior", caida=True)
    t = tracker(
        slots={"motivo_consulta": "para un trabajo nuevo", "confirmar_antecedentes": True}, sender_id="web:rosa"
    )
    await ActionSolicitarAntecedentesPenales().run(CollectingDispatcher(), t, {})
    await sandbox_fallas(world, institucion="ministerio_interior", caida=False)


async def test_two_workers_at_once_issue_one_certificate(world: World) -> None:  # noqa: F811
    s = world.services
    await pending_after_outage(world)
    s.solicitudes._clock = lambda: utcnow() + timedelta(minutes=2)  # type: ignore[method-assign]

    assert sorted(await asyncio.gather(retry_due(s), retry_due(s))) == [0, 1]

    [done] = await s.solicitudes.de_ciudadano("1712345675")
    assert done.estado == "emitida"
    assert len(await s.solicitudes.documentos(done.id)) == 1
    async with s.identidad._sessions() as session:
        assert len(await repo.undelivered_notifications(session=session)) == 1


async def test_an_application_a_dead_worker_held_is_taken_over_after_its_lease(world: World) -> None:  # noqa: F811
    s = world.services
    await pending_after_outage(world)
    start = utcnow() + timedelta(minutes=2)
    s.solicitudes._clock = lambda: start  # type: ignore[method-assign]
    [(claimed, _)] = await s.solicitudes.pendientes_de_reintento()  # a worker took it, then was killed

    assert await retry_due(s) == 0  # still its own
    s.solicitudes._clock = lambda: start + PROCESSING_LEASE + timedelta(seconds=1)  # type: ignore[method-assign]
    assert await retry_due(s) == 1
    [done] = await s.solicitudes.de_ciudadano("1712345675")
    assert (done.id, done.estado) == (claimed.id, "emitida")
    assert len(await s.solicitudes.documentos(done.id)) == 1


async def test_a_worker_that_died_after_issuing_leaves_one_certificate(world: World) -> None:  # noqa: F811
    s = world.services
    await pending_after_outage(world)
    start = utcnow() + timedelta(minutes=2)
    s.solicitudes._clock = lambda: start  # type: ignore[method-assign]
    attach = s.solicitudes.adjuntar_documento

    async def killed(solicitud_id: int, document_id: str) -> None:
        raise SystemExit("SIGKILL between signing the certificate and attaching it")

    s.solicitudes.adjuntar_documento = killed  # type: ignore[method-assign]
    with pytest.raises(SystemExit):
        await retry_due(s)
    [held] = await s.solicitudes.de_ciudadano("1712345675")
    assert held.estado == "aprobada"
    assert len(await s.documents.issuer.of_holder("1712345675")) == 1

    s.solicitudes.adjuntar_documento = attach  # type: ignore[method-assign]
    s.solicitudes._clock = lambda: start + PROCESSING_LEASE + timedelta(seconds=1)  # type: ignore[method-assign]
    assert await retry_due(s) == 1
    [done] = await s.solicitudes.de_ciudadano("1712345675")
    assert done.estado == "emitida"
    [issued] = await s.documents.issuer.of_holder("1712345675")
    assert list(await s.solicitudes.documentos(done.id)) == [issued.id]
