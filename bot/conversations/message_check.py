"""The message-check stage: a forwarded or pasted message with a link is checked here («¿esto es oficial?»).

A citizen who forwards a suspicious SMS or WhatsApp message usually sends it with no question, or with
«¿es verdad?»; the NLU cannot be counted on to read a stranger's message as a request. So when a text carries a
link and reads as a message to check (`bot.phishing.verdict.wants_check`: forwarded by the channel, only the link,
«¿es oficial?», «ingrese aquí», a warning sign), the gateway answers it by itself, like a photo of a document:
the same check and wording as `action_verificar_mensaje`, nothing sent to Rasa, the link never opened. Any other
text goes on to Rasa, where the `verificar_mensaje` intent reaches the action.
"""

from __future__ import annotations

import structlog

from bot.phishing.answer import word_check
from bot.phishing.catalogue import Catalogue
from bot.phishing.senders import OwnSenders
from bot.phishing.verdict import check_message, reveal_numbers, wants_check
from bot.privacy.vault import Vault
from bot.texts import Texto, Textos

log = structlog.get_logger(__name__)


class MessageCheck:
    """Answers a message to check; None for any other message."""

    def __init__(self, *, catalogue: Catalogue, own: OwnSenders, textos: Textos, vault: Vault) -> None:
        self._catalogue = catalogue
        self._own = own
        self._textos = textos
        self._vault = vault

    async def answer(self, text: str, *, conversation_id: str, forwarded: bool = False) -> Texto | None:
        """The verdict on ``text`` (as stored: numbers are vault references of this conversation), or None."""
        if not wants_check(text, self._catalogue, forwarded=forwarded):
            return None

        async def take(reference: str) -> str | None:
            return await self._vault.take(reference, owner=conversation_id)

        check = check_message(await reveal_numbers(text, take), self._catalogue, self._own)
        answer = word_check(check, self._textos, self._own)
        log.info("mensaje.verificado", riesgo=check.risk.value, enlaces=len(check.links), senales=len(check.signals))
        return answer
