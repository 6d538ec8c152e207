"""Licencia de conducir (ANT): type, validity, points, renewal window and the digital licence."""

from bot.tramites.declaration import declare

TRAMITE = declare(__name__)
