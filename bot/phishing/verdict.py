"""The verdict on a whole message: its links, its numbers and users, its warning signs, and the overall risk."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import StrEnum

from bot.language import fold
from bot.phishing.catalogue import Catalogue
from bot.phishing.links import LinkCheck, LinkReason, LinkVerdict, check_link, find_links, host_of
from bot.phishing.senders import OwnSenders, SenderCheck, find_senders
from bot.phishing.signals import Signal, find_signals

# Links to a chat rather than a site: checked as senders (is it Chasqui's number, Chasqui's bot?), not as sites.
_CHAT_HOSTS = frozenset({"t.me", "telegram.me", "wa.me", "api.whatsapp.com"})
# Vault references the gateway puts where the citizen typed a number (bot.privacy.vault): revealed before checking.
_NUMBER_REFERENCE = re.compile(r"\b(?:tel|ced)_[0-9a-f]{10}\b")
# «¿esto es oficial?», «¿es verdad?», «¿será estafa?»: the citizen asks about what they pasted.
_ASKS = re.compile(
    r"\b(?:es|sera|seria|esto|este|esta|eso|ese)\s+(?:\w+\s+)?(?:oficial|real|verdad|verdadero|cierto|legal|legitimo"
    r"|falso|estafa|enganio|engano|fraude|seguro|confiable)\b|\bphishing\b|\bestafa\b"
)


class Risk(StrEnum):
    """The overall reading; it picks the advice at the end of the answer."""

    PELIGRO = "peligro"  # a look-alike link or a warning sign: a fake
    DUDOSO = "dudoso"  # links or numbers that are not the State's or Chasqui's, without signs: not official
    CONFIABLE = "confiable"  # only official links and Chasqui's own senders, and no sign
    NADA = "nada"  # nothing to check: no link, number, user or sign


@dataclass(frozen=True)
class MessageCheck:
    links: tuple[LinkCheck, ...]
    senders: tuple[SenderCheck, ...]
    signals: tuple[Signal, ...]

    @property
    def risk(self) -> Risk:
        if self.signals or any(
            link.verdict is LinkVerdict.IMITACION or LinkReason.DIRECCION_IP in link.reasons for link in self.links
        ):
            return Risk.PELIGRO
        if any(link.verdict is not LinkVerdict.OFICIAL for link in self.links) or any(
            not sender.propio for sender in self.senders
        ):
            return Risk.DUDOSO
        return Risk.CONFIABLE if self.links or self.senders else Risk.NADA


def check_message(text: str, catalogue: Catalogue, own: OwnSenders) -> MessageCheck:
    """The verdict on ``text``; nothing in it is opened, fetched or resolved.

    Args:
        text: the message as the citizen pasted or forwarded it (vault references already revealed, see
            `reveal_numbers`).
        catalogue: the official domains and the warning signs (`load_catalogue`).
        own: Chasqui's own senders, from the settings.
    """
    links = find_links(text)
    sites = [link for link in links if host_of(link) not in _CHAT_HOSTS]
    return MessageCheck(
        links=tuple(check_link(link, catalogue) for link in _distinct_hosts(sites)),
        senders=tuple(find_senders(text, own, ignore=sites)),
        signals=find_signals(text, catalogue.signals),
    )


def _distinct_hosts(links: list[str]) -> list[str]:
    """One link per host: the verdict is about the domain, and a long message repeats it."""
    seen: set[str] = set()
    kept = []
    for link in links:
        host = host_of(link)
        if host not in seen:
            seen.add(host)
            kept.append(link)
    return kept


def wants_check(text: str, catalogue: Catalogue, *, forwarded: bool = False) -> bool:
    """Whether a message is one to check rather than a request for Chasqui: it carries a link, and it was forwarded,
    or it is only the link, or it asks «¿es oficial?», or it tells the reader to open the link, or it carries a
    warning sign. A request that mentions a site («vi en ant.gob.ec que la licencia cuesta…») goes on to Rasa.
    """
    links = find_links(text)
    if not links:
        return False
    rest = text
    for link in links:
        rest = rest.replace(link, " ")
    plain = fold(rest)
    return (
        forwarded
        or len(re.findall(r"\w+", plain)) <= 3
        or _ASKS.search(plain) is not None
        or any(p.search(plain) for p in catalogue.calls_to_open)
        or bool(find_signals(rest, catalogue.signals))
    )


async def reveal_numbers(text: str, take: Callable[[str], Awaitable[str | None]]) -> str:
    """``text`` with the vault references of numbers (``tel_…``, ``ced_…``) replaced by what the citizen typed.

    Args:
        take: redeems one reference for this conversation (the gateway's vault, or the action server's client);
            a reference it cannot redeem stays as it is, and is then no number to check.
    """
    pieces: list[str] = []
    cursor = 0
    for match in _NUMBER_REFERENCE.finditer(text):
        value = await take(match.group(0))
        pieces += [text[cursor : match.start()], value if value is not None else match.group(0)]
        cursor = match.end()
    pieces.append(text[cursor:])
    return "".join(pieces)
