"""Mis documentos: documents already issued, resent or shared for a few minutes."""

from bot.tramites.declaration import declare

TRAMITE = declare(__name__)
