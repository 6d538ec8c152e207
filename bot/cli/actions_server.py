"""The action server: rasa-sdk's, serving `bot.actions`, and refusing any call without Rasa's token.

rasa-sdk has no authentication of its own; Rasa sends ``?token=`` (endpoints.yml, ``action_endpoint.token``), and
this server answers 401 to a call to ``/webhook`` or ``/actions`` that lacks it, so that no other local process
can run an action (and read a citizen's licence or download links) by calling the action server directly.
"""

from __future__ import annotations

import argparse
import hmac
import os
from functools import partial
from typing import Any

from rasa_sdk.endpoint import create_app_for_serve
from rasa_sdk.executor import ActionExecutor
from sanic import Sanic, response
from sanic.request import Request
from sanic.worker.loader import AppLoader

from bot.logs import configure_logging
from bot.privacy.cifrado import protector_from
from bot.settings import load_settings

PROTECTED = ("/webhook", "/actions")


def create_app(token: str) -> Any:
    """rasa-sdk's app for `bot.actions`, behind the token check."""
    executor = ActionExecutor()
    executor.register_package("bot.actions")
    app = create_app_for_serve(executor, cors_origins=[], auto_reload=False, endpoints="endpoints.yml")

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
    token = settings.actions_token
    loader = AppLoader(factory=partial(create_app, token))
    app = loader.load()
    app.prepare(host=os.environ.get("SANIC_HOST", "127.0.0.1"), port=args.port, workers=1)
    Sanic.serve(primary=app, app_loader=loader)


if __name__ == "__main__":
    main()
