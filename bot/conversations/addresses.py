"""The address book: real channel addresses behind pseudonymous conversation ids, encrypted at rest.

A WhatsApp conversation is ``wa:<keyed hash of the number>``: neither the app's database nor Rasa's
tracker store holds the number in clear. The outbox asks here where to deliver.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.privacy.encryption import Protector
from bot.storage import privacy as repo


class AddressBook:
    def __init__(self, *, sessions: async_sessionmaker[AsyncSession], protector: Protector) -> None:
        self._sessions = sessions
        self._protector = protector

    def pseudonym(self, channel: str, address: str) -> str:
        """The conversation id's user part for ``address`` (stable, not reversible without the key)."""
        return self._protector.lookup_hash(f"{channel}:{address}")[:20]

    async def remember(self, *, session: AsyncSession, conversation_id: str, address: str) -> None:
        await repo.save_address(
            session=session, conversation_id=conversation_id, address_cifrada=self._protector.encrypt(address)
        )

    async def resolve(self, conversation_id: str) -> str:
        """Where to send: the stored address, or the id's own user part for channels without pseudonyms."""
        async with self._sessions() as session:
            stored = await repo.address_of(session=session, conversation_id=conversation_id)
        if stored is not None:
            return self._protector.decrypt(stored)
        return conversation_id.split(":", 1)[1]
