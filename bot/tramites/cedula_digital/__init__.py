"""Cédula digital (Registro Civil): the citizen's identity data and a signed digital cédula."""

from bot.tramites.declaration import declare

TRAMITE = declare(__name__)
