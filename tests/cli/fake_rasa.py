"""A stand-in for `rasa run` in tests of `chasqui bench-conversacion`: Rasa's HTTP surface the stack touches.

Started by `Stack.start_rasa` through a small executable that runs this file with the same arguments. It
answers ``/status`` (a model is loaded), a conversation's tracker (no form), ``/model/parse``, and the signed
channel, refusing what the gateway's secret did not sign (as `integrations.rasa.channel` does). Every accepted
message is appended, as a JSON line ``[sender, text]``, to the file named by ``FAKE_RASA_LOG``. Standard
library only, as Rasa's own environment would run it.
"""

from __future__ import annotations

import json
import os
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from integrations.rasa.signing import HEADER, verify

SECRET = os.environ.get("CHASQUI_RASA_CHANNEL_SECRET", "")
LOG = Path(os.environ["FAKE_RASA_LOG"])


class Handler(BaseHTTPRequestHandler):
    def _json(self, status: int, body: object) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        if self.path.startswith("/status"):
            self._json(200, {"model_file": "falso.tar.gz"})
        elif "/tracker" in self.path:
            self._json(200, {"active_loop": {}, "slots": {}})
        else:
            self._json(404, {})

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        if self.path.startswith("/model/parse"):
            self._json(200, {"intent": {"name": "otro", "confidence": 0.1}})
            return
        if not self.path.startswith("/webhooks/firmado/webhook"):
            self._json(404, {})
            return
        if not verify(SECRET, body, self.headers.get(HEADER)):
            self._json(403, {"error": "firma inválida"})
            return
        message = json.loads(body)
        with LOG.open("a") as log:
            log.write(json.dumps([message["sender"], message["message"]]) + "\n")
        self._json(200, [{"recipient_id": message["sender"], "text": f"respuesta a {message['message']}"}])

    def log_message(self, format: str, *args: object) -> None:
        pass


class Server(ThreadingHTTPServer):
    request_queue_size = 64  # the benchmark opens 16 conversations at once


if __name__ == "__main__":
    arguments = sys.argv[1:]
    host, port = arguments[arguments.index("--interface") + 1], int(arguments[arguments.index("--port") + 1])
    Server((host, port), Handler).serve_forever()
