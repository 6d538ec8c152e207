"""A fake Rasa REST channel over HTTP that echoes, for tests that run the gateway as a process."""

from __future__ import annotations

import asyncio
import threading

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route


class EchoRasa:
    def __init__(self, *, delay: float = 0.01) -> None:
        self.delay = delay
        self.received: list[str] = []
        self._lock = threading.Lock()
        self.app = Starlette(
            routes=[
                Route("/webhooks/firmado/webhook", self._webhook, methods=["POST"]),
                Route("/status", self._status, methods=["GET"]),
            ]
        )

    async def _webhook(self, request: Request) -> JSONResponse:
        body = await request.json()
        with self._lock:
            self.received.append(body["message"])
        await asyncio.sleep(self.delay)
        return JSONResponse([{"recipient_id": body["sender"], "text": f"eco: {body['message']}"}])

    async def _status(self, _: Request) -> JSONResponse:
        return JSONResponse({"model_file": "eco.tar.gz"})
