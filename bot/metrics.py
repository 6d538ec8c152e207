"""Prometheus metrics of every Chasqui process, safe when several processes share one exposition.

The metric objects are declarations (no file, socket or database is touched when this module is imported):
Prometheus's client keys its values by metric name and, in multi-process mode, by process id, so one set per
process is the library's own model. With ``PROMETHEUS_MULTIPROC_DIR`` set (``chasqui run`` sets it under
``var/metrics/<kind>/``), each process writes its values to files there and `exposition` adds the files of
every process up; without it, the process's own registry is shown.

Figures that live in the database (outbox backlog, unanswered inbound messages, the handoff queue) are not
kept in these objects: the gateway queries them when it is scraped and passes them to `exposition`, so that
every gateway replica reports the same, true, numbers.
"""

from __future__ import annotations

import functools
import hmac
import ipaddress
import os
import time
from collections.abc import Awaitable, Callable, Coroutine, Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any, ParamSpec, TypeVar

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.metrics_core import Metric
from prometheus_client.multiprocess import MultiProcessCollector

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
# Seconds: a turn is mostly Rasa (tens of ms to a few s); registry calls time out after 5 s by default.
_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
_LAG_BUCKETS = (0.01, 0.05, 0.1, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0)

# --- gateway
TURNS = Counter("chasqui_turns", "Inbound messages processed, by channel and outcome.", ["channel", "outcome"])
TURN_SECONDS = Histogram(
    "chasqui_turn_seconds", "Time to process one inbound message, lock wait included.", ["channel"],
    buckets=_LATENCY_BUCKETS,
)  # fmt: skip
STAGE_SECONDS = Histogram(
    "chasqui_turn_stage_seconds",
    "Time spent in one stage of a turn: store, consent, rasa, answer (store the replies), outbox_send.",
    ["stage"],
    buckets=_LATENCY_BUCKETS,
)
INBOUND_LAG = Histogram(
    "chasqui_inbound_lag_seconds",
    "From storing a Telegram or WhatsApp message to starting to process it.",
    ["channel"],
    buckets=_LAG_BUCKETS,
)
# --- action server and background worker
ACTION_RUNS = Counter("chasqui_action_runs", "Custom action runs, by action and outcome.", ["action", "outcome"])
ACTION_SECONDS = Histogram("chasqui_action_seconds", "Time to run one custom action.", ["action"],
                           buckets=_LATENCY_BUCKETS)  # fmt: skip
REGISTRY_CALLS = Counter(
    "chasqui_registry_calls", "Registry operations, by institution and outcome.", ["institution", "outcome"]
)
REGISTRY_SECONDS = Histogram(
    "chasqui_registry_call_seconds", "Time of one registry operation, retries included.", ["institution"],
    buckets=_LATENCY_BUCKETS,
)  # fmt: skip
BREAKER_STATE = Gauge(
    "chasqui_registry_breaker_state",
    "Circuit breaker of an institution: 0 closed, 1 half-open, 2 open (the worst of the live processes).",
    ["institution"],
    multiprocess_mode="livemax",
)
DOCUMENTS_ISSUED = Counter("chasqui_documents_issued", "Signed documents issued, by kind.", ["kind"])
DOCUMENTS_VERIFIED = Counter(
    "chasqui_documents_verified", "Document verifications, by verdict and how the document came.", ["verdict", "via"]
)

BREAKER_VALUES = {"closed": 0, "half_open": 1, "open": 2}

P = ParamSpec("P")
T = TypeVar("T")


@contextmanager
def stage(name: str) -> Iterator[None]:
    """Observe the time spent in the ``with`` block as stage ``name`` of a turn."""
    started = time.perf_counter()
    try:
        yield
    finally:
        STAGE_SECONDS.labels(stage=name).observe(time.perf_counter() - started)


@contextmanager
def turn(channel: str) -> Iterator[Callable[[str], None]]:
    """Count one turn of ``channel`` and observe its time; call the yielded function with its outcome.

    A turn left by an exception is counted with the outcome ``error``.
    """
    started = time.perf_counter()
    outcome = "error"

    def done(value: str) -> None:
        nonlocal outcome
        outcome = str(value)

    try:
        yield done
    finally:
        TURNS.labels(channel=channel, outcome=outcome).inc()
        TURN_SECONDS.labels(channel=channel).observe(time.perf_counter() - started)


def timed(name: str) -> Callable[[Callable[P, Awaitable[T]]], Callable[P, Coroutine[Any, Any, T]]]:
    """Decorate a coroutine function so that each call is observed as stage ``name`` of a turn."""

    def decorate(function: Callable[P, Awaitable[T]]) -> Callable[P, Coroutine[Any, Any, T]]:
        @functools.wraps(function)
        async def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
            with stage(name):
                return await function(*args, **kwargs)

        return wrapper

    return decorate


class _Fixed:
    """A collector that yields metric families computed beforehand (e.g. from the database, per scrape)."""

    def __init__(self, families: Iterable[Metric]) -> None:
        self._families = list(families)

    def collect(self) -> Iterable[Metric]:
        return self._families


class _Forward:
    """A collector that yields what another registry collects (this process's own, in single-process mode)."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self._registry = registry

    def collect(self) -> Iterable[Metric]:
        return self._registry.collect()


def exposition(families: Iterable[Metric] = ()) -> bytes:
    """The text exposition of every process's metrics plus ``families`` computed for this scrape."""
    registry = CollectorRegistry(auto_describe=False)
    directory = os.environ.get(MULTIPROC_ENV)
    if directory:
        MultiProcessCollector(registry, path=directory)  # type: ignore[no-untyped-call]
    else:
        registry.register(_Forward(REGISTRY))
    registry.register(_Fixed(families))
    return generate_latest(registry)


def process_exited() -> None:
    """Forget this process's live gauges (multi-process mode): call when a process stops cleanly."""
    directory = os.environ.get(MULTIPROC_ENV)
    if directory:
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(os.getpid(), directory)  # type: ignore[no-untyped-call]


_FORWARDING_HEADERS = ("x-forwarded-for", "forwarded", "x-real-ip")
# Loopback and the private ranges (RFC 1918, IPv6 unique local); not the documentation ranges `is_private` has.
_PRIVATE_NETWORKS = tuple(
    ipaddress.ip_network(n)
    for n in ("127.0.0.0/8", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "::1/128", "fc00::/7")
)


def scrape_allowed(*, peer: str | None, headers: Mapping[str, str], token: str) -> bool:
    """Whether a request may read ``/metrics``.

    With ``token`` set, only ``Authorization: Bearer <token>`` opens it, from any address. Without one, only a
    direct caller on a loopback or private address (Prometheus on Chasqui's own network); a request that
    passed through a proxy or load balancer (it carries a forwarding header) is refused, since the proxy's
    own private address would otherwise let the public in.

    Args:
        peer: the caller's address as the server saw it.
        headers: the request headers, with lower-case names.
        token: the ``CHASQUI_METRICS_TOKEN`` setting.
    """
    if token:
        given = headers.get("authorization", "")
        return given.startswith("Bearer ") and hmac.compare_digest(given[7:].encode(), token.encode())
    if any(name in headers for name in _FORWARDING_HEADERS):
        return False
    try:
        address = ipaddress.ip_address(peer or "")
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return any(address in network for network in _PRIVATE_NETWORKS)
