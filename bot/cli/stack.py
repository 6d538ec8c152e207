"""Start, watch and stop Chasqui's processes: action server, Rasa and the gateway.

`chasqui run` and the end-to-end tests use the same code, so the tests run the product as it ships.
"""

from __future__ import annotations

import asyncio
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO
from urllib.parse import urlsplit

import httpx

from bot.cli.balancer import Pool, haproxy_config
from bot.cli.model import rasa_env
from bot.settings import Settings


def _die_with_parent() -> None:
    """Linux: the child gets SIGTERM if `chasqui run` dies without stopping it (killed, terminal closed)."""
    if sys.platform.startswith("linux"):
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


class StackError(Exception):
    """A process did not start or did not become ready in time."""


STARTUP_REFUSED = 3  # a gateway refusing its settings (uvicorn's start-up failure): never restarted
RASA_LOCK_SECONDS = 20


@dataclass
class Process:
    name: str
    popen: subprocess.Popen[bytes]
    log_path: Path
    log_file: IO[bytes]
    command: list[str]
    env: dict[str, str]


@dataclass
class Stack:
    """The running processes of one Chasqui instance."""

    settings: Settings
    # Hex, so the token never starts with "-" (Rasa's argument parser would read it as an option).
    rasa_token: str = field(default_factory=lambda: secrets.token_hex(24))
    internal_token: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    channel_secret: str = field(default_factory=lambda: secrets.token_hex(32))  # gateway → Rasa signatures
    actions_token: str = field(default_factory=lambda: secrets.token_hex(24))  # Rasa → action server
    processes: list[Process] = field(default_factory=list)
    # Ports of each kind's replicas when several run behind HAProxy (`balanced`); by default the ports after
    # the usual one (8001, 8002…; 5006…; 5056…). Tests pass free ports.
    replica_ports: dict[str, list[int]] = field(default_factory=dict)
    _metrics_dirs: set[Path] = field(default_factory=set)

    @property
    def balanced(self) -> bool:
        """Several replicas of each process behind HAProxy (``CHASQUI_REPLICAS`` above 1)."""
        return self.settings.replicas > 1

    def ports(self, kind: str) -> list[int]:
        """Where each replica of ``kind`` (``gateway``, ``rasa``, ``actions``) listens."""
        s = self.settings
        usual = {"gateway": s.gateway_port, "rasa": s.rasa_port, "actions": s.actions_port}[kind]
        if not self.balanced:
            return [usual]
        return self.replica_ports.get(kind) or [usual + i for i in range(1, s.replicas + 1)]

    def names(self, kind: str) -> list[str]:
        count = self.settings.replicas if self.balanced else 1
        return [kind] if count == 1 else [f"{kind}-{i}" for i in range(1, count + 1)]

    def rasa_urls(self) -> list[str]:
        return [f"http://{self.settings.host}:{port}" for port in self.ports("rasa")]

    @property
    def log_dir(self) -> Path:
        return self.settings.var_dir / "logs"

    def metrics_env(self, kind: str) -> dict[str, str]:
        """Prometheus's multi-process directory for one kind of process (``gateway``; ``acciones`` for the
        action server and the worker, whose figures the action server's ``/metrics`` shows together).

        Emptied once per run, before its first process starts: files of an earlier run would add up.
        """
        directory = self.settings.var_dir / "metrics" / kind
        if directory not in self._metrics_dirs:
            shutil.rmtree(directory, ignore_errors=True)
            directory.mkdir(parents=True, mode=0o700)
            self._metrics_dirs.add(directory)
        return {"PROMETHEUS_MULTIPROC_DIR": str(directory)}

    def _spawn(self, name: str, command: list[str], env: dict[str, str]) -> Process:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        log_path = self.log_dir / f"{name}.log"
        log_file = os.fdopen(os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600), "ab")
        os.chmod(log_path, 0o600)  # a log created before this rule is closed too
        popen = subprocess.Popen(
            command,
            cwd=self.settings.project_dir,
            env=env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            umask=0o077,  # logs, databases, keys and data copies readable by their owner only
        )
        process = Process(name=name, popen=popen, log_path=log_path, log_file=log_file, command=command, env=env)
        self.processes.append(process)
        return process

    def process(self, name: str) -> Process:
        return next(p for p in self.processes if p.name == name)

    def kill(self, name: str, sig: signal.Signals = signal.SIGKILL) -> None:
        """Stop one process the hard way (the chaos tests); `restart` brings it back."""
        process = self.process(name)
        os.killpg(process.popen.pid, sig)
        process.popen.wait()

    def restart(self, name: str) -> Process:
        """Start a process that exited again, with the same command and environment."""
        old = self.process(name)
        old.log_file.close()
        self.processes.remove(old)
        return self._spawn(name, old.command, old.env)

    def app_env(self) -> dict[str, str]:
        """Environment shared by the app processes (gateway, actions): the settings, explicitly."""
        s = self.settings
        env = dict(os.environ)
        env.update(
            CHASQUI_VAR_DIR=str(s.var_dir),
            CHASQUI_CACHE_DIR=str(s.cache_dir),
            CHASQUI_DATABASE_URL=s.effective_database_url,
            CHASQUI_RASA_URL=s.effective_rasa_url,
            CHASQUI_RASA_TOKEN=self.rasa_token,
            CHASQUI_RASA_CHANNEL_SECRET=s.rasa_channel_secret or self.channel_secret,
            CHASQUI_ACTIONS_TOKEN=s.actions_token or self.actions_token,
            CHASQUI_GATEWAY_PORT=str(s.gateway_port),
            CHASQUI_HOST=s.host,
            CHASQUI_INTERNAL_TOKEN=s.internal_token or self.internal_token,
            CHASQUI_GATEWAY_INTERNAL_URL=s.effective_gateway_internal_url,
            CHASQUI_REGISTROS_URL=s.effective_registros_url,
            CHASQUI_REPLICAS=str(s.replicas),
            CHASQUI_REDIS_PREFIX=s.redis_prefix,
            PYTHONUNBUFFERED="1",
        )
        if s.redis_url:
            env["REDIS_URL"] = s.redis_url
        return env

    def check_replicas(self) -> None:
        """Several replicas need what they share on servers: refuse at once, in Spanish, naming the settings.

        Raises:
            StackError: a setting several replicas need is missing.
        """
        if not self.balanced:
            return
        s = self.settings
        missing = []
        if not s.effective_database_url.startswith("postgresql"):
            missing.append("DATABASE_URL en PostgreSQL (postgresql://usuario@servidor:5432/chasqui)")
        if not s.effective_rasa_database_url.startswith("postgresql"):
            missing.append("RASA_DATABASE_URL en PostgreSQL (…/chasqui_rasa): el historial que comparten las réplicas")
        if not s.redis_url:
            missing.append("REDIS_URL (redis://127.0.0.1:6379/1): bóveda, turnos, avisos en vivo y el bloqueo de Rasa")
        if missing:
            raise StackError(
                f"CHASQUI_REPLICAS={s.replicas} necesita estado compartido en servidores. Configure:\n  - "
                + "\n  - ".join(missing)
            )

    def prepare(self) -> None:
        """`prepare_databases` in a child process (``chasqui migrate``) with this stack's settings.

        Migrating imports SQLAlchemy, Alembic, every model and the documents subsystem: about 110 MB that
        the supervisor would keep for as long as it runs, while it only starts and watches processes.

        Raises:
            StackError: the migrations or the key preparation failed (with the end of their output).
        """
        env = self.app_env() | {"CHASQUI_RASA_DATABASE_URL": self.settings.effective_rasa_database_url}
        done = subprocess.run(
            [sys.executable, "-m", "bot.cli.main", "migrate"],
            cwd=self.settings.project_dir,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            raise StackError(
                f"preparing the databases failed ({done.returncode}):\n{(done.stdout + done.stderr)[-3000:]}"
            )

    def rasa_process_env(self) -> dict[str, str]:
        s = self.settings
        env = rasa_env()
        env.update(
            CHASQUI_ACTION_ENDPOINT_URL=f"http://{s.host}:{s.actions_port}/webhook",
            CHASQUI_ACTIONS_TOKEN=s.actions_token or self.actions_token,
            CHASQUI_RASA_CHANNEL_SECRET=s.rasa_channel_secret or self.channel_secret,
            PYTHONPATH=str(s.project_dir),  # credentials.yml loads integrations.rasa.channel
            CHASQUI_RASA_TRACKER_URL=s.effective_rasa_database_url,
            SANIC_WORKERS="1",
            # A conversation's lock left by a Rasa replica that died frees after this (Rasa's default is 60 s);
            # a turn takes a few seconds at most, and the gateway's own turn lock keeps a chat's turns in order.
            TICKET_LOCK_LIFETIME=str(RASA_LOCK_SECONDS),
        )
        if s.redis_url:
            redis = urlsplit(s.redis_url)
            env.update(
                CHASQUI_RASA_LOCK_STORE="redis",
                CHASQUI_RASA_LOCK_HOST=redis.hostname or "127.0.0.1",
                CHASQUI_RASA_LOCK_PORT=str(redis.port or 6379),
                CHASQUI_RASA_LOCK_DB=(redis.path.strip("/") or "1"),
            )
        else:
            env.update(
                CHASQUI_RASA_LOCK_STORE="in_memory",
                CHASQUI_RASA_LOCK_HOST="",
                CHASQUI_RASA_LOCK_PORT="",
                CHASQUI_RASA_LOCK_DB="",
            )
        return env

    def start_all(self, model: Path) -> Process | None:
        """Every process in the order each needs the one before (registries, actions, Rasa, gateway, worker),
        then HAProxy with several replicas; returns HAProxy's process, None with one replica."""
        self.start_registros()
        self.start_actions()
        self.start_rasa(model)
        self.start_gateway()
        self.start_worker()
        return self.start_balancer()

    def start_actions(self) -> list[Process]:
        env = self.app_env() | self.metrics_env("acciones")
        env["SANIC_HOST"] = self.settings.host
        return [
            self._spawn(name, [sys.executable, "-m", "bot.cli.actions_server", "--port", str(port)], env)
            for name, port in zip(self.names("actions"), self.ports("actions"), strict=True)
        ]

    def start_registros(self) -> Process | None:
        """The sandbox registries (fictitious population), unless real registries are configured."""
        if not self.settings.registros_sandbox:
            return None
        command = [
            sys.executable,
            "-m",
            "integrations.registros.sandbox",
            "--host",
            self.settings.host,
            "--port",
            str(self.settings.registros_port),
        ]
        return self._spawn("registros", command, self.app_env())

    def start_rasa(self, model: Path) -> list[Process]:
        s = self.settings
        started = []
        for name, port in zip(self.names("rasa"), self.ports("rasa"), strict=True):
            command = [
                str(s.effective_rasa_bin),
                "run",
                "--model",
                str(model),
                "--endpoints",
                "endpoints.yml",
                "--credentials",
                "credentials.yml",
                "--interface",
                s.host,
                "--port",
                str(port),
                "--enable-api",
                "--auth-token",
                self.rasa_token,
            ]
            started.append(self._spawn(name, command, self.rasa_process_env()))
        return started

    def start_worker(self) -> list[Process]:
        """Retries of applications kept pending after a registry error, and the periodic duties (one per
        replica: they claim their work, see docs/background-work.md)."""
        command = [sys.executable, "-m", "bot.cli.main", "trabajador"]
        env = self.app_env() | self.metrics_env("acciones")
        return [self._spawn(name, command, env) for name in self.names("trabajador")]

    def start_gateway(self) -> list[Process]:
        s = self.settings
        started = []
        for name, port in zip(self.names("gateway"), self.ports("gateway"), strict=True):
            command = [
                sys.executable,
                "-m",
                "uvicorn",
                "bot.gateway.app:create_app",
                "--factory",
                "--host",
                s.host,
                "--port",
                str(port),
                "--no-access-log",
            ]
            started.append(self._spawn(name, command, self.app_env() | self.metrics_env("gateway")))
        return started

    def start_balancer(self) -> Process | None:
        """HAProxy on the usual ports in front of the replicas (`bot.cli.balancer`); None with one replica."""
        if not self.balanced:
            return None
        haproxy = shutil.which("haproxy") or ("/usr/sbin/haproxy" if Path("/usr/sbin/haproxy").exists() else None)
        if haproxy is None:
            raise StackError("varias réplicas necesitan HAProxy: instálelo (apt-get install haproxy) o use `make run`")
        s = self.settings
        pools = [
            Pool("gateway", s.gateway_port, "/readyz", self.ports("gateway")),
            # /status answers 200 only once the replica's model is loaded (409 before): loading ones get no turns.
            Pool("rasa", s.rasa_port, f"/status?token={self.rasa_token}", self.ports("rasa")),
            Pool("actions", s.actions_port, "/health", self.ports("actions")),
        ]
        config = s.var_dir / "haproxy.cfg"
        config.touch(mode=0o600)
        config.chmod(0o600)  # it carries Rasa's token (the health check)
        config.write_text(haproxy_config(s.host, pools), encoding="utf-8")
        return self._spawn("haproxy", [haproxy, "-db", "-f", str(config)], dict(os.environ))

    def check_alive(self, *, restart_replicas: bool = False) -> list[str]:
        """Raise when a process exited; with ``restart_replicas`` a replica that exited (not HAProxy, not the
        sandbox) is started again instead, as a host's process manager would, and its name returned."""
        restarted = []
        for process in list(self.processes):
            code = process.popen.poll()
            if code is None:
                continue
            replica = process.name.rpartition("-")[2].isdigit()
            if restart_replicas and self.balanced and replica and code != STARTUP_REFUSED:
                self.restart(process.name)
                restarted.append(f"{process.name} ({code})")
                continue
            tail = process.log_path.read_text(errors="replace")[-3000:]
            raise StackError(f"{process.name} exited with {code}; last log lines:\n{tail}")
        return restarted

    def wait_http(self, url: str, *, timeout: float, ok: tuple[int, ...] = (200,)) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.check_alive()
            try:
                if httpx.get(url, timeout=2.0).status_code in ok:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.5)
        raise StackError(f"{url} not ready after {timeout:.0f} s")

    def wait_rasa_model(self, url: str, *, timeout: float) -> None:
        """Until the Rasa at ``url`` has loaded its model (each replica: the balancer's check only says it is up)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.check_alive()
            try:
                response = httpx.get(f"{url}/status", params={"token": self.rasa_token}, timeout=2.0)
                if response.status_code == 200 and response.json().get("model_file"):
                    return
            except (httpx.TransportError, ValueError):
                pass
            time.sleep(0.5)
        raise StackError(f"{url} did not load its model after {timeout:.0f} s")

    def wait_ready(self, *, timeout: float = 240.0) -> None:
        s = self.settings
        if s.registros_sandbox:
            self.wait_http(f"{s.effective_registros_url}/healthz", timeout=60)
        for port in self.ports("actions"):
            self.wait_http(f"http://{s.host}:{port}/health", timeout=60)
        for port in self.ports("gateway"):
            self.wait_http(f"http://{s.host}:{port}/healthz", timeout=60)
        if self.balanced:
            for url in self.rasa_urls():
                self.wait_rasa_model(url, timeout=timeout)
            self.wait_http(f"http://{s.host}:{s.actions_port}/health", timeout=30)
        # The gateway serves (with an apology) while Rasa loads; `chasqui run` announces only a whole stack.
        self.wait_http(f"http://{s.host}:{s.gateway_port}/readyz?completo=1", timeout=timeout)

    def stop(self) -> None:
        for process in reversed(self.processes):
            if process.popen.poll() is None:
                os.killpg(process.popen.pid, signal.SIGTERM)
        for process in reversed(self.processes):
            try:
                process.popen.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.popen.pid, signal.SIGKILL)
                process.popen.wait()
            process.log_file.close()
        self.processes.clear()


def prepare_databases(settings: Settings) -> None:
    """Create missing PostgreSQL databases, bring the app's schema to the latest revision, and create
    the sandbox signing keys once, before several processes would race to create them."""
    from bot.storage.db import migrate

    for url in (settings.effective_database_url, settings.effective_rasa_database_url):
        if url.startswith(("postgresql", "postgres")):
            asyncio.run(ensure_postgres_database(url))
    migrate(settings.effective_database_url)
    asyncio.run(_prepare_documents(settings))


async def _prepare_documents(settings: Settings) -> None:
    from bot.documents.runtime import build_documents
    from bot.documents.settings import document_settings_from
    from bot.storage.db import create_engine, session_factory

    engine = create_engine(settings.effective_database_url)
    try:
        await asyncio.to_thread(build_documents, document_settings_from(settings), sessions=session_factory(engine))
    finally:
        await engine.dispose()


async def ensure_postgres_database(url: str) -> None:
    import asyncpg

    parts = urlsplit(url.replace("+asyncpg", "").replace("+psycopg2", ""))
    name = parts.path.lstrip("/")
    if not re.fullmatch(r"[A-Za-z0-9_]{1,63}", name):
        raise StackError(f"unsupported database name {name!r}")
    admin = parts._replace(path="/postgres").geturl()
    connection = await asyncpg.connect(admin)
    try:
        exists = await connection.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
        if not exists:
            await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()
