"""A citizen on Telegram, through the gateway's webhook, the real Rasa and the outbox to the fake Bot API: the
privacy notice and the transfer abroad, reminders asked for in words and stopped, a signed document received as
files, and the photo of a document verified in the chat."""

from __future__ import annotations

import re

import pytest

from bot.language import fold
from tests.documents.builders import photo_of
from tests.e2e.conftest import Chasqui, TelegramCitizen

pytestmark = pytest.mark.conversation

# data/sandbox/identidades_demo.yml
LICENCIA_PRONTO = ("1811111119", "I3344E1122")  # a licence that expires within 90 days
CEDULA_DIGITAL = ("1712345675", "V4443V4442")


def consented(chasqui: Chasqui) -> TelegramCitizen:
    """A new Telegram citizen who read the privacy notice (with the transfer abroad) and accepted it."""
    citizen = chasqui.telegram_citizen()
    first = citizen.says("hola buenas")
    notice = " ".join(citizen.texts(first))
    assert "sus mensajes pasan por servidores fuera del Ecuador" in notice, notice
    accept = [data for _, data in citizen.buttons(first) if data.startswith("/consentimiento_acepto")]
    assert accept, citizen.buttons(first)
    answer = citizen.texts(citizen.presses(accept[0]))
    assert answer and answer[0].startswith("Gracias, quedó registrado."), answer
    return citizen


def prove_identity(citizen: TelegramCitizen, cedula: str, dactilar: str) -> list[dict[str, object]]:
    asked = citizen.texts(citizen.says(cedula))
    assert any("codigo dactilar" in fold(t) for t in asked), asked
    return citizen.says(dactilar)


def test_reminders_in_words_on_telegram_subscribe_this_chat_and_stop_on_request(chasqui: Chasqui) -> None:
    citizen = consented(chasqui)
    asked = citizen.texts(citizen.says("avisame cuando se me venza la licencia x fa"))
    assert any("identidad" in t for t in asked), asked
    done = citizen.texts(prove_identity(citizen, *LICENCIA_PRONTO))
    assert any(t.startswith("Listo. Le avisaré por este chat de:\n• cuándo vence su licencia") for t in done), done

    stopped = citizen.texts(citizen.says("ya no me mande mas avisos"))
    assert stopped and stopped[0].startswith("Listo, ya no le enviaré avisos por este chat."), stopped


def test_a_document_arrives_as_files_and_its_photo_is_verified_by_another_citizen(chasqui: Chasqui) -> None:
    owner = consented(chasqui)
    owner.says("necesito mi cedula digital")
    replies = prove_identity(owner, *CEDULA_DIGITAL)
    documents = [r for r in replies if r["_method"] == "sendDocument"]
    assert len(documents) == 2, [r["_method"] for r in replies]
    files = {name: content for call in owner.calls() for name, content in call.files.values()}
    [png] = [content for name, content in files.items() if name.endswith(".png")]
    assert any(name.endswith(".pdf") for name in files), list(files)

    verifier = consented(chasqui)
    verdict = verifier.texts(verifier.sends_photo(photo_of(png, degrees=3, scale=0.7, quality=60)))
    assert verdict and verdict[0].startswith("Documento válido."), verdict
    assert re.search(r"^• Documento: Cédula", verdict[0], re.MULTILINE), verdict
    assert "• Titular: Andrade Cevallos María José (17******75)" in verdict[0], verdict
