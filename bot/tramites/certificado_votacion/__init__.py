"""Certificado de votación (CNE): voted, exempt, or fined (the fines are paid first)."""

from bot.tramites.declaration import declare

TRAMITE = declare(__name__)
