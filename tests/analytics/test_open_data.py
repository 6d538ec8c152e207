"""Open data over the generated month: known aggregates, no cell below the threshold, no identifier, and the
public page with its dictionary and licence serving what the worker published."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from bot.analytics import open_data
from bot.analytics.service import Analytics
from bot.privacy.redaction import find_identifiers
from tests.analytics.builders import GUAYAS, NOW, PICHINCHA
from tests.analytics.test_console import fill
from tests.console.conftest import Gateway, run_in_app

COUNTS = {"ciudadanos", "conversaciones", "derivadas_a_persona", "recorridos", "solicitudes", "documentos_emitidos"}
COUNTS |= {"calificaciones", "verificaciones"}


def published_rows(folder: Path, name: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO((folder / f"{name}.csv").read_text(encoding="utf-8"))))


async def test_known_aggregates_and_small_cells(analytics: Analytics, tmp_path: Path) -> None:
    folder = tmp_path / "datos_abiertos"
    await open_data.publish(analytics, folder, now=NOW)
    tramites = published_rows(folder, "tramites")
    assert [(r["dia"], r["tramite"], r["canal"], r["provincia"]) for r in tramites] == [
        ("2026-11-03", "certificado_nacimiento", "web", "Pichincha"),
        ("2026-11-07", "antecedentes_penales", "tg", "Pichincha"),
    ]  # every other cell counts fewer than 10 citizens
    nacimiento, antecedentes = tramites
    assert nacimiento["ciudadanos"] == nacimiento["documentos_emitidos"] == "12"
    assert nacimiento["mediana_minutos_hasta_documento"] == "15.5"  # 10..21 minutes
    assert nacimiento["calificaciones"] == "" and nacimiento["satisfaccion_promedio"] == ""  # 2 ratings: suppressed
    assert antecedentes["ciudadanos"] == "11" and antecedentes["mediana_minutos_hasta_documento"] == "30.0"
    verificaciones = published_rows(folder, "verificaciones")
    assert [(r["resultado"], r["verificaciones"]) for r in verificaciones] == [("valido", "11")]  # 2 «alterado» not
    conversaciones = published_rows(folder, "conversaciones")
    assert ("2026-11-03", "web", "Pichincha", "12") in [
        (r["dia"], r["canal"], r["provincia"], r["ciudadanos"]) for r in conversaciones
    ]


async def test_no_cell_below_the_threshold_and_no_identifier(analytics: Analytics, tmp_path: Path) -> None:
    folder = tmp_path / "datos_abiertos"
    await open_data.publish(analytics, folder, now=NOW)
    for name in open_data.DATASETS:
        for row in published_rows(folder, name):
            for column in COUNTS & row.keys():
                assert row[column] == "" or int(row[column]) == 0 or int(row[column]) >= open_data.THRESHOLD, (
                    name,
                    row,
                )
            if "ciudadanos" in row:
                assert int(row["ciudadanos"]) >= open_data.THRESHOLD
    text = "\n".join(p.read_text(encoding="utf-8") for p in sorted(folder.iterdir()))
    assert find_identifiers(text) == []
    for secret in (PICHINCHA, GUAYAS, ":ciudadano", "confundido", "EC-2026", "doc1", "CODE0", "Pilacu", "ced_", "tel_"):
        assert secret not in text


async def test_older_days_are_kept_when_recent_ones_are_computed_again(analytics: Analytics, tmp_path: Path) -> None:
    folder = tmp_path / "datos_abiertos"
    await open_data.publish(analytics, folder, now=NOW)
    later = NOW.replace(month=12, day=28)  # the month's rows are older than the days computed again
    analytics.clock = lambda: later
    published = await open_data.publish(analytics, folder, now=later)
    [tramites] = [d for d in published if d.name == "tramites"]
    assert [r["dia"] for r in tramites.rows] == ["2026-11-03", "2026-11-07"]
    assert json.loads((folder / "tramites.json").read_text(encoding="utf-8"))["licencia"] == "CC BY 4.0"


def test_the_public_page_serves_what_was_published(gateway: Gateway) -> None:
    analytics = fill(gateway)
    folder = gateway.settings.var_dir / "datos_abiertos"
    assert gateway.citizen.get("/datos-abiertos/tramites.csv").status_code == 404  # not generated yet
    run_in_app(gateway, open_data.publish(analytics, folder, now=NOW))
    page = gateway.citizen.get("/datos-abiertos")
    assert page.status_code == 200
    assert "CC BY 4.0" in page.text and "mediana_minutos_hasta_documento" in page.text and "menos de 10" in page.text
    served = gateway.citizen.get("/datos-abiertos/tramites.csv")
    assert served.status_code == 200 and served.text == (folder / "tramites.csv").read_text(encoding="utf-8")
    assert gateway.citizen.get("/datos-abiertos/verificaciones.json").json()["filas"][0]["verificaciones"] == 11
    assert gateway.citizen.get("/datos-abiertos/..%2Fchasqui.db").status_code == 404
    assert gateway.citizen.get("/datos-abiertos/otro.csv").status_code == 404
