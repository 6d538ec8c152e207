"""Certificado de nacimiento (Registro Civil): for oneself or a minor child, USD 5 paid on the payment page."""

from bot.tramites.declaration import declare

TRAMITE = declare(__name__)
