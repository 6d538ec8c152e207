"""«¿Esto es oficial?»: links, numbers and warning signs against the lists in data/, offline."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.phishing import links as links_module
from bot.phishing.catalogue import Catalogue, CatalogueError, load_catalogue, parse_catalogue
from bot.phishing.links import LinkReason, LinkVerdict, check_link, find_links
from bot.phishing.senders import OwnSenders, SenderKind, find_senders
from bot.phishing.signals import Signal, find_signals
from bot.phishing.verdict import Risk, check_message, reveal_numbers, wants_check

OWN = OwnSenders.from_settings(whatsapp_from="whatsapp:+14155238886", telegram_username="@Chasqui_EC_bot")
OFI, IMI, AJE = LinkVerdict.OFICIAL, LinkVerdict.IMITACION, LinkVerdict.AJENO
RC = "registrocivil.gob.ec"


@pytest.fixture
def catalogue(project_dir: Path) -> Catalogue:
    return load_catalogue(project_dir / "data")


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Any]]:
    """Any attempt to resolve or connect fails the test: a link is parsed, never followed."""
    attempts: list[Any] = []

    def refuse(*args: Any, **kwargs: Any) -> Any:
        attempts.append(args)
        raise AssertionError(f"network access attempted: {args!r}")

    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)
    links_module._extractor.cache_clear()  # built again under the guard: its construction is checked too
    yield attempts
    assert attempts == []


# (link as written, verdict, first reason, official or imitated domain)
LINKS: list[tuple[str, LinkVerdict, LinkReason | None, str | None]] = [
    # official: exact domain, subdomains, the gob.ec suffix, listed domains outside gob.ec
    ("https://www.registrocivil.gob.ec/turnos", OFI, None, RC),
    ("virtual.registrocivil.gob.ec", OFI, None, RC),
    ("REGISTROCIVIL.GOB.EC", OFI, None, RC),
    ("https://srienlinea.sri.gob.ec/sri-en-linea/inicio", OFI, None, "sri.gob.ec"),
    ("ant.gob.ec", OFI, None, "ant.gob.ec"),
    ("https://www.cne.gob.ec.", OFI, None, "cne.gob.ec"),
    ("www.ministeriodelinterior.gob.ec", OFI, None, "ministeriodelinterior.gob.ec"),
    ("https://www.policia.gob.ec/denuncias", OFI, None, "policia.gob.ec"),
    ("www.iess.gob.ec", OFI, None, "iess.gob.ec"),
    ("https://www.gob.ec/tramites", OFI, None, "gob.ec"),
    ("https://www.quito.gob.ec", OFI, None, "sufijo gob.ec"),  # any gob.ec site: NIC.EC gives them to public bodies
    ("www.biess.fin.ec", OFI, None, "biess.fin.ec"),
    ("https://www.bce.fin.ec", OFI, None, "bce.fin.ec"),
    # look-alikes of the suffix
    ("gob-ec.com", IMI, LinkReason.IMITA_SUFIJO, None),
    ("https://gob.ec.algo.com/pago", IMI, LinkReason.IMITA_SUFIJO, None),
    ("registrocivil-gob.ec", IMI, LinkReason.IMITA_SUFIJO, RC),
    ("http://sri.gob.ec.login.xyz", IMI, LinkReason.IMITA_SUFIJO, "sri.gob.ec"),
    ("www.gob.ec.pe", IMI, LinkReason.IMITA_SUFIJO, None),
    ("gobiernoecuador.net", IMI, LinkReason.IMITA_SUFIJO, None),
    ("hxxps://gobec.online/bono", IMI, LinkReason.IMITA_SUFIJO, None),
    # an institution's name in someone else's domain
    ("sri-pagos.com", IMI, LinkReason.USA_NOMBRE, "sri.gob.ec"),
    ("https://srienlinea.com", IMI, LinkReason.USA_NOMBRE, "sri.gob.ec"),
    ("ant-multas.com/citaciones", IMI, LinkReason.USA_NOMBRE, "ant.gob.ec"),
    ("antmultas.com", IMI, LinkReason.USA_NOMBRE, "ant.gob.ec"),
    ("iess-ec.net", IMI, LinkReason.USA_NOMBRE, "iess.gob.ec"),
    ("registrocivilecuador.com", IMI, LinkReason.USA_NOMBRE, RC),
    ("registrocivil.com.ec", IMI, LinkReason.USA_NOMBRE, RC),
    ("biess-fin.ec", IMI, LinkReason.USA_NOMBRE, "biess.fin.ec"),
    ("ecu911-pagos.com", IMI, LinkReason.USA_NOMBRE, "ecu911.gob.ec"),
    # typos and stand-ins
    ("registrocivll.com", IMI, LinkReason.PARECIDO, RC),
    ("reg1strocivil.com", IMI, LinkReason.PARECIDO, RC),
    ("regsitrocivil.net", IMI, LinkReason.PARECIDO, RC),
    ("ministeriodelinterlor.com", IMI, LinkReason.PARECIDO, "ministeriodelinterior.gob.ec"),
    # homoglyphs and punycode: not official even under gob.ec
    ("rеgistrocivil.gob.ec", IMI, LinkReason.LETRAS_EXTRANAS, RC),  # a Cyrillic «е»
    ("https://xn--rgistrocivil-sck.gob.ec/", IMI, LinkReason.LETRAS_EXTRANAS, RC),  # the same, as punycode
    ("ѕri.gob.ec", IMI, LinkReason.LETRAS_EXTRANAS, "sri.gob.ec"),  # a Cyrillic «ѕ»
    ("https://rеgistrocivil.com", IMI, LinkReason.LETRAS_EXTRANAS, RC),
    # the text before «@» shows an official site; the link goes elsewhere
    ("https://www.sri.gob.ec@pagos-seguros.com/x", IMI, LinkReason.DESTINO_OCULTO, "sri.gob.ec"),
    # someone else's
    ("https://www.google.com", AJE, None, None),
    ("elegant.com", AJE, None, None),  # «ant» inside another word is no ANT
    ("www.eluniverso.com/noticias", AJE, None, None),
    ("bit.ly/3xYz", AJE, LinkReason.ACORTADOR, None),
    ("https://acortar.link/AbC", AJE, LinkReason.ACORTADOR, None),
    ("http://190.15.4.21/pago", AJE, LinkReason.DIRECCION_IP, None),
    ("https://www.gob.pe", AJE, None, None),  # Peru's government: not Ecuador's
]


@pytest.mark.parametrize(("link", "verdict", "reason", "domain"), LINKS, ids=[row[0] for row in LINKS])
def test_link_verdicts(
    catalogue: Catalogue, link: str, verdict: LinkVerdict, reason: LinkReason | None, domain: str | None
) -> None:
    check = check_link(link, catalogue)
    assert (check.verdict, check.reasons[0] if check.reasons else None) == (verdict, reason)
    owner = {d.dominio: d.institucion for d in catalogue.domains}
    owner |= {f"sufijo {s.dominio}": s.institucion for s in catalogue.suffixes}
    if verdict is LinkVerdict.OFICIAL:
        assert check.institucion == owner[str(domain)]
    elif verdict is LinkVerdict.IMITACION:
        assert check.dominio_real == domain
        assert check.institucion == (owner[domain] if domain else None)


def test_the_table_is_large_and_covers_every_verdict() -> None:
    assert len(LINKS) >= 30
    assert {row[1] for row in LINKS} == set(LinkVerdict)
    assert {row[2] for row in LINKS} - {None} == set(LinkReason)


def test_a_look_alike_is_shown_as_the_browser_would_go() -> None:
    catalogue = load_catalogue(Path(__file__).resolve().parents[2] / "data")
    assert check_link("rеgistrocivil.gob.ec", catalogue).host == "xn--rgistrocivil-sck.gob.ec"


def test_links_are_found_in_free_text_and_words_with_dots_are_not() -> None:
    text = (
        "Sr.Pérez, pague 12.50 USD en www.sri.gob.ec, escriba a juan.perez@gmail.com o entre a "
        "(https://bit.ly/x). Más en REGISTROCIVIL-GOB.EC/pago."
    )
    assert find_links(text) == ["www.sri.gob.ec", "https://bit.ly/x", "REGISTROCIVIL-GOB.EC/pago"]


# (text, E.164 masked as shown, own?, country of a foreign number)
NUMBERS: list[tuple[str, str, bool, str | None]] = [
    ("me escribieron del +1 415 523 8886", "+141******86", True, None),
    ("whatsapp:+14155238886", "+141******86", True, None),
    ("el 099 123 4567 dice que es del sri", "+593*******67", False, None),
    ("0991234567", "+593*******67", False, None),
    ("+593 99 123 4567", "+593*******67", False, None),
    ("llamaron del (02) 234 5678", "+593******78", False, None),
    ("+234 801 234 5678", "+234********78", False, "Nigeria"),
    ("un número +51 987 654 321 de Perú", "+519******21", False, "Perú"),
    ("wa.me/593991234567", "+593*******67", False, None),
]


@pytest.mark.parametrize(("text", "shown", "own", "country"), NUMBERS, ids=[row[0] for row in NUMBERS])
def test_number_verdicts(text: str, shown: str, own: bool, country: str | None) -> None:
    (sender,) = find_senders(text, OWN)
    assert (sender.kind, sender.shown, sender.propio, sender.pais) == (SenderKind.TELEFONO, shown, own, country)


@pytest.mark.parametrize(
    ("text", "shown", "own"),
    [
        ("escriba a @chasqui_ec_bot", "@chasqui_ec_bot", True),
        ("https://t.me/Chasqui_EC_bot", "@chasqui_ec_bot", True),
        ("el bot @registrocivil_ec_bot", "@registrocivil_ec_bot", False),
        ("t.me/sri_pagos", "@sri_pagos", False),
    ],
)
def test_telegram_users(text: str, shown: str, own: bool) -> None:
    (sender,) = find_senders(text, OWN)
    assert (sender.kind, sender.shown, sender.propio) == (SenderKind.TELEGRAM, shown, own)


def test_a_cedula_or_digits_inside_a_link_are_no_phone_number(catalogue: Catalogue) -> None:
    assert find_senders("mi cédula 1710034065", OWN) == []
    check = check_message("pague en https://sri-pagos.com/pago?id=0991234567", catalogue, OWN)
    assert check.senders == ()


def test_without_own_senders_configured_no_number_is_chasquis() -> None:
    (sender,) = find_senders("+1 415 523 8886", OwnSenders.from_settings(whatsapp_from="", telegram_username=""))
    assert sender.propio is False


SIGNALS: list[tuple[str, set[Signal]]] = [
    ("URGENTE: su cédula será bloqueada en 24 horas", {Signal.URGENCIA}),
    ("Último aviso para evitar multas", {Signal.URGENCIA}),
    ("deposite $5 a la cuenta de ahorros 2201 a nombre de Juan Pérez", {Signal.PAGO_A_PERSONA}),
    ("Realice una transferencia y envíe el comprobante", {Signal.PAGO_A_PERSONA}),
    ("confirme su código dactilar para continuar", {Signal.CODIGO_DACTILAR}),
    ("envíe una foto de su cédula por ambos lados", {Signal.CODIGO_DACTILAR}),
    ("ingrese el número de su tarjeta y el CVV", {Signal.TARJETA}),
    ("escriba su usuario y clave del banco", {Signal.CLAVE}),
    ("indíquenos su contraseña", {Signal.CLAVE}),
    ("reenvíe el código que le llegó por SMS", {Signal.CODIGO_OTP}),
    ("le enviamos un código de 6 dígitos, dígame el código", {Signal.CODIGO_OTP}),
    ("¡Felicidades! Ha ganado un premio en el sorteo", {Signal.PREMIO}),
    ("usted ha sido seleccionado: cobre su bono", {Signal.PREMIO}),
    ("Su certificado de nacimiento está listo. Descárguelo en www.registrocivil.gob.ec", set()),
    ("quiero sacar la licencia, ¿cuánto cuesta?", set()),
]


@pytest.mark.parametrize(("text", "expected"), SIGNALS, ids=[row[0] for row in SIGNALS])
def test_warning_signs(catalogue: Catalogue, text: str, expected: set[Signal]) -> None:
    assert set(find_signals(text, catalogue.signals)) == expected


def test_a_whole_fake_message(catalogue: Catalogue) -> None:
    text = (
        "REGISTRO CIVIL: URGENTE su cédula será bloqueada hoy. Actualice sus datos en https://registrocivil-gob.ec "
        "y deposite $5 a la cuenta 2201234567 a nombre de Juan Pérez. Dudas al +234 801 234 5678."
    )
    check = check_message(text, catalogue, OWN)
    assert [(link.host, link.verdict) for link in check.links] == [("registrocivil-gob.ec", IMI)]
    assert [(s.shown, s.propio, s.pais) for s in check.senders] == [("+234********78", False, "Nigeria")]
    assert check.signals == (Signal.URGENCIA, Signal.PAGO_A_PERSONA)
    assert check.risk is Risk.PELIGRO


@pytest.mark.parametrize(
    ("text", "risk"),
    [
        ("Su turno está confirmado. Detalles en https://www.registrocivil.gob.ec", Risk.CONFIABLE),
        ("me escribió el +1 415 523 8886, ¿es de ustedes?", Risk.CONFIABLE),
        ("mire www.eluniverso.com", Risk.DUDOSO),
        ("me escribió el 0991234567 diciendo que es del sri", Risk.DUDOSO),
        ("bit.ly/3xYz", Risk.DUDOSO),
        ("http://190.15.4.21/pago", Risk.PELIGRO),
        ("pague urgente en www.sri.gob.ec", Risk.PELIGRO),  # an official link does not clear the signs
        ("¿esto es oficial?", Risk.NADA),
    ],
)
def test_overall_risk(catalogue: Catalogue, text: str, risk: Risk) -> None:
    assert check_message(text, catalogue, OWN).risk is risk


@pytest.mark.parametrize(
    ("text", "forwarded", "expected"),
    [
        ("https://registrocivil-gob.ec/pago", False, True),  # only the link
        ("registrocivil-gob.ec es oficial?", False, True),
        ("¿será estafa? www.sri-pagos.com", False, True),
        ("Estimado usuario, ingrese a www.sri-pagos.com para ver su deuda", False, True),  # tells to open it
        ("Su cédula será bloqueada, www.rc-ec.com", False, True),  # a warning sign
        ("Estimado usuario, su turno es mañana en www.registrocivil.gob.ec", True, True),  # forwarded
        ("vi en www.ant.gob.ec que la licencia cuesta más, quiero sacarla", False, False),  # a request
        ("me escribió el 0991234567 diciendo que es del sri", False, False),  # no link: the NLU decides
        ("hola", True, False),
    ],
)
def test_which_messages_the_gateway_checks_by_itself(
    catalogue: Catalogue, text: str, forwarded: bool, expected: bool
) -> None:
    assert wants_check(text, catalogue, forwarded=forwarded) is expected


async def test_numbers_hidden_by_the_vault_are_revealed_for_the_check() -> None:
    values = {"tel_0123456789": "0991234567"}

    async def take(reference: str) -> str | None:
        return values.get(reference)

    revealed = await reveal_numbers("me escribió el tel_0123456789 y el tel_aaaaaaaaaa", take)
    assert revealed == "me escribió el 0991234567 y el tel_aaaaaaaaaa"


def test_the_suffix_list_is_the_bundled_snapshot() -> None:
    extractor = links_module._extractor()
    assert (tuple(extractor.suffix_list_urls), extractor._cache.enabled) == ((), False)


def test_malformed_lists_are_refused() -> None:
    with pytest.raises(CatalogueError, match="unknown signs"):
        parse_catalogue({}, {"senales": {"rumores": ["x"]}, "llamado_al_enlace": ["x"]})
    with pytest.raises(CatalogueError, match=r"senales\.urgencia"):
        parse_catalogue({}, {"senales": {"urgencia": ["(sin cerrar"]}, "llamado_al_enlace": ["x"]})
    with pytest.raises(CatalogueError, match="needs dominio"):
        parse_catalogue({"dominios": [{"institucion": "x"}]}, {"llamado_al_enlace": ["x"]})
