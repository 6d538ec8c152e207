"""Citizen-facing HTML pages (Jinja2 templates in ``data/plantillas/html``), escaped by default."""

from __future__ import annotations

import functools
from datetime import datetime
from pathlib import Path
from typing import Any

import jinja2

from bot.documents.service import ECUADOR, as_utc, format_date
from bot.security_headers import HTML_HEADERS_NO_SCRIPT

STYLESHEET = "verificar.css"  # beside the templates, served by the documents router at /verificar.css

# No script at all; the stylesheet and images come only from this server; never framed, never indexed.
SECURITY_HEADERS = {**HTML_HEADERS_NO_SCRIPT, "Cache-Control": "no-store", "X-Robots-Tag": "noindex"}


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
        self.directory = directory
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

    @functools.cached_property
    def stylesheet(self) -> bytes:
        """The pages' CSS (no inline styles: the pages' policy allows stylesheets from this server only)."""
        return (self.directory / STYLESHEET).read_bytes()
