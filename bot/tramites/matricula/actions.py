"""`consultar_matricula`: identity, the vehicle (asked only when the citizen owns several), then its data, the
month set by the plate's last digit, the amounts due and the status; the signed matrícula when up to date.
A look-up: no application."""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from bot.actions.forms import SlotKind, SlotSpec, TramiteForm
from bot.actions.identity import require_identity
from bot.actions.reminders import offer_reminder
from bot.actions.runtime import say, services, textos
from bot.actions.tramites import begin, deliver_documents, offer_next
from bot.documents.service import Holder, document_payloads
from bot.language import proper_name
from bot.legal_calendar import LATE_REGISTRATION_PER_MONTH, Registration, RegistrationStatus
from bot.tramites.matricula import TRAMITE
from bot.tramites.matricula import service as tramite
from integrations.registros.errors import NotFound, RegistroError, Unavailable
from integrations.registros.records import EstadoMatricula, Matricula, Vehiculo

FORM = "matricula_form"
SLOT = "matricula_placa"
FIN = "-"  # the form has nothing to ask (no vehicle, or the ANT is down): the reason was already said


def placa_del_mensaje(tracker: Tracker) -> str | None:
    """A plate the citizen wrote when asking for the service («matrícula de la GBC-2468»)."""
    value = next(tracker.get_latest_entity_values("placa"), None)
    return tramite.placa_en(str(value)) if value else None


def boton_vehiculo(vehiculo: Vehiculo) -> str:
    """«GBC-2468 · Chevrolet D-Max»: a vehicle on a button."""
    return f"{vehiculo.placa} · {vehiculo.marca.title()} {vehiculo.modelo.title()}"


def mes(numero: int) -> str:
    """The month's name, from the templates."""
    return textos().render("matricula_meses").text.split()[numero - 1]


async def vehiculos_de(cedula: str) -> tuple[Vehiculo, ...]:
    """The vehicles registered to ``cedula`` (none when the ANT does not know it).

    Raises:
        Unavailable: the ANT does not answer.
    """
    try:
        return await (await services()).registros.ant.vehiculos(cedula)
    except NotFound:
        return ()


async def _vehiculos(tracker: Tracker) -> tuple[Vehiculo, ...] | None:
    """The vehicles of the citizen who proved their identity; None when there is no identity any more."""
    identidad = await (await services()).identidad.current(tracker.sender_id)
    return None if identidad is None else await vehiculos_de(identidad.cedula)


class ActionIniciarMatricula(Action):
    def name(self) -> str:
        return "action_iniciar_matricula"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        # A plate in the request fills the form's slot (validated when the form starts); none clears an old one.
        placa = SlotSet(SLOT, placa_del_mensaje(tracker))
        return [*(await begin(dispatcher, tracker, TRAMITE)), placa]


class ValidateMatriculaForm(TramiteForm):
    slots: ClassVar[dict[str, SlotSpec]] = {
        "matricula_placa": SlotSpec(SlotKind.CHOICE, entity="placa"),
    }

    def name(self) -> str:
        return "validate_matricula_form"

    async def extract_matricula_placa(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """When the form starts: with one vehicle there is nothing to ask; with none, say so and stop."""
        if tracker.get_slot(SLOT) is not None or tracker.get_slot("requested_slot") is not None:
            return {}
        try:
            vehiculos = await _vehiculos(tracker)
        except Unavailable:
            say(dispatcher, "matricula_ant_no_disponible")
            return {SLOT: FIN}
        if vehiculos is None:
            say(dispatcher, "ant_identidad_vencida")
            return {SLOT: FIN}
        relative = next(tracker.get_latest_entity_values("parentesco"), None)
        if not vehiculos and relative is not None:
            # «es que la moto está a nombre de mi papá»: the rule (one's own vehicles only) and what to do.
            say(dispatcher, "matricula_de_un_familiar")
            return {SLOT: FIN}
        if not vehiculos:
            say(dispatcher, "matricula_sin_vehiculos")
            return {SLOT: FIN}
        return {SLOT: vehiculos[0].placa} if len(vehiculos) == 1 else {}

    async def validate_matricula_placa(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if value is None:  # nothing typed (an empty slot the form is about to ask for)
            return {SLOT: None}
        text = str(value)
        if text == FIN:
            return {SLOT: None, "requested_slot": None}
        placa = tramite.placa_en(text)
        if placa is None:
            say(dispatcher, "matricula_placa_no_valida")
            return {SLOT: None}
        try:
            vehiculos = await _vehiculos(tracker)
        except Unavailable:
            say(dispatcher, "matricula_ant_no_disponible")
            return {SLOT: None, "requested_slot": None}
        if vehiculos is None:
            say(dispatcher, "ant_identidad_vencida")
            return {SLOT: None, "requested_slot": None}
        vehiculo = tramite.propio(vehiculos, placa)
        if vehiculo is None and next(tracker.get_latest_entity_values("parentesco"), None) is not None:
            say(dispatcher, "matricula_de_un_familiar")
            return {SLOT: None, "requested_slot": None}
        if vehiculo is None:
            say(dispatcher, "matricula_placa_ajena", placa=placa)
            return {SLOT: None}
        return {SLOT: vehiculo.placa}


class ActionAskMatriculaPlaca(Action):
    def name(self) -> str:
        return "action_ask_matricula_placa"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        try:
            vehiculos = await _vehiculos(tracker) or ()
        except Unavailable:
            vehiculos = ()
        say(dispatcher, "matricula_pedir_placa")
        buttons = [{"title": boton_vehiculo(v), "payload": v.placa} for v in vehiculos]
        dispatcher.messages[-1]["buttons"] = buttons + dispatcher.messages[-1]["buttons"]
        return []


def _concepto(concepto: str) -> str:
    """«Tasa de matriculacion» from the registry's capitals; a one-word concept is an acronym (SPPAT)."""
    return concepto if " " not in concepto.strip() else concepto.capitalize()


def _valores(matricula: Matricula) -> str:
    render = textos().render
    return "\n".join(
        render("matricula_valor_linea", concepto=_concepto(v.concepto), valor=f"{v.valor:.2f}").text
        for v in matricula.valores
    )


def _plazo(calendario: Registration) -> dict[str, str]:
    """The deadline of the pending registration and, once it passed, the months late and their surcharge."""
    render = textos().render
    atraso = (
        render("matricula_atraso_un_mes")
        if calendario.months_late == 1
        else render("matricula_atraso_meses", meses=calendario.months_late)
    )
    return {
        "hasta": calendario.deadline.strftime("%d/%m/%Y"),
        "anio_debido": str(calendario.year),
        "atraso": atraso.text,
        "recargo_mes": f"{LATE_REGISTRATION_PER_MONTH:.2f}",
        "recargo": f"{calendario.surcharge:.2f}",
    }


async def _documento(dispatcher: CollectingDispatcher, tracker: Tracker, matricula: Matricula, cedula: str) -> None:
    s = await services()
    try:
        persona = await s.registros.registro_civil.consultar_ciudadano(cedula)
    except RegistroError:
        say(dispatcher, "matricula_documento_no_disponible")
        return
    issued = await tramite.emitir(
        s,
        matricula,
        Holder(cedula=cedula, name=proper_name(persona.nombre)),
        conversation_id=tracker.sender_id,
        ahora=datetime.now(s.settings.zona_horaria),
    )
    say(dispatcher, "matricula_documento", codigo=issued.verification_code, url=issued.verification_url)
    deliver_documents(dispatcher, document_payloads(issued))


class ActionConsultarMatricula(Action):
    """The form is done: the vehicle's registration, by plate, for its owner."""

    def name(self) -> str:
        return "action_consultar_matricula"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        reset = [SlotSet(SLOT, None)]
        placa = tracker.get_slot(SLOT)
        if not placa:
            return [*reset, *offer_next(dispatcher, tracker, done=TRAMITE.clave)]  # the form stopped early and said why
        s = await services()
        identidad = await s.identidad.current(tracker.sender_id)
        if identidad is None:
            gate = await require_identity(dispatcher, tracker, tramite=tramite.CLAVE, servicio=TRAMITE.servicio)
            return [*reset, *(gate or [])]
        try:
            matricula = await s.registros.ant.matricula(str(placa))
        except NotFound:
            say(dispatcher, "matricula_no_encontrada", placa=placa)
            return [*reset, *offer_next(dispatcher, tracker, done=TRAMITE.clave)]
        except RegistroError:
            say(dispatcher, "matricula_ant_no_disponible")
            return [*reset, *offer_next(dispatcher, tracker, done=TRAMITE.clave)]
        vehiculo = matricula.vehiculo
        hasta = tramite.vigente_hasta(matricula)
        calendario = tramite.calendario(matricula, s.today())
        values = {
            "placa": vehiculo.placa,
            "vehiculo": f"{vehiculo.marca.title()} {vehiculo.modelo.title()} {vehiculo.anio}",
            "color": vehiculo.color.lower(),
            "clase": vehiculo.clase.lower(),
            "digito": tramite.ultimo_digito(vehiculo.placa),
            "mes": mes(matricula.mes_matriculacion),
            "anio": matricula.anio_ultima_matricula or "—",
            "proximo": hasta.year if hasta else "—",
            "total": f"{matricula.total:.2f}",
        }
        if calendario is None:  # no registration on record: the registry's status is all there is
            if matricula.estado is EstadoMatricula.AL_DIA:
                say(dispatcher, "matricula_al_dia", **values)
                await _documento(dispatcher, tracker, matricula, identidad.cedula)
            else:
                say(dispatcher, "matricula_vencida_sin_registro", **values, valores=_valores(matricula))
        elif calendario.status is RegistrationStatus.UP_TO_DATE:
            say(dispatcher, "matricula_al_dia", **values)
            await _documento(dispatcher, tracker, matricula, identidad.cedula)
        elif calendario.status is RegistrationStatus.DUE:
            say(dispatcher, "matricula_pendiente", **values, **_plazo(calendario), valores=_valores(matricula))
        else:
            say(dispatcher, "matricula_vencida", **values, **_plazo(calendario), valores=_valores(matricula))
        await offer_reminder(dispatcher, tracker)
        return [*reset, *offer_next(dispatcher, tracker, done=TRAMITE.clave)]
