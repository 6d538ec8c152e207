"""`mis_documentos`: the documents issued to the citizen; resend one, or give a short-lived link to share it.

The list is numbered newest first and the form keeps only the chosen number ("reenviar:2"): document ids
never reach the tracker.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from bot.actions.forms import LIST_PICK, SlotKind, SlotSpec, TramiteForm
from bot.actions.runtime import say, services, textos
from bot.actions.tramites import begin, deliver_documents, offer_next
from bot.documents.codes import format_code
from bot.documents.errors import DocumentNotFound, TemplateError
from bot.documents.service import IssuedSummary, as_utc, utcnow
from bot.services import Servicios
from bot.tramites.mis_documentos import TRAMITE

FORM = "mis_documentos_form"
SLOT = "documento_elegido"
MOSTRAR = 5  # documents listed, newest first (a phone screen); older ones can still be chosen by number
NINGUNO = "ninguno"
REENVIAR, COMPARTIR = "reenviar", "compartir"
SALIR = ("negar", "agradecer", "despedirse")  # "nada más, gracias" ends the form without a choice
END = [SlotSet(SLOT, None), SlotSet("requested_slot", None)]

# How citizens name a choice; matched on lower-case text without accents.
_NUMEROS = {"uno": 1, "dos": 2, "tres": 3, "cuatro": 4, "cinco": 5, "seis": 6, "siete": 7, "ocho": 8, "nueve": 9}
_ULTIMO = ("ultimo", "ultima", "reciente")
_COMPARTIR = ("compart", "enlace", "link")
_TIPOS = {
    "votacion": "certificado_votacion",
    "papeleta": "certificado_votacion",
    "ruc": "certificado_ruc",
    "cedula": "cedula_digital",
    "nacimiento": "certificado_nacimiento",
    "partida": "certificado_nacimiento",
    "antecedentes": "certificado_antecedentes_penales",
    "record": "certificado_antecedentes_penales",
    "policial": "certificado_antecedentes_penales",
    "licencia": "licencia_conducir",
    "matricula": "matricula_vehicular",
}


# How long a share link lasts: the citizen chooses among these (minutes); the first is the default.
SHARE_MINUTES = (10, 60, 24 * 60)
# «por 1 hora», «24 horas», «un día», «media hora», «10 min»: a duration, not a document's number.
_DURACION = re.compile(r"\b(\d+|una?|media)\s*(minutos?|min|horas?|h|dias?)\b")


@dataclass(frozen=True)
class Eleccion:
    """What to do with which document of the list (``numero`` 1 is the newest); for a share, for how long."""

    accion: str
    numero: int
    minutos: int | None = None  # a share link's lifetime, when the citizen said one

    def to_slot(self) -> str:
        return f"{self.accion}:{self.numero}" + (f":{self.minutos}" if self.minutos else "")

    @classmethod
    def from_slot(cls, value: Any) -> Eleccion | None:
        accion, _, rest = str(value or "").partition(":")
        numero, _, minutos = rest.partition(":")
        if accion not in (REENVIAR, COMPARTIR) or not numero.isdigit():
            return None
        return cls(accion, int(numero), int(minutos) if minutos.isdigit() else None)


def duracion(texto: str) -> tuple[str, int | None]:
    """The text without the duration it names, and that duration rounded up to an offered one (minutes)."""
    match = _DURACION.search(texto)
    if match is None:
        return texto, None
    amount, unit = match.groups()
    count = 0.5 if amount == "media" else 1 if amount in ("un", "una") else int(amount)
    minutes = count * (60 if unit.startswith("h") else 24 * 60 if unit.startswith("d") else 1)
    offered = next((m for m in SHARE_MINUTES if minutes <= m), SHARE_MINUTES[-1])
    return texto[: match.start()] + texto[match.end() :], offered


def _plain(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFD", text.lower()) if unicodedata.category(c) != "Mn")


def elegir(texto: str, tipos: Sequence[str]) -> Eleccion | None:
    """Read a choice: a number ("2", "el dos"), a kind ("el de votación"), or "el último"; "compartir" shares.

    Args:
        texto: what the citizen wrote.
        tipos: the kinds of their documents, newest first (to find "el de votación").
    """
    sin_duracion, minutos = duracion(_plain(texto))
    palabras = re.findall(r"[a-z]+|\d+", sin_duracion)
    accion = COMPARTIR if any(p.startswith(_COMPARTIR) for p in palabras) else REENVIAR
    minutos = minutos if accion == COMPARTIR else None
    for palabra in palabras:
        if palabra.isdigit():
            return Eleccion(accion, int(palabra), minutos)
    for palabra in palabras:
        if palabra in _TIPOS and _TIPOS[palabra] in tipos:
            return Eleccion(accion, list(tipos).index(_TIPOS[palabra]) + 1, minutos)
    for palabra in palabras:
        if palabra in _NUMEROS:
            return Eleccion(accion, _NUMEROS[palabra], minutos)
    if any(p in _ULTIMO for p in palabras):
        return Eleccion(accion, 1, minutos)
    return None


def titulo_documento(s: Servicios, kind: str) -> str:
    """A document kind as citizens read it: its template's title (``data/plantillas/documentos``)."""
    try:
        return s.documents.plantillas.document(kind).title
    except TemplateError:  # a kind without a template any more: show its code rather than fail the list
        return kind


def _fecha(s: Servicios, moment: datetime) -> str:
    return as_utc(moment).astimezone(s.settings.zona_horaria).strftime("%d/%m/%Y")


def linea(s: Servicios, numero: int, documento: IssuedSummary) -> str:
    """One line of the list: number, kind, issue date and whether it is still valid."""
    if documento.revoked:
        vigencia = textos().render("mis_documentos_revocado_corto").text
    elif as_utc(documento.expires_at) < utcnow():
        vigencia = textos().render("mis_documentos_vencido_corto", fecha=_fecha(s, documento.expires_at)).text
    else:
        vigencia = textos().render("mis_documentos_vigente_corto", fecha=_fecha(s, documento.expires_at)).text
    return (
        textos()
        .render(
            "mis_documentos_linea",
            numero=numero,
            tipo=titulo_documento(s, documento.kind),
            emitido=_fecha(s, documento.issued_at),
            vigencia=vigencia,
        )
        .text
    )


async def documentos(tracker: Tracker) -> list[IssuedSummary] | None:
    """The citizen's documents, newest first; None when the chat is no longer linked to an identity."""
    s = await services()
    identidad = await s.identidad.current(tracker.sender_id)
    if identidad is None:
        return None
    return await s.documents.issuer.of_holder(identidad.cedula)


class ActionIniciarMisDocumentos(Action):
    def name(self) -> str:
        return "action_iniciar_mis_documentos"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        return await begin(dispatcher, tracker, TRAMITE)


class ValidateMisDocumentosForm(TramiteForm):
    slots: ClassVar[dict[str, SlotSpec]] = {
        "documento_elegido": SlotSpec(SlotKind.CHOICE, accepts=LIST_PICK, exits=frozenset(SALIR)),
    }

    """At activation, a citizen without documents is told so and the form ends; otherwise it asks which one."""

    def name(self) -> str:
        return "validate_mis_documentos_form"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        if (tracker.active_loop or {}).get("name") != FORM:
            found = await documentos(tracker)
            if found is None:
                say(dispatcher, "mis_documentos_sesion_vencida")
                return list(END)
            if not found:
                say(dispatcher, "mis_documentos_ninguno")
                return list(END)
            return [SlotSet(SLOT, None), SlotSet("requested_slot", SLOT)]
        return list(await super().run(dispatcher, tracker, domain))

    async def validate_documento_elegido(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if ((tracker.latest_message or {}).get("intent") or {}).get("name") in SALIR:
            return {SLOT: NINGUNO}
        found = await documentos(tracker) or []
        eleccion = elegir(str(value or ""), [d.kind for d in found])
        if eleccion is None:
            say(dispatcher, "mis_documentos_no_entendido")
            return {SLOT: None}
        if not 1 <= eleccion.numero <= len(found):
            say(dispatcher, "mis_documentos_numero_fuera", numero=eleccion.numero)
            return {SLOT: None}
        return {SLOT: eleccion.to_slot()}


class ActionAskDocumentoElegido(Action):
    def name(self) -> str:
        return "action_ask_documento_elegido"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        s = await services()
        found = await documentos(tracker) or []
        shown = found[:MOSTRAR]
        lineas = "\n".join(linea(s, n, d) for n, d in enumerate(shown, start=1))
        if len(found) > len(shown):
            say(dispatcher, "mis_documentos_lista_parcial", lineas=lineas, mostrados=len(shown), total=len(found))
        else:
            say(dispatcher, "mis_documentos_lista", lineas=lineas)
        # One button per listed document, in list order: on WhatsApp option n is document n.
        buttons = [
            {"title": textos().render("mis_documentos_boton", numero=n).text, "payload": str(n)}
            for n in range(1, len(shown) + 1)
        ]
        dispatcher.messages[-1]["buttons"] = buttons + dispatcher.messages[-1]["buttons"]
        return []


class ActionEntregarMisDocumentos(Action):
    """Resend the chosen document or give a share link; clears the form either way."""

    def name(self) -> str:
        return "action_entregar_mis_documentos"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        reset = [SlotSet(SLOT, None)]
        value = tracker.get_slot(SLOT)
        if value == NINGUNO:
            say(dispatcher, "mis_documentos_fin")
            return [*reset, *offer_next(dispatcher, tracker, done=TRAMITE.clave)]
        eleccion = Eleccion.from_slot(value)
        found = await documentos(tracker)
        if eleccion is None or found is None:
            return [*reset, *offer_next(dispatcher, tracker, done=TRAMITE.clave)]
        if not 1 <= eleccion.numero <= len(found):
            say(dispatcher, "mis_documentos_numero_fuera", numero=eleccion.numero)
            return [*reset, *offer_next(dispatcher, tracker, done=TRAMITE.clave)]
        s = await services()
        documento = found[eleccion.numero - 1]
        tipo = titulo_documento(s, documento.kind)
        if documento.revoked:
            say(dispatcher, "mis_documentos_revocado", tipo=tipo)
            return [*reset, *offer_next(dispatcher, tracker, done=TRAMITE.clave)]
        try:
            if eleccion.accion == COMPARTIR:
                minutos = eleccion.minutos or SHARE_MINUTES[0]
                link = await s.documents.issuer.share(documento.id, minutes=minutos)
                hasta = as_utc(link.expires_at).astimezone(s.settings.zona_horaria)
                say(
                    dispatcher,
                    "mis_documentos_compartir",
                    tipo=tipo,
                    enlace=link.url,
                    duracion=textos().render(f"duracion_{minutos}").text,
                    hasta=hasta.strftime("%H:%M") if minutos < 24 * 60 else hasta.strftime("%H:%M del %d/%m/%Y"),
                )
                # Longer lifetimes on offer, one tap away (the same words the citizen could type).
                dispatcher.messages[-1]["buttons"] = [
                    {
                        "title": textos().render(f"compartir_boton_{m}").text,
                        "payload": f"compartir el {eleccion.numero} por {textos().render(f'duracion_{m}').text}",
                    }
                    for m in SHARE_MINUTES
                    if m > minutos
                ]
                return [*reset, *offer_next(dispatcher, tracker, done=TRAMITE.clave)]
            payloads = await s.documents.issuer.payloads(documento.id)
        except DocumentNotFound:
            say(dispatcher, "mis_documentos_no_disponible")
            return [*reset, *offer_next(dispatcher, tracker, done=TRAMITE.clave)]
        vencido = as_utc(documento.expires_at) < utcnow()
        say(
            dispatcher,
            "mis_documentos_reenvio_vencido" if vencido else "mis_documentos_reenvio",
            tipo=tipo,
            emitido=_fecha(s, documento.issued_at),
            vence=_fecha(s, documento.expires_at),
            codigo=format_code(documento.verification_code),
        )
        deliver_documents(dispatcher, payloads)
        return [*reset, *offer_next(dispatcher, tracker, done=TRAMITE.clave)]
