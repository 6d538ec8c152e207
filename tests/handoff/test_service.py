"""HandoffService over the owner state machine, on SQLite and PostgreSQL: every change checked and recorded."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.handoff.events import EventBus, EventKind
from bot.handoff.service import (
    Agent,
    CaseNotFound,
    ClaimRefused,
    Conflict,
    HandoffService,
    NotAllowed,
    RatingAsked,
    csat_score,
)
from bot.handoff.state import InvalidTransition
from bot.storage import console as repo
from bot.storage import conversations as conversations_repo
from bot.storage.models import Conversation, Owner
from bot.storage.models_console import CaseNote, CsatRating, HandoffCase
from bot.texts import load_textos
from tests.handoff.builders import PROJECT, Clock, always_open, shipped_equipos

GYE = ZoneInfo("America/Guayaquil")
MONDAY_10 = datetime(2026, 11, 30, 10, tzinfo=GYE).astimezone(UTC)
Sessions = async_sessionmaker[AsyncSession]


@pytest.fixture
def clock() -> Clock:
    return Clock(MONDAY_10)


@pytest.fixture
def bus() -> EventBus:
    return EventBus()


@pytest.fixture
def service(clock: Clock, bus: EventBus) -> HandoffService:
    return HandoffService(
        equipos=shipped_equipos(), textos=load_textos(PROJECT / "dialogs" / "textos"), bus=bus, clock=clock
    )


async def conversation(sessions: Sessions, conversation_id: str = "web:ana") -> str:
    async with sessions() as session:
        await conversations_repo.get_or_create_conversation(
            session=session, conversation_id=conversation_id, channel=conversation_id.split(":")[0]
        )
        await session.commit()
    return conversation_id


async def agent(
    sessions: Sessions, usuario: str, *, rol: str = "agente", equipos: tuple[str, ...] = ("general",)
) -> Agent:
    async with sessions() as session:
        member = await repo.add_staff(
            session=session,
            usuario=usuario,
            nombre=f"{usuario.title()} Pérez",
            password_hash="-",
            rol=rol,
            equipos=equipos,
        )
        await session.commit()
        return Agent.of(member)


async def request(
    service: HandoffService, sessions: Sessions, conversation_id: str, *, team: str = "general"
) -> tuple[int, str]:
    """Ask for a person; returns the case id and the notice's text."""
    async with sessions() as session:
        conv = await session.get(Conversation, conversation_id)
        assert conv is not None
        change = await service.request(session=session, conversation=conv, reason="pedido_ciudadano", team=team)
        await session.commit()
    assert change is not None
    [notice] = change.notices
    return change.case_id, notice.text


async def owner_and_history(sessions: Sessions, conversation_id: str) -> tuple[str, list[tuple[str, str, str, str]]]:
    async with sessions() as session:
        conv = await session.get(Conversation, conversation_id)
        history = await conversations_repo.owner_history(session=session, conversation_id=conversation_id)
    assert conv is not None
    return conv.owner, [(e.from_owner, e.to_owner, e.actor, e.reason) for e in history]


async def case_of(sessions: Sessions, case_id: int) -> HandoffCase:
    async with sessions() as session:
        case = await repo.get_case(session=session, case_id=case_id)
    assert case is not None
    return case


async def test_a_request_moves_the_conversation_to_the_queue_with_place_and_wait(
    sessions: Sessions, service: HandoffService
) -> None:
    first = await conversation(sessions, "web:ana")
    second = await conversation(sessions, "tg:42")
    case_id, notice = await request(service, sessions, first)
    _, second_notice = await request(service, sessions, second)

    assert notice == (
        "Un asesor le atenderá en breve. Usted es el número 1 en la fila y el tiempo estimado de espera es de unos "
        "6 minutos. Puede seguir escribiendo aquí: el asesor leerá sus mensajes."
    )
    assert "Usted es el número 2 en la fila" in second_notice and "unos 12 minutos" in second_notice
    assert await owner_and_history(sessions, first) == (
        Owner.QUEUE,
        [("bot", "queue", "bot", "pedido_ciudadano")],
    )
    case = await case_of(sessions, case_id)
    assert (case.team, case.reason, case.agent_id, case.ticket, case.ended_at) == (
        "general",
        "pedido_ciudadano",
        None,
        False,
        None,
    )
    async with sessions() as session:
        logged = await conversations_repo.handoff_requests(session=session, conversation_id=first)
    assert [(r.reason, r.team) for r in logged] == [("pedido_ciudadano", "general")]


async def test_a_second_request_while_queued_is_only_logged(sessions: Sessions, service: HandoffService) -> None:
    conversation_id = await conversation(sessions)
    await request(service, sessions, conversation_id)
    async with sessions() as session:
        conv = await session.get(Conversation, conversation_id)
        assert conv is not None
        again = await service.request(session=session, conversation=conv, reason="no_entendido", team="general")
        await session.commit()
        logged = await conversations_repo.handoff_requests(session=session, conversation_id=conversation_id)
    assert again is None
    assert len(logged) == 2
    assert len((await owner_and_history(sessions, conversation_id))[1]) == 1


async def test_out_of_hours_the_request_is_a_ticket_for_the_next_opening(
    sessions: Sessions, service: HandoffService, clock: Clock
) -> None:
    clock.now = datetime(2026, 11, 28, 15, tzinfo=GYE).astimezone(UTC)  # Saturday afternoon
    case_id, notice = await request(service, sessions, await conversation(sessions), team="registro_civil")
    assert notice == (
        "En este momento estamos fuera de horario. Deje su mensaje aquí y le contactaremos el lunes 30 de noviembre "
        "a las 08:00. No necesita volver a escribir."
    )
    case = await case_of(sessions, case_id)
    assert case.ticket is True
    assert case.opens_at == datetime(2026, 11, 30, 8, tzinfo=GYE)


async def test_an_unknown_team_goes_to_the_general_queue(sessions: Sessions, service: HandoffService) -> None:
    case_id, _ = await request(service, sessions, await conversation(sessions), team="inexistente")
    assert (await case_of(sessions, case_id)).team == "general"


async def test_the_wait_is_the_median_handling_time_times_the_place_over_agents_online(
    sessions: Sessions, service: HandoffService, clock: Clock
) -> None:
    async with sessions() as session:
        for number, minutes in enumerate((4, 6, 8, 10, 30)):
            await conversations_repo.get_or_create_conversation(
                session=session, conversation_id=f"web:antes{number}", channel="web"
            )
            past = await repo.add_case(
                session=session, conversation_id=f"web:antes{number}", team="ant", reason="x", at=clock.now
            )
            past.claimed_at = clock.now - timedelta(hours=1)
            past.ended_at = past.claimed_at + timedelta(minutes=minutes)
        await session.commit()
    for usuario in ("lucia", "pedro"):
        member = await agent(sessions, usuario, equipos=("ant",))
        async with sessions() as session:
            await repo.touch_staff(session=session, staff_id=member.id, at=clock.now - timedelta(seconds=30))
            await session.commit()
    await agent(sessions, "ausente", equipos=("ant",))  # never online
    for name in ("web:uno", "web:dos"):
        await request(service, sessions, await conversation(sessions, name), team="ant")
    _, notice = await request(service, sessions, await conversation(sessions, "web:tres"), team="ant")
    # place 3 x median 8 minutes / 2 agents online = 12 minutes
    assert "Usted es el número 3 en la fila y el tiempo estimado de espera es de unos 12 minutos." in notice


async def test_claim_conflicts_and_a_supervisor_take_over(
    sessions: Sessions, service: HandoffService, bus: EventBus
) -> None:
    conversation_id = await conversation(sessions)
    case_id, _ = await request(service, sessions, conversation_id)
    ana, beto = await agent(sessions, "ana"), await agent(sessions, "beto")
    jefa = await agent(sessions, "jefa", rol="supervisor", equipos=())

    with bus.subscribe() as events:
        async with sessions() as session:
            change = await service.claim(session=session, case_id=case_id, agent=ana)
            await session.commit()
        assert change is not None
        service.announce(change.event)
        assert [t.text for t in change.notices] == ["Ya le atiende Ana, del equipo de Atención general."]
        assert (await events.get()).kind is EventKind.TOMADA

    async with sessions() as session:
        assert await service.claim(session=session, case_id=case_id, agent=ana) is None  # already hers
        with pytest.raises(ClaimRefused) as refused:
            await service.claim(session=session, case_id=case_id, agent=beto)
        assert refused.value.holder_id == ana.id
        change = await service.claim(session=session, case_id=case_id, agent=jefa)
        await session.commit()
    assert change is not None and change.from_owner == Owner.AGENT
    assert (await case_of(sessions, case_id)).agent_id == jefa.id
    assert await owner_and_history(sessions, conversation_id) == (
        Owner.AGENT,
        [
            ("bot", "queue", "bot", "pedido_ciudadano"),
            ("queue", "agent", "agente:ana", "tomada"),
            ("agent", "agent", "agente:jefa", "tomada_por_supervisor"),
        ],
    )


async def test_an_agent_cannot_claim_another_teams_conversation(sessions: Sessions, service: HandoffService) -> None:
    case_id, _ = await request(service, sessions, await conversation(sessions), team="sri")
    ana = await agent(sessions, "ana", equipos=("general",))
    async with sessions() as session:
        with pytest.raises(NotAllowed, match="equipo_ajeno"):
            await service.claim(session=session, case_id=case_id, agent=ana)


async def test_two_agents_claiming_at_once_only_one_wins(sessions: Sessions, service: HandoffService) -> None:
    conversation_id = await conversation(sessions)
    case_id, _ = await request(service, sessions, conversation_id)
    ana, beto = await agent(sessions, "ana"), await agent(sessions, "beto")

    async def claim(who: Agent) -> str:
        async with sessions() as session:
            try:
                await service.claim(session=session, case_id=case_id, agent=who)
                await session.commit()
            except (ClaimRefused, Conflict) as exc:
                await session.rollback()
                return type(exc).__name__
        return "ok"

    results = await asyncio.gather(claim(ana), claim(beto))
    assert sorted(results)[1] == "ok" and sorted(results)[0] in ("ClaimRefused", "Conflict")
    _, history = await owner_and_history(sessions, conversation_id)
    assert [to for _, to, _, _ in history] == ["queue", "agent"]


async def test_transfer_to_an_agent_then_to_a_team_keeps_the_comments_as_notes(
    sessions: Sessions, service: HandoffService
) -> None:
    conversation_id = await conversation(sessions)
    case_id, _ = await request(service, sessions, conversation_id)
    ana, beto = await agent(sessions, "ana"), await agent(sessions, "beto")
    async with sessions() as session:
        await service.claim(session=session, case_id=case_id, agent=ana)
        with pytest.raises(NotAllowed, match="destino_invalido"):
            await service.transfer(session=session, case_id=case_id, agent=ana, to_team="inexistente")
        to_beto = await service.transfer(
            session=session, case_id=case_id, agent=ana, to_agent_id=beto.id, comment="Pide su partida"
        )
        with pytest.raises(NotAllowed, match="no_es_su_atencion"):
            await service.transfer(session=session, case_id=case_id, agent=ana, to_team="registro_civil")
        to_team = await service.transfer(
            session=session, case_id=case_id, agent=beto, to_team="registro_civil", comment="Es del Registro Civil"
        )
        await session.commit()
        notes = (await session.execute(CaseNote.__table__.select())).all()
    assert [t.text for t in to_beto.notices] == ["Ya le atiende Beto, del equipo de Atención general."]
    assert to_beto.event.kind is EventKind.TRANSFERIDA and to_beto.event.agent_id == beto.id
    assert [t.text for t in to_team.notices] == [
        "Le comunicamos con el equipo de Registro Civil. Una persona le atenderá en breve."
    ]
    assert to_team.event.kind is EventKind.NUEVA
    case = await case_of(sessions, case_id)
    assert (case.team, case.agent_id) == ("registro_civil", None)
    assert [(n.kind, n.text) for n in notes] == [
        ("transferencia", "Pide su partida"),
        ("transferencia", "Es del Registro Civil"),
    ]
    _, history = await owner_and_history(sessions, conversation_id)
    assert [(f, t, r) for f, t, _, r in history][-2:] == [
        ("agent", "agent", "transferida_a_agente"),
        ("agent", "queue", "transferida_a_equipo"),
    ]


async def test_a_queued_conversation_cannot_be_sent_to_another_queue(
    sessions: Sessions, service: HandoffService
) -> None:
    case_id, _ = await request(service, sessions, await conversation(sessions))
    jefa = await agent(sessions, "jefa", rol="supervisor", equipos=())
    async with sessions() as session:
        with pytest.raises(InvalidTransition, match="from queue to queue"):
            await service.transfer(session=session, case_id=case_id, agent=jefa, to_team="sri")


async def test_hand_back_asks_for_a_rating_and_then_offers_the_interrupted_form(
    sessions: Sessions, service: HandoffService
) -> None:
    conversation_id = await conversation(sessions)
    case_id, _ = await request(service, sessions, conversation_id)
    ana = await agent(sessions, "ana")
    async with sessions() as session:
        await service.claim(session=session, case_id=case_id, agent=ana)
        change = await service.hand_back(
            session=session, case_id=case_id, agent=ana, interrupted_form="certificado_nacimiento_form"
        )
        await session.commit()
    assert [t.key for t in change.notices] == ["handoff_devuelto", "csat_pregunta"]
    assert change.notices[1].buttons == tuple((str(n), str(n)) for n in range(1, 6))
    assert change.event.kind is EventKind.DEVUELTA
    owner, history = await owner_and_history(sessions, conversation_id)
    assert (owner, history[-1][1:]) == (Owner.BOT, ("bot", "agente:ana", "devuelta"))
    case = await case_of(sessions, case_id)
    assert (case.end_owner, case.end_reason, case.ended_at is not None) == ("bot", "devuelta", True)

    assert change.rating == RatingAsked(case_id, "certificado_nacimiento_form")  # the router remembers it
    async with sessions() as session:
        assert await service.answer_csat(session=session, rating=change.rating, text="hola") == ()
        answer = await service.answer_csat(session=session, rating=change.rating, text="4")
        await session.commit()
        ratings = (await session.execute(CsatRating.__table__.select())).all()
    assert [t.key for t in answer] == ["csat_gracias_breve", "handoff_retomar"]
    assert answer[1].text == (
        "Antes de hablar con el asesor usted estaba en este trámite: Certificado de nacimiento. "
        "¿Quiere continuar donde se quedó?"
    )
    assert answer[1].buttons == (
        ("Continuar el trámite", "/solicitar_certificado_nacimiento"),
        ("Ver otros servicios", "/ayuda"),
    )
    assert [(r.case_id, r.team, r.agent_id, r.score) for r in ratings] == [(case_id, "general", ana.id, 4)]
    async with sessions() as session:
        conv = await session.get(Conversation, conversation_id)
        assert conv is not None and conv.options is None  # the service never writes the conversation's state


async def test_hand_back_from_the_queue_asks_no_rating(sessions: Sessions, service: HandoffService) -> None:
    case_id, _ = await request(service, sessions, await conversation(sessions))
    ana = await agent(sessions, "ana")
    async with sessions() as session:
        change = await service.hand_back(session=session, case_id=case_id, agent=ana)
        await session.commit()
    assert [t.key for t in change.notices] == ["handoff_devuelto"]
    assert change.rating is None
    async with sessions() as session:
        with pytest.raises(CaseNotFound):  # it has ended
            await service.hand_back(session=session, case_id=case_id, agent=ana)


async def test_close_needs_a_known_reason_and_asks_for_a_rating(sessions: Sessions, service: HandoffService) -> None:
    conversation_id = await conversation(sessions)
    case_id, _ = await request(service, sessions, conversation_id)
    ana, beto = await agent(sessions, "ana"), await agent(sessions, "beto")
    async with sessions() as session:
        await service.claim(session=session, case_id=case_id, agent=ana)
        with pytest.raises(NotAllowed, match="motivo_desconocido"):
            await service.close(session=session, case_id=case_id, agent=ana, reason="aburrido")
        with pytest.raises(NotAllowed, match="no_es_su_atencion"):
            await service.close(session=session, case_id=case_id, agent=beto, reason="resuelto")
        change = await service.close(session=session, case_id=case_id, agent=ana, reason="resuelto")
        await session.commit()
    assert [t.key for t in change.notices] == ["handoff_cerrado", "csat_pregunta"]
    assert change.rating == RatingAsked(case_id)
    owner, history = await owner_and_history(sessions, conversation_id)
    assert (owner, history[-1]) == (Owner.CLOSED, ("agent", "closed", "agente:ana", "resuelto"))


async def test_closing_from_the_queue_tells_the_citizen_nothing(sessions: Sessions, service: HandoffService) -> None:
    case_id, _ = await request(service, sessions, await conversation(sessions))
    ana = await agent(sessions, "ana")
    async with sessions() as session:
        change = await service.close(session=session, case_id=case_id, agent=ana, reason="duplicado")
        await session.commit()
    assert (change.from_owner, change.to_owner, change.notices) == (Owner.QUEUE, Owner.CLOSED, ())


async def test_only_the_holder_may_write(sessions: Sessions, service: HandoffService) -> None:
    case_id, _ = await request(service, sessions, await conversation(sessions))
    ana, beto = await agent(sessions, "ana"), await agent(sessions, "beto")
    async with sessions() as session:
        with pytest.raises(NotAllowed, match="no_es_su_atencion"):  # in the queue: claim first
            await service.ensure_can_write(session=session, case_id=case_id, agent=ana)
        await service.claim(session=session, case_id=case_id, agent=ana)
        case = await service.ensure_can_write(session=session, case_id=case_id, agent=ana)
        with pytest.raises(NotAllowed):
            await service.ensure_can_write(session=session, case_id=case_id, agent=beto)
        event = await service.record_reply(session=session, case=case, agent=ana, message_ids=[])
        await session.commit()
    assert event.kind is EventKind.MENSAJE
    assert (await case_of(sessions, case_id)).first_response_at is not None


def test_rating_replies() -> None:
    assert [csat_score(t) for t in ("5", " 3 ", "4.", "2 estrellas", "1 estrella", "0", "6", "cinco", "5 y 4")] == [
        5,
        3,
        4,
        2,
        1,
        None,
        None,
        None,
        None,
    ]


def test_always_open_builder_is_open_at_any_hour() -> None:
    equipos = always_open(shipped_equipos())
    assert equipos.is_open("registro_civil", datetime(2026, 12, 25, 3, tzinfo=UTC))
