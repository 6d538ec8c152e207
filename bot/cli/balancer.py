"""HAProxy in front of several replicas of each process (`CHASQUI_REPLICAS` above 1 in `chasqui run`).

HAProxy takes the usual ports (gateway 8000, Rasa 5005, action server 5055) and the replicas listen on the ports
after them, so every process keeps calling the others at the addresses it always did: citizens and channels
reach a gateway, gateways reach a Rasa, Rasa reaches an action server, the action server reaches a gateway's
vault. Rasa's replicas share the PostgreSQL tracker store and the Redis lock store, so any of them can take any
turn. A connection refused by a dead replica is tried again on another (`retries`, `option redispatch`): the
request never reached the dead one, so nothing runs twice. Health checks take a dead replica out within two
seconds (a hung one within twelve) and back when it answers again (a Rasa replica only once its model is loaded).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Pool:
    """One balanced service: its public port, its health check and its replicas' ports."""

    name: str
    port: int
    check: str
    replicas: Sequence[int]


def haproxy_config(host: str, pools: Sequence[Pool]) -> str:
    """The whole configuration: one frontend and backend per pool."""
    lines = [
        "global",
        "    maxconn 4096",
        "",
        "defaults",
        "    mode http",
        "    timeout connect 2s",
        "    timeout client 130s",
        "    timeout server 130s",  # above the gateway's own bound on a turn
        "    timeout tunnel 1h",  # the console's live updates (server-sent events)
        "    retries 3",
        "    option redispatch 1",
        # A check waits 5 s for an answer (without it HAProxy waits `inter`, 1 s): a replica busy with every
        # conversation while the other restarts answers /readyz late but answers, and marking it down left no
        # replica at all (seen in tests/e2e/test_replicas.py). A dead replica refuses the connection at once,
        # so it still leaves within two seconds.
        "    timeout check 5s",
        "    default-server inter 1s fall 2 rise 1",
    ]
    for pool in pools:
        lines += [
            "",
            f"frontend {pool.name}",
            f"    bind {host}:{pool.port}",
        ]
        if pool.name == "gateway":
            # Metrics are scraped from each process directly, never through the public door.
            lines += ["    http-request deny deny_status 404 if { path_beg /metrics }", "    option forwardfor"]
        lines += [
            f"    default_backend {pool.name}_replicas",
            "",
            f"backend {pool.name}_replicas",
            "    balance roundrobin",
            f"    option httpchk GET {pool.check}",
            "    http-check expect status 200",
        ]
        lines += [f"    server {pool.name}-{i} {host}:{port} check" for i, port in enumerate(pool.replicas, start=1)]
    return "\n".join(lines) + "\n"
