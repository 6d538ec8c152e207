"""The verdict as the citizen reads it: every template it may need exists, and the lines follow the verdict."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.phishing.answer import MAX_ITEMS, word_check
from bot.phishing.catalogue import Catalogue, load_catalogue
from bot.phishing.links import LinkReason
from bot.phishing.senders import OwnSenders
from bot.phishing.signals import Signal
from bot.phishing.verdict import Risk, check_message
from bot.texts import Textos, load_textos


@pytest.fixture
def textos(project_dir: Path) -> Textos:
    return load_textos(project_dir / "dialogs" / "textos")


@pytest.fixture
def catalogue(project_dir: Path) -> Catalogue:
    return load_catalogue(project_dir / "data")


def test_every_sign_reason_and_risk_has_its_template(textos: Textos) -> None:
    needed = {f"verificar_senal_{s.value}" for s in Signal}
    needed |= {f"verificar_motivo_{r.value}" for r in LinkReason}
    needed |= {f"verificar_que_hacer_{r.value}" for r in Risk if r is not Risk.NADA}
    assert needed - textos.keys() == set()


def test_every_sign_in_data_has_patterns(catalogue: Catalogue) -> None:
    assert set(catalogue.signals) == set(Signal)


@pytest.mark.parametrize(
    ("own", "expected"),
    [
        (OwnSenders(whatsapp="+14155238886"), "Chasqui solo le escribe por WhatsApp desde el +1 415-523-8886."),
        (OwnSenders(telegram="chasqui_ec_bot"), "Chasqui solo le escribe por Telegram como @chasqui_ec_bot."),
        (OwnSenders(), "Chasqui solo le escribe por este mismo chat."),
    ],
)
def test_chasquis_channels_follow_a_number_that_is_not_its_own(
    textos: Textos, catalogue: Catalogue, own: OwnSenders, expected: str
) -> None:
    answer = word_check(check_message("me escribió el 0991234567", catalogue, own), textos, own)
    assert (answer.key, answer.text.split("\n\n")[1]) == ("verificar_mensaje_dudoso", expected)


def test_a_long_list_is_cut(textos: Textos, catalogue: Catalogue) -> None:
    text = " ".join(f"sitio{n}.com" for n in range(MAX_ITEMS + 3))
    answer = word_check(check_message(text, catalogue, OwnSenders()), textos, OwnSenders())
    assert answer.text.split("\n\n")[0].count("• ") == MAX_ITEMS


def test_a_chat_link_is_checked_as_a_sender_not_as_a_site(textos: Textos, catalogue: Catalogue) -> None:
    own = OwnSenders(telegram="chasqui_ec_bot")
    answer = word_check(check_message("https://t.me/chasqui_ec_bot", catalogue, own), textos, own)
    assert (
        answer.text.split("\n\n")[0]
        == "Revisé el mensaje sin abrir ningún enlace:\n• @chasqui_ec_bot es Chasqui en Telegram."
    )
    assert answer.key == "verificar_mensaje_confiable"
