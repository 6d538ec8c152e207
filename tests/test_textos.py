"""The action and gateway templates load, render, and cover every key the code asks for."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.texts import TextoError, Textos, load_textos


def test_templates_render_with_buttons(project_dir: Path) -> None:
    textos = load_textos(project_dir / "dialogs" / "textos")
    rendered = textos.render("no_entendido")
    assert rendered.key == "no_entendido"
    assert rendered.text.startswith("Disculpe, no le entendí.")
    assert rendered.buttons == (
        ("Ver los servicios", "/ayuda"),
        ("Hablar con una persona", "/hablar_con_agente"),
    )


def test_every_template_the_code_names_exists(project_dir: Path) -> None:
    textos = load_textos(project_dir / "dialogs" / "textos")
    named: set[str] = set()
    for path in (project_dir / "bot").rglob("*.py"):
        named |= set(re.findall(r"""\b(?:say\(dispatcher, |_texto\(|render\()"([a-z_]+)\"""", path.read_text()))
    assert named, "the scan found no template names"
    assert named - textos.keys() == set()


def test_a_missing_value_is_an_error_not_a_blank() -> None:
    textos = Textos({"hola": {"text": "Hola, {nombre}."}})
    assert textos.render("hola", nombre="Ana").text == "Hola, Ana."
    with pytest.raises(TextoError, match="needs a value for 'nombre'"):
        textos.render("hola")
    with pytest.raises(TextoError, match="no template named 'adios'"):
        textos.render("adios")


def test_a_key_defined_twice_is_refused(tmp_path: Path) -> None:
    (tmp_path / "a.yml").write_text("textos:\n  hola:\n    text: Hola\n")
    (tmp_path / "b.yml").write_text("textos:\n  hola:\n    text: Buenas\n")
    with pytest.raises(TextoError, match="defined twice"):
        load_textos(tmp_path)


# Lists on WhatsApp (numbered rows): a message may carry more than three buttons only when it is one of these.
LISTS = {"csat_pregunta"}


def test_every_message_fits_whatsapp(project_dir: Path) -> None:
    """Never more than three buttons (WhatsApp's quick replies), or a list of at most ten rows."""
    import yaml

    buttons: dict[str, int] = {}
    for path in (project_dir / "dialogs" / "textos").glob("*.yml"):
        for key, entry in (yaml.safe_load(path.read_text(encoding="utf-8"))["textos"] or {}).items():
            buttons[key] = len(entry.get("buttons") or ())
    for path in (project_dir / "dialogs" / "dominio").glob("*.yml"):
        for key, variants in (yaml.safe_load(path.read_text(encoding="utf-8")).get("responses") or {}).items():
            buttons[key] = max(len(v.get("buttons") or ()) for v in variants)
    too_many = {key: n for key, n in buttons.items() if n > 3 and not (key in LISTS and n <= 10)}
    assert too_many == {}
