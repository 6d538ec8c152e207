"""Certificado de votación of the last election (CNE): free for who voted or was exempt; a fined voter pays first."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any

from bot.documents.service import Holder, IssuedDocument
from bot.documents.templates import DocumentKind
from bot.language import proper_name, sentence
from bot.services import Servicios
from bot.storage.models_tramites import EstadoSolicitud
from bot.texts import Textos, load_textos
from bot.tramites.certificado_votacion import TRAMITE
from bot.tramites.solicitudes import Solicitud
from integrations.registros.errors import NotFound, Rejected, Unavailable
from integrations.registros.records import EstadoVoto, RegistroVotacion

CLAVE = TRAMITE.clave
# Why voting was optional, as the CNE codes it; anything else reads as "another optional group".
MOTIVOS = ("edad_16_17", "edad_65_o_mas", "discapacidad", "fuerza_publica")


class Situacion(enum.StrEnum):
    """What the voter's record means for the certificate, the most pressing first."""

    MULTA = "multa"  # a fine not yet paid: the certificate comes after the payment
    EXENTO = "exento"  # did not vote in some round, but voting was optional for them
    MULTA_PAGADA = "multa_pagada"  # did not vote and has already paid the fine
    SUFRAGO = "sufrago"  # voted in every round


@dataclass(frozen=True)
class Ronda:
    """One round of the record, in the form kept in the conversation (no cédula, no name)."""

    vuelta: str
    fecha: date
    estado: EstadoVoto
    motivo: str | None
    multa: Decimal | None
    pagada: bool


@dataclass(frozen=True)
class Resumen:
    """What the citizen is shown and confirms: the process, each round and the fine still owed."""

    situacion: Situacion
    proceso: str
    multa: Decimal
    rondas: tuple[Ronda, ...]

    @classmethod
    def de(cls, registro: RegistroVotacion) -> Resumen:
        """Summarise a CNE record."""
        rondas = tuple(
            Ronda(v.vuelta, v.fecha, v.estado, v.motivo_exencion, v.multa, v.multa_pagada) for v in registro.vueltas
        )
        return cls(situacion(registro), proper_name(registro.proceso), registro.multa_pendiente, rondas)

    def to_slot(self) -> dict[str, Any]:
        """A JSON value for the ``votacion_registro`` slot."""
        return {
            "situacion": self.situacion.value,
            "proceso": self.proceso,
            "multa": f"{self.multa:.2f}",
            "rondas": [
                {
                    "vuelta": r.vuelta,
                    "fecha": r.fecha.isoformat(),
                    "estado": r.estado.value,
                    "motivo": r.motivo,
                    "multa": None if r.multa is None else f"{r.multa:.2f}",
                    "pagada": r.pagada,
                }
                for r in self.rondas
            ],
        }

    @classmethod
    def from_slot(cls, value: Any) -> Resumen | None:
        """The summary kept in the slot; None when the slot is empty or not one of ours."""
        if not isinstance(value, dict):
            return None
        try:
            rondas = tuple(
                Ronda(
                    vuelta=str(r["vuelta"]),
                    fecha=date.fromisoformat(str(r["fecha"])),
                    estado=EstadoVoto(r["estado"]),
                    motivo=r.get("motivo"),
                    multa=None if r.get("multa") is None else Decimal(str(r["multa"])),
                    pagada=bool(r.get("pagada")),
                )
                for r in value["rondas"]
            )
            return cls(Situacion(value["situacion"]), str(value["proceso"]), Decimal(str(value["multa"])), rondas)
        except (KeyError, TypeError, ValueError, ArithmeticError):
            return None


@dataclass(frozen=True)
class Resultado:
    estado: EstadoSolicitud
    solicitud: Solicitud
    documento: IssuedDocument | None = None


def situacion(registro: RegistroVotacion) -> Situacion:
    """How the record stands: an unpaid fine first, then an exemption, a paid fine, or a vote in every round."""
    if registro.multa_pendiente > 0:
        return Situacion.MULTA
    estados = {v.estado for v in registro.vueltas}
    if EstadoVoto.EXENTO in estados:
        return Situacion.EXENTO
    if EstadoVoto.MULTA in estados:
        return Situacion.MULTA_PAGADA
    return Situacion.SUFRAGO


def motivo_plantilla(motivo: str | None) -> str:
    """The template that names why voting was optional."""
    return f"votacion_motivo_{motivo}" if motivo in MOTIVOS else "votacion_motivo_otro"


@lru_cache(maxsize=2)
def _textos(directory: Path) -> Textos:
    return load_textos(directory)


def campos_certificado(registro: RegistroVotacion, textos: Textos, *, multa_pagada_aqui: bool) -> dict[str, str]:
    """The printed fields of the certificate (``data/plantillas/documentos/certificado_votacion.yml``).

    The voting place is the CNE's, with its accents (its electoral zone is left out: one A5 page has no room for
    it); when the CNE's answer carries no place, those fields say so («No consta en el CNE») rather than guess.
    """
    partes = []
    for v in registro.vueltas:
        if v.estado is EstadoVoto.SUFRAGO:
            estado = textos.render("votacion_doc_sufrago").text
        elif v.estado is EstadoVoto.EXENTO:
            motivo = textos.render(motivo_plantilla(v.motivo_exencion)).text
            estado = textos.render("votacion_doc_exento", motivo=motivo).text
        elif v.multa_pagada or multa_pagada_aqui:
            estado = textos.render("votacion_doc_multa_pagada").text
        else:
            estado = textos.render("votacion_doc_multa").text
        partes.append(textos.render("votacion_doc_vuelta", vuelta=v.vuelta.capitalize(), estado=estado).text)
    lugar = registro.lugar
    if lugar is None:
        no_consta = textos.render("votacion_doc_no_consta").text
        sitio = dict.fromkeys(("provincia", "canton", "parroquia", "junta", "recinto"), no_consta)
    else:
        sitio = {
            "provincia": proper_name(lugar.provincia),
            "canton": proper_name(lugar.canton),
            "parroquia": proper_name(lugar.parroquia),
            "junta": sentence(lugar.junta),
            "recinto": proper_name(lugar.recinto),
        }
    return {"proceso_electoral": proper_name(registro.proceso), **sitio, "estado": "; ".join(partes)}


async def procesar(s: Servicios, solicitud: Solicitud, cedula: str) -> Resultado:
    """Read the CNE record and issue the certificate once nothing is owed (retried later on an outage).

    The fine counts as paid when the CNE says so or when this application's payment covers it (the
    sandbox CNE does not learn of our payments; the real integration reports them to the CNE).
    """
    solicitud = await s.solicitudes.cambiar_estado(solicitud.id, EstadoSolicitud.EN_PROCESO)
    try:
        registro = await s.registros.cne.registro_votacion(cedula)
    except Unavailable:
        return Resultado(
            EstadoSolicitud.EN_PROCESO, await s.solicitudes.reintentar_despues(solicitud.id, nota="cne_no_disponible")
        )
    except (NotFound, Rejected) as exc:
        return Resultado(
            EstadoSolicitud.RECHAZADA,
            await s.solicitudes.cambiar_estado(solicitud.id, EstadoSolicitud.RECHAZADA, nota=exc.code),
        )
    pagado = sum((p.monto for p in await s.pagos.de_solicitud(solicitud.id) if p.pagado), Decimal("0.00"))
    if registro.multa_pendiente > pagado:
        return Resultado(
            EstadoSolicitud.RECHAZADA,
            await s.solicitudes.cambiar_estado(solicitud.id, EstadoSolicitud.RECHAZADA, nota="multa_pendiente"),
        )
    await s.solicitudes.cambiar_estado(solicitud.id, EstadoSolicitud.APROBADA)
    issued = await s.documents.issuer.issue(
        DocumentKind.CERTIFICADO_VOTACION,
        Holder(cedula=cedula, name=proper_name(registro.nombre)),
        campos_certificado(registro, _textos(s.settings.textos_dir), multa_pagada_aqui=pagado > 0),
        conversation_id=solicitud.conversation_id,
        once_for=f"solicitud:{solicitud.id}",  # a worker taking over a dead one's application gets this one back
    )
    await s.solicitudes.adjuntar_documento(solicitud.id, issued.id)
    solicitud = await s.solicitudes.cambiar_estado(
        solicitud.id, EstadoSolicitud.EMITIDA, datos={"codigo_verificacion": issued.verification_code}
    )
    return Resultado(EstadoSolicitud.EMITIDA, solicitud, issued)
