"""Multas de tránsito (ANT): citations by cédula or by a plate one owns, and paying them."""

from bot.tramites.declaration import declare

TRAMITE = declare(__name__)
