"""RUC (SRI): status, activities and the RUC certificate."""

from bot.tramites.declaration import declare

TRAMITE = declare(__name__)
