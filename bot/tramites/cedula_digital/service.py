"""Cédula digital: the Registro Civil's record as printed and said, and the signed document valid until the
cédula expires (the registry's date, never a computed one)."""

from __future__ import annotations

from datetime import date

from bot.documents.service import Holder, IssuedDocument, valid_through
from bot.documents.templates import DocumentKind
from bot.language import civil_status, proper_name, sentence
from bot.services import Servicios
from integrations.registros.records import Ciudadano

SIN_DATO = "—"


def fecha(value: date | None) -> str:
    return value.strftime("%d/%m/%Y") if value else SIN_DATO


def campos(persona: Ciudadano) -> dict[str, str]:
    """The printed fields (``data/plantillas/documentos/cedula_digital.yml``), each from the registry's record:
    names and places keep their accents, the civil status agrees with the holder's sex."""
    return {
        "fecha_nacimiento": fecha(persona.fecha_nacimiento),
        "lugar_nacimiento": proper_name(persona.lugar_nacimiento) if persona.lugar_nacimiento else SIN_DATO,
        "nacionalidad": sentence(persona.nacionalidad) if persona.nacionalidad else SIN_DATO,
        "sexo": sentence(persona.sexo) if persona.sexo else SIN_DATO,
        "estado_civil": civil_status(persona.estado_civil, persona.sexo) if persona.estado_civil else SIN_DATO,
        "fecha_expedicion": fecha(persona.fecha_cedulacion),
    }


def titular(persona: Ciudadano) -> Holder:
    """The holder as the registry names them, accents kept."""
    return Holder(cedula=persona.cedula, name=proper_name(persona.nombre))


async def emitir(s: Servicios, persona: Ciudadano, *, conversation_id: str) -> IssuedDocument:
    """Sign the digital cédula: issued now, valid until the cédula's expiry date in the Registro Civil."""
    return await s.documents.issuer.issue(
        DocumentKind.CEDULA_DIGITAL,
        titular(persona),
        campos(persona),
        conversation_id=conversation_id,
        expires_at=None if persona.fecha_expiracion is None else valid_through(persona.fecha_expiracion),
    )
