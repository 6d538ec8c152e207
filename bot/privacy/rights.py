"""The citizen's rights, carried out at once: a copy of their data, deletion, and the retention purge.

Deletion reaches every store: the app's tables, Rasa's tracker store and the document files. What a law
obliges to keep stays, without personal data: payment receipts (tax and accounting rules), the staff
audit log, and an anonymous record of issued documents so that a verifier learns a code was issued.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import structlog
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.documents.links import holder_hash
from bot.documents.runtime import Documents
from bot.documents.store import DocumentStore
from bot.privacy.encryption import Protector, protector_from
from bot.privacy.redaction import mask_cedula
from bot.privacy.vault import unmask
from bot.settings import Settings
from bot.storage import conversations as conversations_repo
from bot.storage import identity as identidad_repo
from bot.storage import privacy as repo
from bot.storage import rasa_tracker
from bot.storage import reminders as reminders_repo
from bot.storage import tramites as tramites_repo
from bot.storage.models import Conversation, utcnow
from bot.storage.models_documents import Document
from bot.storage.models_identity import IdentityLink
from bot.storage.models_tramites import Application

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class Retention:
    anonymous_days: int
    identified_days: int


class PrivacyService:
    def __init__(
        self,
        *,
        sessions: async_sessionmaker[AsyncSession],
        rasa_engine: AsyncEngine | None,
        store: DocumentStore,
        protector: Protector,
        holder_key: bytes,
        retention: Retention,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._sessions = sessions
        self._rasa = rasa_engine
        self._store = store
        self._protector = protector
        self._holder_key = holder_key
        self._retention = retention
        self._clock = clock

    async def _cedula_of(self, session: AsyncSession, conversation_id: str, *, current: bool = True) -> str | None:
        """The cédula this chat proved. A citizen's rights need the link to be current at the moment of the
        action (on a shared computer the next person must not reach the previous citizen's records); the
        retention purge (``current=False``) also reads links that expired."""
        link = (
            await identidad_repo.current_link(session=session, conversation_id=conversation_id, now=self._clock())
            if current
            else await session.get(IdentityLink, conversation_id)
        )
        return self._protector.decrypt(link.cedula_cifrada) if link is not None else None

    async def conversations_of(self, session: AsyncSession, cedula: str) -> list[str]:
        """Every chat, in any channel, where this citizen proved their identity, applied, got a document or asked
        for reminders."""
        found: set[str] = set()
        found.update(
            await session.scalars(
                select(IdentityLink.conversation_id).where(
                    IdentityLink.cedula_hash == self._protector.lookup_hash(cedula)
                )
            )
        )
        found.update(
            await session.scalars(
                select(Application.conversation_id).where(
                    Application.titular_hash == self._protector.lookup_hash(cedula)
                )
            )
        )
        found.update(await reminders_repo.chats_of(session=session, cedula_hash=self._protector.lookup_hash(cedula)))
        found.update(
            c
            for c in await session.scalars(
                select(Document.conversation_id).where(
                    Document.holder_cedula_hash == holder_hash(self._holder_key, cedula)
                )
            )
            if c
        )
        existing = await session.scalars(select(Conversation.id).where(Conversation.id.in_(found)))
        return sorted(set(existing))

    async def identity_is_current(self, conversation_id: str) -> bool:
        """Whether this chat's identity link is current now (what a deletion would then cover)."""
        async with self._sessions() as session:
            return await self._cedula_of(session, conversation_id) is not None

    async def exportar(self, conversation_id: str) -> dict[str, Any]:
        """Everything Chasqui holds about this chat and, if it proved an identity, about that person."""
        async with self._sessions() as session:
            cedula = await self._cedula_of(session, conversation_id)
            link = await identidad_repo.current_link(
                session=session, conversation_id=conversation_id, now=self._clock()
            )
            # Without a current identity: this chat only. With one: every chat of that citizen, in any channel.
            chats = [conversation_id]
            if cedula is not None:
                chats += [c for c in await self.conversations_of(session, cedula) if c != conversation_id]
            data: dict[str, Any] = {
                "generado": self._clock().isoformat(),
                "alcance": "todas_sus_conversaciones" if cedula is not None else "esta_conversacion",
                "conversaciones": [await self._chat_copy(session, chat) for chat in chats],
                "identidad": None,
                "solicitudes": [],
                "documentos": [],
            }
            if link is not None and cedula is not None:
                data["identidad"] = {
                    "cedula": mask_cedula(cedula),
                    "nombres": self._protector.decrypt(link.nombres_cifrados),
                    "verificada": link.verified_at.isoformat(),
                    "vence": link.expires_at.isoformat(),
                }
                for application in await tramites_repo.for_titular(
                    session=session, titular_hash=self._protector.lookup_hash(cedula), limit=1000
                ):
                    history = await tramites_repo.history(session=session, application_id=application.id)
                    payments = await tramites_repo.payments_of(session=session, application_id=application.id)
                    data["solicitudes"].append(
                        {
                            "numero": application.numero,
                            "tramite": application.tramite,
                            "estado": application.estado,
                            "creada": application.created_at.isoformat(),
                            "historial": [{"estado": e.estado, "fecha": e.created_at.isoformat()} for e in history],
                            "pagos": [
                                {"concepto": p.concepto, "monto": str(p.monto), "estado": p.estado, "recibo": p.recibo}
                                for p in payments
                            ],
                        }
                    )
                documents = await session.scalars(
                    select(Document).where(Document.holder_cedula_hash == holder_hash(self._holder_key, cedula))
                )
                data["documentos"] = [
                    {
                        "tipo": d.kind,
                        "codigo_verificacion": d.verification_code,
                        "emitido": d.issued_at.isoformat(),
                        "vence": d.expires_at.isoformat(),
                        "revocado": d.revoked_at is not None,
                    }
                    for d in documents
                ]
            return data

    async def _chat_copy(self, session: AsyncSession, conversation_id: str) -> dict[str, Any]:
        conversation = await session.get(Conversation, conversation_id)
        messages = await conversations_repo.transcript(session=session, conversation_id=conversation_id, limit=10_000)
        consents = await repo.consent_history(session=session, conversation_id=conversation_id)
        subscription = await reminders_repo.subscription(session=session, conversation_id=conversation_id)
        reminders = await reminders_repo.sent(session=session, conversation_id=conversation_id)
        return {
            "id": conversation_id,
            "canal": conversation.channel if conversation else None,
            "creada": conversation.created_at.isoformat() if conversation else None,
            "mensajes": [
                {
                    "fecha": m.created_at.isoformat(),
                    "direccion": "recibido" if m.direction == "in" else "enviado",
                    "autor": m.author,
                    "texto": unmask(m.text or "", (m.payload or {}).get("masked", {})),
                }
                for m in messages
            ],
            "consentimientos": [
                {
                    "proposito": c.proposito,
                    "otorgado": c.otorgado,
                    "version_aviso": c.version_aviso,
                    "fecha": c.created_at.isoformat(),
                }
                for c in consents
            ],
            "recordatorios": None
            if subscription is None
            else {
                "tipos": list(subscription.tipos),
                "canal": subscription.canal,
                "desde": subscription.created_at.isoformat(),
            },
            "recordatorios_enviados": [{"tipo": r.tipo, "fecha": r.created_at.isoformat()} for r in reminders],
        }

    async def borrar(self, conversation_id: str, *, motivo: str = "borrado_solicitado") -> dict[str, int]:
        """Delete this chat and, if it proved an identity (current at this moment), everything of that person:
        every chat of theirs in any channel, their applications and their document files; in every store."""
        started = self._clock()
        counts: dict[str, int] = {}
        files: list[tuple[str, str, str]] = []
        chats = [conversation_id]
        async with self._sessions() as session:
            cedula = await self._cedula_of(session, conversation_id, current=motivo != "retencion")
            held = [] if cedula is None else await self._files_of(session, cedula)
        # Files first, records after: if the store fails here (object storage down), nothing is anonymised yet,
        # so a new request or the retention purge finds the documents again by their holder and deletes them.
        await self._delete_files(held)
        async with self._sessions() as session:
            if cedula is not None:
                if motivo != "retencion":  # the retention purge decides chat by chat
                    chats += [c for c in await self.conversations_of(session, cedula) if c != conversation_id]
                counts.update(
                    await repo.delete_applications_of(session=session, titular_hash=self._protector.lookup_hash(cedula))
                )
                files = await repo.anonymize_documents_of(
                    session=session, holder_hash=holder_hash(self._holder_key, cedula)
                )
                counts["documentos_anonimizados"] = len(files)
            for chat in chats:
                for name, count in (await repo.delete_conversation(session=session, conversation_id=chat)).items():
                    counts[name] = counts.get(name, 0) + count
            await session.commit()
        await self._delete_files([f for f in files if f not in held])  # issued meanwhile
        if self._rasa is not None:
            counts["eventos_rasa"] = 0
            for chat in chats:
                counts["eventos_rasa"] += await rasa_tracker.delete_sender(self._rasa, chat)
        async with self._sessions() as session:
            await repo.log_purge(session=session, motivo=motivo, conteos=counts, started_at=started)
            await session.commit()
        log.info("privacidad.borrado", motivo=motivo, **counts)
        return counts

    async def _files_of(self, session: AsyncSession, cedula: str) -> list[tuple[str, str, str]]:
        found = await session.scalars(
            select(Document).where(Document.holder_cedula_hash == holder_hash(self._holder_key, cedula))
        )
        return [(d.id, d.pdf_filename, d.png_filename) for d in found]

    async def _delete_files(self, files: list[tuple[str, str, str]]) -> None:
        """Remove documents' files from the store (a disk or a bucket), off the event loop.

        Raises:
            StoreUnavailable: the object storage could not be reached; the caller stops before changing records.
        """
        for document_id, pdf, png in files:
            await asyncio.to_thread(self._store.delete, document_id, pdf)
            await asyncio.to_thread(self._store.delete, document_id, png)

    async def purgar(self) -> dict[str, int]:
        """Delete conversations past their retention period (shorter for anonymous ones)."""
        started = self._clock()
        totals = {"anonimas": 0, "identificadas": 0}
        anonymous_before = started - timedelta(days=self._retention.anonymous_days)
        identified_before = started - timedelta(days=self._retention.identified_days)
        async with self._sessions() as session:
            candidates = [c.id for c in await repo.idle_conversations(session=session, before=anonymous_before)]
            plan = []
            for conversation_id in candidates:
                identified = await repo.is_identified(session=session, conversation_id=conversation_id)
                conversation = await session.get(Conversation, conversation_id)
                last = conversation.updated_at if conversation else started
                if identified and last >= identified_before:
                    continue
                plan.append((conversation_id, identified))
        for conversation_id, identified in plan:
            await self.borrar(conversation_id, motivo="retencion")
            totals["identificadas" if identified else "anonimas"] += 1
        async with self._sessions() as session:  # links past their expiry are no use to anyone: gone
            totals["vinculos_vencidos"] = await identidad_repo.delete_expired_links(session=session, now=started)
            await session.commit()
        if self._rasa is not None:  # Rasa may hold conversations the app no longer has
            for sender in await rasa_tracker.senders_idle_since(self._rasa, anonymous_before.timestamp()):
                async with self._sessions() as session:
                    if await session.get(Conversation, sender) is not None:
                        continue
                totals["solo_rasa"] = totals.get("solo_rasa", 0) + 1
                await rasa_tracker.delete_sender(self._rasa, sender)
        async with self._sessions() as session:
            await repo.log_purge(session=session, motivo="retencion_resumen", conteos=totals, started_at=started)
            await session.commit()
        log.info("privacidad.purga", **totals)
        return totals

    async def brecha(self, desde: datetime, hasta: datetime, categoria: str) -> list[dict[str, str]]:
        """Which chats and citizens a window and a data category touched (breach notification duties)."""
        async with self._sessions() as session:
            rows: list[dict[str, str]] = []
            if categoria == "identidad":
                links = await session.scalars(
                    select(IdentityLink).where(IdentityLink.verified_at >= desde, IdentityLink.verified_at <= hasta)
                )
                for link in links:
                    rows.append(
                        {
                            "conversacion": link.conversation_id,
                            "cedula": mask_cedula(self._protector.decrypt(link.cedula_cifrada)),
                        }
                    )
            elif categoria in ("tramites", "antecedentes"):
                query = select(Application).where(Application.created_at >= desde, Application.created_at <= hasta)
                if categoria == "antecedentes":
                    query = query.where(Application.tramite == "antecedentes_penales")
                for application in await session.scalars(query):
                    cedula = self._protector.decrypt(application.titular_cifrado) if application.titular_cifrado else ""
                    rows.append(
                        {
                            "conversacion": application.conversation_id,
                            "cedula": mask_cedula(cedula) if cedula else "—",
                            "solicitud": application.numero or "",
                        }
                    )
            elif categoria == "documentos":
                for document in await session.scalars(
                    select(Document).where(Document.issued_at >= desde, Document.issued_at <= hasta)
                ):
                    rows.append(
                        {
                            "conversacion": document.conversation_id or "—",
                            "cedula": document.holder_cedula_masked,
                            "documento": document.kind,
                        }
                    )
            elif categoria == "mensajes":
                from bot.storage.models import Message

                ids = await session.scalars(
                    select(Message.conversation_id)
                    .where(Message.created_at >= desde, Message.created_at <= hasta)
                    .group_by(Message.conversation_id)
                )
                rows = [{"conversacion": conversation_id} for conversation_id in ids]
            else:
                raise ValueError(f"unknown category {categoria!r}")
            return rows


def build_privacy(
    settings: Settings, sessions: async_sessionmaker[AsyncSession], documents: Documents
) -> PrivacyService:
    """The privacy service of a process (gateway, action server, worker, CLI)."""
    from bot.settings import async_database_url
    from bot.storage.db import create_engine

    return PrivacyService(
        sessions=sessions,
        rasa_engine=create_engine(async_database_url(settings.effective_rasa_database_url)),
        store=documents.store,
        protector=protector_from(settings),
        holder_key=documents.issuer.holder_key,
        retention=Retention(
            anonymous_days=settings.retencion_dias_anonimas, identified_days=settings.retencion_dias_identificadas
        ),
    )
