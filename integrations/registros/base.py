"""Shared machinery of the registry clients: retries with backoff, circuit breaker, audit and REST error mapping."""

from __future__ import annotations

import asyncio
import random
import re
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, ClassVar, Generic, Protocol, TypeVar

import httpx

from integrations.registros.errors import NotFound, RegistroError, Rejected, Unavailable

T = TypeVar("T")
ConfigT = TypeVar("ConfigT")

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]

_CEDULA = re.compile(r"\d{10}")
_RUC = re.compile(r"\d{13}")
_PLACA = re.compile(r"[A-Z]{2,3}-?\d{3,4}")


def mask_identifier(value: str) -> str:
    """Mask an identifier for audit and logs: ``1712345675`` → ``17******75``, RUC ``17********001``.

    Plates stay readable (as in the product's privacy rules); anything else keeps two characters at each end.
    """
    value = value.strip()
    if _CEDULA.fullmatch(value):
        return value[:2] + "*" * 6 + value[-2:]
    if _RUC.fullmatch(value):
        return value[:2] + "*" * 8 + value[-3:]
    if _PLACA.fullmatch(value.upper()):
        return value.upper()
    if len(value) <= 4:
        return "*" * len(value)
    return value[:2] + "*" * (len(value) - 4) + value[-2:]


class Outcome(StrEnum):
    """How one audited call ended."""

    OK = "ok"
    NOT_FOUND = "not_found"
    REJECTED = "rejected"
    UNAVAILABLE = "unavailable"


@dataclass(frozen=True)
class AuditEvent:
    """One call to a registry, as the audit log records it: identifiers are already masked."""

    institution: str
    operation: str
    duration_ms: int
    outcome: Outcome
    identifiers: tuple[str, ...]
    attempts: int
    code: str | None = None


class AuditSink(Protocol):
    """Receives one event per registry call; must not block (write to a queue, a log or a list)."""

    def __call__(self, event: AuditEvent, /) -> None: ...


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with full jitter, for idempotent reads only.

    Attributes:
        max_attempts: attempts in all, the first included (1 disables retries).
        base_delay: seconds before the first retry, doubled at each one, before jitter.
        max_delay: ceiling of a single wait, in seconds.
    """

    max_attempts: int = 3
    base_delay: float = 0.2
    max_delay: float = 2.0

    def delay(self, retry: int, rng: random.Random) -> float:
        """Seconds to wait before retry number ``retry`` (1 for the first retry)."""
        ceiling = min(self.max_delay, self.base_delay * 2 ** (retry - 1))
        return rng.uniform(0, ceiling)


class BreakerState(StrEnum):
    """States of a circuit breaker."""

    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


class CircuitBreaker:
    """Stops calling an institution after ``failure_threshold`` consecutive failures.

    Once open, calls fail at once until ``cooldown`` seconds have passed; then one probe call is let
    through (half-open): its success closes the breaker, its failure opens it for another cool-down.
    Only ``Unavailable`` answers count as failures; a registry that says "not found" is healthy.
    """

    def __init__(
        self,
        *,
        failure_threshold: int = 5,
        cooldown: float = 30.0,
        clock: Clock = time.monotonic,
        on_change: Callable[[BreakerState], None] | None = None,
    ) -> None:
        """Build a closed breaker.

        Args:
            failure_threshold: consecutive failures that open it.
            cooldown: seconds an open breaker refuses calls before letting a probe through.
            clock: monotonic clock (tests pass a fake one).
            on_change: called with the new state when a call opens, probes or closes the breaker (metrics); an
                open breaker whose cool-down passes is seen as half-open at the next call.
        """
        self.failure_threshold = failure_threshold
        self.cooldown = cooldown
        self._clock = clock
        self._on_change = on_change
        self._failures = 0
        self._opened_at: float | None = None
        self._probing = False
        self._reported = BreakerState.CLOSED

    def _report(self) -> None:
        state = self.state
        if state is not self._reported:
            self._reported = state
            if self._on_change is not None:
                self._on_change(state)

    @property
    def state(self) -> BreakerState:
        """The state now (an open breaker whose cool-down has passed reads as half-open)."""
        if self._opened_at is None:
            return BreakerState.CLOSED
        if self._probing or self._clock() - self._opened_at >= self.cooldown:
            return BreakerState.HALF_OPEN
        return BreakerState.OPEN

    def allow(self) -> bool:
        """Whether a call may go out now; in half-open state only one probe at a time."""
        state = self.state
        if state is BreakerState.CLOSED:
            return True
        if state is BreakerState.HALF_OPEN and not self._probing:
            self._probing = True
            self._report()
            return True
        return False

    def record_success(self) -> None:
        """The institution answered: close the breaker."""
        self._failures = 0
        self._opened_at = None
        self._probing = False
        self._report()

    def abandon(self) -> None:
        """A call ended without an answer either way (cancelled): let another probe through later."""
        self._probing = False

    def record_failure(self) -> None:
        """The institution did not answer usefully: count it, and open at the threshold or after a failed probe."""
        self._failures += 1
        if self._probing or self._failures >= self.failure_threshold:
            self._opened_at = self._clock()
            self._probing = False
            self._report()


class BaseClient(Generic[ConfigT]):
    """Base of the institution clients: one ``_call`` wraps every operation with breaker, retries and audit.

    Subclasses declare ``institution`` and keep their wire format (URLs, envelopes, field names) in their
    own module, so that pointing a client at the real exchange is a matter of configuration.
    """

    institution: ClassVar[str]

    def __init__(
        self,
        http: httpx.AsyncClient,
        config: ConfigT,
        *,
        audit: AuditSink,
        timeout: float | httpx.Timeout = 5.0,
        retry: RetryPolicy | None = None,
        breaker: CircuitBreaker | None = None,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
        rng: random.Random | None = None,
        mask: Callable[[str], str] = mask_identifier,
    ) -> None:
        """Build a client; nothing is sent until an operation is called.

        Args:
            http: the shared ``httpx.AsyncClient`` (tests pass one over ``httpx.MockTransport``).
            config: where the institution lives and the credentials to use.
            audit: receives one ``AuditEvent`` per operation.
            timeout: per-request timeout, in seconds or as an ``httpx.Timeout``.
            retry: retry policy for idempotent reads (default: 3 attempts).
            breaker: the institution's circuit breaker; share one instance per institution and process.
            clock: monotonic clock for the breaker and token lifetimes (tests pass a fake one).
            sleep: awaited between retries (tests pass a no-op).
            rng: source of jitter.
            mask: masks identifiers before they reach the audit sink.
        """
        self.http = http
        self.config = config
        self.timeout = timeout
        self.retry = retry or RetryPolicy()
        self.clock = clock
        self.breaker = breaker or CircuitBreaker(clock=clock)
        self._audit = audit
        self._sleep = sleep
        self._rng = rng or random.Random()
        self._mask = mask

    async def _call(
        self,
        operation: str,
        exchange: Callable[[], Awaitable[T]],
        *,
        identifiers: Sequence[str] = (),
        idempotent: bool = True,
    ) -> T:
        """Run one operation: ``exchange`` sends the request(s) and parses the answer or raises the tree."""
        started = time.perf_counter()
        attempts = 0
        outcome = Outcome.UNAVAILABLE
        code: str | None = None
        try:
            while True:
                if not self.breaker.allow():
                    raise Unavailable("circuit breaker open", institution=self.institution, code="circuito_abierto")
                attempts += 1
                try:
                    result = await self._once(exchange)
                except Unavailable as exc:
                    self.breaker.record_failure()
                    retry = idempotent and exc.retryable and attempts < self.retry.max_attempts
                    # Once this failure has opened the breaker, waiting to retry would only hit it.
                    if not retry or self.breaker.state is not BreakerState.CLOSED:
                        raise
                    await self._sleep(self.retry.delay(attempts, self._rng))
                    continue
                except (NotFound, Rejected):
                    self.breaker.record_success()
                    raise
                except BaseException:
                    self.breaker.abandon()
                    raise
                self.breaker.record_success()
                outcome = Outcome.OK
                return result
        except RegistroError as exc:
            code = exc.code
            outcome = _OUTCOMES.get(type(exc), Outcome.UNAVAILABLE)
            raise
        finally:
            self._audit(
                AuditEvent(
                    institution=self.institution,
                    operation=operation,
                    duration_ms=round((time.perf_counter() - started) * 1000),
                    outcome=outcome,
                    identifiers=tuple(self._mask(i) for i in identifiers),
                    attempts=attempts,
                    code=code,
                )
            )

    async def _once(self, exchange: Callable[[], Awaitable[T]]) -> T:
        """One attempt, with transport failures and unreadable answers mapped into the tree."""
        try:
            return await exchange()
        except RegistroError as exc:
            if not exc.institution:
                exc.institution = self.institution
            raise
        except httpx.TimeoutException as exc:
            raise Unavailable(type(exc).__name__, institution=self.institution, code="timeout") from exc
        except httpx.TransportError as exc:
            raise Unavailable(type(exc).__name__, institution=self.institution, code="conexion") from exc
        except (KeyError, ValueError, TypeError, IndexError, ArithmeticError) as exc:
            # The registry answered 200 with something we cannot read: retrying will not change it.
            raise Unavailable(
                f"unreadable answer ({type(exc).__name__})",
                institution=self.institution,
                code="respuesta_invalida",
                retryable=False,
            ) from exc


_OUTCOMES: Mapping[type[RegistroError], Outcome] = {
    NotFound: Outcome.NOT_FOUND,
    Rejected: Outcome.REJECTED,
    Unavailable: Outcome.UNAVAILABLE,
}


def json_body(response: httpx.Response) -> Any:
    """Map the answer of a REST registry to its JSON body, or raise the matching exception.

    5xx and 408 are ``Unavailable`` (retried); 404 is ``NotFound``; any other 4xx is ``Rejected`` with the
    registry's ``codigo`` when it sends one (a per-person lock-out answers 429 ``demasiados_intentos``).
    """
    status = response.status_code
    if status >= 500 or status == 408:
        raise Unavailable(f"HTTP {status}", code=f"http_{status}")
    if status >= 400:
        codigo = _codigo(response)
        if status == 404:
            raise NotFound(f"HTTP {status}", code=codigo or "no_encontrado")
        default = {401: "credenciales_invalidas", 403: "acceso_denegado", 429: "demasiados_intentos"}
        raise Rejected(codigo or default.get(status, f"http_{status}"), f"HTTP {status}")
    if status != 200:
        raise Unavailable(f"HTTP {status}", code="respuesta_invalida", retryable=False)
    return response.json()


def _codigo(response: httpx.Response) -> str | None:
    try:
        body = response.json()
    except ValueError:
        return None
    codigo = body.get("codigo") if isinstance(body, dict) else None
    return codigo if isinstance(codigo, str) and codigo else None
