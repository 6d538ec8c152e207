"""The background worker: an application kept pending by a registry outage completes later and the
citizen gets a notification through their channel."""

from __future__ import annotations

from datetime import timedelta

from rasa_sdk.executor import CollectingDispatcher

from bot.storage import tramites as repo
from bot.storage.models import utcnow
from bot.tramites.antecedentes_penales.actions import ActionSolicitarAntecedentesPenales
from bot.tramites.worker import retry_due
from tests.actions.builders import tracker
from tests.actions.conftest import World, keys_dir, sandbox_fallas, world  # noqa: F401 - fixtures


async def test_a_pending_application_completes_in_the_background_and_is_notified(world: World) -> None:  # noqa: F811
    s = world.services
    await s.identidad.verify("web:rosa", "1712345675", "V4443V4442")
    await sandbox_fallas(world, institucion="ministerio_interior", caida=True)
    t = tracker(
        slots={"motivo_consulta": "para un trabajo nuevo", "confirmar_antecedentes": True}, sender_id="web:rosa"
    )
    await ActionSolicitarAntecedentesPenales().run(CollectingDispatcher(), t, {})
    [pending] = await s.solicitudes.de_ciudadano("1712345675")
    assert pending.estado == "en_proceso"

    assert await retry_due(s) == 0  # not due yet
    await sandbox_fallas(world, institucion="ministerio_interior", caida=False)
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
