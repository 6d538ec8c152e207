"""`chasqui chat`: talk to the running Chasqui from a terminal, through the web channel."""

from __future__ import annotations

import sys
import uuid
from typing import Any

import httpx

from bot.settings import Settings


def _show(messages: list[dict[str, Any]], options: list[str]) -> None:
    options.clear()
    for message in messages:
        if message.get("text"):
            print(f"Chasqui: {message['text']}")
        document = (message.get("custom") or {}).get("document")
        if isinstance(document, dict) and document.get("url"):
            print(f"  Documento: {document.get('filename', '')} {document['url']}")
        for button in message.get("buttons") or []:
            options.append(str(button.get("payload", "")))
            print(f"  {len(options)}. {button.get('title', '')}")


def main_chat(settings: Settings, *, url: str | None = None) -> int:
    base = (url or f"http://{settings.host}:{settings.gateway_port}").rstrip("/")
    sender = f"terminal-{uuid.uuid4().hex[:16]}"  # the web channel names the conversation web:terminal-…
    options: list[str] = []
    seen = 0  # the last proactive message shown (a person's replies, notifications)
    print("Chat con Chasqui. Escriba su mensaje y pulse Enter; el número de una opción la elige. Ctrl+D para salir.")
    with httpx.Client(base_url=base, timeout=60) as http:
        while True:
            try:
                text = input("Usted: ").strip()
            except (EOFError, KeyboardInterrupt):
                print()
                return 0
            if not text:
                continue
            if text.isdigit() and 1 <= int(text) <= len(options):
                text = options[int(text) - 1]
            body = {"sender": sender, "message": text, "metadata": {"message_id": uuid.uuid4().hex}}
            try:
                response = http.post("/webhooks/rest/webhook", json=body)
            except httpx.TransportError:
                print(f"No hay conexión con Chasqui en {base}. ¿Está corriendo `make run`?", file=sys.stderr)
                continue
            if response.status_code in (200, 503):
                _show(response.json(), options)
            else:
                print(f"(el gateway respondió {response.status_code}: {response.text[:200]})")
            news = http.get("/webhooks/rest/mensajes", params={"sender": sender, "despues": seen})
            if news.status_code == 200 and news.json():
                seen = max(int(m.get("id", 0)) for m in news.json())
                _show(news.json(), options)
