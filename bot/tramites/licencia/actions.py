"""`consultar_licencia`: identity, then the licence's type, validity and points, renewal when it is due, and
the signed digital licence (PDF + image) while it is valid. A look-up: no form, no application."""

from __future__ import annotations

from datetime import date

from rasa_sdk import Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from bot.actions.identity import require_identity
from bot.actions.runtime import say, services, textos
from bot.actions.tramites import IdentifiedLookup, deliver_documents
from bot.documents.service import Holder, document_payloads
from bot.language import proper_name
from bot.legal_calendar import EXPIRED_LICENCE_POINTS, RENEWAL_WINDOW_DAYS, LicenceStatus, expired_licence_fine
from bot.tramites.licencia import TRAMITE
from bot.tramites.licencia import service as tramite
from integrations.registros.errors import NotFound, RegistroError, Rejected, Unavailable
from integrations.registros.records import Licencia


def clase(tipo: str) -> str:
    """«profesional» or «no profesional», from the templates."""
    key = "licencia_clase_profesional" if tramite.es_profesional(tipo) else "licencia_clase_no_profesional"
    return textos().render(key).text


def _datos(dispatcher: CollectingDispatcher, licencia: Licencia, hoy: date) -> None:
    values = {
        "tipo": licencia.tipo,
        "clase": clase(licencia.tipo),
        "vence": licencia.fecha_vencimiento.strftime("%d/%m/%Y"),
        "puntos": tramite.puntos_texto(licencia.puntos),
        "costo": f"{tramite.costo_renovacion(licencia.tipo):.2f}",
    }
    renovacion = tramite.renovacion(licencia, hoy)
    if renovacion.status is LicenceStatus.EXPIRED:
        multa = {
            "multa": f"{expired_licence_fine(hoy):.2f}",
            "anio": hoy.year,
            "puntos_multa": EXPIRED_LICENCE_POINTS,
        }
        say(dispatcher, "licencia_caducada", **values, **multa)
        return
    say(dispatcher, "licencia_datos", **values)
    if tramite.sin_puntos(licencia):
        say(dispatcher, "licencia_sin_puntos")
    elif renovacion.status is LicenceStatus.RENEWABLE:
        say(dispatcher, "licencia_renovar", **values)
    else:  # the rule, said before the citizen asks «¿y cuándo la renuevo?»
        desde = renovacion.renewable_from.strftime("%d/%m/%Y")
        say(dispatcher, "licencia_renovar_desde", desde=desde, dias=RENEWAL_WINDOW_DAYS)


async def mostrar_licencia(dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
    """The licence of the citizen who proved their identity in this chat."""
    s = await services()
    identidad = await s.identidad.current(tracker.sender_id)
    if identidad is None:  # the link expired between the check and now: prove it again
        return (await require_identity(dispatcher, tracker, tramite=tramite.CLAVE, servicio=TRAMITE.servicio)) or []
    try:
        licencia = await s.registros.ant.licencia(identidad.cedula)
    except (NotFound, Rejected):
        licencia = None
    except Unavailable:
        say(dispatcher, "licencia_ant_no_disponible")
        return []
    if licencia is None:
        say(dispatcher, "licencia_no_tiene")
        return []
    hoy = tramite.hoy(s)
    _datos(dispatcher, licencia, hoy)
    if not licencia.vigente(hoy) or tramite.sin_puntos(licencia):
        return []  # no digital licence to drive with: it expired or has no points left
    try:
        persona = await s.registros.registro_civil.consultar_ciudadano(identidad.cedula)
    except RegistroError:
        say(dispatcher, "licencia_documento_no_disponible")
        return []
    issued = await tramite.emitir(
        s,
        licencia,
        Holder(cedula=identidad.cedula, name=proper_name(persona.nombre)),
        conversation_id=tracker.sender_id,
    )
    say(dispatcher, "licencia_documento", codigo=issued.verification_code, url=issued.verification_url)
    deliver_documents(dispatcher, document_payloads(issued))
    return []


class ActionConsultarLicencia(IdentifiedLookup):
    tramite = TRAMITE

    def name(self) -> str:
        return "action_consultar_licencia"

    async def show(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        return await mostrar_licencia(dispatcher, tracker, domain)
