"""Staff accounts and login: argon2 password hashes, server-side sessions, CSRF tokens, a login rate limit.

The session cookie holds a random token; the database keeps only its SHA-256, so a copy of the table
opens no session. Each session has its own CSRF token, which every POST must echo (form field ``csrf``
or header ``X-CSRF-Token``).

Exceptions::

    AuthError
     ├── InvalidCredentials   unknown user, wrong password or deactivated account (indistinguishable)
     ├── TooManyAttempts      too many failures for this account (any address) or from this address (any
     │                        account), or the growing pause after the latest failure has not passed
     └── InvalidStaff         a new account's data is refused (``code`` says why)
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import re
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import structlog
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.handoff.service import Agent
from bot.storage import console as repo
from bot.storage.models import utcnow
from bot.storage.models_console import Rol, StaffMember

log = structlog.get_logger(__name__)
USUARIO = re.compile(r"^[a-z0-9][a-z0-9._-]{2,59}$")
MIN_PASSWORD = 12
SESSION_HOURS = 12  # an absolute limit: log in again every working day
IDLE_MINUTES = 120
MAX_PAUSE_SECONDS = 60  # the growing pause between failed logins stops growing here
TOUCH_EVERY = timedelta(minutes=1)  # how often a request refreshes the session's last use


class AuthError(Exception):
    """Base of the console's authentication errors."""


class InvalidCredentials(AuthError):
    """Wrong user or password, or a deactivated account."""


class TooManyAttempts(AuthError):
    """Too many failed logins for this account or from this address; wait before trying again. Said the same way
    whether the account exists or not."""


class InvalidStaff(AuthError):
    """A new account is refused: ``usuario``, ``usuario_repetido``, ``clave_corta``, ``rol`` or ``nombre``."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclass(frozen=True)
class LoggedIn:
    """A new session: the cookie's token (never stored) and the session's CSRF token."""

    token: str
    csrf: str
    agent: Agent


@dataclass(frozen=True)
class StaffSessionInfo:
    """The session behind a request."""

    token_hash: str
    csrf: str
    agent: Agent

    def csrf_ok(self, given: str | None) -> bool:
        return bool(given) and hmac.compare_digest(str(given).encode(), self.csrf.encode())


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class StaffAuth:
    """Creates accounts, logs staff in and out, and resolves the session of a request.

    Args:
        sessions: the app database's session factory.
        hasher: argon2 parameters (tests pass cheaper ones).
        max_failures: failed logins allowed per account (from any address) within ``window``.
        max_failures_per_ip: failed logins allowed from one address (to any account) within ``window``.
        window: the rate limit's window.
        clock: the current time.
    """

    def __init__(
        self,
        *,
        sessions: async_sessionmaker[AsyncSession],
        hasher: PasswordHasher | None = None,
        max_failures: int = 5,
        max_failures_per_ip: int = 20,
        window: timedelta = timedelta(minutes=15),
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._sessions = sessions
        self._hasher = hasher or PasswordHasher()
        self._max_failures = max_failures
        self._max_failures_per_ip = max_failures_per_ip
        self._window = window
        self._clock = clock
        self._dummy_hash: str | None = None

    def hash_password(self, password: str) -> str:
        return self._hasher.hash(password)

    async def create_staff(
        self, *, usuario: str, nombre: str, password: str, rol: str, equipos: Sequence[str]
    ) -> StaffMember:
        """Create an account (the first admin from the CLI, the others from the console).

        Raises:
            InvalidStaff: the user name is malformed or taken, the password shorter than 12 characters,
                the role unknown or the name empty.
        """
        usuario = usuario.strip().lower()
        if not USUARIO.match(usuario):
            raise InvalidStaff("usuario")
        if not nombre.strip():
            raise InvalidStaff("nombre")
        if len(password) < MIN_PASSWORD:
            raise InvalidStaff("clave_corta")
        if rol not in {r.value for r in Rol}:
            raise InvalidStaff("rol")
        password_hash = await asyncio.to_thread(self._hasher.hash, password)
        async with self._sessions() as session:
            if await repo.staff_by_usuario(session=session, usuario=usuario) is not None:
                raise InvalidStaff("usuario_repetido")
            member = await repo.add_staff(
                session=session,
                usuario=usuario,
                nombre=nombre.strip(),
                password_hash=password_hash,
                rol=rol,
                equipos=sorted(set(equipos)),
            )
            await session.commit()
        log.info("consola.personal_creado", usuario=usuario, rol=rol)
        return member

    async def login(self, *, usuario: str, password: str, ip: str) -> LoggedIn:
        """Check the password and open a session.

        Raises:
            TooManyAttempts: the rate limit is reached (checked before the password).
            InvalidCredentials: anything else that is wrong.
        """
        usuario = usuario.strip().lower()[:60]
        now = self._clock()
        async with self._sessions() as session:
            since = now - self._window
            by_account = await repo.recent_failures(session=session, usuario=usuario, since=since)
            by_address = await repo.recent_failures(session=session, ip=ip, since=since)
            if self._limited(by_account, self._max_failures, now) or self._limited(
                by_address, self._max_failures_per_ip, now
            ):
                log.warning("consola.login_limitado")  # neither the account nor whether it exists
                raise TooManyAttempts()
            member = await repo.staff_by_usuario(session=session, usuario=usuario)
            valid = await self._verify(member.password_hash if member else None, password)
            if member is None or not valid or not member.activo:
                await repo.add_login_attempt(session=session, usuario=usuario, ip=ip, success=False, at=now)
                await session.commit()
                raise InvalidCredentials(usuario)
            if self._hasher.check_needs_rehash(member.password_hash):
                member.password_hash = await asyncio.to_thread(self._hasher.hash, password)
            await repo.add_login_attempt(session=session, usuario=usuario, ip=ip, success=True, at=now)
            await repo.delete_expired_sessions(session=session, now=now)
            token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
            await repo.add_session(
                session=session,
                token_hash=token_hash(token),
                staff_id=member.id,
                csrf_token=csrf,
                ip=ip,
                expires_at=now + timedelta(hours=SESSION_HOURS),
            )
            member.last_seen_at = now
            await session.commit()
            return LoggedIn(token=token, csrf=csrf, agent=Agent.of(member))

    @staticmethod
    def _limited(failures: tuple[int, datetime | None], limit: int, now: datetime) -> bool:
        """At the limit; or, from the third failure, within a pause that doubles with each one (2, 4, 8… s, up to a
        minute)."""
        count, latest = failures
        if count >= limit:
            return True
        if count < 3 or latest is None:
            return False
        return now - latest < timedelta(seconds=min(2 ** (count - 2), MAX_PAUSE_SECONDS))

    async def resolve(self, token: str | None) -> StaffSessionInfo | None:
        """The session of a cookie's token, while it is valid and its account active."""
        if not token:
            return None
        hashed = token_hash(token)
        now = self._clock()
        async with self._sessions() as session:
            row = await repo.get_session(session=session, token_hash=hashed)
            if row is None:
                return None
            member = await repo.staff_by_id(session=session, staff_id=row.staff_id)
            idle = now - row.last_seen_at > timedelta(minutes=IDLE_MINUTES)
            if member is None or not member.activo or row.expires_at <= now or idle:
                await repo.delete_session(session=session, token_hash=hashed)
                await session.commit()
                return None
            if now - row.last_seen_at > TOUCH_EVERY:
                row.last_seen_at = now
                await session.commit()
            return StaffSessionInfo(token_hash=hashed, csrf=row.csrf_token, agent=Agent.of(member))

    async def logout(self, info: StaffSessionInfo) -> None:
        async with self._sessions() as session:
            await repo.delete_session(session=session, token_hash=info.token_hash)
            await session.commit()

    async def heartbeat(self, info: StaffSessionInfo) -> None:
        """The console page is open: the agent counts as online."""
        async with self._sessions() as session:
            await repo.touch_staff(session=session, staff_id=info.agent.id, at=self._clock())
            await session.commit()

    async def set_active(self, staff_id: int, active: bool) -> None:
        """Activate or deactivate an account; deactivating ends its sessions at once."""
        async with self._sessions() as session:
            member = await repo.staff_by_id(session=session, staff_id=staff_id)
            if member is None:
                return
            member.activo = active
            if not active:
                await repo.delete_sessions_of(session=session, staff_id=staff_id)
            await session.commit()

    async def _verify(self, password_hash: str | None, password: str) -> bool:
        # An unknown user costs as much as a wrong password: no timing hint about which accounts exist.
        if password_hash is None:
            if self._dummy_hash is None:
                self._dummy_hash = await asyncio.to_thread(self._hasher.hash, secrets.token_urlsafe(16))
            password_hash = self._dummy_hash
        try:
            return await asyncio.to_thread(self._hasher.verify, password_hash, password)
        except (VerificationError, InvalidHashError):
            return False
