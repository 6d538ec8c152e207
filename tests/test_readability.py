"""Spanish syllables, the two reading-ease formulas, and the floor every citizen text must clear."""

from __future__ import annotations

import statistics
from pathlib import Path

import pytest

from bot.cli.readability import FLOOR, MIN_WORDS, TARGET_AVERAGE, citizen_texts, main_legibilidad, report
from bot.readability import FERNANDEZ_HUERTA_SCALE, INFLESZ_SCALE, count_syllables, label, measure, plain_text

# Syllabified by the RAE's rules; several are where a hyphenation dictionary (textstat's pyphen) goes wrong.
KNOWN_WORDS = {
    "casa": 2,  # ca-sa
    "cédula": 3,  # cé-du-la
    "Ecuador": 3,  # e-cua-dor: a lone vowel at the start is a syllable
    "aéreo": 4,  # a-é-re-o: two hiatus
    "país": 2,  # pa-ís: an accented í breaks the diphthong
    "día": 2,
    "oír": 2,
    "reír": 2,
    "baúl": 2,
    "leer": 2,  # le-er: two strong vowels
    "poeta": 3,
    "héroe": 3,
    "ahí": 2,  # a-hí: the silent h does not join them
    "prohibir": 3,
    "ciudad": 2,  # ciu-dad: two weak vowels are one syllable
    "cuidado": 3,
    "huevo": 2,
    "guitarra": 3,  # gui-ta-rra: the u of «gui» is silent
    "averigüé": 4,  # a-ve-ri-güé
    "quiero": 2,
    "Paraguay": 3,  # pa-ra-guay: a triphthong, y as a vowel
    "ley": 1,
    "hoy": 1,
    "muy": 1,
    "y": 1,
    "ya": 1,  # y before a vowel is a consonant
    "construcción": 3,
    "teléfono": 4,
    "electrónica": 5,
    "oficina": 4,
    "transferencia": 4,
    "instituciones": 5,
    "consentimiento": 5,
    "estudiáis": 3,  # es-tu-diáis: a triphthong under an accent
    "PDF": 3,  # pe-de-efe: an acronym without vowels is spelt
    "2026": 2,  # a number counts as an average word
}


@pytest.mark.parametrize(("word", "syllables"), sorted(KNOWN_WORDS.items()))
def test_syllables_of_known_spanish_words(word: str, syllables: int) -> None:
    assert count_syllables(word) == syllables


def test_an_empty_word_has_no_syllables() -> None:
    assert count_syllables("") == 0


def test_placeholders_markdown_addresses_and_card_fields_are_not_read() -> None:
    text = (
        "Hola, {nombre}. Vea *www.registrocivil.gob.ec* o [la página](https://x.gob.ec/a) o cne.gob.ec.\n"
        "• Cédula: {cedula}\n"
        "Escriba a datos@ejemplo.ec."
    )
    assert plain_text(text).split() == ["Hola,", ".", "Vea", "o", "la", "página", "o", ".", "Escriba", "a", "."]


def test_counts_sentences_by_stops_and_lines() -> None:
    measured = measure("Su trámite está listo. ¿Lo quiere ahora?\n1) Sí\n2) No")
    # su 1, trá-mi-te 3, es-tá 2, lis-to 2, lo 1, quie-re 2, a-ho-ra 3, sí 1, no 1; the list marks are not words.
    assert (measured.words, measured.sentences, measured.syllables) == (9, 4, 16)


def test_formulas_on_a_hand_counted_text() -> None:
    # «Su cédula está lista.» 4 words, 1 sentence, 1 + 3 + 2 + 2 = 8 syllables.
    measured = measure("Su cédula está lista.")
    assert (measured.words, measured.sentences, measured.syllables) == (4, 1, 8)
    assert measured.fernandez_huerta == pytest.approx(206.84 - 60 * 2 - 1.02 * 4)
    assert measured.inflesz == pytest.approx(206.835 - 62.3 * 2 - 4)


def test_a_long_sentence_of_long_words_scores_lower_than_a_short_plain_one() -> None:
    plain = measure("Le llega por este chat. Es gratis.")
    hard = measure(
        "La documentación electrónica correspondiente será remitida automáticamente "
        "mediante la plataforma institucional una vez verificada la información proporcionada."
    )
    assert plain.fernandez_huerta > 80 > 30 > hard.fernandez_huerta


def test_scales_name_the_band() -> None:
    assert label(75, FERNANDEZ_HUERTA_SCALE) == "bastante fácil"
    assert label(60, FERNANDEZ_HUERTA_SCALE) == "normal"
    assert label(12, FERNANDEZ_HUERTA_SCALE) == "muy difícil"
    assert label(66, INFLESZ_SCALE) == "bastante fácil"
    assert label(39.9, INFLESZ_SCALE) == "muy difícil"


def test_every_citizen_text_is_collected(project_dir: Path) -> None:
    texts = citizen_texts(project_dir, include_domain=False)
    sources = {t.source.split("/")[0] for t in texts}
    assert sources == {"dialogs", "bot", "data"}
    keys = {t.key for t in texts}
    assert {"no_entendido", "como_llega", "multas:costo", "pasaporte"} <= keys


def test_every_citizen_text_reads_at_least_normal(project_dir: Path) -> None:
    """Fernández-Huerta ≥ FLOOR for every editable text of at least MIN_WORDS words, and the average ≥ target."""
    judged = [t for t in citizen_texts(project_dir, include_domain=False) if t.judged]
    assert len(judged) > 300
    hard = {f"{t.source} {t.key}": round(t.readability.fernandez_huerta, 1) for t in judged}
    assert {k: s for k, s in hard.items() if s < FLOOR} == {}
    assert statistics.fmean(hard.values()) >= TARGET_AVERAGE


def test_the_floor_rejects_a_hard_template(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    textos = tmp_path / "dialogs" / "textos"
    textos.mkdir(parents=True)
    (textos / "a.yml").write_text(
        "textos:\n"
        "  facil:\n"
        '    text: "Su certificado está listo. Se lo envío por este chat. Es gratis y no tiene que ir a ninguna'
        ' oficina."\n'
        "  dificil:\n"
        '    text: "La documentación electrónica correspondiente será remitida automáticamente mediante la'
        ' plataforma institucional."\n',
        encoding="utf-8",
    )
    assert main_legibilidad(tmp_path) == 1
    out = capsys.readouterr().out
    assert "Los 20 más difíciles:" in out
    assert out.index("dificil") < out.index("facil", out.index("más difíciles"))
    (textos / "a.yml").write_text(
        'textos:\n  facil:\n    text: "Su certificado está listo. Se lo envío por este chat. Es gratis."\n',
        encoding="utf-8",
    )
    assert main_legibilidad(tmp_path) == 0


def test_fragments_are_listed_but_not_judged(project_dir: Path) -> None:
    texts = citizen_texts(project_dir, include_domain=False)
    fragment = next(t for t in texts if t.key == "multas_origen_cedula")
    assert fragment.readability.words < MIN_WORDS
    assert not fragment.judged
    assert "multas_origen_cedula" in report(texts)
