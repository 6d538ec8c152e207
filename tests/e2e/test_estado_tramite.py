"""Estado de trámite in conversation: a number in the message (also before identity), the list and a choice,
someone else's number, a citizen without applications."""

from __future__ import annotations

import re

import pytest

from tests.e2e.conftest import Chasqui, Citizen
from tests.e2e.test_certificado_votacion import documents, verified

pytestmark = pytest.mark.conversation

EXENTA, DACTILAR_EXENTA = "1722222229", "I2211V4433"


def certificate_application(citizen: Citizen) -> str:
    """Ask for a voting certificate (issued at once for an exempt voter) and return the application number."""
    citizen.says("certificado de votación")
    done = citizen.texts("sí")
    match = re.match(r"Listo\. Su solicitud (EC-\d{4}-\d{6}) fue atendida\.", done[0])
    assert match is not None, done
    return match.group(1)


def test_a_number_in_the_message_shows_its_details_and_documents(chasqui: Chasqui) -> None:
    citizen = verified(chasqui, EXENTA, DACTILAR_EXENTA)
    numero = certificate_application(citizen)
    replies = citizen.says(f"cómo va mi trámite {numero}")
    assert replies[0]["text"].startswith(
        f"Solicitud {numero}: Certificado de votación\nEstado: Lista, documento emitido\nHistorial:\n• "
    )
    assert "\nDocumentos:\n• Certificado de votación. Código de verificación: " in replies[0]["text"]
    assert replies[1]["text"] == "Le envío de nuevo el documento de esta solicitud."
    assert [d["kind"] for d in documents(replies)] == ["pdf", "png"]


def test_the_list_and_a_choice_by_its_place(chasqui: Chasqui) -> None:
    citizen = verified(chasqui, EXENTA, DACTILAR_EXENTA)
    certificate_application(citizen)
    newest = certificate_application(citizen)
    [listing] = citizen.says("estado de mi trámite")
    assert listing["text"].startswith("Estas son sus solicitudes, de la más reciente a la más antigua:\n")
    assert f"1. {newest}, Certificado de votación: Lista, documento emitido" in listing["text"]
    assert listing["buttons"][0] == {"title": newest, "payload": newest}
    assert citizen.texts("1")[0].startswith(f"Solicitud {newest}: Certificado de votación")

    citizen.says("estado de mi trámite")
    assert citizen.texts("cancelar")[0].startswith("Listo, cancelé el trámite.")


def test_identity_first_then_the_application_given_in_the_first_message(chasqui: Chasqui) -> None:
    numero = certificate_application(verified(chasqui, EXENTA, DACTILAR_EXENTA))
    citizen = chasqui.citizen()
    assert citizen.texts(f"estado de la solicitud {numero}")[0].startswith(
        "Para ver sus trámites primero necesito comprobar su identidad"
    )
    citizen.says(EXENTA)
    texts = citizen.texts(DACTILAR_EXENTA)
    assert texts[0].startswith("¡Gracias, Rosa Elvira!")
    assert texts[1].startswith(f"Solicitud {numero}: Certificado de votación")


def test_someone_elses_application_is_not_shown(chasqui: Chasqui) -> None:
    numero = certificate_application(verified(chasqui, EXENTA, DACTILAR_EXENTA))
    citizen = verified(chasqui, "1744444447", "I1234V4321")
    texts = citizen.texts(f"cómo va mi trámite {numero}")
    assert texts[0] == f"No encuentro la solicitud {numero} entre las suyas. Revise el número, por favor."
    # Then their own list (other tests of the session may have given this demo citizen applications).
    assert texts[1].startswith(("Todavía no tiene solicitudes hechas por Chasqui.", "Estas son sus solicitudes"))
    assert all(numero not in text for text in texts[1:])
