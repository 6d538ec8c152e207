"""Side questions («¿y cuánto cuesta?», «¿es seguro?», «¿cómo recupero puntos?»), in a form or outside one.

Answered from the declared facts of the trámite the question is about (named in it, in progress, or the
latest one): its own answer in `preguntas.yml` when it has one for the topic, else the generic answer of
`dialogs/textos/preguntas.yml` filled with its facts. Inside a form, the rules then let the form ask its
pending question again, so the citizen reads the answer and the same question in one reply.
"""

from __future__ import annotations

import re
from functools import lru_cache

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from bot.actions.forms import in_form, latest_intent, latest_text, no_buttons_in_form, payment_link_sent
from bot.actions.general import replay_as, taken_offer
from bot.actions.runtime import say, textos
from bot.actions.tramites import current_tramite
from bot.directory import Directory, load_directory
from bot.language import fold, is_question, is_request, overlap, says_paid
from bot.phishing.links import find_links
from bot.settings import load_settings
from bot.tramites import registry
from bot.tramites.declaration import Pregunta, Tramite
from bot.tramites.registry import mentioned_tramites

TOPIC = {
    "preguntar_costo": "costo",
    "preguntar_requisitos": "requisitos",
    "preguntar_tiempo": "tiempo",
    "preguntar_vigencia": "vigencia",
    "preguntar_lugar_horario": "lugar_horario",
    "preguntar_seguridad": "seguridad",
    "preguntar_formas_pago": "formas_pago",
}
NEEDS_TRAMITE = frozenset({"costo", "requisitos", "tiempo", "vigencia"})
MATCH = 0.5  # share of an example's meaningful words a question must say to get its answer
GOB_EC = "https://www.gob.ec"


@lru_cache(maxsize=1)
def directory() -> Directory:
    return load_directory(load_settings().project_dir / "data" / "directorio.yml")


def site_of(tramite: Tramite) -> str:
    """The official site of the trámite's institution (the directory's), or the State's portal."""
    for nombre in tramite.institucion.split("/"):
        for institucion in directory().instituciones.values():
            if fold(institucion.nombre) == fold(nombre.strip()) and institucion.sitio:
                return institucion.sitio
    return GOB_EC


def facts(tramite: Tramite) -> dict[str, str]:
    """The values every generic answer may use."""
    return {
        "nombre": tramite.nombre,
        "institucion": tramite.institucion,
        "costo": f"{tramite.costo_usd:.2f}",
        "requisitos": "\n".join(f"• {r}" for r in tramite.requisitos),
        "tiempo": tramite.tiempo[:1].lower() + tramite.tiempo[1:],
        "vigencia_dias": str(tramite.vigencia_dias or ""),
        "sitio": site_of(tramite),
    }


# «me llegó», «me mandaron», «recibí»: the citizen speaks of something someone else sent them.
_RECEIVED = re.compile(
    r"\bme (?:llego|llegaron|mandaron|enviaron|escribieron|llamaron|reenviaron|pasaron|dijeron)\b|\brecibi\b"
)


# «¿y este chat sí es oficial?», «¿ustedes son de verdad del gobierno?»: whether Chasqui itself is the State's.
_THIS_CHAT = re.compile(
    r"\b(este|esta|el) (chat|whatsapp|telegram|bot|asistente|servicio)\b|\b(chasqui|ustedes|eres)\b"
)
_GENUINE = re.compile(r"\b(oficial|oficiales|del gobierno|de verdad|real|legitimo|legitima|confiable|estafa|pirata)\b")


def about_this_chat(text: str) -> bool:
    """Whether a question asks if this chat (Chasqui) is official or genuine: the safety question, whatever
    topic the words around it suggest («oficial» is not «oficina»)."""
    folded = fold(text)
    return _THIS_CHAT.search(folded) is not None and _GENUINE.search(folded) is not None and not find_links(text)


def about_a_received_message(text: str, tracker: Tracker) -> bool:
    """Whether a safety question is about a message, link or call the citizen received (checked by
    `action_verificar_mensaje`) rather than about Chasqui: it carries a link, or, outside a form and a payment,
    it says it was received. (The check sends a question without anything to check back here in a form or at a
    payment, so the two never hand a message back and forth.)"""
    if find_links(text):
        return True
    return _RECEIVED.search(fold(text)) is not None and not in_form(tracker) and not payment_link_sent(tracker)


def best_answer(text: str, tramites: tuple[Tramite, ...]) -> tuple[Tramite, Pregunta] | None:
    """The declared question ``text`` is closest to, among ``tramites`` (the first wins a tie); None when no
    example has at least `MATCH` of its meaningful words in ``text``."""
    best: tuple[tuple[float, float], Tramite, Pregunta] | None = None
    for tramite in tramites:
        for pregunta in tramite.preguntas:
            score = max((overlap(text, e) for e in pregunta.ejemplos), default=(0.0, 0.0))
            if score[0] >= MATCH and (best is None or score > best[0]):
                best = (score, tramite, pregunta)
    return (best[1], best[2]) if best else None


def candidates(tramite: Tramite | None, text: str) -> tuple[Tramite, ...]:
    """Whose declared questions may answer ``text``: the trámite in progress and the ones it names; every
    trámite when the conversation is about none."""
    if tramite is None:
        return registry.TRAMITES
    named = [t for t in mentioned_tramites(text) if t != tramite]
    return (tramite, *named)


class ActionResponderPregunta(Action):
    def name(self) -> str:
        return "action_responder_pregunta"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        taken = taken_offer(tracker)
        if taken is not None:
            return taken
        text = latest_text(tracker)
        if says_paid(text):
            # «ya está pagado, ¿por dónde me llega?»: what was paid is delivered, not how delivery works.
            return replay_as(tracker, "confirmar_pago")
        intent, _ = latest_intent(tracker)
        if intent == "preguntar_seguridad" and about_a_received_message(text, tracker):
            # «me llegó este link https://… ¿es seguro?»: a message to check, not a question about Chasqui.
            return replay_as(tracker, "verificar_mensaje")
        named = mentioned_tramites(text)
        given = {str(e.get("entity")) for e in (tracker.latest_message or {}).get("entities") or ()}
        about = current_tramite(tracker)
        if intent == "preguntar_costo" and about is not None and about.valores_propios and not in_form(tracker):
            # «¿cuánto pago de matrícula?»: the amount is the citizen's own; the look-up answers it.
            say(dispatcher, "costo_segun_registro")
            return replay_as(tracker, about.intent)
        bare_name = intent not in TOPIC and not is_question(text)  # «entonces el certificado del RUC»
        if named and (
            bare_name or (not in_form(tracker) and (given & {"cedula", "codigo_dactilar", "placa"} or is_request(text)))
        ):
            # «¿me puede dar el certificado de votación? mi cédula …», «necesito ver mis multas y los puntos»:
            # a request (with its data), not a question. A bare name counts inside a form too (the form rejected
            # it: «entonces el certificado del RUC» while choosing a document to resend is a change of mind).
            return replay_as(tracker, named[0].intent)
        events = self.answer(dispatcher, tracker)
        no_buttons_in_form(dispatcher, tracker)
        return events

    def answer(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType]:
        """Say the answer; the events remember another institution's service the answer was about."""
        intent, _ = latest_intent(tracker)
        text = latest_text(tracker)
        tramite = current_tramite(tracker)
        topic = "seguridad" if about_this_chat(text) else TOPIC.get(intent)
        external = next((e for e in directory().servicios if e.clave == tracker.get_slot("entidad_actual")), None)
        if tramite is None and external is not None and topic not in ("seguridad",):
            # A follow-up about another institution's service («¿y cuánto se demora eso?»): theirs to answer.
            institucion = external.institucion
            say(dispatcher, "otra_entidad_seguimiento", nombre=institucion.nombre, sitio=institucion.sitio or GOB_EC)
            return []
        if topic is None:  # any other question: the closest declared answer of this trámite or one it names
            found = best_answer(text, candidates(tramite, text))
            if found is not None:
                dispatcher.utter_message(
                    text=found[1].respuesta, plantilla=f"pregunta:{found[0].clave}:{found[1].tema}"
                )
            elif tramite is not None:
                say(dispatcher, "pregunta_sin_respuesta", **facts(tramite))
            else:
                say(dispatcher, "pregunta_sin_respuesta_general", sitio=GOB_EC)
            return []
        declared = tramite.pregunta(topic) if tramite else None
        if tramite is not None and declared is not None:
            dispatcher.utter_message(text=declared.respuesta, plantilla=f"pregunta:{tramite.clave}:{topic}")
        elif tramite is not None:
            say(dispatcher, self.template(topic, tramite), **facts(tramite))
        elif topic == "costo":
            pagados = [t for t in registry.TRAMITES if not t.gratis]
            lineas = "\n".join(
                textos().render("pregunta_costo_linea", nombre=t.nombre, costo=f"{t.costo_usd:.2f}").text
                for t in pagados
            )
            say(dispatcher, "pregunta_costo_todos", lineas=lineas)
        elif topic in NEEDS_TRAMITE and (servicio := directory().find(text)) is not None:
            # «¿qué necesito para renovar la cédula?»: another institution's service, answered as such.
            dispatcher.utter_message(
                text=directory().answer_for(servicio, text), plantilla=f"otra_entidad:{servicio.clave}"
            )
            if not in_form(tracker):  # follow-ups («¿y eso no lo hacen ustedes?») are about that service
                return [SlotSet("entidad_actual", servicio.clave), SlotSet("tramite_actual", None)]
        elif topic in NEEDS_TRAMITE:
            say(dispatcher, "pregunta_sin_tramite")
        else:
            say(dispatcher, f"pregunta_{topic}", **{**{k: "" for k in facts(registry.TRAMITES[0])}, "sitio": GOB_EC})
        return []

    @staticmethod
    def template(topic: str, tramite: Tramite) -> str:
        if topic == "costo":
            return "pregunta_costo_gratis" if tramite.gratis else "pregunta_costo_pago"
        if topic == "vigencia" and not tramite.vigencia_dias:
            return "pregunta_vigencia_sin_vencimiento"
        return f"pregunta_{topic}"
