"""`verificar_mensaje` («¿esto es oficial?»): the citizen pastes a message, a link or a number they received and
learns whether its links are the State's, whether its numbers are Chasqui's, and which warning signs it carries.

The check is `bot.phishing.check_message`, the same the gateway runs on a forwarded message with a link; the link
is never opened. Numbers reach Rasa as vault references (bot.privacy.vault) and are revealed here, for this turn.
"""

from __future__ import annotations

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from bot.actions.forms import in_form, latest_text, no_buttons_in_form, payment_link_sent, previous_user_text
from bot.actions.general import replay_as
from bot.actions.runtime import services, textos
from bot.identity.vault_client import VaultUnavailable
from bot.phishing.answer import word_check
from bot.phishing.catalogue import load_catalogue
from bot.phishing.senders import OwnSenders
from bot.phishing.verdict import Risk, check_message, reveal_numbers


class ActionVerificarMensaje(Action):
    def name(self) -> str:
        return "action_verificar_mensaje"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        s = await services()

        async def take(reference: str) -> str | None:
            try:
                return await s.vault.take(reference, owner=tracker.sender_id)
            except VaultUnavailable:
                return None  # the number stays a reference: the rest of the message is still checked

        own = OwnSenders.from_settings(
            whatsapp_from=s.settings.twilio_whatsapp_from, telegram_username=s.settings.telegram_bot_username
        )
        catalogue = load_catalogue(s.settings.project_dir / "data")
        check = check_message(await reveal_numbers(latest_text(tracker), take), catalogue, own)
        if check.risk is Risk.NADA:
            # «¿esto es oficial?» alone: about the message pasted just before it, if that one has something to
            # check; about Chasqui itself while a form or a payment is under way («¿es oficial?» at the link).
            earlier = check_message(await reveal_numbers(previous_user_text(tracker), take), catalogue, own)
            if earlier.risk is not Risk.NADA:
                check = earlier
            elif in_form(tracker) or payment_link_sent(tracker):
                return replay_as(tracker, "preguntar_seguridad")
        answer = word_check(check, textos(), own)
        dispatcher.utter_message(text=answer.text, plantilla=answer.key)
        no_buttons_in_form(dispatcher, tracker)
        return []
