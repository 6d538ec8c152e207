"""Certificado de antecedentes penales (Ministerio del Interior): free, asked with a reason, valid 90 days."""

from bot.tramites.declaration import declare

TRAMITE = declare(__name__)
