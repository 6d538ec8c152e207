"""A fake Telegram Bot API speaking the real protocol over HTTP (PTB reaches it through `base_url`).

Bot methods arrive as form-urlencoded or multipart POSTs to `/bot<token>/<method>`; answers are
`{"ok": true, "result": ...}` or Telegram's error shape. Chats can be made to block the bot (403) or to
hit the flood limit once (429 with `retry_after`); `hold()` makes deliveries wait, and a request whose
client went away while held is dropped unrecorded (a crash before Telegram received it). Files citizens
sent (`files`, by ``file_id``) are found with `getFile` and downloaded from `/file/bot<token>/<file_path>`.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

BOT_USER = {"id": 777000111, "is_bot": True, "first_name": "Chasqui", "username": "chasqui_prueba_bot"}


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    files: dict[str, tuple[str, bytes]] = field(default_factory=dict)


class FakeTelegram:
    def __init__(self, token: str) -> None:
        self.token = token
        self.calls: list[Call] = []
        self.blocked_chats: set[int] = set()
        self.flood_once: set[int] = set()
        self.updates: list[dict[str, Any]] = []
        self.files: dict[str, bytes] = {}  # file_id -> what the citizen sent
        self.downloads: list[str] = []  # file paths downloaded with the right token
        self.dropped = 0  # held deliveries whose client went away (never received)
        self.released = 0  # held deliveries that went through after `release()`
        self._ids = itertools.count(1000)
        self._lock = threading.Lock()
        self._held = threading.Event()
        self._held.set()
        self.app = Starlette(
            routes=[
                Route("/bot{token}/{method}", self._handle, methods=["POST", "GET"]),
                Route("/file/bot{token}/{path:path}", self._download, methods=["GET"]),
            ]
        )

    async def _download(self, request: Request) -> Response:
        if request.path_params["token"] != self.token:
            return JSONResponse({"ok": False, "error_code": 401, "description": "Unauthorized"}, status_code=401)
        path = str(request.path_params["path"])
        content = self.files.get(path.removeprefix("documentos/").rsplit(".", 1)[0])
        if content is None:
            return JSONResponse({"ok": False, "error_code": 404, "description": "Not Found"}, status_code=404)
        with self._lock:
            self.downloads.append(path)
        return Response(content, media_type="application/octet-stream")

    def hold(self) -> None:
        self._held.clear()

    def release(self) -> None:
        self._held.set()

    def sent(self, method: str = "sendMessage") -> list[Call]:
        with self._lock:
            return [c for c in self.calls if c.method == method]

    def texts_to(self, chat_id: int) -> list[str]:
        return [str(c.params.get("text")) for c in self.sent() if int(c.params["chat_id"]) == chat_id]

    async def _params(self, request: Request) -> tuple[dict[str, Any], dict[str, tuple[str, bytes]]]:
        content_type = request.headers.get("content-type", "")
        if content_type.startswith("application/json"):
            return await request.json(), {}
        form = await request.form()
        params: dict[str, Any] = {}
        files: dict[str, tuple[str, bytes]] = {}
        for key, value in form.multi_items():
            if hasattr(value, "read"):
                files[key] = (str(value.filename), await value.read())
            else:
                params[key] = value
        for key in ("reply_markup", "commands", "allowed_updates"):
            if isinstance(params.get(key), str):
                params[key] = json.loads(params[key])
        return params, files

    async def _handle(self, request: Request) -> JSONResponse:
        if request.path_params["token"] != self.token:
            return JSONResponse({"ok": False, "error_code": 401, "description": "Unauthorized"}, status_code=401)
        method = request.path_params["method"]
        params, files = await self._params(request)
        was_held = False
        while method in ("sendMessage", "sendDocument") and not self._held.is_set():
            was_held = True
            if await request.is_disconnected():
                self.dropped += 1
                return JSONResponse({}, status_code=499)  # the client died before Telegram got it
            await asyncio.sleep(0.01)
        if was_held:
            self.released += 1
        chat_id = int(params["chat_id"]) if "chat_id" in params else None
        if chat_id in self.blocked_chats:
            return JSONResponse(
                {"ok": False, "error_code": 403, "description": "Forbidden: bot was blocked by the user"},
                status_code=403,
            )
        if chat_id in self.flood_once and method == "sendMessage":
            self.flood_once.discard(chat_id)
            return JSONResponse(
                {"ok": False, "error_code": 429, "description": "Too Many Requests: retry after 1",
                 "parameters": {"retry_after": 1}},
                status_code=429,
            )  # fmt: skip
        if method == "getUpdates" and not [u for u in self.updates if u["update_id"] >= int(params.get("offset") or 0)]:
            await asyncio.sleep(0.2)
        with self._lock:
            self.calls.append(Call(method, params, files))
        return JSONResponse({"ok": True, "result": self._result(method, params, chat_id)})

    def _result(self, method: str, params: dict[str, Any], chat_id: int | None) -> Any:
        if method == "getMe":
            return BOT_USER
        if method == "getFile":
            file_id = str(params.get("file_id"))
            if file_id not in self.files:
                return {"file_id": file_id, "file_unique_id": "u" + file_id[:8]}  # too old: no file_path
            return {
                "file_id": file_id,
                "file_unique_id": "u" + file_id[:8],
                "file_size": len(self.files[file_id]),
                "file_path": f"documentos/{file_id}.bin",
            }
        if method == "getUpdates":
            offset = int(params.get("offset") or 0)
            return [u for u in self.updates if u["update_id"] >= offset]
        if method in ("sendMessage", "sendDocument", "sendPhoto"):
            message: dict[str, Any] = {
                "message_id": next(self._ids),
                "date": int(time.time()),
                "chat": {"id": chat_id, "type": "private"},
                "from": BOT_USER,
            }
            if method == "sendMessage":
                message["text"] = params.get("text", "")
            else:
                message["document"] = {"file_id": f"file{message['message_id']}", "file_unique_id": "u1"}
            return message
        return True
