"""Rights need a current identity link, checked at the moment of the action; expired links are purged.

Regression (issue 12): on a shared computer an expired link still allowed «copia de mis datos» and «borrar mis
datos» of the previous citizen, indefinitely.
"""

from __future__ import annotations

import json
from datetime import timedelta

from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import select

from bot.actions.privacy import ActionExportarMisDatos
from bot.storage.models import utcnow
from bot.storage.models_identity import IdentityLink
from bot.storage.models_tramites import Application
from tests.actions.builders import tracker
from tests.actions.conftest import World, keys_dir, world  # noqa: F401 - fixtures
from tests.privacy.test_derechos import _citizen_with_history


async def expire(world: World, sender: str) -> None:  # noqa: F811
    async with world.services.identidad._sessions() as session:
        link = await session.get(IdentityLink, sender)
        assert link is not None
        link.expires_at = utcnow() - timedelta(minutes=1)
        await session.commit()


async def test_an_expired_link_gives_no_copy_of_the_previous_citizens_data(world: World) -> None:  # noqa: F811
    await _citizen_with_history(world, "web:compartida")
    await expire(world, "web:compartida")
    dispatcher = CollectingDispatcher()
    await ActionExportarMisDatos().run(dispatcher, tracker(sender_id="web:compartida"), {})
    token = dispatcher.messages[0]["text"].rsplit("/mis-datos/", 1)[1].split()[0]
    data = json.loads(world.services.exportes.get(token) or b"{}")
    assert data.get("identidad") is None
    assert data.get("solicitudes", []) == [] and data.get("documentos", []) == []


async def test_an_expired_link_deletes_only_the_chat_not_the_citizens_records(world: World) -> None:  # noqa: F811
    await _citizen_with_history(world, "web:compartida")
    await expire(world, "web:compartida")
    await world.services.privacidad.borrar("web:compartida")
    async with world.services.identidad._sessions() as session:
        applications = (await session.scalars(select(Application))).all()
    assert [a.tramite for a in applications] == ["antecedentes_penales"]  # the citizen's record stays


async def test_the_purge_removes_expired_links(world: World) -> None:  # noqa: F811
    await _citizen_with_history(world, "web:compartida")
    await world.services.identidad.verify("web:otra", "1712345675", "V4443V4442")
    await expire(world, "web:compartida")
    totals = await world.services.privacidad.purgar()
    assert totals["vinculos_vencidos"] == 1
    async with world.services.identidad._sessions() as session:
        assert [link.conversation_id for link in (await session.scalars(select(IdentityLink))).all()] == ["web:otra"]
