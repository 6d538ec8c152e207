"""What the console's pages show, built from the database, and the Jinja2 environment that renders them.

Values reach the templates already masked (conversation ids, cédulas, vault references) and are
escaped there (autoescape): a citizen's ``<script>`` is shown as text. The wording is in the templates.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import jinja2

from bot.console.service import Consola, Identity
from bot.handoff.service import ONLINE_WINDOW, Agent
from bot.handoff.teams import Team
from bot.privacy.redaction import mask_phone, redact_text
from bot.privacy.vault import unmask
from bot.storage import console as repo
from bot.storage import conversations as conversations_repo
from bot.storage.models import Conversation, Direction, MessageStatus, Owner
from bot.storage.models_console import AuditEntry, CannedReply, HandoffCase
from bot.storage.models_documents import Document

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
VIEWS = ("sin_asignar", "mias", "todas")


def visible_user(conversation_id: str) -> str:
    """The citizen's channel id as agents see it: a phone number masked, other ids (pseudonyms) shortened."""
    user = conversation_id.partition(":")[2].removeprefix("whatsapp:")
    if user.startswith("+"):
        return mask_phone(user)
    return "…" + user[-6:] if len(user) > 6 else user


def channel_of(conversation_id: str) -> str:
    return conversation_id.partition(":")[0]


def minutes_between(start: datetime, end: datetime) -> int:
    return max(0, int((end - start).total_seconds() // 60))


class Pages:
    """The console's Jinja2 environment (autoescape on, undefined names are errors)."""

    def __init__(self, consola: Consola, directory: Path = TEMPLATES_DIR) -> None:
        self._zone = consola.equipos.zone
        self.environment = jinja2.Environment(
            loader=jinja2.FileSystemLoader(directory),
            autoescape=True,
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self.environment.filters["hora"] = self._local
        self.environment.filters["usuario"] = visible_user
        self.environment.filters["canal"] = channel_of

    def _local(self, moment: datetime | None, pattern: str = "%d/%m %H:%M") -> str:
        return moment.astimezone(self._zone).strftime(pattern) if moment else ""

    def render(self, name: str, /, **context: Any) -> str:
        return self.environment.get_template(name).render(**context)


# ------------------------------------------------------------------------------------------ queue


@dataclass(frozen=True)
class QueueRow:
    case_id: int
    canal: str
    usuario: str
    equipo: str
    motivo: str
    owner: str  # queue | agent
    agente: str | None
    minutos: int
    ticket: bool
    abre: datetime | None
    mia: bool


async def queue_rows(consola: Consola, agent: Agent, view: str) -> list[QueueRow]:
    """The queue ``view`` (sin_asignar, mias, todas) as ``agent`` may see it, oldest first."""
    teams = None if agent.supervises else sorted(agent.equipos)
    async with consola.sessions() as session:
        if view == "mias":
            cases = await repo.open_cases(session=session, agent_id=agent.id)
        elif view == "todas" and agent.supervises:
            cases = await repo.open_cases(session=session)
        else:
            cases = await repo.open_cases(session=session, teams=teams, unassigned=True)
        names = await repo.staff_names(session=session, ids=[c.agent_id for c in cases if c.agent_id])
    now = consola.clock()
    return [
        QueueRow(
            case_id=case.id,
            canal=channel_of(case.conversation_id),
            usuario=visible_user(case.conversation_id),
            equipo=consola.equipos.team(case.team).nombre,
            motivo=case.reason,
            owner=Owner.AGENT if case.agent_id else Owner.QUEUE,
            agente=names.get(case.agent_id) if case.agent_id else None,
            minutos=minutes_between(case.queued_at, now),
            ticket=case.ticket,
            abre=case.opens_at,
            mia=case.agent_id == agent.id,
        )
        for case in cases
    ]


# ------------------------------------------------------------------------------------ conversation


@dataclass(frozen=True)
class Item:
    """One line of the transcript: a message, an internal note or a change of owner."""

    kind: str  # mensaje | nota | evento
    id: int
    at: datetime
    autor: str  # citizen | bot | agent | system | nota | transferencia | evento
    nombre: str | None = None
    texto: str | None = None
    botones: tuple[str, ...] = ()
    documento: str | None = None
    esperando: bool = False
    desde: str | None = None
    hacia: str | None = None
    motivo: str | None = None


@dataclass(frozen=True)
class ConversationView:
    case: HandoffCase
    canal: str
    usuario: str
    equipo: str
    owner: str
    holder: str | None
    mine: bool
    items: list[Item]
    last_id: int
    identity: Identity | None
    tracker_ok: bool
    form: str | None
    interrupted: str | None
    slots: list[tuple[str, str]]
    applications: list[dict[str, Any]]
    documents: Sequence[Document]
    canned: Sequence[CannedReply]
    agents: list[tuple[int, str]]
    teams: list[Team]
    close_reasons: dict[str, str]


async def transcript(consola: Consola, case: HandoffCase, *, after_id: int = 0) -> tuple[list[Item], int]:
    """Messages (identifiers masked), notes and owner changes of the case's conversation, in order.

    Returns:
        The items and the id of the last message (for fetching what comes after).
    """
    async with consola.sessions() as session:
        messages = await repo.latest_messages(session=session, conversation_id=case.conversation_id, after_id=after_id)
        masked = await repo.masked_forms(session=session, conversation_id=case.conversation_id)
        authors = await repo.message_authors(session=session, message_ids=[m.id for m in messages])
        notes = (
            [] if after_id else await repo.notes_of_conversation(session=session, conversation_id=case.conversation_id)
        )
        history = (
            []
            if after_id
            else await conversations_repo.owner_history(session=session, conversation_id=case.conversation_id)
        )
        names = await repo.staff_names(session=session, ids={*authors.values(), *(n.staff_id for n in notes)})
    unanswered: set[int] = set()  # waiting for a person and no agent wrote after them
    for message in reversed(messages):
        if message.direction == Direction.OUT and message.author == "agent":
            break
        if message.status == MessageStatus.WAITING:
            unanswered.add(message.id)
    items: list[Item] = []
    for message in messages:
        payload = message.payload or {}
        document = (payload.get("custom") or {}).get("document") if message.direction == Direction.OUT else None
        items.append(
            Item(
                kind="mensaje",
                id=message.id,
                at=message.created_at,
                autor=message.author,
                nombre=names.get(authors[message.id]) if message.id in authors else None,
                texto=unmask(message.text, masked) if message.text else None,
                botones=tuple(str(b.get("title", "")) for b in payload.get("buttons") or () if isinstance(b, dict)),
                documento=str(document.get("filename")) if isinstance(document, dict) else None,
                esperando=message.id in unanswered,
            )
        )
    items += [
        Item(kind="nota", id=0, at=n.created_at, autor=n.kind, nombre=names.get(n.staff_id), texto=n.text)
        for n in notes
    ]
    items += [
        Item(
            kind="evento", id=0, at=e.created_at, autor="evento", desde=e.from_owner, hacia=e.to_owner, motivo=e.reason
        )
        for e in history
    ]
    items.sort(key=lambda item: (item.at, item.kind != "mensaje"))
    return items, max((m.id for m in messages), default=after_id)


def visible_slots(consola: Consola, tracker: dict[str, Any] | None, masked: dict[str, str]) -> list[tuple[str, str]]:
    """Filled slots an agent may see: secrets hidden, vault references and identifiers masked."""
    slots = (tracker or {}).get("slots") or {}
    shown: list[tuple[str, str]] = []
    for name, value in sorted(slots.items()):
        if value is None or value == "" or value == [] or consola.equipos.slot_is_hidden(name):
            continue
        shown.append((name, redact_text(unmask(str(value), masked))))
    return shown


async def conversation_view(consola: Consola, agent: Agent, case: HandoffCase) -> ConversationView:
    items, last_id = await transcript(consola, case)
    tracker = await consola.tracker(case.conversation_id)
    async with consola.sessions() as session:
        masked = await repo.masked_forms(session=session, conversation_id=case.conversation_id)
        conversation = await session.get(Conversation, case.conversation_id)
        owner = conversation.owner if conversation else Owner.CLOSED
        documents = await repo.documents_of_conversation(session=session, conversation_id=case.conversation_id)
        applications = await repo.applications_of(session=session, conversation_id=case.conversation_id)
        canned = await repo.canned_replies(session=session, teams=[case.team])
        staff = [m for m in await repo.all_staff(session=session) if m.activo]
    names = {m.id: m.nombre for m in staff}
    form = (tracker or {}).get("active_loop") or {}
    interrupted = ((tracker or {}).get("slots") or {}).get("formulario_interrumpido")
    return ConversationView(
        case=case,
        canal=channel_of(case.conversation_id),
        usuario=visible_user(case.conversation_id),
        equipo=consola.equipos.team(case.team).nombre,
        owner=owner if case.ended_at is None else (case.end_owner or owner),
        holder=names.get(case.agent_id) if case.agent_id else None,
        mine=case.agent_id == agent.id and case.ended_at is None,
        items=items,
        last_id=last_id,
        identity=await consola.identity(case.conversation_id),
        tracker_ok=tracker is not None,
        form=str(form["name"]) if form.get("name") else None,
        interrupted=str(interrupted) if interrupted else None,
        slots=visible_slots(consola, tracker, masked),
        applications=applications,
        documents=documents,
        canned=canned,
        agents=[(m.id, m.nombre) for m in staff if m.id != case.agent_id and m.equipos],
        teams=list(consola.equipos.teams.values()),
        close_reasons=dict(consola.equipos.close_reasons),
    )


# ------------------------------------------------------------------------------------- dashboard


@dataclass(frozen=True)
class TeamStats:
    team: Team
    en_cola: int
    tickets: int
    atendiendo: int
    espera_max: int | None
    espera_mediana: int | None
    sla_dentro: int
    sla_total: int
    en_linea: int
    csat: float | None
    csat_n: int

    @property
    def sla_pct(self) -> int | None:
        return round(100 * self.sla_dentro / self.sla_total) if self.sla_total else None


def _first_wait(case: HandoffCase) -> timedelta | None:
    """From the request (or a ticket's opening) to the first answer of a person."""
    if case.first_response_at is None:
        return None
    start = case.opens_at if case.ticket and case.opens_at else case.requested_at
    return max(timedelta(0), case.first_response_at - start)


async def dashboard(consola: Consola, *, days: int = 7) -> list[TeamStats]:
    """Per team: queue now, waits, first-response SLA over ``days``, agents online, CSAT average."""
    now = consola.clock()
    async with consola.sessions() as session:
        open_cases = await repo.open_cases(session=session)
        recent = await repo.cases_requested_since(session=session, since=now - timedelta(days=days))
        online = await repo.online_staff(session=session, since=now - ONLINE_WINDOW)
        ratings = await repo.ratings_since(session=session, since=now - timedelta(days=30))
    stats: list[TeamStats] = []
    for team in consola.equipos.teams.values():
        waiting = [c for c in open_cases if c.team == team.code and c.agent_id is None]
        claimed = [c for c in recent if c.team == team.code and c.claimed_at is not None]
        answered = [w for w in (_first_wait(c) for c in recent if c.team == team.code) if w is not None]
        scores = [r.score for r in ratings if r.team == team.code]
        stats.append(
            TeamStats(
                team=team,
                en_cola=len(waiting),
                tickets=sum(1 for c in waiting if c.ticket),
                atendiendo=sum(1 for c in open_cases if c.team == team.code and c.agent_id is not None),
                espera_max=max((minutes_between(c.queued_at, now) for c in waiting), default=None),
                espera_mediana=(
                    round(
                        statistics.median(
                            minutes_between(c.requested_at, c.claimed_at) for c in claimed if c.claimed_at
                        )
                    )
                    if claimed
                    else None
                ),
                sla_dentro=sum(1 for w in answered if w <= timedelta(minutes=team.sla_minutos)),
                sla_total=len(answered),
                en_linea=sum(1 for m in online if team.code in (m.equipos or ())),
                csat=round(statistics.fmean(scores), 1) if scores else None,
                csat_n=len(scores),
            )
        )
    return stats


@dataclass(frozen=True)
class AuditRow:
    entry: AuditEntry
    usuario_visible: str | None


async def audit_rows(consola: Consola, *, usuario: str = "", case_id: int | None = None) -> list[AuditRow]:
    async with consola.sessions() as session:
        entries = await repo.audit_entries(session=session, usuario=usuario or None, case_id=case_id)
    return [AuditRow(e, visible_user(e.conversation_id) if e.conversation_id else None) for e in entries]
