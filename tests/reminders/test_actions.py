"""«Avíseme» and «no más avisos» with built trackers: identity first, the kinds asked for, consent records."""

from __future__ import annotations

from rasa_sdk.events import FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import select

from bot.actions.identity import ActionIdentidadVerificada
from bot.actions.reminders import ActionCancelarRecordatorios, ActionSuscribirRecordatorios
from bot.identity.service import Resultado
from bot.storage.models_privacy import ConsentRecord
from bot.storage.models_reminders import ReminderSubscription
from tests.reminders.conftest import Reminders, demo, said

SENDER = "tg:4242"
SUSCRITO = "Listo. Le avisaré por este chat de:\n"
FOOTER = "\nLos avisos llegan entre las 08:00 y las 20:00. Para no recibir más, escriba «no más avisos»."


async def consents(r: Reminders, sender: str) -> list[tuple[str, bool, str]]:
    async with r.sessions() as session:
        found = await session.scalars(select(ConsentRecord).where(ConsentRecord.conversation_id == sender))
        return [(c.proposito, c.otorgado, c.canal) for c in found.all()]


async def test_without_identity_the_action_starts_the_identity_form_then_subscribes(reminders: Reminders) -> None:
    r = reminders
    dispatcher = CollectingDispatcher()
    tracker = said("avisame cuando toca matricular", "suscribir_recordatorios", sender=SENDER, kinds=("matricula",))
    events = await ActionSuscribirRecordatorios().run(dispatcher, tracker, {})
    assert events == [
        SlotSet("recordatorio_tipos", ["matricula"]),
        SlotSet("identidad", "requerida"),
        SlotSet("tramite_pendiente", "recordatorios"),
        FollowupAction("identidad_form"),
    ]
    assert [m["plantilla"] for m in dispatcher.messages] == ["identidad_necesaria"]
    assert dispatcher.messages[0]["text"].startswith("Para recibir avisos primero necesito comprobar su identidad")
    assert await r.service.kinds(SENDER) == []

    # The identity form ends (the code is the citizen's): the subscription resumes with what was asked.
    cedula, dactilar = demo("licencia_por_vencer")
    await r.world.services.identidad.verify(SENDER, cedula, dactilar)
    done = CollectingDispatcher()
    slots = {
        "identidad_resultado": Resultado.VERIFICADO,
        "tramite_pendiente": "recordatorios",
        "recordatorio_tipos": ["matricula"],
    }
    events = await ActionIdentidadVerificada().run(done, said("V2424I1313", "informar", sender=SENDER, slots=slots), {})
    assert SlotSet("recordatorio_tipos", None) in events and SlotSet("reanudar", "ninguno") in events
    assert [m["plantilla"] for m in done.messages] == ["recordatorios_suscrito"]
    assert done.messages[0]["text"] == SUSCRITO + "• el mes de su matrícula y los recargos" + FOOTER
    assert await r.service.kinds(SENDER) == ["matricula"]
    assert await consents(r, SENDER) == [("recordatorios", True, "tg")]


async def test_avíseme_after_a_licence_look_up_is_about_the_licence(reminders: Reminders) -> None:
    r = reminders
    cedula, dactilar = demo("licencia_por_vencer")
    await r.world.services.identidad.verify(SENDER, cedula, dactilar)
    dispatcher = CollectingDispatcher()
    tracker = said("avíseme", "suscribir_recordatorios", sender=SENDER, slots={"tramite_actual": "licencia"})
    assert await ActionSuscribirRecordatorios().run(dispatcher, tracker, {}) == [SlotSet("recordatorio_tipos", None)]
    assert dispatcher.messages[0]["text"] == SUSCRITO + "• cuándo vence su licencia" + FOOTER
    assert dispatcher.messages[0]["buttons"] == [{"title": "No más avisos", "payload": "/cancelar_recordatorios"}]
    # «avíseme» alone, with no trámite in view: every kind; the kinds add up, one consent record per change.
    await ActionSuscribirRecordatorios().run(
        CollectingDispatcher(), said("avisame", "suscribir_recordatorios", sender=SENDER), {}
    )
    assert await r.service.kinds(SENDER) == ["licencia", "matricula", "multas", "documentos"]
    await ActionSuscribirRecordatorios().run(
        CollectingDispatcher(), said("avisame", "suscribir_recordatorios", sender=SENDER), {}
    )
    assert await consents(r, SENDER) == [("recordatorios", True, "tg"), ("recordatorios", True, "tg")]
    async with r.sessions() as session:
        row = await session.get(ReminderSubscription, SENDER)
        assert row is not None and cedula not in row.cedula_cifrada and cedula not in row.cedula_hash


async def test_a_locked_identity_check_subscribes_nothing(reminders: Reminders) -> None:
    r = reminders
    for _ in range(r.world.services.identidad._max_failures):
        await r.world.services.identidad.verify(SENDER, demo("intentos_fallidos")[0], "A1111A1111")
    dispatcher = CollectingDispatcher()
    events = await ActionSuscribirRecordatorios().run(
        dispatcher, said("avíseme", "suscribir_recordatorios", sender=SENDER), {}
    )
    assert events == [SlotSet("identidad", "bloqueada")]
    assert [m["plantilla"] for m in dispatcher.messages] == ["identidad_bloqueada"]
    assert await r.service.kinds(SENDER) == []


async def test_no_más_avisos_stops_one_kind_or_all_and_withdraws_the_consent(reminders: Reminders) -> None:
    r = reminders
    await r.subscribe(SENDER, "multas_de_transito", "multas", "matricula")
    partial = CollectingDispatcher()
    tracker = said("ya no me avise de las multas", "cancelar_recordatorios", sender=SENDER, kinds=("multas",))
    assert await ActionCancelarRecordatorios().run(partial, tracker, {}) == []
    assert partial.messages[0]["plantilla"] == "recordatorios_cancelados_en_parte"
    assert partial.messages[0]["text"].startswith(
        "Listo, ya no le avisaré de:\n• multas nuevas o vencidas\nSeguiré avisándole de:\n"
        "• el mes de su matrícula y los recargos\n"
    )
    assert await r.service.kinds(SENDER) == ["matricula"]
    # A kind it does not have: nothing goes, and it says what stays.
    other = CollectingDispatcher()
    tracker = said("no más avisos de licencia", "cancelar_recordatorios", sender=SENDER, kinds=("licencia",))
    await ActionCancelarRecordatorios().run(other, tracker, {})
    assert other.messages[0]["plantilla"] == "recordatorios_cancelados_en_parte"
    assert await r.service.kinds(SENDER) == ["matricula"]

    assert [m["plantilla"] for m in await r.stop(SENDER)] == ["recordatorios_cancelados"]
    assert await r.service.kinds(SENDER) == []
    assert await consents(r, SENDER) == [("recordatorios", True, "tg"), ("recordatorios", False, "tg")]
    async with r.sessions() as session:
        assert await session.get(ReminderSubscription, SENDER) is None  # the encrypted cédula goes too
    assert [m["plantilla"] for m in await r.stop(SENDER)] == ["recordatorios_sin_suscripcion"]


async def test_the_kinds_are_read_from_the_words_when_the_model_gives_no_entity(reminders: Reminders) -> None:
    r = reminders
    cedula, dactilar = demo("multas_de_transito")
    await r.world.services.identidad.verify(SENDER, cedula, dactilar)
    dispatcher = CollectingDispatcher()
    tracker = said("avisame de las fotomultas y cuando toca matricular", "suscribir_recordatorios", sender=SENDER)
    await ActionSuscribirRecordatorios().run(dispatcher, tracker, {})
    assert dispatcher.messages[0]["text"] == (
        SUSCRITO + "• el mes de su matrícula y los recargos\n• multas nuevas o vencidas" + FOOTER
    )
    stop = said("ya no me mande avisos de las citasiones", "cancelar_recordatorios", sender=SENDER)
    await ActionCancelarRecordatorios().run(CollectingDispatcher(), stop, {})
    assert await r.service.kinds(SENDER) == ["matricula"]
    # A button's payload names no words: «/suscribir_recordatorios» alone is every kind.
    await ActionSuscribirRecordatorios().run(
        CollectingDispatcher(), said("/suscribir_recordatorios", "suscribir_recordatorios", sender=SENDER), {}
    )
    assert await r.service.kinds(SENDER) == ["licencia", "matricula", "multas", "documentos"]


async def test_a_licence_answer_offers_its_reminder_as_a_button_until_the_chat_has_it(reminders: Reminders) -> None:
    from bot.tramites.licencia.actions import ActionConsultarLicencia

    r = reminders
    cedula, dactilar = demo("licencia_por_vencer")
    await r.world.services.identidad.verify(SENDER, cedula, dactilar)
    offer = {"title": "Avíseme antes de que venza", "payload": "/suscribir_recordatorios"}

    async def look_up() -> list[dict[str, object]]:
        dispatcher = CollectingDispatcher()
        await ActionConsultarLicencia().run(dispatcher, said("mi licencia", "consultar_licencia", sender=SENDER), {})
        return [m for m in dispatcher.messages if m.get("plantilla") == "licencia_datos"]

    [datos] = await look_up()
    # One more button on the answer that carries the date, not a second question after it.
    assert datos["buttons"][-1] == offer and len(datos["buttons"]) == 3
    assert await r.service.kinds(SENDER) == []  # offered, not subscribed

    # Tapping it: the button's payload has no words, so the kind is the trámite's.
    tapped = said(
        "/suscribir_recordatorios", "suscribir_recordatorios", sender=SENDER, slots={"tramite_actual": "licencia"}
    )
    await ActionSuscribirRecordatorios().run(CollectingDispatcher(), tapped, {})
    assert await r.service.kinds(SENDER) == ["licencia"]

    [datos] = await look_up()
    assert offer not in datos["buttons"]  # the chat has it: not offered again
