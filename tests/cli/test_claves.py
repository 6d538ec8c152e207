"""Key rotation: after `rotar-claves` with a new key first, the old key alone no longer decrypts."""

from __future__ import annotations

import asyncio

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import select

from bot.cli.keys import main_rotar_claves
from bot.privacy.encryption import KeyConfigurationError, protector_from
from bot.settings import Settings
from bot.storage.db import create_engine, migrate, session_factory
from bot.storage.models import utcnow
from bot.storage.models_identity import IdentityLink


def test_rotation_moves_every_value_to_the_new_key(settings: Settings) -> None:
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    before = settings.model_copy(update={"encryption_keys": old, "hash_key": "h" * 40})
    migrate(before.effective_database_url)

    async def _store() -> None:
        protector = protector_from(before)
        engine = create_engine(before.effective_database_url)
        async with session_factory(engine)() as session:
            session.add(
                IdentityLink(
                    conversation_id="web:a",
                    cedula_hash=protector.lookup_hash("1712345675"),
                    cedula_cifrada=protector.encrypt("1712345675"),
                    nombres_cifrados=protector.encrypt("Ana"),
                    nivel="dactilar",
                    expires_at=utcnow(),
                )
            )
            await session.commit()
        await engine.dispose()

    asyncio.run(_store())
    after = before.model_copy(update={"encryption_keys": f"{new},{old}"})
    assert main_rotar_claves(after) == 0

    async def _read() -> str:
        engine = create_engine(after.effective_database_url)
        async with session_factory(engine)() as session:
            [link] = (await session.scalars(select(IdentityLink))).all()
        await engine.dispose()
        return link.cedula_cifrada

    token = asyncio.run(_read())
    assert protector_from(before.model_copy(update={"encryption_keys": new})).decrypt(token) == "1712345675"
    with pytest.raises(KeyConfigurationError):
        protector_from(before).decrypt(token)  # the old key alone cannot read it any more
