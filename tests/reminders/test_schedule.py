"""What is due on a day, from a citizen's holdings: steps, periods, new and overdue fines, quiet hours."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from bot.reminders.schedule import Holdings, IssuedDocument, Vehicle, due, in_quiet_hours
from integrations.registros.records import Citacion, EstadoCitacion

ECUADOR = ZoneInfo("America/Guayaquil")
ALL = ("licencia", "matricula", "multas", "documentos")


def key(identifier: str) -> str:
    return f"h({identifier})"


def citation(numero: str, cited: date, valor: str, *, paid: bool = False) -> Citacion:
    estado = EstadoCitacion.PAGADA if paid else EstadoCitacion.PENDIENTE
    return Citacion(numero, cited, "386", 1, "x", Decimal(valor), Decimal(0), estado)


def plantillas(holdings: Holdings, today: date, **kwargs: object) -> list[tuple[str, dict[str, str]]]:
    found = due(holdings, ALL, today=today, subscribed_on=date(2027, 1, 1), key=key, **kwargs)  # type: ignore[arg-type]
    return [(d.plantilla, d.valores) for d in found]


@pytest.mark.parametrize(
    ("days_left", "expected_key"),
    [(91, None), (90, "licencia:2027-06-30:90"), (31, "licencia:2027-06-30:90"), (30, "licencia:2027-06-30:30"),
     (8, "licencia:2027-06-30:30"), (7, "licencia:2027-06-30:7"), (0, "licencia:2027-06-30:7"), (-1, None)],
)  # fmt: skip
def test_the_licence_step_is_the_nearest_one_reached(days_left: int, expected_key: str | None) -> None:
    expires = date(2027, 6, 30)
    found = due(Holdings(licence_expires=expires), ["licencia"], today=expires - timedelta(days=days_left),
                subscribed_on=date(2027, 1, 1), key=key)  # fmt: skip
    assert [d.keys[0] for d in found] == ([expected_key] if expected_key else [])
    if found:
        assert found[0].plantilla == "recordatorio_licencia" and found[0].valores == {"fecha": "30/06/2027"}


def test_a_key_already_sent_is_not_due_again() -> None:
    holdings = Holdings(licence_expires=date(2027, 6, 30))
    assert plantillas(holdings, date(2027, 6, 1), sent=frozenset({"licencia:2027-06-30:30"})) == []


def test_matricula_in_the_plates_month_then_each_month_late() -> None:
    # Plate ending in 1: February. Last registered in 2026, so 2027's registration is due in February 2027.
    holdings = Holdings(vehicles=(Vehicle("PDA-4521", 2026),))
    assert plantillas(holdings, date(2027, 1, 31)) == []
    assert plantillas(holdings, date(2027, 2, 1)) == [
        ("recordatorio_matricula_mes", {"placa": "521", "fecha": "28/02/2027"})
    ]
    [mes] = due(holdings, ALL, today=date(2027, 2, 20), subscribed_on=date(2027, 1, 1), key=key)
    assert mes.keys == ("matricula_mes:h(PDA4521):2027",)
    assert plantillas(holdings, date(2027, 3, 1)) == [
        ("recordatorio_matricula_recargo", {"placa": "521", "meses": "1", "recargo": "25.00"})
    ]
    [late] = due(holdings, ALL, today=date(2027, 4, 15), subscribed_on=date(2027, 1, 1), key=key)
    assert late.keys == ("matricula_recargo:h(PDA4521):2027:2",) and late.valores["recargo"] == "50.00"
    registered = Holdings(vehicles=(Vehicle("PDA-4521", 2027),))
    assert plantillas(registered, date(2027, 4, 15)) == []


def test_new_fines_since_the_subscription_and_overdue_ones_each_once() -> None:
    old = citation("C1", date(2026, 10, 1), "120.50")  # past its 20 business days: overdue
    paid = citation("C2", date(2026, 10, 1), "99.00", paid=True)
    new = citation("C3", date(2027, 1, 4), "48.20")  # after the subscription, within its discount
    holdings = Holdings(citations=(old, paid, new))
    found = due(holdings, ALL, today=date(2027, 1, 5), subscribed_on=date(2027, 1, 1), key=key)
    assert [(d.plantilla, d.keys, d.valores) for d in found] == [
        ("recordatorio_multas_nuevas", ("multa_nueva:h(C3)",), {"cantidad": "1", "total": "48.20"}),
        ("recordatorio_multas_vencidas", ("multa_vencida:h(C1)",), {"cantidad": "1", "total": "120.50"}),
    ]
    # A fourth citation later: only it is counted; C1 and C3 were announced already.
    later = citation("C4", date(2027, 1, 10), "10.00")
    sent = frozenset({"multa_nueva:h(C3)", "multa_vencida:h(C1)"})
    found = due(Holdings(citations=(old, paid, new, later)), ALL, today=date(2027, 1, 11),
                subscribed_on=date(2027, 1, 1), key=key, sent=sent)  # fmt: skip
    assert [(d.keys, d.valores) for d in found] == [(("multa_nueva:h(C4)",), {"cantidad": "1", "total": "10.00"})]
    # C3's 20 business days end on 1 February 2027: from the 2nd it is overdue.
    found = due(holdings, ALL, today=date(2027, 2, 2), subscribed_on=date(2027, 1, 1), key=key, sent=sent)
    assert [d.keys for d in found] == [("multa_vencida:h(C3)",)]


def test_documents_and_the_cedula_30_and_7_days_before() -> None:
    holdings = Holdings(
        documents=(IssuedDocument("doc1", "Certificado de antecedentes penales", date(2027, 3, 10)),),
        cedula_expires=date(2027, 3, 20),
    )
    assert plantillas(holdings, date(2027, 2, 7)) == []
    assert plantillas(holdings, date(2027, 2, 8)) == [
        ("recordatorio_documento", {"documento": "Certificado de antecedentes penales", "fecha": "10/03/2027"})
    ]
    assert [p for p, _ in plantillas(holdings, date(2027, 3, 3))] == ["recordatorio_documento", "recordatorio_cedula"]
    [d] = due(holdings, ["documentos"], today=date(2027, 3, 3), subscribed_on=date(2027, 1, 1), key=key,
              sent=frozenset({"documento:h(doc1):7"}))  # fmt: skip
    assert d.keys == ("cedula:2027-03-20:30",)
    # The document expired yesterday: nothing more about it (the cédula's 30-day step is still unsent here).
    assert [p for p, _ in plantillas(holdings, date(2027, 3, 11))] == ["recordatorio_cedula"]


def test_only_the_subscribed_kinds() -> None:
    holdings = Holdings(licence_expires=date(2027, 1, 20), citations=(citation("C1", date(2026, 1, 1), "5"),))
    found = due(holdings, ["multas"], today=date(2027, 1, 15), subscribed_on=date(2027, 1, 1), key=key)
    assert [d.kind.value for d in found] == ["multas"]


@pytest.mark.parametrize(
    ("hour", "minute", "quiet"),
    [(7, 59, True), (8, 0, False), (12, 0, False), (19, 59, False), (20, 0, True), (23, 30, True), (0, 0, True)],
)
def test_quiet_hours_are_from_20_to_8_in_ecuador(hour: int, minute: int, quiet: bool) -> None:
    assert in_quiet_hours(datetime(2027, 1, 5, hour, minute, tzinfo=ECUADOR)) is quiet
