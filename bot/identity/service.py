"""Proving who the citizen is: cédula + código dactilar checked by the Registro Civil, then a timed link.

The código dactilar passes through `verify` once, to the registry, and is never stored or logged.
Failed checks are counted per chat (at the limit the chat's identity step locks for a while) and per cédula
across every chat and channel (keyed hash): past a few failures the cédula pauses for a few minutes, so that
opening new chats does not multiply guesses, while its owner waits at most that pause for a correct attempt.
One staff case is opened per cédula, not per chat. Failures are also counted per web client (a keyed hash
of its address, from the gateway): one client trying many cédulas from many chats pauses, while the owners of
those cédulas, from their own devices, are not held back.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.language import proper_name
from bot.privacy.encryption import Protector
from bot.privacy.redaction import mask_cedula
from bot.storage import identity as repo
from bot.storage.models import utcnow
from bot.storage.models_identity import CedulaAttempts
from integrations.registros.errors import NotFound, Rejected, Unavailable
from integrations.registros.records import Ciudadano
from integrations.registros.registro_civil import RegistroCivilClient

log = structlog.get_logger(__name__)
NIVEL_DACTILAR = "dactilar"  # cédula + código dactilar checked by the Registro Civil


CEDULA_FREE_FAILURES = 3  # failed checks of one cédula, from any chats, before it pauses
CEDULA_PAUSE = timedelta(minutes=5)  # each pause; the owner's correct attempt waits at most this
CEDULA_WINDOW = timedelta(hours=1)  # failures older than this are forgotten; one staff case per window
CLIENT_FREE_FAILURES = 10  # failed checks from one web client (any chats, any cédulas) before it pauses
CLIENT_PAUSE = timedelta(minutes=15)  # an office or a family behind one address loses at most this


class Resultado(enum.StrEnum):
    VERIFICADO = "verificado"
    NO_COINCIDE = "no_coincide"
    BLOQUEADO = "bloqueado"  # the chat locked: a staff case is opened (one per cédula)
    EN_ESPERA = "en_espera"  # paused: too many failures on this cédula, or a case is already open
    NO_ENCONTRADO = "no_encontrado"
    FALLECIDO = "fallecido"
    NO_DISPONIBLE = "no_disponible"


@dataclass(frozen=True)
class Identidad:
    """The identity a chat proved, decrypted for the action that needs it."""

    cedula: str
    nombres: str
    nivel: str
    expires_at: datetime

    def __repr__(self) -> str:  # never a full cédula in logs or tracebacks
        return f"Identidad(cedula={mask_cedula(self.cedula)!r}, nivel={self.nivel!r})"


@dataclass(frozen=True)
class Verificacion:
    resultado: Resultado
    identidad: Identidad | None = None
    intentos_restantes: int = 0
    bloqueado_hasta: datetime | None = None


def first_names(ciudadano: Ciudadano) -> str:
    """The given names, for greeting ("María José"); the registry writes surnames first."""
    names = ciudadano.nombres or " ".join(ciudadano.nombre.split()[2:]) or ciudadano.nombre
    return proper_name(names)


class IdentityService:
    def __init__(
        self,
        *,
        sessions: async_sessionmaker[AsyncSession],
        registro_civil: RegistroCivilClient,
        protector: Protector,
        link_minutes: int = 60,
        max_failures: int = 3,
        lock_minutes: int = 15,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._sessions = sessions
        self._registro_civil = registro_civil
        self._protector = protector
        self._link = timedelta(minutes=link_minutes)
        self._max_failures = max_failures
        self._lock = timedelta(minutes=lock_minutes)
        self._clock = clock

    async def current(self, conversation_id: str) -> Identidad | None:
        """The identity this chat proved, while the link lasts."""
        async with self._sessions() as session:
            link = await repo.current_link(session=session, conversation_id=conversation_id, now=self._clock())
            if link is None:
                return None
            return Identidad(
                cedula=self._protector.decrypt(link.cedula_cifrada),
                nombres=self._protector.decrypt(link.nombres_cifrados),
                nivel=link.nivel,
                expires_at=link.expires_at,
            )

    async def locked_until(self, conversation_id: str) -> datetime | None:
        async with self._sessions() as session:
            row = await repo.attempts(session=session, conversation_id=conversation_id)
            await session.commit()
            if row.locked_until is not None and row.locked_until > self._clock():
                return row.locked_until
            return None

    async def unlink(self, conversation_id: str) -> bool:
        async with self._sessions() as session:
            removed = await repo.delete_link(session=session, conversation_id=conversation_id)
            await session.commit()
        return removed

    async def verify(
        self, conversation_id: str, cedula: str, codigo_dactilar: str, *, client: str | None = None
    ) -> Verificacion:
        """Check the pair with the Registro Civil and link the chat on success.

        ``client`` is the web client's keyed hash, when the gateway knows it (other channels: the chat itself).
        """
        locked = await self.locked_until(conversation_id)
        if locked is not None:
            return Verificacion(Resultado.EN_ESPERA, bloqueado_hasta=locked)
        cedula_hash = self._protector.lookup_hash(cedula)
        client_hash = self._protector.lookup_hash(f"cliente|{client}") if client else None
        for key in (cedula_hash, client_hash):
            paused = await self._paused(key) if key else None
            if paused is not None:  # not sent to the registry: no guess counts while paused
                return Verificacion(Resultado.EN_ESPERA, bloqueado_hasta=paused)
        try:
            ciudadano = await self._registro_civil.verificar_identidad(cedula, codigo_dactilar)
        except Unavailable:
            return Verificacion(Resultado.NO_DISPONIBLE)
        except NotFound:
            return await self._failed(conversation_id, None, client_hash, Resultado.NO_ENCONTRADO)
        except Rejected as exc:
            if exc.code == "demasiados_intentos":
                return await self._failed(conversation_id, cedula_hash, client_hash, Resultado.BLOQUEADO, lock_now=True)
            if exc.code == "ciudadano_fallecido":
                return await self._failed(conversation_id, None, client_hash, Resultado.FALLECIDO)
            return await self._failed(conversation_id, cedula_hash, client_hash, Resultado.NO_COINCIDE)
        now = self._clock()
        identidad = Identidad(
            cedula=ciudadano.cedula, nombres=first_names(ciudadano), nivel=NIVEL_DACTILAR, expires_at=now + self._link
        )
        async with self._sessions() as session:
            await repo.save_link(
                session=session,
                conversation_id=conversation_id,
                cedula_hash=self._protector.lookup_hash(ciudadano.cedula),
                cedula_cifrada=self._protector.encrypt(ciudadano.cedula),
                nombres_cifrados=self._protector.encrypt(identidad.nombres),
                nivel=NIVEL_DACTILAR,
                verified_at=now,
                expires_at=identidad.expires_at,
            )
            await repo.clear_attempts(session=session, conversation_id=conversation_id)
            await repo.clear_cedula_attempts(session=session, cedula_hash=cedula_hash)
            await session.commit()
        log.info("identidad.verificada", conversation=conversation_id, cedula=mask_cedula(ciudadano.cedula))
        return Verificacion(Resultado.VERIFICADO, identidad=identidad)

    async def _paused(self, key: str) -> datetime | None:
        """Until when a cédula or a client (by keyed hash) pauses, if it does."""
        async with self._sessions() as session:
            row = await session.get(CedulaAttempts, key)
            if row is not None and row.paused_until is not None and row.paused_until > self._clock():
                return row.paused_until
        return None

    async def _failed(
        self,
        conversation_id: str,
        cedula_hash: str | None,
        client_hash: str | None,
        resultado: Resultado,
        *,
        lock_now: bool = False,
    ) -> Verificacion:
        now = self._clock()
        async with self._sessions() as session:
            row = await repo.attempts(session=session, conversation_id=conversation_id)
            row.failures += 1
            left = max(0, self._max_failures - row.failures)
            if lock_now or left == 0:
                row.locked_until = now + self._lock
                row.failures = 0
                resultado = Resultado.BLOQUEADO
            locked = row.locked_until if resultado is Resultado.BLOQUEADO else None
            if cedula_hash is not None:
                per_cedula = await repo.cedula_attempts(session=session, cedula_hash=cedula_hash, now=now)
                if now - per_cedula.first_failure_at > CEDULA_WINDOW:  # an old streak: start again
                    per_cedula.failures, per_cedula.first_failure_at = 0, now
                per_cedula.failures += 1
                if per_cedula.failures >= CEDULA_FREE_FAILURES:
                    per_cedula.paused_until = now + CEDULA_PAUSE
                if resultado is Resultado.BLOQUEADO:
                    if per_cedula.case_at is not None and now - per_cedula.case_at < CEDULA_WINDOW:
                        resultado = Resultado.EN_ESPERA  # a person already looks at this cédula: one case
                    else:
                        per_cedula.case_at = now
            if client_hash is not None:  # any failure from this client, whatever the cédula
                per_client = await repo.cedula_attempts(session=session, cedula_hash=client_hash, now=now)
                if now - per_client.first_failure_at > CEDULA_WINDOW:
                    per_client.failures, per_client.first_failure_at = 0, now
                per_client.failures += 1
                if per_client.failures >= CLIENT_FREE_FAILURES:
                    per_client.paused_until = now + CLIENT_PAUSE
            await session.commit()
        log.info("identidad.fallida", conversation=conversation_id, resultado=resultado.value, restantes=left)
        return Verificacion(resultado, intentos_restantes=left, bloqueado_hasta=locked)
