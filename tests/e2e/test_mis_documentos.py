"""Mis documentos in conversation: the list, resending one with fresh links, a share link, nothing more,
and a citizen without documents."""

from __future__ import annotations

import httpx
import pytest

from tests.e2e.conftest import Chasqui
from tests.e2e.test_certificado_votacion import documents, signed_pdf, verified

pytestmark = pytest.mark.conversation

RUC = "Certificado de Registro Único de Contribuyentes (RUC)"


def test_list_resend_and_share_the_latest_document(chasqui: Chasqui) -> None:
    citizen = verified(chasqui, "0711111112", "E2233V1144")
    [issued, _] = documents(citizen.says("mi ruc"))  # the newest document from now on

    [listing] = citizen.says("mis documentos")
    lines = listing["text"].split("\n")
    assert lines[0] == "Estos son sus documentos, del más reciente al más antiguo:"
    assert lines[1].startswith(f"1. {RUC}: emitido el ")
    assert listing["buttons"][0] == {"title": "Reenviar el 1", "payload": "1"}

    again = citizen.says("1")
    assert again[0]["text"].startswith(f"Le envío de nuevo su {RUC}, emitido el ")
    [pdf, png] = documents(again)
    assert (pdf["id"], png["kind"]) == (issued["id"], "png")
    signed_pdf(chasqui, pdf)

    citizen.says("mis documentos")
    [shared] = citizen.texts("compartir 1")
    assert shared.startswith(f"Este enlace muestra su {RUC} a quien usted se lo envíe: http")
    link = shared.split(": ", 1)[1].split()[0]
    assert "/compartido/" in link
    assert httpx.get(link, timeout=10).status_code == 200

    citizen.says("mis documentos")
    assert citizen.texts("/agradecer") == ["Está bien. ¿Le ayudo con otra cosa?"]


def test_a_number_not_in_the_list_is_asked_again_and_cancel_works(chasqui: Chasqui) -> None:
    citizen = verified(chasqui, "0711111112", "E2233V1144")
    citizen.says("mi ruc")
    citizen.says("mis documentos")
    assert citizen.texts("99")[0] == "No tengo un documento con el número 99. Elija un número de la lista, por favor."
    assert citizen.texts("cancelar")[0].startswith("Listo, cancelé el trámite.")


def test_a_citizen_without_documents_is_told_so(chasqui: Chasqui) -> None:
    citizen = verified(chasqui, "1744444447", "I1234V4321")
    [answer] = citizen.texts("mis documentos")
    assert answer.startswith("Todavía no tiene documentos emitidos por Chasqui.")
    assert citizen.texts("cancelar")[0].startswith("No tiene ningún trámite en curso.")
