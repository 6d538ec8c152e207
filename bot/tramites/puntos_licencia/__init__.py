"""Puntos de la licencia (ANT): points left and the citations that took them."""

from bot.tramites.declaration import declare

TRAMITE = declare(__name__)
