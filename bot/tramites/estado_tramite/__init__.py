"""Estado de un trámite: where an application stands, by its number or from the list."""

from bot.tramites.declaration import declare

TRAMITE = declare(__name__)
