"""Journeys: one trámite in one conversation, from its start to its document or to where it was abandoned.

A journey's steps are ``started → identity → confirmed → paid → issued``, those its declaration makes apply:
identity when it asks for the código dactilar, confirmed when it creates an application, paid when it has a
fee (or when a payment was asked for, as for a fine), issued when it issues a document. A later step implies
the earlier ones (an application confirmed needed the identity). A journey is *completed* at its last step,
*rejected* when the registry refused it, *abandoned* when it stayed idle `ABANDON_AFTER` before that, else
*in progress*. Its time to document runs from the first message of the visit it started in.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bot.analytics.events import EventKind, ServiceEvent
from bot.tramites.declaration import NivelIdentidad, Tramite

ABANDON_AFTER = timedelta(hours=24)


class Step(enum.StrEnum):
    STARTED = "iniciado"
    IDENTITY = "identidad"
    CONFIRMED = "confirmado"
    PAID = "pagado"
    ISSUED = "emitido"


class Status(enum.StrEnum):
    COMPLETED = "completado"
    REJECTED = "rechazado"
    ABANDONED = "abandonado"
    IN_PROGRESS = "en_curso"


def steps_of(tramite: Tramite, *, payment_due: bool = False) -> tuple[Step, ...]:
    """The steps that apply to ``tramite`` (a fee-less trámite that may ask for a payment: only when it did)."""
    steps = [Step.STARTED]
    if tramite.nivel_identidad is NivelIdentidad.DACTILAR:
        steps.append(Step.IDENTITY)
    if tramite.reintentable:  # its service creates an application the citizen confirms
        steps.append(Step.CONFIRMED)
    if tramite.costo_usd > 0 or (tramite.se_paga and payment_due):
        steps.append(Step.PAID)
    if tramite.documento:
        steps.append(Step.ISSUED)
    return tuple(steps)


def possible_steps(tramite: Tramite) -> tuple[Step, ...]:
    """Every step a journey of ``tramite`` may reach (a payment included when the trámite can ask for one)."""
    return steps_of(tramite, payment_due=tramite.se_paga)


@dataclass
class Journey:
    conversation_id: str
    channel: str
    tramite: Tramite
    first_message_at: datetime  # the first message of the visit the trámite started in
    started_at: datetime
    last_at: datetime
    reached: dict[Step, datetime] = field(default_factory=dict)
    payment_due: bool = False
    rejected: bool = False
    province: str | None = None
    cases: list[int] = field(default_factory=list)
    handoff_reasons: list[str] = field(default_factory=list)
    scores: list[int] = field(default_factory=list)
    status: Status = Status.IN_PROGRESS
    abandoned_before: Step | None = None

    @property
    def steps(self) -> tuple[Step, ...]:
        return steps_of(self.tramite, payment_due=self.payment_due)

    @property
    def done(self) -> bool:
        return self.rejected or self.steps[-1] in self.reached

    @property
    def contained(self) -> bool:
        """Served without a person."""
        return not self.cases

    @property
    def minutes_to_document(self) -> float | None:
        issued = self.reached.get(Step.ISSUED)
        return None if issued is None else max(0.0, (issued - self.first_message_at).total_seconds() / 60)

    def reach(self, step: Step, at: datetime) -> None:
        self.reached.setdefault(step, at)
        self.last_at = max(self.last_at, at)

    def close(self, now: datetime) -> None:
        """Fill the steps a later one implies; decide the status at ``now``."""
        steps = self.steps
        latest = max((steps.index(s) for s in self.reached if s in steps), default=0)
        for step in steps[:latest]:
            if step not in self.reached:
                self.reached[step] = self.reached[steps[latest]]
        if self.rejected:
            self.status = Status.REJECTED
        elif steps[-1] in self.reached:
            self.status = Status.COMPLETED
        elif now - self.last_at >= ABANDON_AFTER:
            self.status = Status.ABANDONED
            self.abandoned_before = next(s for s in steps if s not in self.reached)
        else:
            self.status = Status.IN_PROGRESS

    def abandoned_event(self) -> ServiceEvent | None:
        if self.abandoned_before is None:
            return None
        return ServiceEvent(
            EventKind.ABANDONED,
            self.last_at + ABANDON_AFTER,
            self.conversation_id,
            self.channel,
            tramite=self.tramite.clave,
            detail=self.abandoned_before.value,
            province=self.province,
        )


@dataclass
class _Conversation:
    visit_start: datetime | None = None
    identity_at: datetime | None = None
    identity_province: str | None = None
    open: dict[str, Journey] = field(default_factory=dict)
    latest: Journey | None = None


def build_journeys(events: Iterable[ServiceEvent], *, tramites: Sequence[Tramite], now: datetime) -> list[Journey]:
    """Group ``events`` (in time order) into journeys and close them at ``now``."""
    declared = {t.clave: t for t in tramites}
    chats: dict[str, _Conversation] = {}
    journeys: list[Journey] = []
    by_application: dict[int, Journey] = {}
    by_case: dict[int, Journey] = {}

    def journey_for(event: ServiceEvent, chat: _Conversation) -> Journey | None:
        """The open journey of the event's trámite in this chat (asked again: the same one), or a new one."""
        tramite = declared.get(event.tramite or "")
        if tramite is None:
            return None
        current = chat.open.get(tramite.clave)
        if current is not None and not current.done and event.at - current.last_at < ABANDON_AFTER:
            current.last_at = max(current.last_at, event.at)
            return current
        journey = Journey(
            conversation_id=event.conversation_id,
            channel=event.channel,
            tramite=tramite,
            first_message_at=chat.visit_start or event.at,
            started_at=event.at,
            last_at=event.at,
            province=event.province or chat.identity_province,
        )
        journey.reach(Step.STARTED, event.at)
        if chat.identity_at is not None and chat.visit_start is not None and chat.identity_at >= chat.visit_start:
            journey.reach(Step.IDENTITY, event.at)  # proven earlier in this visit: the trámite does not ask again
        chat.open[tramite.clave] = journey
        journeys.append(journey)
        return journey

    for event in events:
        chat = chats.setdefault(event.conversation_id, _Conversation())
        kind = event.kind
        journey: Journey | None = None
        if kind is EventKind.CONVERSATION_STARTED:
            chat.visit_start = event.at
            continue
        if kind is EventKind.TRAMITE_STARTED:
            journey = journey_for(event, chat)
        elif kind is EventKind.IDENTITY_PROVEN:
            chat.identity_at, chat.identity_province = event.at, event.province
            for waiting in chat.open.values():
                if not waiting.done and Step.IDENTITY in waiting.steps:
                    waiting.reach(Step.IDENTITY, event.at)
                    waiting.province = waiting.province or event.province
            continue
        elif kind is EventKind.CONFIRMED and event.application_id is not None:
            journey = journey_for(event, chat)
            if journey is not None:
                by_application[event.application_id] = journey
                journey.payment_due = journey.payment_due or event.payment_due
                journey.province = event.province or journey.province
                journey.reach(Step.CONFIRMED, event.at)
        elif kind in (EventKind.PAID, EventKind.ISSUED, EventKind.REJECTED):
            journey = by_application.get(event.application_id) if event.application_id else journey_for(event, chat)
            if journey is not None:
                if kind is EventKind.REJECTED:
                    journey.rejected = True
                    journey.last_at = max(journey.last_at, event.at)
                else:
                    journey.reach(Step.PAID if kind is EventKind.PAID else Step.ISSUED, event.at)
        elif kind is EventKind.HANDOFF and event.case_id is not None:
            journey = chat.latest
            if journey is not None and event.at - journey.last_at < ABANDON_AFTER:
                journey.cases.append(event.case_id)
                journey.handoff_reasons.append(event.detail or "")
                by_case[event.case_id] = journey
            continue
        elif kind is EventKind.RATED and event.case_id in by_case and event.score is not None:
            by_case[event.case_id].scores.append(event.score)
            continue
        if journey is not None:
            chat.latest = journey
    for journey in journeys:
        journey.close(now)
    return journeys
