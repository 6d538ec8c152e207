"""The console's analytics page: supervisors and admins only, charts with their tables, CSV equal to the table."""

from __future__ import annotations

import csv
import io
import re
from html import unescape

from bot.analytics.service import Analytics
from tests.analytics.builders import NOW, month, write_month
from tests.console.conftest import Gateway, run_in_app

PERIOD = {"desde": "2026-11-01", "hasta": "2026-11-30"}


def fill(gateway: Gateway) -> Analytics:
    """Write the generated month into the gateway's database and read it at the month's end."""
    analytics = gateway.consola.analytics
    assert analytics is not None and analytics.rasa is not None and analytics.protector is not None

    async def write() -> None:
        async with analytics.sessions() as session:
            await write_month(session, analytics.rasa, analytics.protector, month())  # type: ignore[arg-type]

    run_in_app(gateway, write())
    analytics.clock = lambda: NOW
    return analytics


def html_table(page: str, name: str) -> list[list[str]]:
    """A table's header and cells as shown, without an action column (``class="accion"``: not data)."""
    found = re.search(rf'<table data-tabla="{name}">(.*?)</table>', page, re.S)
    assert found is not None, name
    header = [unescape(h) for h in re.findall(r'<th scope="col">(.*?)</th>', found.group(1))]
    body = re.search(r"<tbody>(.*?)</tbody>", found.group(1), re.S)
    assert body is not None
    rows = [
        [unescape(c.strip()) for c in re.findall(r'<t[hd](?! class="accion")[^>]*>(.*?)</t[hd]>', row, re.S)]
        for row in re.findall(r"<tr>(.*?)</tr>", body.group(1), re.S)
    ]
    return [header, *rows]


def test_agents_are_refused_supervisors_see_charts_and_tables(gateway: Gateway) -> None:
    fill(gateway)
    agent = gateway.staff("ana")
    assert agent.client.get("/consola/analitica", params=PERIOD).status_code == 403
    assert agent.client.get("/consola/analitica/embudo.csv", params=PERIOD).status_code == 403
    supervisor = gateway.staff("sofia", rol="supervisor", equipos=())
    response = supervisor.client.get("/consola/analitica", params=PERIOD)
    assert response.status_code == 200
    page = response.text
    assert page.count('<svg class="grafico" role="img"') >= 7
    assert '<title id="embudo-1-t">Embudo de certificado_nacimiento en el canal web</title>' in page
    assert "Pilacuán" not in page and "[nombre]" in page
    admin = gateway.staff("admin", rol="admin", equipos=())
    assert admin.client.get("/consola/analitica", params=PERIOD).status_code == 200


def test_each_csv_equals_its_table(gateway: Gateway) -> None:
    fill(gateway)
    supervisor = gateway.staff("sofia", rol="supervisor", equipos=())
    page = supervisor.client.get("/consola/analitica", params=PERIOD).text
    names = re.findall(r'<table data-tabla="([a-z_]+)">', page)
    assert len(names) == 8
    for name in names:
        response = supervisor.client.get(f"/consola/analitica/{name}.csv", params=PERIOD)
        assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
        rows = list(csv.reader(io.StringIO(response.text)))
        shown = html_table(page, name)
        assert rows[1:] == shown[1:] or (rows[1:] == [] and len(shown) == 2), name
        assert len(rows[0]) == len(shown[0]), name
    assert supervisor.client.get("/consola/analitica/nada.csv", params=PERIOD).status_code == 404
