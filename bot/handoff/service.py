"""The handoff service: every change of who attends a conversation, over the owner state machine.

Each method takes the caller's session and does not commit, so a change, the messages it produces and
its audit row are stored in one transaction: the caller delivers ``Change.notices`` (templates for the
citizen) and remembers ``Change.rating`` in the conversation's state in that transaction (this service never
writes the conversation's state), and after the commit calls `HandoffService.announce` to tell the consoles.

Exceptions::

    HandoffError
     ├── CaseNotFound    no such case, or it has ended
     ├── ClaimRefused    another agent holds the conversation (supervisors may take it over)
     ├── NotAllowed      not this agent's conversation or team, unknown target or reason (``code`` says which)
     └── Conflict        someone changed the case at the same moment; read it again
    (`bot.handoff.state.InvalidTransition` when the owner table forbids the change)
"""

from __future__ import annotations

import dataclasses
import math
import re
import statistics
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from bot.handoff.events import CaseEvent, EventBus, EventKind
from bot.handoff.state import check_transition
from bot.handoff.teams import Equipos, Resumable
from bot.storage import console as repo
from bot.storage import conversations as conversations_repo
from bot.storage.models import Conversation, Owner, utcnow
from bot.storage.models_console import HandoffCase, Rol, StaffMember
from bot.texts import Texto, Textos

log = structlog.get_logger(__name__)
ACTOR_BOT = "bot"
ONLINE_WINDOW = timedelta(minutes=2)  # the console beats every 30 s
AGENT_ACTIVE = timedelta(minutes=3)  # an agent who wrote this recently is in the conversation: no bot note
MIN_SAMPLES = 5  # fewer attended cases than this: use the team's configured handling time
_CSAT = re.compile(r"^\s*([1-5])\s*(?:estrellas?)?\s*[.!]?\s*$", re.IGNORECASE)


class HandoffError(Exception):
    """Base of the errors of `HandoffService`."""


class CaseNotFound(HandoffError):
    """No such case, or it has already ended."""


class ClaimRefused(HandoffError):
    """Another agent holds the conversation."""

    def __init__(self, holder_id: int) -> None:
        super().__init__(f"held by staff {holder_id}")
        self.holder_id = holder_id


class NotAllowed(HandoffError):
    """The agent may not do this; ``code`` is machine-readable (the console words it)."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


class Conflict(HandoffError):
    """The case changed between reading and writing it."""


@dataclass(frozen=True)
class Agent:
    """A staff member acting in the console."""

    id: int
    usuario: str
    nombre: str
    rol: str
    equipos: frozenset[str]

    @classmethod
    def of(cls, member: StaffMember) -> Agent:
        return cls(member.id, member.usuario, member.nombre, member.rol, frozenset(member.equipos or ()))

    @property
    def supervises(self) -> bool:
        return self.rol in (Rol.SUPERVISOR, Rol.ADMIN)

    @property
    def actor(self) -> str:
        return f"agente:{self.usuario}"

    @property
    def first_name(self) -> str:
        """What the citizen is told ("Ya le atiende María")."""
        return (self.nombre.split() or [self.usuario])[0]

    def covers(self, team: str) -> bool:
        return self.supervises or team in self.equipos


@dataclass(frozen=True)
class RatingAsked:
    """The citizen was asked to rate the attention of case ``case_id``; ``resume`` is the form the handoff
    interrupted, offered again after the rating. The conversation remembers it (`bot.conversations.state`)."""

    case_id: int
    resume: str | None = None


@dataclass(frozen=True)
class Change:
    """The result of a transition: what to tell the citizen and the consoles once committed."""

    case_id: int
    conversation_id: str
    channel: str
    from_owner: str
    to_owner: str
    event: CaseEvent
    notices: tuple[Texto, ...] = ()
    rating: RatingAsked | None = None  # the notices ask for a rating: the next message may answer it


@dataclass(frozen=True)
class Estimate:
    position: int
    minutes: int


def csat_score(text: str) -> int | None:
    """The 1-5 rating in a reply such as ``4``, ``5 estrellas`` or ``3.``; None for anything else."""
    match = _CSAT.match(text)
    return int(match.group(1)) if match else None


class HandoffService:
    """Requests, claims, transfers, hand-backs and closings, each one checked and recorded.

    Args:
        equipos: teams, working hours and holidays.
        textos: the citizen-facing templates.
        bus: where `announce` publishes.
        clock: the current time (tests pass a fixed one).
    """

    def __init__(
        self,
        *,
        equipos: Equipos,
        textos: Textos,
        bus: EventBus,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.equipos = equipos
        self._textos = textos
        self._bus = bus
        self._clock = clock

    # ------------------------------------------------------------------------------ citizen side

    async def request(
        self, *, session: AsyncSession, conversation: Conversation, reason: str, team: str, actor: str = ACTOR_BOT
    ) -> Change | None:
        """A person was asked for: the conversation goes from the bot to its team's queue.

        In working hours the citizen is told their place and the estimated wait; otherwise the case
        is a ticket for the team's next opening and the citizen is told when that is.

        Returns:
            The change, or None when a person already has the conversation (the request is only logged).
        """
        await conversations_repo.add_handoff_request(
            session=session, conversation_id=conversation.id, reason=reason, team=team
        )
        if conversation.owner != Owner.BOT:
            log.info("handoff.already_with_a_person", conversation=conversation.id, owner=conversation.owner)
            return None
        from_owner = conversation.owner
        check_transition(from_owner, Owner.QUEUE)
        code = self.equipos.team(team).code
        now = self._clock()
        open_now = self.equipos.is_open(code, now)
        opens_at = None if open_now else self.equipos.next_opening(code, now)
        case = await repo.add_case(
            session=session,
            conversation_id=conversation.id,
            team=code,
            reason=reason,
            at=now,
            ticket=not open_now,
            opens_at=opens_at,
        )
        await conversations_repo.record_owner_change(
            session=session, conversation=conversation, to_owner=Owner.QUEUE, actor=actor, reason=reason
        )
        notice = await self._queue_notice(session, case)
        log.info("handoff.requested", conversation=conversation.id, team=code, ticket=case.ticket)
        return self._change(case, conversation, from_owner, EventKind.NUEVA, notice)

    async def answer_csat(self, *, session: AsyncSession, rating: RatingAsked, text: str) -> tuple[Texto, ...]:
        """Record the reply to the rating question asked when a person's attention ended.

        Returns:
            What to answer, or nothing when ``text`` is not a rating (it goes to the bot). The caller
            forgets the question once it is answered.
        """
        score = csat_score(text)
        if score is None:
            return ()
        case = await repo.get_case(session=session, case_id=rating.case_id)
        if case is not None:
            await repo.add_rating(session=session, case_id=case.id, team=case.team, agent_id=case.agent_id, score=score)
        resumable = self.equipos.resumable(rating.resume or "")
        if resumable is None:
            return (self._textos.render("csat_gracias"),)
        return (self._textos.render("csat_gracias_breve"), self._resume_offer(resumable))

    async def waiting(self, *, session: AsyncSession, conversation_id: str) -> CaseEvent | None:
        """The event for a citizen's message that waits for a person (None when no case is open)."""
        case = await repo.open_case_of(session=session, conversation_id=conversation_id)
        if case is None:
            return None
        return CaseEvent(EventKind.MENSAJE, case.id, case.team, case.agent_id)

    async def acknowledge(self, *, session: AsyncSession, conversation_id: str) -> Texto | None:
        """What a citizen reads when they write while a person owns the conversation: their place and wait in
        the queue, or when the team opens; with an agent, that the agent has the message, unless the agent is
        writing right now (their last message is recent). None when no case is open."""
        case = await repo.open_case_of(session=session, conversation_id=conversation_id)
        if case is None:
            return None
        if case.agent_id is None:
            if case.ticket and case.opens_at is not None:
                dia, numero, mes, hora = self.equipos.spoken(case.opens_at)
                apertura = self._textos.render("handoff_apertura", dia=dia, numero=numero, mes=mes, hora=hora).text
                return self._textos.render("handoff_acuse_fuera_de_horario", apertura=apertura)
            estimate = await self.estimate(session=session, case=case)
            return self._textos.render("handoff_acuse_en_cola", posicion=estimate.position, minutos=estimate.minutes)
        latest = await conversations_repo.latest_outbound(session=session, conversation_id=conversation_id)
        if latest is not None and latest.author == "agent" and self._clock() - latest.created_at < AGENT_ACTIVE:
            return None  # the agent is writing to the citizen now: no bot in between
        return self._textos.render("handoff_acuse_asesor")

    async def estimate(self, *, session: AsyncSession, case: HandoffCase) -> Estimate:
        """Place in the team's queue and minutes to wait.

        minutes = place × median handling time of the team's latest cases (the configured time while
        there are few) ÷ the team's agents online, at least one minute.
        """
        position = await repo.queue_position(session=session, case=case)
        samples = await repo.recent_handling(session=session, team=case.team)
        team = self.equipos.team(case.team)
        each = (
            statistics.median((ended - claimed).total_seconds() / 60 for claimed, ended in samples)
            if len(samples) >= MIN_SAMPLES
            else float(team.atencion_minutos)
        )
        online = await repo.online_staff(session=session, since=self._clock() - ONLINE_WINDOW)
        agents = sum(1 for member in online if case.team in (member.equipos or ()))
        return Estimate(position=position, minutes=max(1, math.ceil(position * each / max(1, agents))))

    # ------------------------------------------------------------------------------ console side

    async def claim(self, *, session: AsyncSession, case_id: int, agent: Agent) -> Change | None:
        """Take a conversation from the queue; a supervisor may take it over from another agent.

        Returns:
            The change, or None when the agent already holds it.

        Raises:
            ClaimRefused: another agent holds it and ``agent`` is not a supervisor.
            NotAllowed: ``equipo_ajeno`` when the case belongs to a team the agent does not work for.
        """
        case, conversation = await self._load(session, case_id)
        if case.agent_id == agent.id:
            return None
        if case.agent_id is not None and not agent.supervises:
            raise ClaimRefused(case.agent_id)
        if not agent.covers(case.team):
            raise NotAllowed("equipo_ajeno")
        reason = "tomada" if case.agent_id is None else "tomada_por_supervisor"
        from_owner = conversation.owner
        check_transition(from_owner, Owner.AGENT)
        await self._update(session, case, {"agent_id": agent.id, "claimed_at": case.claimed_at or self._clock()})
        await conversations_repo.record_owner_change(
            session=session, conversation=conversation, to_owner=Owner.AGENT, actor=agent.actor, reason=reason
        )
        notice = self._connected(agent.first_name, case.team)
        return self._change(case, conversation, from_owner, EventKind.TOMADA, notice)

    async def transfer(
        self,
        *,
        session: AsyncSession,
        case_id: int,
        agent: Agent,
        comment: str = "",
        to_agent_id: int | None = None,
        to_team: str | None = None,
    ) -> Change:
        """Hand the conversation to another agent (agent → agent) or to a team's queue (agent → queue).

        The comment is kept as an internal note of the case.

        Raises:
            NotAllowed: ``no_es_su_atencion`` or ``destino_invalido``.
        """
        case, conversation = await self._load(session, case_id)
        self._ensure_holder(case, agent)
        from_owner = conversation.owner
        now = self._clock()
        if to_agent_id is not None and to_team is None:
            target = await repo.staff_by_id(session=session, staff_id=to_agent_id)
            if target is None or not target.activo or target.id == case.agent_id:
                raise NotAllowed("destino_invalido")
            check_transition(from_owner, Owner.AGENT)
            await self._update(session, case, {"agent_id": target.id, "claimed_at": case.claimed_at or now})
            await conversations_repo.record_owner_change(
                session=session,
                conversation=conversation,
                to_owner=Owner.AGENT,
                actor=agent.actor,
                reason="transferida_a_agente",
            )
            kind, notice = EventKind.TRANSFERIDA, self._connected(Agent.of(target).first_name, case.team)
        elif to_team is not None and to_agent_id is None and to_team in self.equipos.teams:
            check_transition(from_owner, Owner.QUEUE)
            open_now = self.equipos.is_open(to_team, now)
            await self._update(
                session,
                case,
                {
                    "team": to_team,
                    "agent_id": None,
                    "queued_at": now,
                    "ticket": not open_now,
                    "opens_at": None if open_now else self.equipos.next_opening(to_team, now),
                },
            )
            await conversations_repo.record_owner_change(
                session=session,
                conversation=conversation,
                to_owner=Owner.QUEUE,
                actor=agent.actor,
                reason="transferida_a_equipo",
            )
            kind = EventKind.NUEVA
            notice = (
                self._textos.render("handoff_transferido_equipo", equipo=self.equipos.team(to_team).nombre)
                if open_now
                else await self._queue_notice(session, case)
            )
        else:
            raise NotAllowed("destino_invalido")
        if comment.strip():
            await repo.add_note(session=session, case_id=case.id, staff_id=agent.id, kind="transferencia", text=comment)
        return self._change(case, conversation, from_owner, kind, notice)

    async def hand_back(
        self, *, session: AsyncSession, case_id: int, agent: Agent, interrupted_form: str | None = None
    ) -> Change:
        """Give the conversation back to the bot (agent → bot, or queue → bot before anyone claimed it).

        After a person attended, the citizen is asked for a rating; the interrupted form, if the bot can
        resume it, is offered after the rating (or at once when nobody attended).
        """
        case, conversation = await self._load(session, case_id)
        self._ensure_holder(case, agent, queue_ok=True)
        from_owner = conversation.owner
        check_transition(from_owner, Owner.BOT)
        await self._end(session, case, Owner.BOT, "devuelta")
        await conversations_repo.record_owner_change(
            session=session, conversation=conversation, to_owner=Owner.BOT, actor=agent.actor, reason="devuelta"
        )
        notices = [self._textos.render("handoff_devuelto")]
        resumable = self.equipos.resumable(interrupted_form or "")
        rating = None
        if from_owner == Owner.AGENT:
            rating = RatingAsked(case.id, interrupted_form if resumable else None)
            notices.append(self._textos.render("csat_pregunta"))
        elif resumable is not None:
            notices.append(self._resume_offer(resumable))
        change = self._change(case, conversation, from_owner, EventKind.DEVUELTA, *notices)
        return dataclasses.replace(change, rating=rating)

    async def close(self, *, session: AsyncSession, case_id: int, agent: Agent, reason: str) -> Change:
        """Close the conversation with one of the configured reasons (agent or queue → closed).

        Raises:
            NotAllowed: ``motivo_desconocido`` or ``no_es_su_atencion``.
        """
        if reason not in self.equipos.close_reasons:
            raise NotAllowed("motivo_desconocido")
        case, conversation = await self._load(session, case_id)
        self._ensure_holder(case, agent, queue_ok=True)
        from_owner = conversation.owner
        check_transition(from_owner, Owner.CLOSED)
        await self._end(session, case, Owner.CLOSED, reason)
        await conversations_repo.record_owner_change(
            session=session, conversation=conversation, to_owner=Owner.CLOSED, actor=agent.actor, reason=reason
        )
        if from_owner != Owner.AGENT:  # a conversation closed from the queue (spam, duplicate) says nothing
            return self._change(case, conversation, from_owner, EventKind.CERRADA)
        notices = (self._textos.render("handoff_cerrado"), self._textos.render("csat_pregunta"))
        change = self._change(case, conversation, from_owner, EventKind.CERRADA, *notices)
        return dataclasses.replace(change, rating=RatingAsked(case.id))

    async def ensure_can_write(self, *, session: AsyncSession, case_id: int, agent: Agent) -> HandoffCase:
        """The case, when ``agent`` holds it and may write to the citizen.

        Raises:
            NotAllowed: ``no_es_su_atencion`` (claim it first).
        """
        case, conversation = await self._load(session, case_id)
        if conversation.owner != Owner.AGENT or case.agent_id != agent.id:
            raise NotAllowed("no_es_su_atencion")
        return case

    async def record_reply(
        self, *, session: AsyncSession, case: HandoffCase, agent: Agent, message_ids: list[int]
    ) -> CaseEvent:
        """Note who wrote the messages and the case's first response (for the SLA)."""
        for message_id in message_ids:
            await repo.add_staff_message(session=session, message_id=message_id, staff_id=agent.id, case_id=case.id)
        if case.first_response_at is None:
            case.first_response_at = self._clock()
        return CaseEvent(EventKind.MENSAJE, case.id, case.team, case.agent_id)

    def announce(self, event: CaseEvent) -> None:
        """Tell every console (call after the commit)."""
        self._bus.publish(event)

    # ------------------------------------------------------------------------------ internals

    async def _load(self, session: AsyncSession, case_id: int) -> tuple[HandoffCase, Conversation]:
        case = await repo.get_case(session=session, case_id=case_id)
        if case is None or case.ended_at is not None:
            raise CaseNotFound(str(case_id))
        conversation = await session.get(Conversation, case.conversation_id)
        if conversation is None:
            raise CaseNotFound(str(case_id))
        return case, conversation

    def _ensure_holder(self, case: HandoffCase, agent: Agent, *, queue_ok: bool = False) -> None:
        if case.agent_id == agent.id:
            return
        if case.agent_id is None and queue_ok and agent.covers(case.team):
            return
        if agent.supervises:
            return
        raise NotAllowed("no_es_su_atencion")

    async def _update(self, session: AsyncSession, case: HandoffCase, values: dict[str, Any]) -> None:
        if not await repo.update_case_if(session=session, case_id=case.id, version=case.version, values=values):
            raise Conflict(str(case.id))
        await session.refresh(case)

    async def _end(self, session: AsyncSession, case: HandoffCase, owner: Owner, reason: str) -> None:
        await self._update(session, case, {"ended_at": self._clock(), "end_owner": owner.value, "end_reason": reason})

    async def _queue_notice(self, session: AsyncSession, case: HandoffCase) -> Texto:
        if case.ticket and case.opens_at is not None:
            dia, numero, mes, hora = self.equipos.spoken(case.opens_at)
            apertura = self._textos.render("handoff_apertura", dia=dia, numero=numero, mes=mes, hora=hora).text
            return self._textos.render("handoff_fuera_de_horario", apertura=apertura)
        estimate = await self.estimate(session=session, case=case)
        return self._textos.render("handoff_en_cola", posicion=estimate.position, minutos=estimate.minutes)

    def _connected(self, first_name: str, team: str) -> Texto:
        return self._textos.render(
            "handoff_asesor_conectado", nombre_agente=first_name, equipo=self.equipos.team(team).nombre
        )

    def _resume_offer(self, resumable: Resumable) -> Texto:
        texto = self._textos.render("handoff_retomar", tramite=resumable.nombre)
        buttons = tuple((title, payload.replace("{intent}", resumable.intent)) for title, payload in texto.buttons)
        return dataclasses.replace(texto, buttons=buttons)

    def _change(
        self, case: HandoffCase, conversation: Conversation, from_owner: str, kind: EventKind, *notices: Texto
    ) -> Change:
        return Change(
            case_id=case.id,
            conversation_id=conversation.id,
            channel=conversation.channel,
            from_owner=from_owner,
            to_owner=conversation.owner,
            event=CaseEvent(kind, case.id, case.team, case.agent_id),
            notices=notices,
        )
