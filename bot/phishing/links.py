"""Links in a message and whether their domain is the State's: official, a look-alike, or someone else's.

A link is only parsed. The registrable domain comes from the Public Suffix List snapshot bundled with
tldextract (``suffix_list_urls=()``, no cache directory): nothing is downloaded, resolved or opened.

A host is official when it is, or is under, a domain or suffix of the catalogue, written in plain ASCII. Any
other host is a look-alike when one of these holds, checked in this order:

- its letters are from another alphabet (or punycode, ``xn--``) and, read as Latin letters, it is official;
- the part before «@» in the link shows a domain while the link goes to another host;
- it carries «gob» (or «gobierno», «gov») with «ec» (or «ecuador») outside the real suffix: ``gob-ec.com``,
  ``gob.ec.pagos.com``, ``registrocivil-gob.ec``;
- it carries an institution's name (`OfficialDomain.nombres`): ``sri-ec.com``, ``registrocivilecuador.net``;
- its registrable label is one or two letters away from an institution's: ``registrocivll.com``.
"""

from __future__ import annotations

import contextlib
import ipaddress
import re
import unicodedata
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import idna

from bot.phishing.catalogue import Catalogue, OfficialDomain

if TYPE_CHECKING:
    import tldextract


class LinkVerdict(StrEnum):
    OFICIAL = "oficial"  # the State's
    IMITACION = "imitacion"  # not the State's, and made to look like it
    AJENO = "ajeno"  # someone else's: not the State's, not pretending


class LinkReason(StrEnum):
    """Why a link is not official (the answer explains the first one)."""

    LETRAS_EXTRANAS = "letras"  # letters of another alphabet that look Latin (homoglyphs, punycode)
    DESTINO_OCULTO = "oculto"  # «https://www.sri.gob.ec@otro.com»: the text before «@» is not where it goes
    IMITA_SUFIJO = "sufijo"  # «gob-ec.com», «gob.ec.pagos.com»
    USA_NOMBRE = "nombre"  # «sri-pagos.com»
    PARECIDO = "parecido"  # «registrocivll.com»
    ACORTADOR = "acortador"  # bit.ly and friends: the destination cannot be known without opening it
    DIRECCION_IP = "ip"  # «http://190.12.4.5/pago»


@dataclass(frozen=True)
class LinkCheck:
    """One link's verdict.

    Attributes:
        host: the host as the answer shows it: lower case, and punycode when it has letters of another alphabet
            (so that a look-alike shows what it is).
        institucion: the official owner, or the institution a look-alike imitates, when known.
        dominio_real: the institution's real domain, for a look-alike of a known institution.
    """

    host: str
    verdict: LinkVerdict
    reasons: tuple[LinkReason, ...] = ()
    institucion: str | None = None
    dominio_real: str | None = None


# A link with a scheme (also defanged «hxxp»), or a bare host with a dot and a word after it («sri-pagos.com/x»).
_LABEL = r"[^\W_](?:[\w-]{0,61}[^\W_])?"
_LINK = re.compile(
    r"(?:https?|hxxps?)://[^\s<>\"'«»]+"
    rf"|(?<![\w@.\-/])(?:{_LABEL}\.)+(?:xn--[a-z0-9-]{{2,59}}|[^\W\d_]{{2,63}})(?![\w@-])"
    r"(?::\d{1,5})?(?:[/?#][^\s<>\"'«»]*)?",
    re.IGNORECASE,
)
_TRAILING = ".,;:!?)]}»\"'…"
# Digits and pairs that stand in for letters in look-alikes («reg1strocivil», «rnultas»).
_STAND_INS = (("rn", "m"), ("vv", "w"), ("0", "o"), ("1", "l"), ("3", "e"), ("4", "a"), ("5", "s"), ("7", "t"))
_GOB = frozenset({"gob", "gobierno", "gov"})
_EC = ("ec", "ecu", "ecuador")


@lru_cache(maxsize=1)
def _extractor() -> tldextract.TLDExtract:
    """The bundled suffix list only: no URL to fetch it from, no cache on disk.

    Imported with the first text that looks like a link: tldextract brings requests along (about 17 MB that the
    gateway and the action server would otherwise hold from start for a rare message)."""
    import tldextract

    return tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None, fallback_to_snapshot=True)


def find_links(text: str) -> list[str]:
    """Every link in ``text``, as written, once each, in order; bare words with a dot that are no domain are left
    out («Sr.Pérez», «12.50»)."""
    found: list[str] = []
    for match in _LINK.finditer(text):
        link = match.group(0).rstrip(_TRAILING)
        host = host_of(link)
        if host and link not in found and (_is_ip(host) or _extractor()(_ascii(host)).suffix):
            found.append(link)
    return found


def host_of(link: str) -> str:
    """The host a link goes to (after any «user@»), lower case, without a trailing dot; '' when there is none."""
    target = re.sub(r"^hxxp", "http", link, flags=re.IGNORECASE)
    if "://" not in target:
        target = "http://" + target
    try:
        return (urlsplit(target).hostname or "").rstrip(".")
    except ValueError:
        return ""


def check_link(link: str, catalogue: Catalogue) -> LinkCheck:
    """The verdict on one link (see the module's docstring for the rules)."""
    host = host_of(link)
    shown = _ascii(host)
    if _is_ip(host):
        return LinkCheck(shown, LinkVerdict.AJENO, (LinkReason.DIRECCION_IP,))
    plain = shown == host and not any(label.startswith("xn--") for label in host.split("."))
    owner = _official(host, catalogue) if plain else None
    if owner is not None:
        return LinkCheck(shown, LinkVerdict.OFICIAL, institucion=owner.institucion)
    shown_before_at = _userinfo_host(link)
    if shown_before_at:
        imitated = _official(shown_before_at, catalogue) or _look_alike(shown_before_at, catalogue)[1]
        return _imitation(shown, (LinkReason.DESTINO_OCULTO,), imitated)
    reason, imitated = _look_alike(host, catalogue)
    if not plain and _official(_skeleton(host), catalogue) is not None:
        return _imitation(shown, (LinkReason.LETRAS_EXTRANAS,), _official(_skeleton(host), catalogue))
    if reason is not None:
        reasons = (reason,) if plain else (LinkReason.LETRAS_EXTRANAS, reason)
        return _imitation(shown, reasons, imitated)
    parts = _extractor()(shown)
    if parts.top_domain_under_public_suffix in catalogue.shorteners or shown in catalogue.shorteners:
        return LinkCheck(shown, LinkVerdict.AJENO, (LinkReason.ACORTADOR,))
    return LinkCheck(shown, LinkVerdict.AJENO)


def _imitation(shown: str, reasons: tuple[LinkReason, ...], imitated: OfficialDomain | None) -> LinkCheck:
    named = imitated is not None and imitated.dominio != imitated.institucion
    return LinkCheck(
        shown,
        LinkVerdict.IMITACION,
        reasons,
        institucion=imitated.institucion if named and imitated else None,
        dominio_real=imitated.dominio if named and imitated else None,
    )


def _official(host: str, catalogue: Catalogue) -> OfficialDomain | None:
    """The most specific official domain ``host`` is or is under; the suffix's entry when only that matches."""
    suffixes = {s.dominio for s in catalogue.suffixes}  # «gob.ec» the portal is www.gob.ec, not every gob.ec site
    matches = [
        d
        for d in catalogue.domains
        if host in (d.dominio, "www." + d.dominio) or (d.dominio not in suffixes and host.endswith("." + d.dominio))
    ]
    if matches:
        return max(matches, key=lambda d: len(d.dominio))
    return next((s for s in catalogue.suffixes if host == s.dominio or host.endswith("." + s.dominio)), None)


def _look_alike(host: str, catalogue: Catalogue) -> tuple[LinkReason | None, OfficialDomain | None]:
    """Why a host that is not official looks like one, and which institution it borrows from."""
    skeleton = _skeleton(host)
    found: list[tuple[LinkReason, OfficialDomain | None]] = []
    for variant in dict.fromkeys((skeleton, _stand_ins(skeleton))):  # as written, and with «1» read as «l»…
        parts = _extractor()(variant)
        body = ".".join(p for p in (parts.subdomain, parts.domain) if p)
        tokens = [t for t in re.split(r"[^a-z0-9]+", body) if t]
        named = _named(tokens, catalogue)
        if _imitates_state_suffix(tokens, parts.suffix.split(".") if parts.suffix else []):
            found.append((LinkReason.IMITA_SUFIJO, named))
        elif named is not None:
            found.append((LinkReason.USA_NOMBRE, named))
        elif (near := _near(parts.domain, catalogue)) is not None:
            found.append((LinkReason.PARECIDO, near))
    order = list(LinkReason)
    return min(found, key=lambda f: order.index(f[0])) if found else (None, None)


def _imitates_state_suffix(tokens: list[str], suffix_tokens: list[str]) -> bool:
    gob = any(t in _GOB or any(t == g + e for g in _GOB for e in _EC) for t in tokens)
    ec = any(t in _EC or any(t.endswith(e) and t[: -len(e)] in _GOB for e in _EC) for t in tokens)
    return gob and (ec or (bool(suffix_tokens) and suffix_tokens[-1] == "ec"))


def _named(tokens: list[str], catalogue: Catalogue) -> OfficialDomain | None:
    glued = "".join(tokens)
    for domain in catalogue.domains:
        for name in domain.nombres:
            compact = _stand_ins(name.replace("-", ""))
            if len(compact) > 4 and compact in glued:
                return domain
            words = catalogue.state_words
            if any(t == compact or any(t in (compact + w, w + compact) for w in words) for t in tokens):
                return domain
    return None


def _near(label: str, catalogue: Catalogue) -> OfficialDomain | None:
    """An institution whose label (or a long name) is one letter away from ``label`` (two, for 10 letters or more)."""
    if len(label) < 5:
        return None
    for domain in catalogue.domains:
        candidates = {_stand_ins(n.replace("-", "")) for n in (domain.dominio.split(".")[0], *domain.nombres)}
        for candidate in candidates:
            if len(candidate) < 5 or candidate == label:
                continue
            limit = 2 if len(candidate) >= 10 else 1
            if abs(len(candidate) - len(label)) <= limit and _distance(candidate, label) <= limit:
                return domain
    return None


def _distance(a: str, b: str) -> int:
    """Edit distance with transpositions (optimal string alignment): «registrocivil» → «regsitrocivil» is 1."""
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb))
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                current[j] = min(current[j], previous2[j - 2] + 1)
        previous2, previous = previous, current
    return previous[-1]


def _skeleton(host: str) -> str:
    """``host`` read as Latin letters: accents dropped, letters of other alphabets replaced by their look-alikes."""
    out = []
    for char in unicodedata.normalize("NFKD", _unicode(host)):
        if unicodedata.category(char) == "Mn":
            continue
        out.append(char if char.isascii() else _latin(char))
    return "".join(out).lower()


@lru_cache(maxsize=2048)
def _latin(char: str) -> str:
    from confusable_homoglyphs import confusables  # 7 MB of tables: imported for a link with foreign letters

    found = confusables.is_confusable(char, greedy=True, preferred_aliases=["latin"]) or []
    for entry in found:
        for homoglyph in entry.get("homoglyphs", ()):
            if str(homoglyph.get("c", "")).isascii():
                return str(homoglyph["c"])
    return char


def _stand_ins(host: str) -> str:
    for fake, letter in _STAND_INS:
        host = host.replace(fake, letter)
    return host


def _unicode(host: str) -> str:
    """Punycode labels decoded («xn--…» → the letters they stand for); a label that does not decode stays."""
    labels = []
    for label in host.split("."):
        if label.startswith("xn--"):
            try:
                label = idna.decode(label)
            except idna.IDNAError:
                with contextlib.suppress(UnicodeError):  # IDNA 2003 reads some that IDNA 2008 refuses
                    label = label.encode("ascii").decode("idna")
        labels.append(label)
    return ".".join(labels)


def _ascii(host: str) -> str:
    """The host in ASCII: labels with other letters as punycode («xn--…»), the way the browser would go."""
    labels = []
    for label in host.split("."):
        if not label.isascii():
            try:
                label = "xn--" + label.encode("punycode").decode("ascii")
            except UnicodeError:
                label = label.encode("ascii", "replace").decode("ascii")
        labels.append(label)
    return ".".join(labels)


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _userinfo_host(link: str) -> str | None:
    """The domain written before «@» in a link («https://www.sri.gob.ec@otro.com» → «www.sri.gob.ec»)."""
    match = re.match(r"^(?:(?:https?|hxxps?)://)?([^/?#@\s]+)@", link, re.IGNORECASE)
    if match is None:
        return None
    shown = match.group(1).split(":")[0].lower().rstrip(".")
    return shown if "." in shown else None
