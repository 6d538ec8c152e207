"""The reminders service: subscribing and withdrawing (consent records), and the periodic round that records
what is due as notifications (the gateway delivers them through each chat's channel and its rules).

A round goes through every subscription once per Ecuador day, never in quiet hours (20:00-08:00). Per chat, the
reminders' keys and their notifications are written in one transaction: a round stopped halfway and run again
records nothing twice, and two workers racing on one chat record it once (the keys are unique).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

import structlog
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.documents.links import holder_hash
from bot.privacy.encryption import Protector
from bot.reminders import schedule
from bot.reminders.schedule import Holdings, IssuedDocument, Kind, Vehicle
from bot.storage import privacy as privacy_repo
from bot.storage import reminders as repo
from bot.storage import tramites as tramites_repo
from bot.storage.models import utcnow
from bot.storage.models_documents import Document
from bot.storage.models_reminders import ReminderSubscription
from integrations.registros.ant import AntClient
from integrations.registros.errors import NotFound, RegistroError
from integrations.registros.records import Citacion
from integrations.registros.registro_civil import RegistroCivilClient

log = structlog.get_logger(__name__)

PURPOSE = "recordatorios"  # the consent ledger's purpose for reminders
# A chat whose latest answer to this purpose is «no» (its channel's provider keeps messages abroad: the gateway's
# consent gate asks) gets no reminder: the message would carry the citizen's data abroad without consent.
TRANSFER = "transferencia_internacional"


@dataclass(frozen=True)
class Round:
    """What one round did: chats gone through, reminders recorded, chats left for the next round."""

    chats: int = 0
    recorded: int = 0
    failed: int = 0
    quiet: bool = False


class RemindersService:
    def __init__(
        self,
        *,
        sessions: async_sessionmaker[AsyncSession],
        protector: Protector,
        ant: AntClient,
        registro_civil: RegistroCivilClient,
        holder_key: bytes,
        document_titles: Mapping[str, str],
        notice_version: str,
        zone: ZoneInfo,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._sessions = sessions
        self._protector = protector
        self._ant = ant
        self._registro_civil = registro_civil
        self._holder_key = holder_key
        self._titles = dict(document_titles)
        self._version = notice_version
        self._zone = zone
        self._clock = clock

    # -- the citizen's side -----------------------------------------------------------------------------------

    async def kinds(self, conversation_id: str) -> list[str]:
        """The kinds this chat is subscribed to (empty when none)."""
        async with self._sessions() as session:
            row = await repo.subscription(session=session, conversation_id=conversation_id)
            return list(row.tipos) if row is not None else []

    async def subscribe(self, *, conversation_id: str, canal: str, cedula: str, tipos: Sequence[str]) -> list[str]:
        """Add ``tipos`` to this chat's reminders for the citizen ``cedula``, recording the consent; returns the
        kinds now subscribed."""
        async with self._sessions() as session:
            row = await repo.subscription(session=session, conversation_id=conversation_id)
            before = list(row.tipos) if row is not None else []
            kinds = [k.value for k in Kind if k.value in before or k.value in tipos]
            await repo.save_subscription(
                session=session,
                conversation_id=conversation_id,
                canal=canal,
                cedula_hash=self._protector.lookup_hash(cedula),
                cedula_cifrada=self._protector.encrypt(cedula),
                tipos=kinds,
                now=self._clock(),
            )
            if kinds != before:
                await privacy_repo.record_consent(
                    session=session,
                    conversation_id=conversation_id,
                    proposito=PURPOSE,
                    otorgado=True,
                    version_aviso=self._version,
                    canal=canal,
                )
            await session.commit()
        log.info("recordatorios.suscripcion", canal=canal, tipos=kinds)
        return kinds

    async def withdraw(self, *, conversation_id: str, tipos: Sequence[str] = ()) -> list[str] | None:
        """Stop ``tipos`` (every kind when empty); None when the chat had no reminders, else the kinds left.

        Stopping the last kind withdraws the consent: the subscription (and the encrypted cédula) goes, and the
        reminders recorded but not yet handed to the channel are dropped.
        """
        async with self._sessions() as session:
            row = await repo.subscription(session=session, conversation_id=conversation_id)
            if row is None:
                return None
            left = [k for k in row.tipos if tipos and k not in tipos]
            canal = row.canal
            if left:
                row.tipos = left
            else:
                await repo.delete_subscription(session=session, conversation_id=conversation_id)
                await repo.drop_undelivered(
                    session=session, conversation_id=conversation_id, plantillas=list(schedule.PLANTILLAS.values())
                )
                await privacy_repo.record_consent(
                    session=session,
                    conversation_id=conversation_id,
                    proposito=PURPOSE,
                    otorgado=False,
                    version_aviso=self._version,
                    canal=canal,
                )
            await session.commit()
        log.info("recordatorios.retiro", canal=canal, quedan=left)
        return left

    # -- the periodic round -----------------------------------------------------------------------------------

    async def run(self) -> Round:
        """Go through the subscriptions not yet seen today; nothing at all in quiet hours."""
        now = self._clock().astimezone(self._zone)
        if schedule.in_quiet_hours(now):
            return Round(quiet=True)
        today = now.date()
        async with self._sessions() as session:
            pending = [
                s.conversation_id
                for s in await repo.subscriptions(session=session)
                if s.revisada_el is None or s.revisada_el < today
            ]
        chats = recorded = failed = 0
        for conversation_id in pending:
            if schedule.in_quiet_hours(self._clock().astimezone(self._zone)):
                break  # a long round that reaches 20:00 stops; the rest waits for the morning
            try:
                recorded += await self._one(conversation_id, today)
                chats += 1
            except RegistroError as exc:  # the registry is down or refused: this chat waits for the next round
                failed += 1
                log.warning("recordatorios.registro_no_disponible", error=type(exc).__name__)
        if chats or failed:
            log.info("recordatorios.ronda", chats=chats, registrados=recorded, pendientes=failed)
        return Round(chats=chats, recorded=recorded, failed=failed)

    async def _one(self, conversation_id: str, today: date) -> int:
        async with self._sessions() as session:
            row = await repo.subscription(session=session, conversation_id=conversation_id)
            if row is None or (row.revisada_el is not None and row.revisada_el >= today):
                return 0  # withdrawn meanwhile, or another worker went through it
            transfer = (await privacy_repo.consents_in_force(session=session, conversation_id=conversation_id)).get(
                TRANSFER
            )
            if transfer is not None and not transfer.otorgado:
                return 0  # until the citizen accepts again; the day is not marked, so it is checked again
            cedula = self._protector.decrypt(row.cedula_cifrada)
            kinds, subscribed_on = list(row.tipos), row.created_at.astimezone(self._zone).date()
            sent = await repo.sent_keys(session=session, conversation_id=conversation_id)
        holdings = await self._holdings(cedula, kinds, today)
        due = schedule.due(
            holdings, kinds, today=today, subscribed_on=subscribed_on, key=self._key, sent=frozenset(sent)
        )
        async with self._sessions() as session:
            row = await session.get(ReminderSubscription, conversation_id)
            if row is None:
                return 0
            try:
                for reminder in due:
                    for key in reminder.keys:
                        await repo.record_sent(
                            session=session,
                            conversation_id=conversation_id,
                            tipo=reminder.kind.value,
                            clave=key,
                            now=self._clock(),
                        )
                    await tramites_repo.add_notification(
                        session=session,
                        conversation_id=conversation_id,
                        application_id=None,
                        plantilla=reminder.plantilla,
                        valores=dict(reminder.valores),
                    )
                row.revisada_el = today
                await session.commit()
            except IntegrityError:  # another worker recorded this chat's reminders first
                await session.rollback()
                return 0
        return len(due)

    def _key(self, identifier: str) -> str:
        return self._protector.lookup_hash(identifier)[:24]

    async def _holdings(self, cedula: str, kinds: Sequence[str], today: date) -> Holdings:
        """Ask only the registries the subscribed kinds need."""
        licence = cedula_expires = None
        vehicles: list[Vehicle] = []
        citations: tuple[Citacion, ...] = ()
        documents: list[IssuedDocument] = []
        if Kind.LICENCIA in kinds:
            try:
                found = await self._ant.licencia(cedula)
            except NotFound:
                found = None
            licence = found.fecha_vencimiento if found is not None else None
        if Kind.MATRICULA in kinds:
            try:
                for vehiculo in await self._ant.vehiculos(cedula):
                    matricula = await self._ant.matricula(vehiculo.placa)
                    vehicles.append(Vehicle(vehiculo.placa, matricula.anio_ultima_matricula))
            except NotFound:
                vehicles = []
        if Kind.MULTAS in kinds:
            try:
                citations = await self._ant.citaciones(cedula=cedula)
            except NotFound:
                citations = ()
        if Kind.DOCUMENTOS in kinds:
            documents = await self._documents(cedula)
            try:
                cedula_expires = (await self._registro_civil.consultar_ciudadano(cedula)).fecha_expiracion
            except NotFound:
                cedula_expires = None
        return Holdings(
            licence_expires=licence,
            vehicles=tuple(vehicles),
            citations=citations,
            documents=tuple(documents),
            cedula_expires=cedula_expires,
        )

    async def _documents(self, cedula: str) -> list[IssuedDocument]:
        """The documents Chasqui issued to this citizen and did not revoke (found by the holder's keyed hash)."""
        async with self._sessions() as session:
            found = await session.scalars(
                select(Document).where(
                    Document.holder_cedula_hash == holder_hash(self._holder_key, cedula), Document.revoked_at.is_(None)
                )
            )
            return [
                IssuedDocument(d.id, self._titles.get(d.kind, d.kind), d.expires_at.astimezone(self._zone).date())
                for d in found
            ]
