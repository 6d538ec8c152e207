"""What an agent does in the console: each action checked by the handoff service, delivered, and audited.

An action runs under the conversation's lock (the router's), so it never interleaves with the citizen's
messages in this process; the handoff service's compare-and-set covers several processes. The change,
the messages for the citizen and the audit row are committed together; then the outbox is woken and
the consoles are told. A refused action is audited too, with its reason.
"""

from __future__ import annotations

import asyncio
import string
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.analytics.service import Analytics
from bot.audit.chain import DigestKey
from bot.console.auth import StaffAuth
from bot.console.campaigns import Campaigns
from bot.conversations.delivery import deliver
from bot.conversations.messages import BotMessage
from bot.conversations.rasa_client import RasaClient
from bot.conversations.router import ConversationRouter, from_texto
from bot.conversations.state import ConversationState
from bot.handoff.events import CaseEvent, EventBus
from bot.handoff.service import (
    Agent,
    CaseNotFound,
    Change,
    ClaimRefused,
    Conflict,
    HandoffService,
    NotAllowed,
    RatingAsked,
)
from bot.handoff.state import InvalidTransition
from bot.handoff.teams import Equipos
from bot.privacy.encryption import Protector
from bot.privacy.redaction import mask_cedula
from bot.storage import console as repo
from bot.storage import identity as identidad_repo
from bot.storage.models import Conversation, utcnow
from bot.storage.models_console import HandoffCase

log = structlog.get_logger(__name__)
TRACKER_TIMEOUT_SECONDS = 3.0
CANNED_VARIABLES = ("nombre_agente", "nombre_ciudadano", "equipo", "numero_tramite")
MAX_REPLY_CHARS = 4000


@dataclass(frozen=True)
class Outcome:
    """What the console tells the agent after an action: an ``aviso`` code (worded by the templates)."""

    aviso: str
    ok: bool
    dato: str = ""  # e.g. the canned reply's missing variable


@dataclass(frozen=True)
class Identity:
    """The chat's proven identity as the console shows it: masked cédula and first names only."""

    cedula: str
    nombres: str
    nivel: str
    expires_at: datetime


@dataclass
class Consola:
    """The console's services, built once where the gateway starts.

    Args:
        sessions: the app database's session factory.
        auth: staff accounts and sessions.
        handoff: the owner transitions.
        router: delivers to the citizen's channel and owns the per-conversation lock.
        rasa: reads the tracker (slots, forms) for the context panel.
        bus: handoff events for the server-sent events.
        equipos: teams, hours, close reasons, canned reply seed.
        protector: decrypts the proven identity (shown masked); None hides it.
        download_url: a fresh signed link to a document's file; None disables resending.
        secure_cookies: the public address is HTTPS.
        audit_key: the documents' signing key, which checks the audit chain's daily digests; None hides
            the chain's state.
        analytics: the service analytics of the supervisors' page; None hides it.
        campaigns: campaigns to subscribed citizens (admins and the comunicaciones role); None hides them.
    """

    sessions: async_sessionmaker[AsyncSession]
    auth: StaffAuth
    handoff: HandoffService
    router: ConversationRouter
    rasa: RasaClient
    bus: EventBus
    equipos: Equipos
    protector: Protector | None = None
    download_url: Callable[[str, str], str] | None = None
    secure_cookies: bool = False
    audit_key: DigestKey | None = None
    analytics: Analytics | None = None
    campaigns: Campaigns | None = None
    clock: Callable[[], datetime] = field(default=utcnow)

    # --------------------------------------------------------------------------------- reads

    async def get_case(self, case_id: int) -> HandoffCase | None:
        async with self.sessions() as session:
            return await repo.get_case(session=session, case_id=case_id)

    def may_view(self, agent: Agent, case: HandoffCase) -> bool:
        """Agents see their teams' conversations and those they hold; supervisors and admins see all."""
        return agent.covers(case.team) or case.agent_id == agent.id

    async def identity(self, conversation_id: str) -> Identity | None:
        if self.protector is None:
            return None
        async with self.sessions() as session:
            link = await identidad_repo.current_link(session=session, conversation_id=conversation_id, now=self.clock())
        if link is None:
            return None
        return Identity(
            cedula=mask_cedula(self.protector.decrypt(link.cedula_cifrada)),
            nombres=self.protector.decrypt(link.nombres_cifrados),
            nivel=link.nivel,
            expires_at=link.expires_at,
        )

    async def tracker(self, conversation_id: str) -> dict[str, Any] | None:
        """Rasa's tracker, or None when Rasa does not answer within a few seconds."""
        try:
            return await asyncio.wait_for(self.rasa.tracker(conversation_id), TRACKER_TIMEOUT_SECONDS)
        except TimeoutError:
            return None

    async def interrupted_form(self, conversation_id: str) -> str | None:
        """The form a handoff interrupted (slot ``formulario_interrumpido``) or the one still active."""
        tracker = await self.tracker(conversation_id)
        if tracker is None:
            return None
        slot = (tracker.get("slots") or {}).get("formulario_interrumpido")
        active = (tracker.get("active_loop") or {}).get("name")
        value = slot or active
        return str(value) if value else None

    # --------------------------------------------------------------------------------- actions

    async def claim(self, agent: Agent, case_id: int, *, ip: str) -> Outcome:
        async def run(session: AsyncSession, case: HandoffCase, events: list[CaseEvent]) -> Outcome:
            change = await self.handoff.claim(session=session, case_id=case_id, agent=agent)
            if change is None:
                return Outcome("ya_es_suya", ok=True)
            await self._deliver_change(session, change)
            events.append(change.event)
            return Outcome("tomada", ok=True)

        return await self._act(agent, case_id, "tomar", run, ip=ip)

    async def reply(self, agent: Agent, case_id: int, text: str, *, ip: str) -> Outcome:
        text = text.strip()
        if not text or len(text) > MAX_REPLY_CHARS:
            return Outcome("texto_vacio" if not text else "texto_largo", ok=False)
        return await self._write(agent, case_id, [BotMessage(text=text)], "responder", ip=ip)

    async def canned(self, agent: Agent, case_id: int, reply_id: int, *, ip: str) -> Outcome:
        """Send a canned reply with its variables filled; a variable without a value stops it."""
        case = await self.get_case(case_id)
        async with self.sessions() as session:
            reply = await repo.get_canned_reply(session=session, reply_id=reply_id)
        if case is None or reply is None or not reply.activo:
            return Outcome("respuesta_invalida", ok=False)
        if not canned_text_ok(reply.texto):
            return Outcome("respuesta_invalida", ok=False)
        values = await self._canned_values(agent, case)
        missing = sorted(name for name in canned_variables(reply.texto) if values.get(name) is None)
        if missing:
            return Outcome("falta_dato", ok=False, dato=missing[0])
        text = reply.texto.format_map(values)
        return await self._write(
            agent, case_id, [BotMessage(text=text)], "respuesta_predefinida", ip=ip, detail={"respuesta": reply.id}
        )

    async def resend(self, agent: Agent, case_id: int, document_id: str, kind: str, *, ip: str) -> Outcome:
        """Send an issued document again, with a fresh download link."""
        case = await self.get_case(case_id)
        if case is None or self.download_url is None or kind not in ("pdf", "png"):
            return Outcome("documento_invalido", ok=False)
        async with self.sessions() as session:
            documents = await repo.documents_of_conversation(session=session, conversation_id=case.conversation_id)
        document = next((d for d in documents if d.id == document_id and d.revoked_at is None), None)
        if document is None:
            return Outcome("documento_invalido", ok=False)
        filename = document.pdf_filename if kind == "pdf" else document.png_filename
        payload = {
            "document": {
                "id": document.id,
                "kind": kind,
                "filename": filename,
                "url": self.download_url(document.id, filename),
                "verification_code": document.verification_code,
            }
        }
        return await self._write(
            agent,
            case_id,
            [BotMessage(custom=payload)],
            "reenviar_documento",
            ip=ip,
            detail={"documento": document.id, "archivo": kind},
            aviso="reenviado",
        )

    async def note(self, agent: Agent, case_id: int, text: str, *, ip: str) -> Outcome:
        text = text.strip()
        if not text or len(text) > MAX_REPLY_CHARS:
            return Outcome("texto_vacio" if not text else "texto_largo", ok=False)

        async def run(session: AsyncSession, case: HandoffCase, events: list[CaseEvent]) -> Outcome:
            await repo.add_note(session=session, case_id=case.id, staff_id=agent.id, kind="nota", text=text)
            return Outcome("nota_guardada", ok=True)

        return await self._act(agent, case_id, "nota", run, ip=ip, open_only=False)

    async def transfer(self, agent: Agent, case_id: int, target: str, comment: str, *, ip: str) -> Outcome:
        """``target`` is ``agente:<id>`` or ``equipo:<code>``."""
        kind, _, value = target.partition(":")
        to_agent = int(value) if kind == "agente" and value.isdigit() else None
        to_team = value if kind == "equipo" else None

        async def run(session: AsyncSession, case: HandoffCase, events: list[CaseEvent]) -> Outcome:
            change = await self.handoff.transfer(
                session=session,
                case_id=case_id,
                agent=agent,
                comment=comment.strip()[:MAX_REPLY_CHARS],
                to_agent_id=to_agent,
                to_team=to_team,
            )
            await self._deliver_change(session, change)
            events.append(change.event)
            return Outcome("transferida", ok=True)

        return await self._act(agent, case_id, "transferir", run, ip=ip, detail={"destino": target})

    async def hand_back(self, agent: Agent, case_id: int, *, ip: str) -> Outcome:
        case = await self.get_case(case_id)
        form = await self.interrupted_form(case.conversation_id) if case is not None else None

        async def run(session: AsyncSession, case: HandoffCase, events: list[CaseEvent]) -> Outcome:
            change = await self.handoff.hand_back(session=session, case_id=case_id, agent=agent, interrupted_form=form)
            await self._deliver_change(session, change)
            events.append(change.event)
            return Outcome("devuelta", ok=True)

        return await self._act(agent, case_id, "devolver", run, ip=ip, detail={"formulario": form})

    async def close(self, agent: Agent, case_id: int, reason: str, *, ip: str) -> Outcome:
        async def run(session: AsyncSession, case: HandoffCase, events: list[CaseEvent]) -> Outcome:
            change = await self.handoff.close(session=session, case_id=case_id, agent=agent, reason=reason)
            await self._deliver_change(session, change)
            events.append(change.event)
            return Outcome("cerrada", ok=True)

        return await self._act(agent, case_id, "cerrar", run, ip=ip, detail={"motivo": reason})

    async def audit(
        self,
        agent: Agent,
        action: str,
        *,
        ip: str,
        case: HandoffCase | None = None,
        detail: dict[str, Any] | None = None,
    ) -> None:
        """Record something the agent viewed or did (append-only)."""
        async with self.sessions() as session:
            await repo.add_audit(
                session=session,
                staff_id=agent.id,
                usuario=agent.usuario,
                action=action,
                conversation_id=case.conversation_id if case else None,
                case_id=case.id if case else None,
                detail=detail,
                ip=ip,
            )
            await session.commit()

    # --------------------------------------------------------------------------------- internals

    async def _write(
        self,
        agent: Agent,
        case_id: int,
        messages: Sequence[BotMessage],
        action: str,
        *,
        ip: str,
        detail: dict[str, Any] | None = None,
        aviso: str = "enviada",
    ) -> Outcome:
        async def run(session: AsyncSession, case: HandoffCase, events: list[CaseEvent]) -> Outcome:
            held = await self.handoff.ensure_can_write(session=session, case_id=case_id, agent=agent)
            ids = await self._deliver(session, case.conversation_id, messages, "agent")
            events.append(await self.handoff.record_reply(session=session, case=held, agent=agent, message_ids=ids))
            return Outcome(aviso, ok=True)

        return await self._act(agent, case_id, action, run, ip=ip, detail={**(detail or {}), "mensajes": len(messages)})

    async def _deliver(
        self,
        session: AsyncSession,
        conversation_id: str,
        messages: Sequence[BotMessage],
        author: str,
        *,
        rating: RatingAsked | None = None,
    ) -> list[int]:
        """Store and queue ``messages`` for the citizen (bot.conversations.delivery); their buttons, and the
        rating question if ``rating`` says it was asked, are what the citizen's next message may answer."""
        conversation = await session.get(Conversation, conversation_id)  # loaded by the handoff service already
        if conversation is None:
            return []
        state = ConversationState.load(conversation.options)
        if rating is not None:
            state = state.rating_asked(rating)
        delivered = await deliver(
            session,
            conversation=conversation,
            channel=self.router.channels.find(conversation.channel),
            messages=messages,
            author=author,
        )
        dumped = state.offering(messages).dump()
        if dumped != conversation.options:
            conversation.options = dumped
        return list(delivered.ids)

    async def _deliver_change(self, session: AsyncSession, change: Change) -> None:
        """A handoff change's notices for the citizen, and the rating it asked for."""
        notices = [from_texto(t) for t in change.notices]
        await self._deliver(session, change.conversation_id, notices, "system", rating=change.rating)

    async def _act(
        self,
        agent: Agent,
        case_id: int,
        action: str,
        run: Callable[[AsyncSession, HandoffCase, list[CaseEvent]], Awaitable[Outcome]],
        *,
        ip: str,
        detail: dict[str, Any] | None = None,
        open_only: bool = True,
    ) -> Outcome:
        case = await self.get_case(case_id)
        if case is None or not self.may_view(agent, case) or (open_only and case.ended_at is not None):
            return Outcome("no_encontrada", ok=False)
        events: list[CaseEvent] = []
        async with self.router.conversation_lock(case.conversation_id), self.sessions() as session:
            outcome = await self._attempt(session, case, run, events)
            await repo.add_audit(
                session=session,
                staff_id=agent.id,
                usuario=agent.usuario,
                action=action if outcome.ok else f"{action}_rechazado",
                conversation_id=case.conversation_id,
                case_id=case.id,
                detail={**(detail or {}), **({} if outcome.ok else {"aviso": outcome.aviso})},
                ip=ip,
            )
            await session.commit()
        if outcome.ok:
            self.router.wake_outbox()
            for event in events:
                self.handoff.announce(event)
        log.info("consola.accion", accion=action, caso=case_id, aviso=outcome.aviso)
        return outcome

    async def _attempt(
        self,
        session: AsyncSession,
        case: HandoffCase,
        run: Callable[[AsyncSession, HandoffCase, list[CaseEvent]], Awaitable[Outcome]],
        events: list[CaseEvent],
    ) -> Outcome:
        """Run the action; on refusal roll its changes back (the audit row is written after)."""
        try:
            return await run(session, case, events)
        except (ClaimRefused, NotAllowed, Conflict, CaseNotFound, InvalidTransition) as exc:
            await session.rollback()
            events.clear()
            code = {
                ClaimRefused: "tomada_por_otro",
                Conflict: "cambio_simultaneo",
                CaseNotFound: "no_encontrada",
                InvalidTransition: "estado_invalido",
            }.get(type(exc), getattr(exc, "code", "estado_invalido"))
            return Outcome(str(code), ok=False)

    async def _canned_values(self, agent: Agent, case: HandoffCase) -> dict[str, str | None]:
        identity = await self.identity(case.conversation_id)
        async with self.sessions() as session:
            applications = await repo.applications_of(session=session, conversation_id=case.conversation_id)
        numbers = [str(a["numero"]) for a in applications if a.get("numero")]
        return {
            "nombre_agente": agent.first_name,
            "nombre_ciudadano": identity.nombres if identity else None,
            "equipo": self.equipos.team(case.team).nombre,
            "numero_tramite": numbers[-1] if numbers else None,
        }


def canned_variables(text: str) -> set[str]:
    """The ``{variables}`` a canned reply uses (ValueError for unbalanced braces)."""
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


def canned_text_ok(text: str) -> bool:
    """Balanced braces and only the known variables, without attribute or index access or formats."""
    try:
        parts = list(string.Formatter().parse(text))
    except ValueError:
        return False
    return all(
        name is None or (name in CANNED_VARIABLES and not spec and not conversion)
        for _, name, spec, conversion in parts
    )


async def seed_canned_replies(sessions: async_sessionmaker[AsyncSession], equipos: Equipos) -> int:
    """Load `data/consola/respuestas.yml` into an empty table (admins manage the replies afterwards)."""
    async with sessions() as session:
        if await repo.count_canned_replies(session=session):
            return 0
        for entry in equipos.canned_seed:
            await repo.add_canned_reply(
                session=session, titulo=entry["titulo"], texto=entry["texto"], equipo=entry.get("equipo") or None
            )
        await session.commit()
    return len(equipos.canned_seed)
