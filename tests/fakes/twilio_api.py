"""A fake Twilio REST API (Messages resource) over HTTP; the twilio client reaches it through `base_url`."""

from __future__ import annotations

import itertools
import threading
from dataclasses import dataclass
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route


@dataclass
class Sent:
    sid: str
    params: dict[str, Any]


class FakeTwilio:
    def __init__(self, account_sid: str, auth_token: str) -> None:
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.sent: list[Sent] = []
        self.errors: dict[str, tuple[int, int]] = {}  # "whatsapp:+593…" -> (HTTP status, Twilio code)
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self.app = Starlette(routes=[Route("/2010-04-01/Accounts/{sid}/Messages.json", self._create, methods=["POST"])])

    def bodies_to(self, to: str) -> list[str]:
        with self._lock:
            return [str(s.params.get("Body", "")) for s in self.sent if s.params.get("To") == to]

    async def _create(self, request: Request) -> JSONResponse:
        import base64

        expected = base64.b64encode(f"{self.account_sid}:{self.auth_token}".encode()).decode()
        if request.headers.get("authorization") != f"Basic {expected}":
            return JSONResponse({"code": 20003, "message": "Authenticate", "status": 401}, status_code=401)
        form = await request.form()
        params: dict[str, Any] = {}
        for key, value in form.multi_items():
            if key == "MediaUrl":
                params.setdefault("MediaUrl", []).append(value)
            else:
                params[key] = value
        error = self.errors.get(str(params.get("To")))
        if error is not None:
            status, code = error
            return JSONResponse(
                {"code": code, "message": "error", "more_info": f"https://www.twilio.com/docs/errors/{code}",
                 "status": status},
                status_code=status,
            )  # fmt: skip
        sid = f"SM{next(self._ids):032d}"
        with self._lock:
            self.sent.append(Sent(sid, params))
        return JSONResponse(
            {"sid": sid, "status": "queued", "to": params.get("To"), "from": params.get("From"),
             "body": params.get("Body"), "account_sid": self.account_sid, "num_media": "0"},
            status_code=201,
        )  # fmt: skip
