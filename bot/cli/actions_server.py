"""The action server: rasa-sdk's executor serving `bot.actions` in one process, refusing any call without Rasa's
token.

rasa-sdk has no authentication of its own; Rasa sends ``?token=`` (endpoints.yml, ``action_endpoint.token``), and
this server answers 401 to a call to ``/webhook`` or ``/actions`` that lacks it, so that no other local process
can run an action (and read a citizen's licence or download links) by calling the action server directly.

Each action run binds the request id the gateway sent with the message (``tracker.latest_message.metadata``) for
its log lines, and is counted by action and outcome; ``GET /metrics`` shows the counts (see `bot.metrics`).
"""

from __future__ import annotations

import argparse
import hmac
import json
import os
import time
import zlib
from typing import Any

import structlog
from rasa_sdk.executor import ActionExecutor, ActionExecutorRunResult
from rasa_sdk.interfaces import ActionExecutionRejection, ActionMissingDomainException, ActionNotFoundException
from rasa_sdk.utils import check_version_compatibility
from sanic import Sanic, response
from sanic.exceptions import SanicException
from sanic.request import Request

from bot import metrics
from bot.actions.results import ActionResults, LocalActionResults, RedisActionResults, call_key
from bot.documents.service import ISSUING_TURN
from bot.logs import configure_logging
from bot.privacy.encryption import Protector, protector_from
from bot.settings import Settings, load_settings

PROTECTED = ("/webhook", "/actions")
RASA_KEEP_ALIVE_SECONDS = 120  # rasa-sdk's: Rasa keeps its connection to the action server open
log = structlog.get_logger(__name__)


def request_id_of(action_call: dict[str, Any]) -> str | None:
    """The request id the gateway put in the metadata of the message this action answers."""
    tracker = action_call.get("tracker")
    latest = tracker.get("latest_message") if isinstance(tracker, dict) else None
    metadata = latest.get("metadata") if isinstance(latest, dict) else None
    value = metadata.get("request_id") if isinstance(metadata, dict) else None
    return value[:100] if isinstance(value, str) and value else None


def turn_of(action_call: dict[str, Any]) -> str | None:
    """``<conversation>:<message id>`` of the message this action answers (the channel's id the gateway sent)."""
    tracker = action_call.get("tracker")
    if not isinstance(tracker, dict):
        return None
    latest = tracker.get("latest_message")
    metadata = latest.get("metadata") if isinstance(latest, dict) else None
    message_id = metadata.get("message_id") if isinstance(metadata, dict) else None
    sender = tracker.get("sender_id")
    if not isinstance(message_id, str) or not message_id or not isinstance(sender, str):
        return None
    return f"{sender}:{message_id}"[:160]


class MeasuredExecutor(ActionExecutor):
    """rasa-sdk's executor, with the turn's request id bound for the action's log lines, and metrics; an action
    call repeated by a turn run again gets the first run's answer (`bot.actions.results`)."""

    def __init__(self, results: ActionResults | None = None, *, secret: bytes = b"") -> None:
        super().__init__()
        self.results = results
        self.secret = secret

    async def run(self, action_call: dict[str, Any], *args: Any, **kwargs: Any) -> Any:
        requested = action_call.get("next_action")
        name = requested if isinstance(requested, str) and requested in self.actions else "desconocida"
        outcome = "error"
        started = time.perf_counter()
        this_turn = turn_of(action_call)
        key = call_key(action_call, turn=this_turn, secret=self.secret) if self.results is not None else None
        turn = ISSUING_TURN.set(this_turn)  # documents issued here are keyed by the turn
        with structlog.contextvars.bound_contextvars(request_id=request_id_of(action_call)):
            try:
                earlier = await self.results.get(key) if self.results is not None and key else None
                if earlier is not None:
                    outcome = "repeated"
                    return ActionExecutorRunResult.model_validate(earlier)
                result = await super().run(action_call, *args, **kwargs)
                if self.results is not None and key and result is not None:
                    await self.results.put(key, result.model_dump())
                outcome = "ok"
                return result
            except ActionExecutionRejection:
                outcome = "rejected"  # a form's slot was not filled: Rasa predicts another action
                raise
            except ActionNotFoundException:
                outcome = "not_found"
                raise
            except ActionMissingDomainException:
                outcome = "missing_domain"
                raise
            finally:
                seconds = time.perf_counter() - started
                metrics.ACTION_RUNS.labels(action=name, outcome=outcome).inc()
                metrics.ACTION_SECONDS.labels(action=name).observe(seconds)
                log.info("accion.ejecutada", accion=name, resultado=outcome, duracion_ms=round(seconds * 1000))
                ISSUING_TURN.reset(turn)


def action_results(settings: Settings, protector: Protector) -> ActionResults:
    """Answers kept in Redis when several action servers may run (``REDIS_URL``), else in this process."""
    if settings.redis_url:
        import redis.asyncio  # only then: redis-py brings OpenTelemetry's SDK, about 20 MB

        client = redis.asyncio.from_url(settings.redis_url)
        return RedisActionResults(client, protector, prefix=f"{settings.redis_prefix}accion:")
    return LocalActionResults(protector)


def create_app(settings: Settings) -> Any:
    """The action server for `bot.actions`, behind the token check: rasa-sdk's executor and its HTTP contract.

    rasa-sdk's own app (``rasa_sdk.endpoint``) is not used: it imports OpenTelemetry's gRPC exporter and gRPC
    itself (about 17 MB) whether tracing is configured or not, and CORS and plugin machinery this server does not
    serve. The routes below are its contract with Rasa, unchanged: ``POST /webhook`` (an action call, JSON or
    deflated JSON; 400 for a rejected form slot, 404 for an unknown action, 449 when the domain is missing),
    ``GET /actions`` and ``GET /health``.

    ``settings.actions_token`` is Rasa's credential (``?token=``) for ``/webhook`` and ``/actions``;
    ``settings.metrics_token`` guards ``/metrics`` (`bot.metrics.scrape_allowed`).
    """
    token, metrics_token = settings.actions_token, settings.metrics_token
    protector = protector_from(settings)
    executor = MeasuredExecutor(action_results(settings, protector), secret=protector.hash_key)
    executor.register_package("bot.actions")
    app = Sanic("chasqui_acciones", configure_logging=False)
    app.config.KEEP_ALIVE_TIMEOUT = RASA_KEEP_ALIVE_SECONDS

    @app.get("/health")
    async def health(_: Request) -> Any:
        return response.json({"status": "ok"})

    @app.post("/webhook")
    async def webhook(request: Request) -> Any:
        try:
            body = request.body
            if request.headers.get("Content-Encoding") == "deflate":
                body = zlib.decompress(body)
            action_call = json.loads(body)
        except (zlib.error, ValueError):
            action_call = None
        if not isinstance(action_call, dict):
            return response.json({"error": "Invalid body request"}, status=400)
        check_version_compatibility(action_call.get("version"))
        try:
            result = await executor.run(action_call)
        except ActionExecutionRejection as e:
            return response.json({"error": e.message, "action_name": e.action_name}, status=400)
        except ActionNotFoundException as e:
            log.error("accion.desconocida", accion=e.action_name)
            return response.json({"error": e.message, "action_name": e.action_name}, status=404)
        except ActionMissingDomainException as e:
            return response.json({"error": e.message, "action_name": e.action_name}, status=449)
        return response.json(result.model_dump() if result else None)

    @app.get("/actions")
    async def actions(_: Request) -> Any:
        return response.json([item.model_dump() for item in executor.list_actions()])

    @app.exception(Exception)
    async def failed(request: Request, exception: Exception) -> Any:
        if isinstance(exception, SanicException):  # an unknown route, a wrong method: Sanic's own answer
            return response.json({"error": type(exception).__name__}, status=exception.status_code)
        # The request's body is a tracker (a citizen's messages): neither logged nor sent back.
        log.error("accion.fallo", ruta=request.path, error=type(exception).__name__, exc_info=exception)
        return response.json({"error": type(exception).__name__}, status=500)

    @app.get("/metrics")
    async def metrics_route(request: Request) -> Any:
        if not metrics.scrape_allowed(peer=request.ip, headers=request.headers, token=metrics_token):
            return response.text("forbidden\n", status=403)
        return response.raw(metrics.exposition(), content_type=metrics.CONTENT_TYPE)

    @app.after_server_stop
    async def forget_live_gauges(*_: Any) -> None:
        metrics.process_exited()

    @app.on_request
    async def rasa_only(request: Request) -> Any:
        if request.path.startswith(PROTECTED):
            given = request.args.get("token") or ""
            if not token or not hmac.compare_digest(given.encode(), token.encode()):
                return response.json({"error": "no autorizado"}, status=401)
        return None

    return app


def main() -> None:
    parser = argparse.ArgumentParser(description="Chasqui's action server (rasa-sdk) behind Rasa's token.")
    parser.add_argument("--port", type=int, default=5055)
    args = parser.parse_args()
    settings = load_settings()
    configure_logging(level=settings.log_level, json=settings.log_json, pseudonym_key=protector_from(settings).hash_key)
    app = create_app(settings)
    # One process. Sanic's default serving is a manager process that loads the app, a process that spawns
    # workers, multiprocessing's resource tracker and the worker: about 450 MB for what one process of 140 MB
    # serves. Restarting a crashed server is `chasqui run`'s job (and a container's), as for the gateway.
    app.prepare(host=os.environ.get("SANIC_HOST", "127.0.0.1"), port=args.port, single_process=True, motd=False)
    Sanic.serve_single(app)


if __name__ == "__main__":
    main()
