"""A fake Twilio REST API (Messages resource) over HTTP; the twilio client reaches it through `base_url`.

Media citizens sent (`media`, by the path of their URL) are served like Twilio does: basic auth with the
account SID and auth token, then a redirect to a short-lived storage URL that needs no credentials.
"""

from __future__ import annotations

import itertools
import threading
from dataclasses import dataclass
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
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
        self.media: dict[str, tuple[bytes, str]] = {}  # "/2010-04-01/Accounts/…/Media/ME…" -> (bytes, type)
        self.media_requests: list[tuple[str, bool]] = []  # (path, authenticated)
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self.app = Starlette(
            routes=[
                Route("/2010-04-01/Accounts/{sid}/Messages.json", self._create, methods=["POST"]),
                Route("/2010-04-01/Accounts/{sid}/Messages/{message}/Media/{media}", self._media, methods=["GET"]),
                Route("/almacen/{media}", self._stored, methods=["GET"]),
            ]
        )

    def _authenticated(self, request: Request) -> bool:
        import base64

        expected = base64.b64encode(f"{self.account_sid}:{self.auth_token}".encode()).decode()
        return request.headers.get("authorization") == f"Basic {expected}"

    async def _media(self, request: Request) -> Response:
        authenticated = self._authenticated(request)
        with self._lock:
            self.media_requests.append((request.url.path, authenticated))
        if not authenticated:
            return JSONResponse({"code": 20003, "message": "Authenticate", "status": 401}, status_code=401)
        if request.url.path not in self.media:
            return JSONResponse({"code": 20404, "message": "Not found", "status": 404}, status_code=404)
        return RedirectResponse(f"/almacen/{request.path_params['media']}", status_code=307)

    async def _stored(self, request: Request) -> Response:
        for path, (content, content_type) in self.media.items():
            if path.endswith("/" + request.path_params["media"]):
                return Response(content, media_type=content_type)
        return Response(status_code=404)

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
