"""Reading ease of Spanish text: Fernández-Huerta and Szigriszt-Pazos (INFLESZ), with our own syllable counter.

Both formulas are Flesch's, refitted for Spanish:

- Fernández-Huerta (1959): ``206.84 − 60 · syllables/word − 1.02 · words/sentence``
- Szigriszt-Pazos (1993), read on Barrio's INFLESZ scale: ``206.835 − 62.3 · syllables/word − words/sentence``

``textstat`` computes the same formulas, but counts syllables with a hyphenation dictionary (pyphen), which
never splits a hiatus nor a vowel at the edge of a word: it gives 2 for «aéreo» (4), «Ecuador» (3), «país»
(2) and 3 for «teléfono» (4). The counter here follows the Spanish rules instead (see ``count_syllables``).

Chat templates are scored as a citizen reads them: the fields of a data card («Nombre: {nombre}»),
``{placeholders}``, markdown marks, URLs, web addresses and e-mail addresses are removed first; each line
break ends a sentence (a list line is read on its own).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# «a e o» and the accented «í ú» are strong: two of them side by side are a hiatus (two syllables).
# Unaccented «i u ü» are weak: next to any vowel they glide into one syllable (a diphthong or triphthong).
_STRONG = frozenset("aeoáéóíúàèòìù")
_WEAK = frozenset("iuü")
_VOWELS = _STRONG | _WEAK

# Scales used by the Spanish readability literature (legible.es, INFLESZ by Barrio-Cantalejo et al., 2008).
FERNANDEZ_HUERTA_SCALE: tuple[tuple[float, str], ...] = (
    (90, "muy fácil"),
    (80, "fácil"),
    (70, "bastante fácil"),
    (60, "normal"),
    (50, "algo difícil"),
    (30, "difícil"),
    (float("-inf"), "muy difícil"),
)
INFLESZ_SCALE: tuple[tuple[float, str], ...] = (
    (80, "muy fácil"),
    (65, "bastante fácil"),
    (55, "normal"),
    (40, "algo difícil"),
    (float("-inf"), "muy difícil"),
)

# A number is read at a glance, not spelt out: it counts as one word of average Spanish length.
_NUMBER_SYLLABLES = 2

_PLACEHOLDER = re.compile(r"\{[^{}]*\}")
_URL = re.compile(r"\b(?:https?://|www\.)\S+", re.IGNORECASE)
_EMAIL = re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b")
# A bare web address such as «virtual.registrocivil.gob.ec» or «cne.gob.ec/consulta».
_DOMAIN = re.compile(r"\b[\w-]+(?:\.[\w-]+)*\.(?:ec|com|org|net|gob|fin|edu)\b(?:/\S*)?", re.IGNORECASE)
_MD_LINK = re.compile(r"\[([^\]]*)\]\([^)]*\)")
_MD_MARKS = re.compile(r"[*_`~]+")
# A field of a data card, «• Fecha de nacimiento: {nacimiento}»: a label over a value, not a sentence.
_CARD_FIELD = re.compile(r"^[ \t]*(?:[•·\-–][ \t]*)?[^\n.:?!{}]{1,40}:[ \t]*\{[^{}\n]*\}[ \t]*$", re.MULTILINE)
_LIST_MARK = re.compile(r"^\s*(?:[•·\-–]|\d+[.)])\s+", re.MULTILINE)
_SENTENCE_END = re.compile(r"[.!?…]+(?=\s|$)|\n+")
_TOKEN = re.compile(r"[^\W_]+(?:[-'’][^\W_]+)*")


def count_syllables(word: str) -> int:
    """Syllables of one Spanish word, by the rules of diphthong, triphthong and hiatus.

    Each run of vowels is one syllable, plus one for every pair of strong vowels side by side (a hiatus,
    as in «a-é-re-o» or «pa-ís»). A silent «h» between vowels breaks the run («a-hí», «pro-hi-bir»), and
    «y» is a vowel only at the end of a word or alone («ley», «hoy», «y»). An acronym without vowels is
    spelt out (PDF: pe-de-efe, 3); a number is read at a glance and counts as an average word (2).

    Args:
        word: one word, in any case; letters, digits and apostrophes only.

    Returns:
        The number of syllables, at least 1 for any non-empty word.
    """
    if not word:
        return 0
    if any(c.isdigit() for c in word):
        return _NUMBER_SYLLABLES  # «2026», and a plate or code such as «PBX-4821» or «A1»
    lower = word.lower()
    if lower.endswith("y"):
        lower = lower[:-1] + "i"  # «ley», «muy», «Paraguay»: a final «y» sounds as the vowel «i»
    if not any(c in _VOWELS for c in lower):
        # «PDF» or «QR» is spelt out letter by letter; a lowercase «s» or «pts» is one beat
        return sum(c.isalpha() for c in word) if word.isupper() else 1
    syllables = 0
    previous = ""
    for c in lower:
        if c in _VOWELS:
            # a new run of vowels, or a hiatus inside one
            if not previous or (previous in _STRONG and c in _STRONG):
                syllables += 1
            previous = c
        else:
            previous = ""
    return syllables


def plain_text(template: str) -> str:
    """The prose of a template: without card fields, placeholders, markdown, addresses or list marks."""
    text = _CARD_FIELD.sub("", template)
    text = _PLACEHOLDER.sub(" ", text)
    text = _MD_LINK.sub(r"\1", text)
    text = _URL.sub(" ", text)
    text = _EMAIL.sub(" ", text)
    text = _DOMAIN.sub(" ", text)
    text = _MD_MARKS.sub("", text)
    text = _LIST_MARK.sub("", text)
    return text


@dataclass(frozen=True)
class Readability:
    """Counts of a text and the two Spanish reading-ease scores computed from them."""

    words: int
    sentences: int
    syllables: int

    @property
    def words_per_sentence(self) -> float:
        return self.words / self.sentences if self.sentences else 0.0

    @property
    def syllables_per_word(self) -> float:
        return self.syllables / self.words if self.words else 0.0

    @property
    def fernandez_huerta(self) -> float:
        """Fernández-Huerta's reading ease (0–100, higher is easier); 100 for a text without words."""
        if not self.words:
            return 100.0
        return 206.84 - 60 * self.syllables_per_word - 1.02 * self.words_per_sentence

    @property
    def inflesz(self) -> float:
        """Szigriszt-Pazos' perspicuity, read on the INFLESZ scale (higher is easier)."""
        if not self.words:
            return 100.0
        return 206.835 - 62.3 * self.syllables_per_word - self.words_per_sentence


def measure(template: str) -> Readability:
    """Count words, sentences and syllables of a template as a citizen reads it.

    Args:
        template: the text, possibly with ``{placeholders}``, markdown, URLs and line breaks.

    Returns:
        The counts; a text with words and no final stop is one sentence.
    """
    text = plain_text(template)
    words = 0
    syllables = 0
    sentences = 0
    for chunk in _SENTENCE_END.split(text):
        tokens = _TOKEN.findall(chunk)
        if not tokens:
            continue
        sentences += 1
        words += len(tokens)
        syllables += sum(count_syllables(t) for t in tokens)
    return Readability(words=words, sentences=sentences, syllables=syllables)


def label(score: float, scale: tuple[tuple[float, str], ...]) -> str:
    """The band of ``scale`` (thresholds from highest to lowest) that ``score`` falls in."""
    for floor, name in scale:
        if score >= floor:
            return name
    return scale[-1][1]
