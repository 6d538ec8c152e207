"""`consultar_multas`: identity, the citations of the citizen's cédula or of a vehicle they own, then paying
one or all of them: a summary to confirm, an application and its payment page (bot/tramites/multas.py)."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import date
from decimal import Decimal
from typing import Any, ClassVar

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from bot.actions.forms import LIST_PICK, SlotKind, SlotSpec, TramiteForm, latest_text
from bot.actions.general import replay_as
from bot.actions.runtime import say, services, textos
from bot.actions.tramites import SubmitApplication, begin, confirmation, said_no_to_confirmation
from bot.identity.service import Identidad
from bot.language import fold, says_paid, sentence
from bot.services import Servicios
from bot.tramites.licencia.service import puntos_texto
from bot.tramites.matricula.actions import boton_vehiculo, vehiculos_de
from bot.tramites.matricula.service import placa_en
from bot.tramites.multas import TRAMITE
from bot.tramites.multas import service as tramite
from integrations.registros.errors import RegistroError

FORM = "multas_form"
SLOTS = ("multas_criterio", "multas_pendientes", "multas_seleccion", "multas_confirmar")
FIN = "-"  # the form has nothing more to ask (the ANT is down): the reason was already said
NINGUNA = "ninguna"  # the citizen chose not to pay now
_NUEVA_ELECCION = {"multas_seleccion": None, "multas_confirmar": None}
# After a «no» to the summary: not paying now, rather than another choice.
_NOT_NOW = re.compile(
    r"\b(nada|ninguna|ninguno|no (pago|voy a pagar|quiero pagar)|despues|luego|otro dia|manana|mas tarde"
    r"|hoy no|por ahora no)\b"
)
_CEDULA = re.compile(r"\bced_[0-9a-f]{10}\b")
# The answer to «¿las de su cédula o las de un vehículo?», whatever the NLU makes of «mi cédula».
CRITERIO = re.compile(r"\b(cedula|mias|mios|mis multas|conductor|placa|carro|auto|moto|vehiculo|camioneta|las dos)\b")


def criterio_del_mensaje(tracker: Tracker) -> str | None:
    """A plate or a cédula (as its vault reference) written when asking for the service."""
    placa = next(tracker.get_latest_entity_values("placa"), None)
    if placa:
        return str(placa)
    found = _CEDULA.search(str((tracker.latest_message or {}).get("text") or ""))
    return found.group(0) if found else None


async def _cedula(tracker: Tracker) -> str | None:
    identidad = await (await services()).identidad.current(tracker.sender_id)
    return identidad.cedula if identidad else None


def _linea(key: str, multa: tramite.Multa | Mapping[str, Any], **values: Any) -> str:
    """One citation as a line of a list (from the registry's citation or from its copy in a slot)."""
    c = tramite.dato(multa.citacion) if isinstance(multa, tramite.Multa) else multa
    fields = {
        "fecha": date.fromisoformat(str(c["fecha"])).strftime("%d/%m/%Y"),
        "descripcion": sentence(str(c["descripcion"])),
        "valor": c["valor"],
        "puntos": puntos_texto(Decimal(str(c["puntos"]))),
    }
    return textos().render(key, **fields, **values).text


def mostrar(dispatcher: CollectingDispatcher, multas: Sequence[tramite.Multa], criterio: str) -> list[dict[str, str]]:
    """Say the list; returns the payable citations, numbered as shown."""
    por_pagar = [m for m in multas if m.estado is tramite.EstadoMulta.PENDIENTE]
    otras = [
        _linea(f"multas_linea_{m.estado.value}", m, solicitud=m.solicitud, enlace=m.enlace, recibo=m.recibo or "—")
        for m in multas
        if m.estado in (tramite.EstadoMulta.PAGO_ABIERTO, tramite.EstadoMulta.PAGADA_EN_CHASQUI)
    ]
    if pagadas := sum(1 for m in multas if m.estado is tramite.EstadoMulta.PAGADA):
        otras.append(textos().render("multas_ya_pagadas", cantidad=pagadas).text)
    origen = (
        textos().render("multas_origen_cedula").text
        if criterio == tramite.POR_CEDULA
        else textos().render("multas_origen_placa", placa=criterio).text
    )
    values = {"origen": origen, "otras": "".join(f"\n{linea}" for linea in otras)}
    pendientes = [tramite.dato(m.citacion) for m in por_pagar]
    if not por_pagar:
        say(dispatcher, "multas_sin_pendientes" if multas else "multas_sin_registro", **values)
        return pendientes
    lineas = [
        _linea("multas_linea_con_puntos" if m.citacion.puntos > 0 else "multas_linea", m, n=n)
        for n, m in enumerate(por_pagar, start=1)
    ]
    say(
        dispatcher,
        "multas_lista" if len(por_pagar) > 1 else "multas_lista_una",
        **values,
        cantidad=len(por_pagar),
        total=f"{tramite.total(pendientes):.2f}",
        lineas="\n".join(lineas),
    )
    return pendientes


class ActionIniciarMultas(Action):
    def name(self) -> str:
        return "action_iniciar_multas"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        if says_paid(latest_text(tracker)):  # «ya pagué, ¿ya se borró la multa?»: about that payment
            return replay_as(tracker, "confirmar_pago")
        # A plate or cédula in the request fills the form's first slot (validated when the form starts).
        fresh = [SlotSet("multas_criterio", criterio_del_mensaje(tracker)), *(SlotSet(s, None) for s in SLOTS[1:])]
        return [*(await begin(dispatcher, tracker, TRAMITE)), *fresh]


class ValidateMultasForm(TramiteForm):
    slots: ClassVar[dict[str, SlotSpec]] = {
        "multas_criterio": SlotSpec(SlotKind.CHOICE, entity="placa", accepts=CRITERIO),
        "multas_seleccion": SlotSpec(SlotKind.CHOICE, accepts=LIST_PICK),
        # «mejor solo la primera» at the summary is a new choice, whatever the NLU reads in it.
        "multas_confirmar": SlotSpec(SlotKind.CONFIRM, hint="confirmar_si_o_no", accepts=LIST_PICK),
    }

    def name(self) -> str:
        return "validate_multas_form"

    async def extract_multas_criterio(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """When the form starts and the citizen owns no vehicle, the search is by their cédula: nothing to ask."""
        if tracker.get_slot("multas_criterio") is not None or tracker.get_slot("requested_slot") is not None:
            return {}
        cedula = await _cedula(tracker)
        if cedula is None:
            return {}
        try:
            vehiculos = await vehiculos_de(cedula)
        except RegistroError:
            say(dispatcher, "multas_ant_no_disponible")
            return {"multas_criterio": FIN}
        return {} if vehiculos else {"multas_criterio": tramite.POR_CEDULA}

    async def _criterio(self, text: str, cedula: str, dispatcher: CollectingDispatcher, tracker: Tracker) -> str | None:
        """`POR_CEDULA`, a plate the citizen owns, or None (and why was said).

        Raises:
            RegistroError: the ANT does not answer.
        """
        if _CEDULA.search(text):  # a cédula typed: the gateway left its vault reference
            escrita = await (await services()).vault.reveal(text, kind="ced", owner=tracker.sender_id)
            if escrita is not None and re.sub(r"\D", "", escrita) == cedula:
                return tramite.POR_CEDULA
            say(dispatcher, "multas_cedula_ajena")
            return None
        criterio = tramite.leer_criterio(text, await vehiculos_de(cedula))
        placa = placa_en(text)
        if criterio is None and placa is not None:
            say(dispatcher, "multas_placa_ajena", placa=placa)
        elif criterio is None:
            say(dispatcher, "multas_criterio_no_entendido")
        return criterio

    async def validate_multas_criterio(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if value is None:  # nothing typed (an empty slot the form is about to ask for)
            return {"multas_criterio": None}
        stop = {"multas_criterio": None, "requested_slot": None}
        text = str(value)
        cedula = await _cedula(tracker)
        if text == FIN:
            return stop
        if cedula is None:
            say(dispatcher, "ant_identidad_vencida")
            return stop
        try:
            criterio = await self._criterio(text, cedula, dispatcher, tracker)
            if criterio is None:
                return {"multas_criterio": None}
            multas = await tramite.consultar(s=await services(), cedula=cedula, criterio=criterio)
        except RegistroError:
            say(dispatcher, "multas_ant_no_disponible")
            return stop
        pendientes = mostrar(dispatcher, multas, criterio)
        # A new criterion (also a plate typed at a later step) starts the choice again; nothing owed ends the form.
        found = {"multas_criterio": criterio, "multas_pendientes": pendientes, **_NUEVA_ELECCION}
        return found if pendientes else {**found, "requested_slot": None}

    async def validate_multas_seleccion(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if value is None or "multas_criterio" in tracker.slots_to_validate():
            return {"multas_seleccion": None}  # nothing typed, or the list changed: the choice is asked again
        elegidas = tramite.leer_seleccion(str(value or ""), tracker.get_slot("multas_pendientes") or [])
        if elegidas is None:
            say(dispatcher, "multas_seleccion_no_entendida")
            return {"multas_seleccion": None}
        if not elegidas:
            return {"multas_seleccion": NINGUNA, "requested_slot": None}
        return {"multas_seleccion": ",".join(elegidas)}

    async def not_data(
        self, slot: str, spec: SlotSpec, dispatcher: CollectingDispatcher, tracker: Tracker
    ) -> list[EventType] | None:
        """«mmm mejor solo la primera» at the summary: a new choice, shown again for confirmation."""
        if slot == "multas_confirmar":
            otra = tramite.leer_seleccion(latest_text(tracker), tracker.get_slot("multas_pendientes") or [])
            if otra:
                return [SlotSet("multas_seleccion", ",".join(otra)), SlotSet("multas_confirmar", None)]
        return await super().not_data(slot, spec, dispatcher, tracker)

    async def validate_multas_confirmar(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if value is None or "multas_criterio" in tracker.slots_to_validate():
            return {"multas_confirmar": None}
        answer = confirmation(value)
        if answer is True:
            return {"multas_confirmar": True}
        if answer is None:
            say(dispatcher, "confirmar_si_o_no")
            return {"multas_confirmar": None}
        # "no, solo la 2": the rest of the sentence is the corrected choice.
        correction = said_no_to_confirmation(tracker)
        elegidas = tramite.leer_seleccion(correction, tracker.get_slot("multas_pendientes") or [])
        if correction and elegidas:
            return {"multas_seleccion": ",".join(elegidas), "multas_confirmar": None}
        if elegidas == () or _NOT_NOW.search(fold(correction)):
            # «no, ya no pago nada hoy», «no, ninguna», «mejor otro día»: nothing is paid now (said at the end).
            return {"multas_seleccion": NINGUNA, "multas_confirmar": None, "requested_slot": None}
        say(dispatcher, "multas_corregir")
        return dict(_NUEVA_ELECCION)


class ActionAskMultasCriterio(Action):
    def name(self) -> str:
        return "action_ask_multas_criterio"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        cedula = await _cedula(tracker)
        try:
            vehiculos = await vehiculos_de(cedula) if cedula else ()
        except RegistroError:
            vehiculos = ()
        say(dispatcher, "multas_pedir_criterio")
        dispatcher.messages[-1]["buttons"] += [{"title": boton_vehiculo(v), "payload": v.placa} for v in vehiculos]
        return []


class ActionAskMultasSeleccion(Action):
    def name(self) -> str:
        return "action_ask_multas_seleccion"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        pendientes = tracker.get_slot("multas_pendientes") or []
        total = f"{tramite.total(pendientes):.2f}"
        if len(pendientes) == 1:
            say(dispatcher, "multas_pedir_seleccion_una", total=total)
            return []
        say(dispatcher, "multas_pedir_seleccion", cantidad=len(pendientes), total=total)
        solo = [
            {"title": textos().render("multas_boton_solo", n=n, valor=c["valor"]).text, "payload": str(n)}
            for n, c in enumerate(pendientes[:5], start=1)
        ]
        buttons = dispatcher.messages[-1]["buttons"]
        dispatcher.messages[-1]["buttons"] = [buttons[0], *solo, *buttons[1:]]
        return []


class ActionAskMultasConfirmar(Action):
    def name(self) -> str:
        return "action_ask_multas_confirmar"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        numeros = str(tracker.get_slot("multas_seleccion") or "").split(",")
        elegidas = [c for c in tracker.get_slot("multas_pendientes") or [] if c["numero"] in numeros]
        lineas = [_linea("multas_linea_resumen", c, numero=c["numero"]) for c in elegidas]
        say(dispatcher, "multas_resumen", lineas="\n".join(lineas), total=f"{tramite.total(elegidas):.2f}")
        return []


class ActionPagarMultas(SubmitApplication):
    """The form is done: open the payment of the chosen fines, or just close the look-up."""

    tramite = TRAMITE
    slots = SLOTS

    def name(self) -> str:
        return "action_pagar_multas"

    async def ready(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> bool:
        if not tracker.get_slot("multas_criterio") or not tracker.get_slot("multas_pendientes"):
            return False  # nothing owed, or the ANT was down: the list or the apology was already said
        seleccion = tracker.get_slot("multas_seleccion")
        if seleccion in (None, NINGUNA) or tracker.get_slot("multas_confirmar") is not True:
            say(dispatcher, "multas_sin_pagar")
            return False
        return True

    async def submit(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, s: Servicios, identidad: Identidad
    ) -> None:
        numeros = str(tracker.get_slot("multas_seleccion")).split(",")
        try:
            abierto = await tramite.preparar_pago(
                s,
                cedula=identidad.cedula,
                conversation_id=tracker.sender_id,
                criterio=str(tracker.get_slot("multas_criterio")),
                numeros=numeros,
                concepto=textos().render("multas_concepto_pago", cantidad=len(numeros)).text,
            )
        except RegistroError:
            say(dispatcher, "multas_ant_no_disponible")
            return
        if abierto is None:
            say(dispatcher, "multas_ya_no_pendientes")
            return
        solicitud, pago = abierto
        say(dispatcher, "multas_pagar", numero=solicitud.numero, monto=f"{pago.monto:.2f}", enlace=s.pagos.url(pago.id))
