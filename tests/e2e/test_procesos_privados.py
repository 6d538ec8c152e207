"""Only the gateway can reach Rasa and the action server (issue 12): a local process that speaks to Rasa's
channel without the gateway's signature, or to the action server without Rasa's token, is refused."""

from __future__ import annotations

import json

import httpx
import pytest

from integrations.rasa.signing import HEADER, sign
from tests.e2e.conftest import Chasqui

pytestmark = pytest.mark.conversation

BODY = {"sender": "web:intruso", "message": "quiero mi licencia, mi cedula es 1712345675 y mi dactilar V4443V4442"}


def test_rasas_unauthenticated_rest_channel_is_gone_and_the_signed_one_refuses_strangers(chasqui: Chasqui) -> None:
    rasa = f"http://127.0.0.1:{chasqui.settings.rasa_port}"
    assert httpx.post(f"{rasa}/webhooks/rest/webhook", json=BODY, timeout=10).status_code == 404
    content = json.dumps(BODY).encode()
    unsigned = httpx.post(f"{rasa}/webhooks/firmado/webhook", content=content, timeout=10)
    assert unsigned.status_code == 403
    forged = httpx.post(
        f"{rasa}/webhooks/firmado/webhook", content=content, headers={HEADER: sign("adivinado", content)}, timeout=10
    )
    assert forged.status_code == 403


def test_the_action_server_needs_rasas_token(chasqui: Chasqui) -> None:
    actions = f"http://127.0.0.1:{chasqui.settings.actions_port}"
    call = {"next_action": "action_consultar_licencia", "sender_id": "web:intruso", "tracker": {}, "domain": {}}
    assert httpx.post(f"{actions}/webhook", json=call, timeout=10).status_code == 401
    assert httpx.get(f"{actions}/actions", timeout=10).status_code == 401
    listed = httpx.get(f"{actions}/actions", params={"token": chasqui.stack.actions_token}, timeout=10)
    assert listed.status_code == 200
    assert httpx.get(f"{actions}/health", timeout=10).status_code == 200
