"""Citizen-facing HTML pages (Jinja2 templates in ``data/plantillas/html``), escaped by default."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import jinja2

from bot.documents.service import ECUADOR, as_utc, format_date

# Pages carry their own CSS and load nothing from elsewhere; images only from this server.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; form-action 'self'; "
        "base-uri 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
    "X-Robots-Tag": "noindex",
}


def _date_time(moment: datetime | None) -> str:
    if moment is None:
        return ""
    return as_utc(moment).astimezone(ECUADOR).strftime("%d/%m/%Y %H:%M")


class Pages:
    """Renders the verification, form and share pages.

    Args:
        directory: the HTML templates' folder.
    """

    def __init__(self, directory: Path) -> None:
        self.environment = jinja2.Environment(
            loader=jinja2.FileSystemLoader(directory),
            autoescape=True,
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self.environment.filters["fecha"] = lambda m: format_date(m) if m else ""
        self.environment.filters["fecha_hora"] = _date_time

    def render(self, name: str, /, **context: Any) -> str:
        return self.environment.get_template(name).render(**context)
