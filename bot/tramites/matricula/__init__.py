"""Matrícula del vehículo (ANT / SRI): vehicle data, the month by the plate's last digit, amounts, status."""

from bot.tramites.declaration import declare

TRAMITE = declare(__name__)
