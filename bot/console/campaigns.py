"""Campaigns from the console: a templated message to a segment of the citizens subscribed to reminders.

A campaign is written (placeholders limited to `PLACEHOLDERS`: no identifier ever), previewed (how many citizens,
the message as one of them would read it), then sent. Sending freezes the recipients, one per citizen (the keyed
hash of the cédula; `campaign_recipients` is unique on it: the idempotency key), and `CampaignSender` hands them
to the outbox at the campaign's pace: a token bucket of ``por_minuto`` messages a minute, at most `BURST_SECONDS`
of it at once; the outbox then keeps each channel's own limits. Nothing is queued in quiet hours (20:00-08:00
Ecuador time); a chat outside its channel's session window gets the campaign's approved template or nothing; a
chat that withdrew its reminders (or refused the transfer abroad its channel needs) before its turn is left out.
Every message ends with how to stop («no más avisos»).

Counts come from the outbox: queued, sent, delivered and read (where the channel reports it: Twilio's status
callbacks), failed; a reply is a citizen's message within ``horas_respuesta`` hours after the message left.
"""

from __future__ import annotations

import asyncio
import math
import re
import string
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import structlog
import yaml
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.channels.base import ChannelAdapter, ChannelRegistry
from bot.conversations.messages import BotMessage, Button
from bot.privacy.encryption import Protector
from bot.reminders.schedule import Kind, in_quiet_hours
from bot.reminders.service import TRANSFER
from bot.storage import campaigns as repo
from bot.storage import conversations as conversations_repo
from bot.storage import privacy as privacy_repo
from bot.storage.models import Conversation, OutboxStatus, utcnow
from bot.storage.models_campaigns import Campaign, CampaignState, RecipientState
from bot.storage.models_reminders import ReminderSubscription

log = structlog.get_logger(__name__)

PLACEHOLDERS = ("nombre_corto",)  # the citizen's first name; nothing that identifies anyone
MAX_TEXT = 1000
MAX_TITLE = 120
RATE_RANGE = (1, 600)  # messages a minute
REPLY_HOURS_RANGE = (1, 168)
BURST_SECONDS = 2.0  # the bucket holds this many seconds of the pace (the sender ticks every second)
LONG_NUMBER = re.compile(r"\d[\d .-]{8,}\d")  # a cédula, a phone or an account number typed into the text


class CampaignError(Exception):
    """A campaign is refused; ``code`` is the console's notice (worded in `_textos.html`)."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclass(frozen=True)
class Institution:
    code: str
    nombre: str
    tipos: tuple[str, ...]


@dataclass(frozen=True)
class CampaignConfig:
    """`data/consola/campanas.yml`: institutions and their reminder kinds, the stop line and its button."""

    institutions: dict[str, Institution]
    footer: str
    button: Button

    @classmethod
    def load(cls, path: Path) -> CampaignConfig:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        institutions = {
            str(code): Institution(str(code), str(entry["nombre"]), tuple(str(k) for k in entry["tipos"]))
            for code, entry in (raw.get("instituciones") or {}).items()
        }
        known = {k.value for k in Kind}
        for institution in institutions.values():
            unknown = set(institution.tipos) - known
            if unknown:
                raise ValueError(f"{path}: {institution.code} names unknown reminder kinds {sorted(unknown)}")
        return cls(institutions, str(raw["pie"]), Button(str(raw["boton"]), str(raw["boton_payload"])))


@dataclass(frozen=True)
class Draft:
    """What the console's form asks for."""

    titulo: str
    texto: str
    institucion: str | None = None
    tipos: tuple[str, ...] = ()
    canales: tuple[str, ...] = ()
    por_minuto: int = 60
    plantilla: str | None = None
    horas_respuesta: int = 48


@dataclass(frozen=True)
class Target:
    """One citizen of the segment and the chat the message goes to."""

    conversation_id: str
    canal: str
    cedula_hash: str
    in_window: bool


@dataclass(frozen=True)
class Preview:
    total: int
    por_canal: dict[str, int]
    fuera_de_ventana: int  # outside their channel's window: they get the approved template
    sin_plantilla: int  # outside the window and no approved template: left out
    ejemplo: str  # the message as the first recipient would read it ("" without recipients)


@dataclass(frozen=True)
class Counts:
    destinatarios: int = 0
    pendientes: int = 0
    encolados: int = 0
    enviados: int = 0
    entregados: int = 0
    leidos: int = 0
    fallidos: int = 0
    respuestas: int = 0
    cancelados: int = 0
    omitidos: dict[str, int] = field(default_factory=dict)  # by reason


def placeholders_ok(text: str) -> bool:
    """Balanced braces and only `PLACEHOLDERS`, without attribute or index access, conversions or formats."""
    try:
        parts = list(string.Formatter().parse(text))
    except ValueError:
        return False
    return all(
        name is None or (name in PLACEHOLDERS and not spec and not conversion) for _, name, spec, conversion in parts
    )


def render(text: str, nombre: str | None) -> str:
    """The campaign's text for one citizen. Without a first name the placeholder goes, and so does the space or
    comma it leaves behind («Hola {nombre_corto}, …» → «Hola, …»)."""
    if nombre:
        return text.format_map({"nombre_corto": nombre})
    filled = re.sub(r"[ \t]*\{nombre_corto\}", "{nombre_corto}", text).format_map({"nombre_corto": ""})
    lines = []
    for line in filled.split("\n"):
        tidy = re.sub(r"^[ \t]*[,;:][ \t]*", "", line)
        if tidy != line and tidy:
            tidy = tidy[0].upper() + tidy[1:]
        lines.append(tidy)
    return "\n".join(lines)


def first_name(names: str) -> str:
    words = names.split()
    return words[0].capitalize() if words else ""


class Campaigns:
    """Writes, previews, sends and cancels campaigns; counts what became of them.

    Args:
        sessions: the app database's session factory.
        channels: the configured channels (only those with an outbox receive campaigns).
        config: institutions and the stop line (`CampaignConfig.load`).
        protector: decrypts the first names of identities still in force (None: no names).
        zone: Ecuador's time zone (quiet hours).
        outbox_notify: wakes the outbox dispatcher.
        clock: the current time (tests move it).
    """

    def __init__(
        self,
        *,
        sessions: async_sessionmaker[AsyncSession],
        channels: ChannelRegistry,
        config: CampaignConfig,
        protector: Protector | None,
        zone: ZoneInfo,
        outbox_notify: Callable[[], None] = lambda: None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.sessions = sessions
        self.channels = channels
        self.config = config
        self.zone = zone
        self._protector = protector
        self._notify = outbox_notify
        self.clock = clock  # public: tests move it

    # ------------------------------------------------------------------------------------------ writing

    def channel_codes(self) -> list[str]:
        """The channels a campaign can reach: those whose messages go through the outbox."""
        return [code for code in self.channels.codes() if self.channels.get(code).asynchronous]

    def check(self, draft: Draft) -> Draft:
        """The draft cleaned up, or `CampaignError`."""
        titulo, texto = draft.titulo.strip(), draft.texto.strip().replace("\r\n", "\n")
        if not titulo or len(titulo) > MAX_TITLE:
            raise CampaignError("campana_sin_titulo")
        if not texto:
            raise CampaignError("texto_vacio")
        if len(texto) > MAX_TEXT:
            raise CampaignError("texto_largo")
        if not placeholders_ok(texto):
            raise CampaignError("campana_variables")
        if LONG_NUMBER.search(texto):
            raise CampaignError("campana_identificador")
        institucion = draft.institucion or None
        if institucion is not None and institucion not in self.config.institutions:
            raise CampaignError("campana_segmento")
        kinds = {k.value for k in Kind}
        if not set(draft.tipos) <= kinds or not set(draft.canales) <= set(self.channel_codes()):
            raise CampaignError("campana_segmento")
        if not RATE_RANGE[0] <= draft.por_minuto <= RATE_RANGE[1]:
            raise CampaignError("campana_ritmo")
        if not REPLY_HOURS_RANGE[0] <= draft.horas_respuesta <= REPLY_HOURS_RANGE[1]:
            raise CampaignError("campana_horas")
        plantilla = (draft.plantilla or "").strip() or None
        if plantilla is not None and not re.fullmatch(r"[a-z0-9_]{1,80}", plantilla):
            raise CampaignError("campana_plantilla")
        tipos = tuple(k.value for k in Kind if k.value in draft.tipos)
        canales = tuple(c for c in self.channel_codes() if c in draft.canales)
        return Draft(titulo, texto, institucion, tipos, canales, draft.por_minuto, plantilla, draft.horas_respuesta)

    async def create(self, draft: Draft, *, staff_id: int | None, usuario: str) -> Campaign:
        draft = self.check(draft)
        async with self.sessions() as session:
            campaign = await repo.add_campaign(
                session=session,
                titulo=draft.titulo,
                texto=draft.texto,
                institucion=draft.institucion,
                tipos=list(draft.tipos),
                canales=list(draft.canales),
                por_minuto=draft.por_minuto,
                plantilla=draft.plantilla,
                horas_respuesta=draft.horas_respuesta,
                estado=CampaignState.BORRADOR,
                staff_id=staff_id,
                usuario=usuario,
                created_at=self.clock(),
            )
            await session.commit()
        log.info("campana.creada", campana=campaign.id)
        return campaign

    async def get(self, campaign_id: int) -> Campaign | None:
        async with self.sessions() as session:
            return await repo.get_campaign(session=session, campaign_id=campaign_id)

    async def latest(self) -> Sequence[Campaign]:
        async with self.sessions() as session:
            return await repo.latest_campaigns(session=session)

    # ------------------------------------------------------------------------------------------ segment

    def kinds_of(self, campaign: Campaign) -> set[str]:
        kinds = set(campaign.tipos) or {k.value for k in Kind}
        if campaign.institucion is not None:
            kinds &= set(self.config.institutions[campaign.institucion].tipos)
        return kinds

    async def segment(self, campaign: Campaign) -> list[Target]:
        """The subscribed citizens the campaign reaches, one chat each (one in its window first)."""
        channels = [c for c in self.channel_codes() if not campaign.canales or c in campaign.canales]
        kinds, now = self.kinds_of(campaign), self.clock()
        async with self.sessions() as session:
            rows = await repo.subscriptions_on(session=session, channels=channels)
        best: dict[str, tuple[tuple[bool, datetime], Target]] = {}
        epoch = datetime.min.replace(tzinfo=now.tzinfo)
        for subscription, conversation in rows:
            if conversation is None or not kinds & set(subscription.tipos):
                continue
            adapter = self.channels.get(subscription.canal)
            target = Target(
                subscription.conversation_id,
                subscription.canal,
                subscription.cedula_hash,
                adapter.within_window(conversation.last_inbound_at, now),
            )
            rank = (target.in_window, conversation.last_inbound_at or epoch)
            if subscription.cedula_hash not in best or rank > best[subscription.cedula_hash][0]:
                best[subscription.cedula_hash] = (rank, target)
        return sorted((t for _, t in best.values()), key=lambda t: t.conversation_id)

    async def preview(self, campaign: Campaign) -> Preview:
        targets = await self.segment(campaign)
        outside = [t for t in targets if not t.in_window]
        no_template = [t for t in outside if self._template(self.channels.get(t.canal), campaign, None) is None]
        example = ""
        if targets:
            async with self.sessions() as session:
                nombre = await self._first_name(session, targets[0].cedula_hash)
            example = self.message_text(campaign, nombre)
        return Preview(
            total=len(targets),
            por_canal=dict(sorted(Counter(t.canal for t in targets).items())),
            fuera_de_ventana=len(outside),
            sin_plantilla=len(no_template),
            ejemplo=example,
        )

    def message_text(self, campaign: Campaign, nombre: str | None) -> str:
        return f"{render(campaign.texto, nombre)}\n\n{self.config.footer}"

    # ------------------------------------------------------------------------------------------ sending

    async def start(self, campaign_id: int) -> int:
        """Freeze the recipients and let the sender go; returns how many. `CampaignError` when the campaign is
        not a draft or reaches nobody."""
        async with self.sessions() as session:
            campaign = await repo.get_campaign(session=session, campaign_id=campaign_id)
        if campaign is None:
            raise CampaignError("campana_no_encontrada")
        if campaign.estado != CampaignState.BORRADOR:
            raise CampaignError("campana_estado")
        targets = await self.segment(campaign)
        if not targets:
            raise CampaignError("campana_sin_destinatarios")
        now = self.clock()
        async with self.sessions() as session:
            row = await repo.get_campaign(session=session, campaign_id=campaign_id)
            if row is None or row.estado != CampaignState.BORRADOR:  # two clicks at once: the first wins
                raise CampaignError("campana_estado")
            row.estado, row.started_at, row.cupo, row.cupo_at = CampaignState.ENVIANDO, now, 1.0, now
            await repo.add_recipients(
                session=session,
                campaign_id=campaign_id,
                rows=[(t.conversation_id, t.canal, t.cedula_hash) for t in targets],
            )
            await session.commit()
        log.info("campana.enviando", campana=campaign_id, destinatarios=len(targets))
        return len(targets)

    async def cancel(self, campaign_id: int) -> int:
        """Stop a draft or a campaign being sent; returns how many recipients it will not reach."""
        async with self.sessions() as session:
            campaign = await repo.get_campaign(session=session, campaign_id=campaign_id)
            if campaign is None:
                raise CampaignError("campana_no_encontrada")
            if campaign.estado not in (CampaignState.BORRADOR, CampaignState.ENVIANDO):
                raise CampaignError("campana_estado")
            campaign.estado, campaign.cancelled_at = CampaignState.CANCELADA, self.clock()
            stopped = await repo.cancel_recipients(session=session, campaign_id=campaign_id)
            await session.commit()
        log.info("campana.cancelada", campana=campaign_id, detenidos=stopped)
        return stopped

    @staticmethod
    def burst(por_minuto: int) -> float:
        """The most the bucket holds: `BURST_SECONDS` of the pace, at least one message."""
        return max(1.0, por_minuto / 60 * BURST_SECONDS)

    async def tick(self) -> int:
        """Queue what every campaign being sent may send now; returns how many messages were queued."""
        now = self.clock()
        if in_quiet_hours(now.astimezone(self.zone)):
            return 0
        async with self.sessions() as session:
            ids = await repo.campaign_ids_in_state(session=session, state=CampaignState.ENVIANDO)
        queued = 0
        for campaign_id in ids:
            queued += await self._advance(campaign_id, now)
        if queued:
            self._notify()
        return queued

    async def _advance(self, campaign_id: int, now: datetime) -> int:
        async with self.sessions() as session:
            campaign = await repo.get_campaign(session=session, campaign_id=campaign_id)
            if campaign is None or campaign.estado != CampaignState.ENVIANDO:
                return 0
            seen_at = campaign.cupo_at
            elapsed = max(0.0, (now - seen_at).total_seconds()) if seen_at is not None else 0.0
            tokens = min(self.burst(campaign.por_minuto), campaign.cupo + elapsed * campaign.por_minuto / 60)
            allowed = math.floor(tokens)
            pending = await repo.pending_recipients(session=session, campaign_id=campaign_id, limit=allowed + 50)
            if not pending:
                campaign.estado, campaign.finished_at = CampaignState.TERMINADA, now
                await session.commit()
                log.info("campana.terminada", campana=campaign_id)
                return 0
            if allowed == 0:
                return 0
            queued = 0
            for recipient in pending:
                if queued >= allowed:
                    break
                outgoing, motivo = await self._message_for(session, campaign, recipient.conversation_id, now)
                if outgoing is None:
                    await repo.claim_recipient(
                        session=session, recipient_id=recipient.id, state=RecipientState.OMITIDO, motivo=motivo, now=now
                    )
                    continue
                if not await repo.claim_recipient(
                    session=session, recipient_id=recipient.id, state=RecipientState.ENCOLADO, now=now
                ):
                    continue  # another worker queued it
                await conversations_repo.add_outbound(  # the transcript shows it (a template: by its payload)
                    session=session,
                    conversation_id=recipient.conversation_id,
                    reply_to=None,
                    author="system",
                    text=outgoing.text,
                    payload=outgoing.as_payload(),
                )
                [row] = await conversations_repo.enqueue_outbox(
                    session=session,
                    conversation_id=recipient.conversation_id,
                    channel=recipient.canal,
                    messages=[outgoing],
                )
                recipient.outbox_id = row.id
                queued += 1
            if not await repo.take_bucket(
                session=session, campaign_id=campaign_id, seen_at=seen_at, cupo=tokens - queued, now=now
            ):
                await session.rollback()  # another worker spent this bucket meanwhile: it goes next time
                return 0
            await session.commit()
        return queued

    async def _message_for(
        self, session: AsyncSession, campaign: Campaign, conversation_id: str, now: datetime
    ) -> tuple[BotMessage | None, str | None]:
        """The message for one chat, or None and why it is left out."""
        subscription = await session.get(ReminderSubscription, conversation_id)
        conversation = await session.get(Conversation, conversation_id)
        if subscription is None or conversation is None:
            return None, "retiro_avisos"
        transfer = (await privacy_repo.consents_in_force(session=session, conversation_id=conversation_id)).get(
            TRANSFER
        )
        if transfer is not None and not transfer.otorgado:
            return None, "sin_consentimiento"
        adapter = self.channels.find(subscription.canal)
        if adapter is None or not adapter.asynchronous:
            return None, "canal_no_disponible"
        nombre = await self._first_name(session, subscription.cedula_hash)
        if adapter.within_window(conversation.last_inbound_at, now):
            text = self.message_text(campaign, nombre)
            return BotMessage(text=text, buttons=(self.config.button,)), None
        template = self._template(adapter, campaign, nombre)
        return (template, None) if template is not None else (None, "fuera_de_ventana")

    @staticmethod
    def _template(adapter: ChannelAdapter, campaign: Campaign, nombre: str | None) -> BotMessage | None:
        if campaign.plantilla is None:
            return None
        return adapter.template_message(campaign.plantilla, {"nombre_corto": nombre or ""})

    async def _first_name(self, session: AsyncSession, cedula_hash: str) -> str | None:
        if self._protector is None:
            return None
        names = await repo.current_names(session=session, cedula_hash=cedula_hash, now=self.clock())
        if names is None:
            return None
        return first_name(self._protector.decrypt(names)) or None

    # ------------------------------------------------------------------------------------------ counts

    async def counts(self, campaign: Campaign) -> Counts:
        async with self.sessions() as session:
            states = await repo.recipient_states(session=session, campaign_id=campaign.id)
            delivery = await repo.delivery_states(session=session, campaign_id=campaign.id)
            sent = await repo.sent_times(session=session, campaign_id=campaign.id)
            inbound = (
                await repo.inbound_since(session=session, conversation_ids=list(sent), since=min(sent.values()))
                if sent
                else []
            )
        window = timedelta(hours=campaign.horas_respuesta)
        replied = {c for c, at in inbound if sent[c] < at <= sent[c] + window}

        def state(name: str) -> int:
            return sum(n for (s, _), n in states.items() if s == name)

        omitted: dict[str, int] = {}
        for (s, motivo), n in states.items():
            if s == RecipientState.OMITIDO:
                omitted[motivo or "otro"] = omitted.get(motivo or "otro", 0) + n
        return Counts(
            destinatarios=sum(states.values()),
            pendientes=state(RecipientState.PENDIENTE),
            encolados=state(RecipientState.ENCOLADO),
            enviados=sum(delivery.get(s, 0) for s in (OutboxStatus.SENT, OutboxStatus.DELIVERED, OutboxStatus.READ)),
            entregados=sum(delivery.get(s, 0) for s in (OutboxStatus.DELIVERED, OutboxStatus.READ)),
            leidos=delivery.get(OutboxStatus.READ, 0),
            fallidos=delivery.get(OutboxStatus.FAILED, 0),
            respuestas=len(replied),
            cancelados=state(RecipientState.CANCELADO),
            omitidos=dict(sorted(omitted.items())),
        )


class CampaignSender:
    """The gateway's background task: `Campaigns.tick` every second."""

    def __init__(self, campaigns: Campaigns, *, every_seconds: float = 1.0) -> None:
        self._campaigns = campaigns
        self._every = every_seconds

    async def run(self) -> None:
        while True:
            try:
                await self._campaigns.tick()
            except Exception:  # a database hiccup must not stop campaigns for good
                log.exception("campana.ciclo_fallido")
            await asyncio.sleep(self._every)


def summary(campaign: Campaign) -> dict[str, Any]:
    """What the audit log keeps of a campaign: its segment and pace (never its recipients)."""
    return {
        "campana": campaign.id,
        "institucion": campaign.institucion,
        "tipos": list(campaign.tipos),
        "canales": list(campaign.canales),
        "por_minuto": campaign.por_minuto,
        "plantilla": campaign.plantilla,
        "horas_respuesta": campaign.horas_respuesta,
    }
