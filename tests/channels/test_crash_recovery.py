"""Kill the gateway (SIGKILL) with 200 Telegram messages from 20 chats in flight, restart it, and check
that every message is answered exactly once and in order per chat.

Telegram redelivers an update until the webhook answers 200, so each simulated chat posts its updates
in order and retries one that got no answer. Deliveries are held in the fake Bot API at the moment of
the crash: a message is either recorded by "Telegram" before the crash or sent again after the restart.
(Only a crash in the instant between Telegram accepting a message and the outbox recording it could
repeat that one message; the outbox is at-least-once by design, see bot/conversations/outbox.py.)
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx

from bot.storage.db import migrate
from tests.channels.conftest import TELEGRAM_SECRET, TELEGRAM_TOKEN, wait_until
from tests.fakes.rasa_echo import EchoRasa
from tests.fakes.server import free_port, serve
from tests.fakes.telegram_api import FakeTelegram

CHATS = range(1001, 1021)
PER_CHAT = 10


def update(chat: int, index: int) -> dict[str, object]:
    update_id = 10_000 + chat * 100 + index
    return {
        "update_id": update_id,
        "message": {
            "message_id": index + 1,
            "date": 1798000000 + index,
            "chat": {"id": chat, "type": "private", "first_name": "Prueba"},
            "from": {"id": chat, "is_bot": False, "first_name": "Prueba"},
            "text": f"m{chat}-{index}",
        },
    }


def start_gateway(env: dict[str, str], port: int, log: Path) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "bot.gateway.app:create_app", "--factory", "--port", str(port)],
        env=env,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    wait_until(lambda: _healthy(port), timeout=30)
    return process


def sent_rows(database: Path) -> int:
    with sqlite3.connect(database, timeout=30) as connection:
        row = connection.execute("SELECT count(*) FROM outbox WHERE status = 'sent'").fetchone()
    return int(row[0])


def _healthy(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200
    except httpx.TransportError:
        return False


def test_killing_the_gateway_mid_flight_loses_nothing_and_repeats_nothing(tmp_path: Path) -> None:
    telegram = FakeTelegram(TELEGRAM_TOKEN)
    rasa = EchoRasa(delay=0.02)
    port = free_port()
    database_url = f"sqlite+aiosqlite:///{tmp_path / 'app.db'}"
    migrate(database_url)
    acked: dict[int, int] = {}
    lock = threading.Lock()
    with serve(telegram.app) as telegram_url, serve(rasa.app) as rasa_url:
        env = {
            **os.environ,
            "CHASQUI_DATABASE_URL": database_url,
            "CHASQUI_VAR_DIR": str(tmp_path / "var"),
            "CHASQUI_RASA_URL": rasa_url,
            "TELEGRAM_TOKEN": TELEGRAM_TOKEN,
            "CHASQUI_TELEGRAM_SECRET_TOKEN": TELEGRAM_SECRET,
            "CHASQUI_TELEGRAM_API_URL": f"{telegram_url}/bot",
            "CHASQUI_TELEGRAM_MODE": "webhook",
            "CHASQUI_PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
            "CHASQUI_LOG_LEVEL": "WARNING",
            "CHASQUI_CONSENTIMIENTO_REQUERIDO": "false",  # every chat here has consented; consent is tested apart
            "CHASQUI_OUTBOX_LEASE_SECONDS": "3",  # a reply the killed gateway was sending is taken over after this
        }
        gateway = start_gateway(env, port, tmp_path / "gateway.log")

        def chat_sends(chat: int) -> None:
            with httpx.Client(timeout=5) as client:
                for index in range(PER_CHAT):
                    deadline = time.monotonic() + 120
                    while time.monotonic() < deadline:  # Telegram retries until it gets a 200
                        try:
                            response = client.post(
                                f"http://127.0.0.1:{port}/webhooks/telegram",
                                json=update(chat, index),
                                headers={"X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET},
                            )
                            if response.status_code == 200:
                                with lock:
                                    acked[chat] = acked.get(chat, 0) + 1
                                break
                        except httpx.TransportError:
                            pass
                        time.sleep(0.2)
                    time.sleep(0.05)

        senders = [threading.Thread(target=chat_sends, args=(chat,)) for chat in CHATS]
        for sender in senders:
            sender.start()
        wait_until(lambda: sum(acked.values()) >= 60, timeout=60)
        telegram.hold()  # replies now hang inside "Telegram"
        # Crash only once every reply "Telegram" already received is recorded as sent (see the docstring).
        wait_until(lambda: sent_rows(tmp_path / "app.db") == len(telegram.sent()), timeout=30)
        wait_until(lambda: sum(acked.values()) >= 120, timeout=60)
        os.killpg(gateway.pid, signal.SIGKILL)
        gateway.wait()
        delivered_before_restart = len(telegram.sent())
        gateway = start_gateway(env, port, tmp_path / "gateway.log")
        telegram.release()
        try:
            for sender in senders:
                sender.join(timeout=180)
            wait_until(lambda: len(telegram.sent()) >= len(CHATS) * PER_CHAT, timeout=120)
            time.sleep(2)  # anything sent twice would show up now
        finally:
            os.killpg(gateway.pid, signal.SIGTERM)
            gateway.wait(timeout=30)

    assert 0 < delivered_before_restart < len(CHATS) * PER_CHAT
    assert telegram.dropped > 0  # the crash really caught deliveries in flight
    for chat in CHATS:
        assert telegram.texts_to(chat) == [f"eco: m{chat}-{index}" for index in range(PER_CHAT)], chat
