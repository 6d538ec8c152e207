"""`chasqui rotar-claves`: re-encrypt every protected field with the newest key in CHASQUI_ENCRYPTION_KEYS.

Put the new key first (the old ones stay after it, for reading), run this, then remove the old keys.
"""

from __future__ import annotations

import asyncio

from sqlalchemy import select

from bot.privacy.encryption import protector_from
from bot.settings import Settings
from bot.storage.db import create_engine, session_factory
from bot.storage.models_identity import IdentityLink
from bot.storage.models_privacy import ContactAddress
from bot.storage.models_tramites import Application


def main_rotar_claves(settings: Settings) -> int:
    protector = protector_from(settings)

    async def _rotate() -> int:
        engine = create_engine(settings.effective_database_url)
        count = 0
        try:
            async with session_factory(engine)() as session:
                for link in await session.scalars(select(IdentityLink)):
                    link.cedula_cifrada = protector.rotate(link.cedula_cifrada)
                    link.nombres_cifrados = protector.rotate(link.nombres_cifrados)
                    count += 1
                for application in await session.scalars(select(Application).where(Application.titular_cifrado != "")):
                    application.titular_cifrado = protector.rotate(application.titular_cifrado)
                    count += 1
                for address in await session.scalars(select(ContactAddress)):
                    address.address_cifrada = protector.rotate(address.address_cifrada)
                    count += 1
                await session.commit()
        finally:
            await engine.dispose()
        return count

    count = asyncio.run(_rotate())
    print(f"Registros cifrados de nuevo con la clave más reciente: {count}.")
    return 0
