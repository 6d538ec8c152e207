"""Spanish as citizens type it: folding accents and case, words, number words, and finding a phrase in a
sentence despite typos. The one place for these helpers (gateway and actions both use it)."""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Iterable

NUMBER_WORDS = {
    "uno": 1, "una": 1, "primera": 1, "primero": 1, "dos": 2, "segunda": 2, "segundo": 2, "tres": 3,
    "tercera": 3, "tercero": 3, "cuatro": 4, "cuarta": 4, "cuarto": 4, "cinco": 5, "quinta": 5, "quinto": 5,
    "seis": 6, "sexta": 6, "siete": 7, "septima": 7, "ocho": 8, "octava": 8, "nueve": 9, "novena": 9, "diez": 10,
}  # fmt: skip

# Words that carry no meaning of their own when matching a question against examples.
STOPWORDS = frozenset({
    "a", "al", "algo", "algun", "alguna", "como", "con", "cual", "cuales", "de", "del", "el", "ella", "en", "es",
    "esa", "ese", "eso", "esta", "este", "esto", "hay", "la", "las", "le", "les", "lo", "los", "me", "mi", "mis",
    "muy", "no", "nos", "o", "para", "pero", "por", "que", "quiero", "se", "si", "sin", "su", "sus", "te",
    "tengo", "ti", "tu", "tus", "un", "una", "uno", "y", "ya", "yo", "usted", "ustedes", "hola", "buenas",
    "buenos", "dias", "tardes", "noches", "favor", "porfa", "xfa", "pls", "gracias", "oiga", "disculpe", "senor",
    "senora", "senorita", "joven", "amigo", "pana", "necesito", "quisiera", "puedo", "puede", "saber", "dime",
    "digame",
})  # fmt: skip
_WORD = re.compile(r"[a-z0-9ñ]+")


def fold(text: str) -> str:
    """Lower case, no accents (ñ kept as n), single spaces: how every comparison reads a message."""
    decomposed = unicodedata.normalize("NFD", text.lower())
    plain = "".join(c for c in decomposed if unicodedata.category(c) != "Mn")
    return " ".join(plain.split())


# Words kept in lower case inside a proper name or a place («Santo Domingo de los Tsáchilas»).
_PARTICLES = frozenset({"de", "del", "la", "las", "los", "y", "e"})
_LETTERS = re.compile(r"[^\W\d_]+")


def proper_name(text: str) -> str:
    """A registry's upper-case name or place as it is written in a sentence, accents and Ñ kept.

    «ANDRADE CEVALLOS MARÍA JOSÉ» → «Andrade Cevallos María José», «SANTO DOMINGO DE LOS TSÁCHILAS» →
    «Santo Domingo de los Tsáchilas». Unlike `str.title`, a decomposed accent («MARI\u0301A») never starts a
    new word: the text is composed (NFC) first.
    """
    composed = unicodedata.normalize("NFC", " ".join(text.split()))

    def word(match: re.Match[str]) -> str:
        value = match.group(0).lower()
        if match.start() > 0 and value in _PARTICLES:
            return value
        return value[:1].upper() + value[1:]

    return _LETTERS.sub(word, composed)


def sentence(text: str) -> str:
    """Upper-case registry text in sentence case, accents kept: «CONDUCIR SIN LA MATRÍCULA» → «Conducir sin la
    matrícula»."""
    composed = unicodedata.normalize("NFC", " ".join(text.split())).lower()
    return composed[:1].upper() + composed[1:]


# Civil status as the Registro Civil writes it (either gender, accents or not) → (masculine, feminine).
_CIVIL_STATUS = {
    "soltero": ("Soltero", "Soltera"),
    "casado": ("Casado", "Casada"),
    "divorciado": ("Divorciado", "Divorciada"),
    "viudo": ("Viudo", "Viuda"),
    "separado": ("Separado", "Separada"),
    "union de hecho": ("Unión de hecho", "Unión de hecho"),
}
_FEMININE = {fold(f): (m, f) for m, f in _CIVIL_STATUS.values() if fold(f) not in _CIVIL_STATUS}


def civil_status(value: str, sex: str | None) -> str:
    """The civil status in the holder's grammatical gender: «SOLTERO» for a woman reads «Soltera»; «UNION DE
    HECHO» reads «Unión de hecho». ``sex`` is the registry's «MUJER» or «HOMBRE»; any other value keeps the
    registry's own word. An unknown status is printed as the registry writes it, in sentence case."""
    folded = fold(value)
    forms = _CIVIL_STATUS.get(folded) or _FEMININE.get(folded)
    if forms is None:
        return sentence(value)
    sexo = fold(sex or "")
    if sexo in ("mujer", "femenino", "f"):
        return forms[1]
    if sexo in ("hombre", "masculino", "m"):
        return forms[0]
    return forms[1] if folded in _FEMININE else forms[0]


def words(text: str) -> list[str]:
    return _WORD.findall(fold(text))


def content_words(text: str) -> list[str]:
    """The words of ``text`` that say something (no stopwords, no one-letter words)."""
    return [w for w in words(text) if w not in STOPWORDS and len(w) > 1]


_QUESTION_START = re.compile(
    r"^(y )?(cuanto|cuanta|cuantos|cuantas|que|como|donde|cuando|cual|cuales|quien|por que|se puede)\b"
)


_QUESTION_INSIDE = re.compile(r"\b(cuanto|cuanta|cuantos|cuantas|como hago|como se|como puedo|se puede|hay que)\b")
_REQUEST = re.compile(
    r"\b(necesito|quiero|quisiera|deseo|deme|dame|regaleme|regalame|ayudeme|ayudame|solicito|me puede dar|"
    r"me puedes dar|me da|mandeme|enviame|envieme)\b"
)


# «ya pagué», «ya está pagado», «ya cancelé»: the citizen states a payment already made.
_PAID = re.compile(r"\b(ya (lo |la )?(pague|pagamos|cancele)|(ya )?esta pagad[oa]|ya (lo |la )?tengo pagad[oa])\b")


def says_paid(text: str) -> bool:
    """Whether ``text`` states that a payment was already made (then it is about what was paid)."""
    return _PAID.search(fold(text)) is not None


def is_question(text: str) -> bool:
    """A question mark, a sentence that opens like a question, or one that asks «cuánto», «cuándo», «dónde»."""
    if "?" in text or "¿" in text:
        return True
    folded = fold(text)
    opens = bool(_QUESTION_START.match(folded)) and len(folded.split()) > 1
    return opens or bool(_QUESTION_INSIDE.search(folded))


# A request put as a question: «¿me puede sacar el récord?», «¿usted me saca la partida?».
_ASKED_REQUEST = re.compile(
    r"\b(me (puede|podria|pueden|podrian|puedes) (sacar|dar|enviar|mandar|hacer|ayudar con|generar|emitir)"
    r"|(puede|podria|pueden|puedes) (sacarme|darme|enviarme|mandarme|hacerme|ayudarme con)"
    r"|me (saca|sacan|manda|mandan|envia|envian|genera|emite))\b"
)


def is_request(text: str) -> bool:
    """A sentence that asks for something to be done or given («necesito ver mis multas y los puntos», «¿me puede
    sacar el récord?»), not a question about it («¿cuánto cuesta el récord?»)."""
    folded = fold(text)
    return (bool(_REQUEST.search(folded)) and not is_question(text)) or bool(_ASKED_REQUEST.search(folded))


def _similar(word: str, candidate: str) -> bool:
    if word == candidate:
        return True
    if min(len(word), len(candidate)) < 5:
        return False
    return difflib.SequenceMatcher(None, word, candidate).ratio() >= 0.84


def mentions(text: str, phrase: str) -> bool:
    """Whether ``phrase`` appears in ``text`` word by word, tolerating a typo in words of five letters or more
    ("sertificado de votasion" mentions "certificado de votacion")."""
    target = words(phrase)
    said = words(text)
    if not target:
        return False
    for start in range(len(said) - len(target) + 1):
        if all(_similar(said[start + i], t) for i, t in enumerate(target)):
            return True
    return False


def first_mentioned(text: str, phrases: Iterable[str]) -> str | None:
    """The first of ``phrases`` that ``text`` mentions (in the order given)."""
    return next((p for p in phrases if mentions(text, p)), None)


def _one_typo(a: str, b: str) -> bool:
    """``a`` is ``b`` with at most one slip (two in words of eight letters or more): stricter than `_similar`,
    whose ratio lets two seven-letter words differ in two letters («oficial», «oficina»)."""
    if not _similar(a, b):
        return False
    opcodes = difflib.SequenceMatcher(None, a, b).get_opcodes()
    edits = sum(max(i2 - i1, j2 - j1) for tag, i1, i2, j1, j2 in opcodes if tag != "equal")
    return edits <= (1 if min(len(a), len(b)) < 8 else 2)


def _same_stem(a: str, b: str) -> bool:
    """Two forms of one word («matricular», «matrícula»; «certificado», «certificación»): a common beginning of
    six letters, or of five that is all but the last letter of the shorter word. Five alone is not enough:
    «oficial» is not «oficina»."""
    common = next((i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), min(len(a), len(b)))
    return common >= 6 or (common == 5 and min(len(a), len(b)) <= 6)


def overlap(text: str, example: str) -> tuple[float, float]:
    """How well ``text`` says ``example``, tolerating typos: the share of the example's meaningful words that
    ``text`` says, then the share of ``text``'s meaningful words that the example has (to break ties)."""
    wanted = set(content_words(example))
    said = set(content_words(text))
    if not wanted or not said:
        return 0.0, 0.0

    def close(a: str, b: str) -> bool:
        return _one_typo(a, b) or _same_stem(a, b)

    recall = sum(1 for w in wanted if any(close(s, w) for s in said)) / len(wanted)
    precision = sum(1 for s in said if any(close(s, w) for w in wanted)) / len(said)
    return recall, precision


def number_in(text: str) -> int | None:
    """The first number in ``text``, in digits or words ("2", "dos", "la segunda")."""
    for word in words(text):
        if word.isdigit():
            return int(word)
        if word in NUMBER_WORDS:
            return NUMBER_WORDS[word]
    return None


_ALSO = frozenset({"tambien", "tb", "tmb", "tbn", "ademas", "aparte", "otro", "otra", "despues", "luego"})
_CHANGE = frozenset({"mejor", "cambio", "cambiar", "prefiero", "olvide", "olvida", "olvidese", "deje", "dejelo"})


def adds_a_request(text: str) -> bool:
    """Whether a request made in the middle of another one adds to it («¿y el de votación?», «también la
    licencia») rather than replacing it («mejor quiero la licencia»)."""
    said = set(words(text))
    if said & _CHANGE or {"ya", "no", "quiero"} <= said:
        return False
    return bool(said & _ALSO) or is_question(text) or fold(text).startswith("y ")


_UNSURE = re.compile(r"^(no se|nose|no lo se|ni idea|no estoy segur[oa]|no sabria|quien sabe|mmm+|eh+)[ .!,]*$")
_YES_START = re.compile(r"^(si+|claro|ok|okey|dale|de una|de ley|simon|listo|correcto|ya|bueno|sale|va)\b")
_YES_ANYWHERE = re.compile(r"\b(confirmo|confirme|de acuerdo|hagalo|mandelo|mandemelo|envielo|enviemelo|adelante)\b")


def is_unsure(text: str) -> bool:
    """«no sé», «ni idea»: not an answer (and not a «no»)."""
    return bool(_UNSURE.match(fold(text)))


_STOP_WORDS = re.compile(
    r"\b(no|nada|cancel\w*|anul\w*|dej\w*|olvid\w*|basta|salir|terminar|despues|luego|otro dia|mejor)\b"
)


def says_stop(text: str) -> bool:
    """Whether ``text`` carries a word of stopping or refusing («cancele», «déjelo», «mejor no», «otro día»)."""
    return _STOP_WORDS.search(fold(text)) is not None


def says_yes(text: str) -> bool:
    """A yes to the question pending: a sentence that opens with one («sí, quiero pagar ahora») or confirms
    inside («ah bueno, mi esposo me presta la tarjeta, confirmo»). A question is never a yes («¿y si no pago?»)."""
    if is_question(text):
        return False
    folded = fold(text)
    return bool(_YES_START.match(folded) or _YES_ANYWHERE.search(folded))
