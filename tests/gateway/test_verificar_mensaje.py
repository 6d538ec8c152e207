"""«¿Esto es oficial?» at the gateway: a pasted message with a link is checked without Rasa; a request that
names a site goes on to Rasa; inside a form, the form's question follows the verdict."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest
from fastapi.testclient import TestClient

from bot.gateway.app import create_app
from bot.settings import Settings
from bot.storage.db import migrate
from tests.gateway.test_verificacion_en_chat import stored_messages
from tests.gateway.test_web_channel import FakeRasa, post

SMS = (
    "me llego esto, es verdad? SRI: Usted tiene una deuda pendiente. Evite multas: pague HOY en "
    "https://sri-pagos.com/deuda o escriba al 0987654321"
)


@pytest.fixture
def fake_rasa() -> FakeRasa:
    return FakeRasa()


@pytest.fixture
def client(settings: Settings, fake_rasa: FakeRasa) -> Iterator[TestClient]:
    migrate(settings.effective_database_url)
    settings = settings.model_copy(update={"twilio_whatsapp_from": "whatsapp:+14155238886"})
    app = create_app(settings, rasa_transport=httpx.MockTransport(fake_rasa.handler))
    with TestClient(app) as test_client:
        yield test_client


def test_a_pasted_sms_is_checked_without_rasa(client: TestClient, fake_rasa: FakeRasa, settings: Settings) -> None:
    response = post(client, SMS)

    assert response.status_code == 200
    [reply] = response.json()
    assert reply["text"].split("\n\n")[:3] == [
        "Revisé el mensaje sin abrir ningún enlace:\n"
        "• sri-pagos.com: NO es oficial. Se hace pasar por el Servicio de Rentas Internas (SRI), cuyo sitio real es "
        "sri.gob.ec. Usa el nombre de la institución, pero no es su sitio.\n"
        "• El número +593*******21 no es de Chasqui.",
        "Chasqui solo le escribe por WhatsApp desde el +1 415-523-8886.",
        "Señales de engaño en el mensaje:\n• Le apura o le amenaza («urgente», «hoy», «será bloqueada»).",
    ]
    assert fake_rasa.received == []
    [(_, inbound, _), (_, answer, _)] = stored_messages(settings)
    assert inbound is not None and re.search(r"\btel_[0-9a-f]{10}\b", inbound) and "0987654321" not in inbound
    assert answer == reply["text"]


def test_a_request_that_names_a_site_goes_to_rasa(client: TestClient, fake_rasa: FakeRasa) -> None:
    post(client, "vi en www.ant.gob.ec que la licencia cuesta más, quiero sacarla")
    assert [m["message"] for m in fake_rasa.received] == [
        "vi en www.ant.gob.ec que la licencia cuesta más, quiero sacarla"
    ]


def test_inside_a_form_its_question_follows_the_verdict(client: TestClient, fake_rasa: FakeRasa) -> None:
    fake_rasa.reply = lambda body: httpx.Response(
        200, json=[{"recipient_id": body["sender"], "text": "¿Cuál es el número de su cédula?"}]
    )
    post(client, "quiero mi licencia")
    fake_rasa.active_loop = "licencia_form"

    texts = [m["text"] for m in post(client, "gob-ec.com/licencias").json()]

    assert texts[0].startswith("Revisé el mensaje sin abrir ningún enlace:\n• gob-ec.com: NO es oficial.")
    assert texts[1:] == ["Sigamos con su trámite:", "¿Cuál es el número de su cédula?"]
    assert len(fake_rasa.received) == 1
