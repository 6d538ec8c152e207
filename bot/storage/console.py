"""Repository functions of the staff console and the handoff: staff, sessions, cases, notes, ratings, audit.

Also the reads the console and the web chat need from the conversation tables (transcripts, the web
chat's proactive messages, documents issued in a conversation, applications when that table exists).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, MetaData, Table, delete, func, inspect, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage import audit_chain
from bot.storage.models import Direction, Message
from bot.storage.models_console import (
    AuditEntry,
    CannedReply,
    CaseNote,
    CsatRating,
    HandoffCase,
    LoginAttempt,
    StaffMember,
    StaffMessage,
    StaffSession,
)
from bot.storage.models_documents import Document

# Columns of the (concurrently built) `applications` table the context panel may show, when present.
APPLICATION_COLUMNS = ("numero", "tramite", "estado", "created_at", "updated_at")

# ---------------------------------------------------------------------------------------------- staff


async def add_staff(
    *, session: AsyncSession, usuario: str, nombre: str, password_hash: str, rol: str, equipos: Sequence[str]
) -> StaffMember:
    member = StaffMember(usuario=usuario, nombre=nombre, password_hash=password_hash, rol=rol, equipos=list(equipos))
    session.add(member)
    await session.flush()
    return member


async def staff_by_usuario(*, session: AsyncSession, usuario: str) -> StaffMember | None:
    return await session.scalar(select(StaffMember).where(StaffMember.usuario == usuario))


async def staff_by_id(*, session: AsyncSession, staff_id: int) -> StaffMember | None:
    return await session.get(StaffMember, staff_id)


async def all_staff(*, session: AsyncSession) -> Sequence[StaffMember]:
    result = await session.scalars(select(StaffMember).order_by(StaffMember.nombre, StaffMember.id))
    return result.all()


async def staff_names(*, session: AsyncSession, ids: Iterable[int]) -> dict[int, str]:
    wanted = set(ids)
    if not wanted:
        return {}
    rows = await session.execute(select(StaffMember.id, StaffMember.nombre).where(StaffMember.id.in_(wanted)))
    return {row.id: row.nombre for row in rows}


async def touch_staff(*, session: AsyncSession, staff_id: int, at: datetime) -> None:
    """The console's heartbeat: the agent is online."""
    await session.execute(update(StaffMember).where(StaffMember.id == staff_id).values(last_seen_at=at))


async def online_staff(*, session: AsyncSession, since: datetime) -> Sequence[StaffMember]:
    result = await session.scalars(
        select(StaffMember).where(StaffMember.activo.is_(True), StaffMember.last_seen_at >= since)
    )
    return result.all()


# ------------------------------------------------------------------------------------ sessions, logins


async def add_session(
    *, session: AsyncSession, token_hash: str, staff_id: int, csrf_token: str, ip: str, expires_at: datetime
) -> StaffSession:
    row = StaffSession(token_hash=token_hash, staff_id=staff_id, csrf_token=csrf_token, ip=ip, expires_at=expires_at)
    session.add(row)
    await session.flush()
    return row


async def get_session(*, session: AsyncSession, token_hash: str) -> StaffSession | None:
    return await session.get(StaffSession, token_hash)


async def delete_session(*, session: AsyncSession, token_hash: str) -> None:
    await session.execute(delete(StaffSession).where(StaffSession.token_hash == token_hash))


async def delete_sessions_of(*, session: AsyncSession, staff_id: int) -> None:
    await session.execute(delete(StaffSession).where(StaffSession.staff_id == staff_id))


async def delete_expired_sessions(*, session: AsyncSession, now: datetime) -> None:
    await session.execute(delete(StaffSession).where(StaffSession.expires_at < now))


async def add_login_attempt(
    *, session: AsyncSession, usuario: str, ip: str, success: bool, at: datetime | None = None
) -> None:
    session.add(LoginAttempt(usuario=usuario, ip=ip, success=success, **({"created_at": at} if at else {})))
    await session.flush()


async def recent_failures(
    *, session: AsyncSession, since: datetime, usuario: str | None = None, ip: str | None = None
) -> tuple[int, datetime | None]:
    """Failed logins after ``since`` for an account (from any address) or from an address (to any account), after
    the last success of that account or from that address; and when the latest failure was."""
    scope = LoginAttempt.usuario == usuario if usuario is not None else LoginAttempt.ip == ip
    last_success = await session.scalar(
        select(func.max(LoginAttempt.created_at)).where(scope, LoginAttempt.success.is_(True))
    )
    start = max(since, last_success) if last_success is not None else since
    count, latest = (
        await session.execute(
            select(func.count(LoginAttempt.id), func.max(LoginAttempt.created_at)).where(
                scope, LoginAttempt.success.is_(False), LoginAttempt.created_at > start
            )
        )
    ).one()
    return int(count or 0), latest


# --------------------------------------------------------------------------------------------- cases


async def add_case(
    *,
    session: AsyncSession,
    conversation_id: str,
    team: str,
    reason: str,
    at: datetime,
    ticket: bool = False,
    opens_at: datetime | None = None,
) -> HandoffCase:
    case = HandoffCase(
        conversation_id=conversation_id,
        team=team,
        reason=reason,
        ticket=ticket,
        opens_at=opens_at,
        requested_at=at,
        queued_at=at,
        version=0,
    )
    session.add(case)
    await session.flush()
    return case


async def get_case(*, session: AsyncSession, case_id: int) -> HandoffCase | None:
    return await session.get(HandoffCase, case_id)


async def open_case_of(*, session: AsyncSession, conversation_id: str) -> HandoffCase | None:
    return await session.scalar(
        select(HandoffCase)
        .where(HandoffCase.conversation_id == conversation_id, HandoffCase.ended_at.is_(None))
        .order_by(HandoffCase.id.desc())
        .limit(1)
    )


async def cases_of_conversation(*, session: AsyncSession, conversation_id: str) -> Sequence[HandoffCase]:
    result = await session.scalars(
        select(HandoffCase).where(HandoffCase.conversation_id == conversation_id).order_by(HandoffCase.id)
    )
    return result.all()


async def update_case_if(*, session: AsyncSession, case_id: int, version: int, values: dict[str, Any]) -> bool:
    """Apply ``values`` only if nobody changed the case since ``version`` was read (compare-and-set).

    Returns:
        True when this call won; False when another change came first.
    """
    result = await session.execute(
        update(HandoffCase)
        .where(HandoffCase.id == case_id, HandoffCase.version == version)
        .values(**values, version=version + 1)
        .execution_options(synchronize_session="fetch")
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def open_cases(
    *,
    session: AsyncSession,
    teams: Sequence[str] | None = None,
    agent_id: int | None = None,
    unassigned: bool = False,
) -> Sequence[HandoffCase]:
    """Cases not ended, oldest in their queue first.

    Args:
        session: the database session.
        teams: only these teams (None: every team).
        agent_id: only the cases this agent holds.
        unassigned: only the cases nobody holds (waiting in a queue).
    """
    query = select(HandoffCase).where(HandoffCase.ended_at.is_(None))
    if teams is not None:
        query = query.where(HandoffCase.team.in_(list(teams)))
    if agent_id is not None:
        query = query.where(HandoffCase.agent_id == agent_id)
    if unassigned:
        query = query.where(HandoffCase.agent_id.is_(None))
    result = await session.scalars(query.order_by(HandoffCase.queued_at, HandoffCase.id))
    return result.all()


async def queue_position(*, session: AsyncSession, case: HandoffCase) -> int:
    """1 for the first in its team's queue; counts only unassigned cases that entered earlier."""
    ahead = await session.scalar(
        select(func.count(HandoffCase.id)).where(
            HandoffCase.ended_at.is_(None),
            HandoffCase.agent_id.is_(None),
            HandoffCase.team == case.team,
            or_(
                HandoffCase.queued_at < case.queued_at,
                (HandoffCase.queued_at == case.queued_at) & (HandoffCase.id < case.id),
            ),
        )
    )
    return int(ahead or 0) + 1


async def recent_handling(*, session: AsyncSession, team: str, limit: int = 50) -> list[tuple[datetime, datetime]]:
    """(claimed, ended) of the team's latest attended cases, newest first."""
    rows = await session.execute(
        select(HandoffCase.claimed_at, HandoffCase.ended_at)
        .where(HandoffCase.team == team, HandoffCase.claimed_at.is_not(None), HandoffCase.ended_at.is_not(None))
        .order_by(HandoffCase.ended_at.desc())
        .limit(limit)
    )
    return [(row.claimed_at, row.ended_at) for row in rows]


async def cases_requested_since(*, session: AsyncSession, since: datetime) -> Sequence[HandoffCase]:
    result = await session.scalars(
        select(HandoffCase).where(HandoffCase.requested_at >= since).order_by(HandoffCase.id)
    )
    return result.all()


# ------------------------------------------------------------------------- notes, authors, canned, CSAT


async def add_note(*, session: AsyncSession, case_id: int, staff_id: int, kind: str, text: str) -> CaseNote:
    note = CaseNote(case_id=case_id, staff_id=staff_id, kind=kind, text=text)
    session.add(note)
    await session.flush()
    return note


async def notes_of_conversation(*, session: AsyncSession, conversation_id: str) -> Sequence[CaseNote]:
    result = await session.scalars(
        select(CaseNote)
        .join(HandoffCase, HandoffCase.id == CaseNote.case_id)
        .where(HandoffCase.conversation_id == conversation_id)
        .order_by(CaseNote.id)
    )
    return result.all()


async def add_staff_message(*, session: AsyncSession, message_id: int, staff_id: int, case_id: int) -> None:
    session.add(StaffMessage(message_id=message_id, staff_id=staff_id, case_id=case_id))
    await session.flush()


async def message_authors(*, session: AsyncSession, message_ids: Iterable[int]) -> dict[int, int]:
    """Message id -> the staff member who wrote it, for agents' messages among ``message_ids``."""
    wanted = list(set(message_ids))
    if not wanted:
        return {}
    rows = await session.execute(
        select(StaffMessage.message_id, StaffMessage.staff_id).where(StaffMessage.message_id.in_(wanted))
    )
    return {row.message_id: row.staff_id for row in rows}


async def canned_replies(
    *, session: AsyncSession, teams: Sequence[str] | None = None, include_inactive: bool = False
) -> Sequence[CannedReply]:
    query = select(CannedReply)
    if not include_inactive:
        query = query.where(CannedReply.activo.is_(True))
    if teams is not None:
        query = query.where(or_(CannedReply.equipo.is_(None), CannedReply.equipo.in_(list(teams))))
    result = await session.scalars(query.order_by(CannedReply.titulo, CannedReply.id))
    return result.all()


async def get_canned_reply(*, session: AsyncSession, reply_id: int) -> CannedReply | None:
    return await session.get(CannedReply, reply_id)


async def add_canned_reply(*, session: AsyncSession, titulo: str, texto: str, equipo: str | None = None) -> CannedReply:
    reply = CannedReply(titulo=titulo, texto=texto, equipo=equipo)
    session.add(reply)
    await session.flush()
    return reply


async def count_canned_replies(*, session: AsyncSession) -> int:
    return int(await session.scalar(select(func.count(CannedReply.id))) or 0)


async def add_rating(
    *, session: AsyncSession, case_id: int, team: str, agent_id: int | None, score: int
) -> CsatRating | None:
    """Record the rating of a case; a case is rated once (a second answer is ignored)."""
    if await session.scalar(select(CsatRating.id).where(CsatRating.case_id == case_id)) is not None:
        return None
    rating = CsatRating(case_id=case_id, team=team, agent_id=agent_id, score=score)
    session.add(rating)
    await session.flush()
    return rating


async def ratings_since(*, session: AsyncSession, since: datetime) -> Sequence[CsatRating]:
    result = await session.scalars(select(CsatRating).where(CsatRating.created_at >= since))
    return result.all()


# --------------------------------------------------------------------------------------------- audit


async def add_audit(
    *,
    session: AsyncSession,
    staff_id: int | None,
    usuario: str,
    action: str,
    conversation_id: str | None = None,
    case_id: int | None = None,
    detail: dict[str, Any] | None = None,
    ip: str | None = None,
) -> AuditEntry:
    """Append a row to the audit chain (`bot.storage.audit_chain`); the chain stays locked until commit."""
    return await audit_chain.append(
        session=session,
        staff_id=staff_id,
        usuario=usuario,
        action=action,
        conversation_id=conversation_id,
        case_id=case_id,
        detail=detail,
        ip=ip,
    )


async def audit_entries(
    *,
    session: AsyncSession,
    limit: int = 200,
    before_id: int | None = None,
    usuario: str | None = None,
    case_id: int | None = None,
) -> Sequence[AuditEntry]:
    """The newest audit rows first, optionally of one staff member or one case."""
    query = select(AuditEntry)
    if before_id is not None:
        query = query.where(AuditEntry.id < before_id)
    if usuario:
        query = query.where(AuditEntry.usuario == usuario)
    if case_id is not None:
        query = query.where(AuditEntry.case_id == case_id)
    result = await session.scalars(query.order_by(AuditEntry.id.desc()).limit(limit))
    return result.all()


# ------------------------------------------------------------------------ conversation reads (console)


async def latest_messages(
    *, session: AsyncSession, conversation_id: str, after_id: int = 0, limit: int = 500
) -> list[Message]:
    """The conversation's latest ``limit`` messages after ``after_id``, oldest first."""
    result = await session.scalars(
        select(Message)
        .where(Message.conversation_id == conversation_id, Message.id > after_id)
        .order_by(Message.id.desc())
        .limit(limit)
    )
    return list(reversed(result.all()))


async def masked_forms(*, session: AsyncSession, conversation_id: str) -> dict[str, str]:
    """Vault reference -> masked form, from every inbound message of the conversation."""
    result = await session.scalars(
        select(Message.payload).where(Message.conversation_id == conversation_id, Message.direction == Direction.IN)
    )
    masked: dict[str, str] = {}
    for payload in result.all():
        masked.update((payload or {}).get("masked") or {})
    return masked


async def proactive_outbound(
    *, session: AsyncSession, conversation_id: str, after_id: int, limit: int = 50
) -> Sequence[Message]:
    """Outbound messages that answer no request (agents' replies, handoff notices), oldest first."""
    result = await session.scalars(
        select(Message)
        .where(
            Message.conversation_id == conversation_id,
            Message.direction == Direction.OUT,
            Message.reply_to_id.is_(None),
            Message.id > after_id,
        )
        .order_by(Message.id)
        .limit(limit)
    )
    return result.all()


async def last_message_id(*, session: AsyncSession, conversation_id: str) -> int:
    value = await session.scalar(select(func.max(Message.id)).where(Message.conversation_id == conversation_id))
    return int(value or 0)


async def documents_of_conversation(*, session: AsyncSession, conversation_id: str) -> Sequence[Document]:
    result = await session.scalars(
        select(Document).where(Document.conversation_id == conversation_id).order_by(Document.issued_at.desc())
    )
    return result.all()


def _applications(connection: Connection, conversation_id: str) -> list[dict[str, Any]]:
    if not inspect(connection).has_table("applications"):
        return []
    table = Table("applications", MetaData(), autoload_with=connection)
    if "conversation_id" not in table.c:
        return []
    columns = [table.c[name] for name in APPLICATION_COLUMNS if name in table.c]
    if not columns:
        return []
    rows = connection.execute(select(*columns).where(table.c.conversation_id == conversation_id).limit(20))
    return [dict(row._mapping) for row in rows]


async def applications_of(*, session: AsyncSession, conversation_id: str) -> list[dict[str, Any]]:
    """The conversation's applications when the `applications` table exists (it is being built elsewhere).

    Only the columns in `APPLICATION_COLUMNS` are read, so nothing personal reaches the console by accident.
    """
    connection = await session.connection()
    return await connection.run_sync(_applications, conversation_id)
