"""Analytics of a period, built where a process starts: reads the rows, derives events and journeys."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, tzinfo

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.analytics.events import ServiceEvent, Sources, derive
from bot.analytics.journeys import Journey, build_journeys
from bot.analytics.provinces import province_code
from bot.analytics.report import Report, build_report
from bot.privacy.encryption import KeyConfigurationError, Protector
from bot.storage import analytics as repo
from bot.storage.models import utcnow
from bot.tramites.declaration import Tramite


@dataclass(frozen=True)
class Period:
    events: list[ServiceEvent]
    journeys: list[Journey]


@dataclass
class Analytics:
    """Args:
    sessions: the app database.
    rasa: Rasa's tracker store (None: no trámite starts nor fallbacks are read).
    tramites: the declared trámites.
    zone: the days' time zone (Ecuador's).
    protector: decrypts a cédula for its province (None: provinces unknown).
    intents: the training data's intents, those a reviewer may file a message not understood under.
    """

    sessions: async_sessionmaker[AsyncSession]
    rasa: AsyncEngine | None
    tramites: Sequence[Tramite]
    zone: tzinfo
    protector: Protector | None = None
    intents: tuple[str, ...] = ()
    clock: Callable[[], datetime] = field(default=utcnow)

    async def sources(self, since: datetime, until: datetime) -> Sources:
        async with self.sessions() as session:
            applications = await repo.applications_between(session=session, since=since, until=until)
            ids = {a.id for a in applications}
            inbound = await repo.inbound_between(session=session, since=since, until=until)
            found = Sources(
                inbound=inbound,
                identities=await repo.identities_between(session=session, since=since, until=until),
                applications=applications,
                statuses=await repo.statuses_of(session=session, application_ids=ids),
                payments=await repo.payments_of(session=session, application_ids=ids),
                documents=await repo.documents_between(session=session, since=since, until=until),
                cases=await repo.cases_between(session=session, since=since, until=until),
                ratings=await repo.ratings_between(session=session, since=since, until=until),
                verifications=await repo.verifications_between(session=session, since=since, until=until),
                tracker=await repo.tracker_between(self.rasa, since=since, until=until),
            )
            chats = {m.conversation_id for m in inbound} | {a.conversation_id for a in applications}
            found.channels.update(await repo.conversation_channels(session=session, ids=chats))
        return found

    def _province_of(self) -> Callable[[str], str | None]:
        cache: dict[str, str | None] = {}
        protector = self.protector

        def province_of(cipher: str) -> str | None:
            if protector is None:
                return None
            if cipher not in cache:
                try:
                    cache[cipher] = province_code(protector.decrypt(cipher))
                except KeyConfigurationError:
                    cache[cipher] = None  # a key rotated away: the province stays unknown
            return cache[cipher]

        return province_of

    async def period(self, since: datetime, until: datetime) -> Period:
        """Events and journeys of ``[since, until)``, journeys closed at ``until`` or now, whichever is first."""
        events = derive(await self.sources(since, until), tramites=self.tramites, province_of=self._province_of())
        journeys = build_journeys(events, tramites=self.tramites, now=min(until, self.clock()))
        return Period(events, journeys)

    async def report(self, since: datetime, until: datetime) -> Report:
        found = await self.period(since, until)
        return build_report(
            found.events, found.journeys, tramites=self.tramites, since=since, until=until, zone=self.zone
        )
