"""`estado_tramite`: the citizen's applications with status and dates; one in detail (history, payments,
documents), by its number (EC-2026-000123) or its place in the list. Only their own applications."""

from __future__ import annotations

import re
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
from bot.documents.errors import DocumentNotFound
from bot.documents.service import as_utc
from bot.services import Servicios
from bot.storage.models_tramites import EstadoPago, EstadoSolicitud
from bot.tramites import registry
from bot.tramites.estado_tramite import TRAMITE
from bot.tramites.mis_documentos.actions import elegir, titulo_documento
from bot.tramites.solicitudes import Solicitud

FORM = "estado_tramite_form"
SLOT = "numero_tramite"
MOSTRAR = 5  # applications listed, newest first
NINGUNO = "ninguno"
SALIR = ("negar", "agradecer", "despedirse")
END = [SlotSet(SLOT, None), SlotSet("requested_slot", None)]
NUMERO = re.compile(r"\bEC[\s-]*(\d{4})[\s-]*(\d{6})\b", re.IGNORECASE)
PAGO = {EstadoPago.PAGADO: "estado_tramite_pago_pagado", EstadoPago.RECHAZADO: "estado_tramite_pago_rechazado"}
CIERRE = {
    EstadoSolicitud.EN_PROCESO: "estado_tramite_en_proceso",
    EstadoSolicitud.RECIBIDA: "estado_tramite_en_proceso",
    EstadoSolicitud.APROBADA: "estado_tramite_en_proceso",
    EstadoSolicitud.RECHAZADA: "estado_tramite_rechazada",
}


def numero_en(texto: str) -> str | None:
    """The application number in ``texto`` ("ec 2026 000123" → "EC-2026-000123"), if any."""
    match = NUMERO.search(texto)
    return f"EC-{match.group(1)}-{match.group(2)}" if match else None


def nombre_tramite(s: Servicios, tramite: str) -> str:
    """The trámite's name in its declaration; its code when it is not listed."""
    declared = registry.by_clave(tramite)
    return declared.nombre if declared else tramite.replace("_", " ").capitalize()


def nombre_estado(estado: str) -> str:
    """The status in plain words (``dialogs/textos/estado_tramite.yml``)."""
    key, known = f"estado_tramite_estado_{estado}", textos().keys()
    return textos().render(key if key in known else "estado_tramite_estado_otro", estado=estado).text


def _local(s: Servicios, moment: datetime, *, formato: str = "%d/%m/%Y %H:%M") -> str:
    return as_utc(moment).astimezone(s.settings.zona_horaria).strftime(formato)


async def _solicitudes(tracker: Tracker) -> tuple[str, list[Solicitud]] | None:
    """The citizen's cédula and applications, newest first; None when the chat is no longer linked."""
    s = await services()
    identidad = await s.identidad.current(tracker.sender_id)
    if identidad is None:
        return None
    return identidad.cedula, await s.solicitudes.de_ciudadano(identidad.cedula)


class ActionIniciarEstadoTramite(Action):
    def name(self) -> str:
        return "action_iniciar_estado_tramite"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        return await begin(dispatcher, tracker, TRAMITE)


class ValidateEstadoTramiteForm(TramiteForm):
    slots: ClassVar[dict[str, SlotSpec]] = {
        "numero_tramite": SlotSpec(SlotKind.CHOICE, entity="numero_tramite", accepts=LIST_PICK, exits=frozenset(SALIR)),
    }

    """At activation: a number already given is shown at once; one application is shown; none is said."""

    def name(self) -> str:
        return "validate_estado_tramite_form"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        if (tracker.active_loop or {}).get("name") != FORM:
            return await self.activate(dispatcher, tracker)
        return list(await super().run(dispatcher, tracker, domain))

    async def activate(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType]:
        found = await _solicitudes(tracker)
        if found is None:
            say(dispatcher, "estado_tramite_sesion_vencida")
            return list(END)
        cedula, solicitudes = found
        given = numero_en(str(tracker.get_slot(SLOT) or ""))
        if given is not None:
            solicitud = await (await services()).solicitudes.por_numero(given, cedula=cedula)
            if solicitud is not None:
                return [SlotSet(SLOT, solicitud.numero), SlotSet("requested_slot", None)]
            say(dispatcher, "estado_tramite_no_encontrado", numero=given)
        if not solicitudes:
            say(dispatcher, "estado_tramite_sin_solicitudes")
            return list(END)
        if len(solicitudes) == 1:
            return [SlotSet(SLOT, solicitudes[0].numero), SlotSet("requested_slot", None)]
        return [SlotSet(SLOT, None), SlotSet("requested_slot", SLOT)]

    async def validate_numero_tramite(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if ((tracker.latest_message or {}).get("intent") or {}).get("name") in SALIR:
            return {SLOT: NINGUNO}
        found = await _solicitudes(tracker)
        cedula, solicitudes = found if found is not None else ("", [])
        texto = str(value or "")
        numero = numero_en(texto)
        if numero is None:
            eleccion = elegir(texto, [])
            if eleccion is not None and 1 <= eleccion.numero <= len(solicitudes):
                numero = solicitudes[eleccion.numero - 1].numero
        if numero is None:
            say(dispatcher, "estado_tramite_no_entendido")
            return {SLOT: None}
        solicitud = await (await services()).solicitudes.por_numero(numero, cedula=cedula) if cedula else None
        if solicitud is None:
            say(dispatcher, "estado_tramite_no_encontrado", numero=numero)
            return {SLOT: None}
        return {SLOT: solicitud.numero}


class ActionAskNumeroTramite(Action):
    def name(self) -> str:
        return "action_ask_numero_tramite"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        s = await services()
        found = await _solicitudes(tracker)
        shown = (found[1] if found else [])[:MOSTRAR]
        lineas = [
            textos()
            .render(
                "estado_tramite_linea",
                orden=n,
                numero=solicitud.numero,
                tramite=nombre_tramite(s, solicitud.tramite),
                estado=nombre_estado(solicitud.estado),
                fecha=_local(s, solicitud.actualizada, formato="%d/%m/%Y"),
            )
            .text
            for n, solicitud in enumerate(shown, start=1)
        ]
        say(dispatcher, "estado_tramite_lista", lineas="\n".join(lineas))
        # One button per listed application, in list order: on WhatsApp option n is application n.
        buttons = [{"title": solicitud.numero, "payload": solicitud.numero} for solicitud in shown]
        dispatcher.messages[-1]["buttons"] = buttons + dispatcher.messages[-1]["buttons"]
        return []


async def detalle(dispatcher: CollectingDispatcher, s: Servicios, solicitud: Solicitud) -> None:
    """Say one application's status, history, payments and documents; what to do next, and resend its files."""
    historial, previo = [], None
    for movimiento in await s.solicitudes.historial(solicitud.id):
        if movimiento.estado != previo:  # a retry repeats "en proceso": the citizen sees it once
            fecha, estado = _local(s, movimiento.fecha), nombre_estado(movimiento.estado)
            historial.append(textos().render("estado_tramite_movimiento", fecha=fecha, estado=estado).text)
        previo = movimiento.estado
    pagos = await s.pagos.de_solicitud(solicitud.id)
    lineas_pago = [
        textos()
        .render(
            PAGO.get(EstadoPago(pago.estado), "estado_tramite_pago_pendiente"),
            concepto=pago.concepto,
            monto=f"{pago.monto:.2f}",
            recibo=pago.recibo or "",
            fecha=_local(s, pago.pagado_en, formato="%d/%m/%Y") if pago.pagado_en else "",
        )
        .text
        for pago in pagos
    ]
    payloads: list[dict[str, Any]] = []
    lineas_documento = []
    for document_id in await s.solicitudes.documentos(solicitud.id):
        try:
            files = await s.documents.issuer.payloads(document_id)
        except DocumentNotFound:
            continue
        payloads += files
        first = files[0]["document"]
        tipo = titulo_documento(s, str(first["filename"]).rsplit(".", 1)[0])
        lineas_documento.append(
            textos()
            .render("estado_tramite_documento", tipo=tipo, codigo=format_code(str(first["verification_code"])))
            .text
        )
    secciones = [textos().render("estado_tramite_seccion_historial", lineas="\n".join(historial)).text]
    if lineas_pago:
        secciones.append(textos().render("estado_tramite_seccion_pagos", lineas="\n".join(lineas_pago)).text)
    if lineas_documento:
        secciones.append(textos().render("estado_tramite_seccion_documentos", lineas="\n".join(lineas_documento)).text)
    say(
        dispatcher,
        "estado_tramite_detalle",
        numero=solicitud.numero,
        tramite=nombre_tramite(s, solicitud.tramite),
        estado=nombre_estado(solicitud.estado),
        secciones="\n".join(secciones),
    )
    pendiente = next((p for p in reversed(pagos) if p.estado == EstadoPago.PENDIENTE), None)
    if solicitud.estado == EstadoSolicitud.PENDIENTE_PAGO and pendiente is not None:
        say(dispatcher, "estado_tramite_pagar", monto=f"{pendiente.monto:.2f}", enlace=s.pagos.url(pendiente.id))
    elif solicitud.estado == EstadoSolicitud.EMITIDA and payloads:
        say(dispatcher, "estado_tramite_documentos")
        deliver_documents(dispatcher, payloads)
    elif solicitud.estado in CIERRE:
        say(dispatcher, CIERRE[EstadoSolicitud(solicitud.estado)])


class ActionMostrarEstadoTramite(Action):
    """Show the chosen application; clears the form either way."""

    def name(self) -> str:
        return "action_mostrar_estado_tramite"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        reset = [SlotSet(SLOT, None)]
        numero = tracker.get_slot(SLOT)
        if numero == NINGUNO:
            say(dispatcher, "estado_tramite_fin")
            return [*reset, *offer_next(dispatcher, tracker, done=TRAMITE.clave)]
        s = await services()
        identidad = await s.identidad.current(tracker.sender_id)
        if not numero or identidad is None:
            return [*reset, *offer_next(dispatcher, tracker, done=TRAMITE.clave)]
        solicitud = await s.solicitudes.por_numero(str(numero), cedula=identidad.cedula)
        if solicitud is None:
            say(dispatcher, "estado_tramite_no_encontrado", numero=numero)
            return [*reset, *offer_next(dispatcher, tracker, done=TRAMITE.clave)]
        await detalle(dispatcher, s, solicitud)
        return [*reset, *offer_next(dispatcher, tracker, done=TRAMITE.clave)]
