"""The State speaks first, through the real Rasa and the gateway: reminders asked for in words or by the button
on an answer, «¿esto es oficial?» about a received message or about this chat, and a document checked by sending
its photo or its PDF in the chat."""

from __future__ import annotations

import base64
import re
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from bot.language import fold
from tests.documents.test_pdf import flip_byte_in_signed_range
from tests.e2e.conftest import Chasqui, Citizen

pytestmark = pytest.mark.conversation

# data/sandbox/identidades_demo.yml: a licence that expires within 90 days.
CEDULA, DACTILAR = "1811111119", "I3344E1122"
SUBSCRIBED = "Listo. Le avisaré por este chat de:\n"


def prove_identity(citizen: Citizen) -> list[str]:
    assert any("codigo dactilar" in fold(t) for t in citizen.texts(CEDULA))
    return citizen.texts(DACTILAR)


def test_avíseme_in_words_asks_identity_then_subscribes_and_no_más_avisos_stops(chasqui: Chasqui) -> None:
    citizen = chasqui.citizen()
    first = citizen.texts("avisame cuando se me venza la licencia porfa")
    assert any("identidad" in t for t in first), first
    done = prove_identity(citizen)
    assert any(t.startswith(SUBSCRIBED + "• cuándo vence su licencia") for t in done), done

    stopped = citizen.texts("ya no quiero mas avisos")
    assert stopped[0].startswith("Listo, ya no le enviaré avisos por este chat."), stopped


def test_the_licence_answer_offers_its_reminder_and_the_button_subscribes(chasqui: Chasqui) -> None:
    citizen = chasqui.citizen()
    citizen.says("quiero ver mi licencia")
    citizen.says(CEDULA)
    replies = citizen.says(DACTILAR)
    [datos] = [m for m in replies if str(m.get("text", "")).startswith("Su licencia de conducir:")]
    titles = [b["title"] for b in datos.get("buttons") or []]
    assert "Avíseme antes de que venza" in titles, titles

    done = citizen.texts("/suscribir_recordatorios")
    assert done[0].startswith(SUBSCRIBED + "• cuándo vence su licencia\n"), done
    again = citizen.says("mi licencia")
    [datos] = [m for m in again if str(m.get("text", "")).startswith("Su licencia de conducir:")]
    assert "Avíseme antes de que venza" not in [b["title"] for b in datos.get("buttons") or []]


def test_esto_es_oficial_checks_a_received_message_and_answers_about_this_chat(chasqui: Chasqui) -> None:
    citizen = chasqui.citizen()
    checked = " ".join(
        citizen.texts(
            "me llego este mensaje es verdad? ANT: su licencia sera suspendida HOY. "
            "Pague su multa en https://ant-gob-ec.com/pagos"
        )
    )
    assert "Revisé el mensaje sin abrir ningún enlace" in checked, checked
    assert "ant-gob-ec.com: NO es oficial" in checked, checked
    assert "Le apura o le amenaza" in checked, checked

    # About this chat now, not the pasted message again: Chasqui says it is the State's own assistant.
    about_chat = " ".join(citizen.texts("y este chat si es oficial?"))
    assert "Revisé el mensaje" not in about_chat, about_chat
    assert re.search(r"(Este chat sí es oficial|Chasqui es el asistente oficial del Gobierno)", about_chat), about_chat


def path_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


def send_file(citizen: Citizen, data: bytes, content_type: str, filename: str) -> list[str]:
    attachment = {"filename": filename, "content_type": content_type, "data": base64.b64encode(data).decode()}
    response = httpx.post(
        f"{citizen.base_url}/webhooks/rest/webhook",
        json={"sender": citizen.sender, "message": "", "attachment": attachment},
        timeout=60,
    )
    assert response.status_code == 200, response.text
    return [m["text"] for m in response.json() if "text" in m]


def test_a_document_sent_as_photo_or_pdf_in_the_chat_gets_the_verdict(chasqui: Chasqui) -> None:
    owner = chasqui.citizen()
    owner.says("quiero ver mi cédula digital")
    owner.says("1712345675")
    payloads: list[dict[str, Any]] = [m["custom"]["document"] for m in owner.says("V4443V4442") if "custom" in m]
    files = {p["kind"]: httpx.get(chasqui.url + path_of(p["url"]), timeout=30) for p in payloads}
    assert {k: r.status_code for k, r in files.items()} == {"pdf": 200, "png": 200}

    verifier = chasqui.citizen()
    by_photo = send_file(verifier, files["png"].content, "image/png", "cedula.png")
    assert by_photo[0].startswith("Documento válido."), by_photo
    by_pdf = send_file(verifier, files["pdf"].content, "application/pdf", "cedula.pdf")
    assert by_pdf[0].startswith("Documento válido."), by_pdf
    altered = send_file(verifier, flip_byte_in_signed_range(files["pdf"].content), "application/pdf", "cedula.pdf")
    assert altered[0].startswith("Documento alterado."), altered
