"""The console's report over the generated month: funnels, abandonment, containment, handoffs, CSAT, times."""

from __future__ import annotations

from bot.analytics.report import Table, nearest_rank
from bot.analytics.service import Analytics
from tests.analytics.builders import MONTH_END, MONTH_START


def rows_of(table: Table, **where: str) -> list[dict[str, object]]:
    found = [dict(zip(table.columns, row, strict=True)) for row in table.rows]
    return [r for r in found if all(r[k] == v for k, v in where.items())]


async def test_funnel_per_tramite_and_channel(analytics: Analytics) -> None:
    report = await analytics.report(MONTH_START, MONTH_END)
    [nacimiento] = rows_of(report["embudo"], tramite="certificado_nacimiento", canal="web")
    assert nacimiento == {
        "tramite": "certificado_nacimiento",
        "canal": "web",
        "iniciados": 30,
        "con_identidad": 26,
        "confirmados": 22,
        "pagados": 20,
        "emitidos": 18,
        "completados": 18,
        "rechazados": 0,
        "abandonados": 12,
        "en_curso": 0,
        "contencion_pct": 90.0,
    }
    [antecedentes] = rows_of(report["embudo"], tramite="antecedentes_penales", canal="tg")
    assert (antecedentes["iniciados"], antecedentes["pagados"], antecedentes["emitidos"]) == (12, None, 12)
    assert antecedentes["contencion_pct"] == 91.7
    assert len(report["embudo"].rows) == 2


async def test_where_journeys_are_abandoned(analytics: Analytics) -> None:
    report = await analytics.report(MONTH_START, MONTH_END)
    steps = {r["abandona_antes_de"]: r["recorridos"] for r in rows_of(report["abandono"], canal="web")}
    assert steps == {"identidad": 4, "confirmado": 4, "pagado": 2, "emitido": 2}


async def test_time_from_first_message_to_document(analytics: Analytics) -> None:
    report = await analytics.report(MONTH_START, MONTH_END)
    [web] = rows_of(report["tiempos"], tramite="certificado_nacimiento")
    [tg] = rows_of(report["tiempos"], tramite="antecedentes_penales")
    assert (web["documentos"], web["mediana_min"], web["p90_min"]) == (18, 18.5, 26.0)
    assert (tg["documentos"], tg["mediana_min"], tg["p90_min"]) == (12, 32.5, 55.0)


async def test_handoffs_csat_and_containment_of_visits(analytics: Analytics) -> None:
    report = await analytics.report(MONTH_START, MONTH_END)
    reasons = {(r["motivo"], r["canal"]): r["casos"] for r in rows_of(report["derivaciones"])}
    assert reasons == {("pedido_ciudadano", "web"): 3, ("no_entendido", "tg"): 1}
    csat = {
        r["tramite"]: (r["calificaciones"], r["promedio"], r["satisfechos_pct"])
        for r in rows_of(report["satisfaccion"])
    }
    assert csat == {"certificado_nacimiento": (2, 4.0, 50.0), "antecedentes_penales": (1, 4.0, 100.0)}
    visits = {r["canal"]: (r["visitas"], r["sin_persona"]) for r in rows_of(report["contencion"])}
    assert visits == {"web": (30, 27), "tg": (12, 11)}


async def test_fallbacks_per_day_and_the_most_frequent_masked(analytics: Analytics) -> None:
    report = await analytics.report(MONTH_START, MONTH_END)
    per_day = {r["dia"]: r["mensajes"] for r in rows_of(report["no_entendidos_por_dia"])}
    assert per_day == {"2026-11-02": 6, "2026-11-04": 7, "2026-11-09": 2}
    frequent = [(r["mensaje"], r["veces"]) for r in rows_of(report["no_entendidos_frecuentes"])]
    assert frequent[:3] == [
        ("quiero la partida de mi abuelito", 6),
        ("mi cédula es [cédula] y no me sale", 4),
        ("como saco la visa", 3),
    ]
    text = " ".join(str(m) for m, _ in frequent)
    assert "Pilacuán" not in text and "ced_" not in text and "tel_" not in text
    assert "me llamo [nombre] y necesito ayuda" in text


def test_nearest_rank_percentile() -> None:
    assert nearest_rank([3, 1, 2, 4, 5, 6, 7, 8, 9, 10], 0.9) == 9
    assert nearest_rank([7], 0.9) == 7
    assert nearest_rank(list(range(1, 21)), 0.5) == 10


async def test_csv_equals_the_table(analytics: Analytics) -> None:
    report = await analytics.report(MONTH_START, MONTH_END)
    for table in report.tables.values():
        lines = table.csv().splitlines()
        assert lines[0].split(",") == list(table.columns)
        assert len(lines) == len(table.rows) + 1
