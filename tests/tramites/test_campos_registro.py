"""Every document prints what the registry records: for each document type and each demo identity that can get
it, the PDF's text (pdftotext) and the image's fields (the rows drawn on the PNG and its signed token) equal the
registry's record field by field, accents and grammatical gender included, with no «No consta» where the
record has the field; validity comes from the registry (or the catalogue), never from a back-dated issue."""

from __future__ import annotations

import shutil
import subprocess
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml
from rasa_sdk.executor import CollectingDispatcher

from bot.documents.render import DocumentContent
from bot.documents.service import DocumentRenderer, Draft, Holder
from bot.documents.templates import DocumentKind
from bot.tramites.antecedentes_penales import service as antecedentes
from bot.tramites.cedula_digital.actions import mostrar_cedula_digital
from bot.tramites.certificado_nacimiento import service as nacimiento
from bot.tramites.certificado_votacion import service as votacion
from bot.tramites.licencia import service as licencia_service
from bot.tramites.licencia.actions import mostrar_licencia
from bot.tramites.matricula import service as matricula
from bot.tramites.ruc import service as ruc
from integrations.registros.records import EstadoMatricula
from tests.actions.builders import tracker
from tests.actions.conftest import World, keys_dir, world  # noqa: F401 - fixtures

PROJECT = Path(__file__).resolve().parents[2]
ECUADOR = timezone(timedelta(hours=-5))
DEMO = yaml.safe_load((PROJECT / "data/sandbox/identidades_demo.yml").read_text(encoding="utf-8"))["identidades"]
VIVOS = [i for i in DEMO if "fecha_defuncion" not in i]
VOTANTES = [i for i in DEMO if i.get("votacion")]
CONDUCTORES = [i for i in DEMO if i.get("licencia", {}).get("vence_en_dias", 0) > 0]
AL_DIA = [(i, v) for i in DEMO for v in i.get("vehiculos", []) if v["matricula"] == "al_dia"]
CON_RUC = [i for i in DEMO if i.get("ruc")]
ADULTOS = [i for i in VIVOS if i["fecha_nacimiento"] < date(2008, 1, 1)]
# How the registries spell the demo identities' names (upper case, accents and Ñ kept).
NOMBRES = {
    "1712345675": "ANDRADE CEVALLOS MARÍA JOSÉ",
    "0104567896": "GUAMÁN TENESACA JUAN PABLO",
    "0922222229": "INTRIAGO LOOR WILSON FABIÁN",
    "1311111114": "CEDEÑO ALCÍVAR MARTHA CECILIA",
    "1811111119": "PAREDES NARVÁEZ DIEGO ARMANDO",
    "1733333338": "SALAZAR VILLACÍS ANDREA CAROLINA",
    "1723232326": "SALAZAR VILLACÍS MATEO SEBASTIÁN",
    "1744444447": "TORRES BONILLA PABLO ANDRÉS",
}
# Words Spanish always writes with an accent: none may appear without it in the sandbox's data.
SIN_TILDE = {
    "MARIA", "JOSE", "GUAMAN", "FABIAN", "ALCIVAR", "NARVAEZ", "VILLACIS", "SEBASTIAN", "ANDRES", "DURAN",
    "BOLIVAR", "MANABI", "GALAPAGOS", "SUCUMBIOS", "TULCAN", "RIOS", "MEJIA", "VEHICULOS", "VEHICULO",
    "MATRICULACION", "MATRICULA", "AUTOMOVIL", "TELEFONO", "SEMAFORO", "LIMITE", "PEREZ", "LOPEZ", "GARCIA",
}  # fmt: skip
MASCULINO = {"soltero", "casado", "divorciado", "viudo"}
FEMENINO = {"soltera", "casada", "divorciada", "viuda"}


def ids(items: list[Any]) -> list[str]:
    return [str(i[0]["cedula"] if isinstance(i, tuple) else i["cedula"]) for i in items]


def same(text: str) -> str:
    """Case does not matter (documents write names in sentence case), accents and Ñ do."""
    return " ".join(unicodedata.normalize("NFC", text).casefold().split())


def ddmmyyyy(day: date) -> str:
    return day.strftime("%d/%m/%Y")


def today() -> str:
    return ddmmyyyy(datetime.now(ECUADOR).date())


@dataclass
class Printed:
    """One issued document as a reader sees it: the PDF's text and the rows of the PDF and of the image."""

    kind: str
    pdf_text: str
    pdf_rows: dict[str, str]
    png_rows: dict[str, str]
    png_facts: Any = None
    extra: dict[str, Any] = field(default_factory=dict)

    def rows(self) -> Iterator[dict[str, str]]:
        yield self.pdf_rows
        yield self.png_rows

    def check(self, label: str, expected: str) -> None:
        """The field ``label`` reads ``expected`` on the PDF and on the image, and the PDF's text shows it."""
        for rows in self.rows():
            assert same(rows[label]) == same(expected), (self.kind, label, rows[label], expected)
        assert same(expected) in self.pdf_text, (self.kind, label, expected)

    def no_consta(self) -> list[str]:
        return [label for rows in self.rows() for label, value in rows.items() if "no consta" in same(value)]


class Spy:
    """Records what the renderer draws on each canvas (PDF and image) of the documents issued in a test."""

    def __init__(self, renderer: DocumentRenderer, monkeypatch: pytest.MonkeyPatch) -> None:
        self.drawn: dict[tuple[str, bool], DocumentContent] = {}
        original = renderer.content

        def content(draft: Draft, *, for_image: bool) -> DocumentContent:
            drawn = original(draft, for_image=for_image)
            self.drawn[(draft.id, for_image)] = drawn
            return drawn

        monkeypatch.setattr(renderer, "content", content)


@pytest.fixture
def spy(world: World, monkeypatch: pytest.MonkeyPatch) -> Spy:  # noqa: F811
    return Spy(world.services.documents.issuer.renderer, monkeypatch)


def pdftotext(pdf: bytes, tmp: Path) -> str:
    if shutil.which("pdftotext") is None:
        pytest.fail("pdftotext is missing: apt-get install -y poppler-utils")
    path = tmp / "documento.pdf"
    path.write_bytes(pdf)
    return subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout


async def printed(world: World, spy: Spy, cedula: str, kind: DocumentKind, tmp: Path) -> Printed:  # noqa: F811
    """The newest document of ``kind`` issued to ``cedula``, read back from its files."""
    documents = world.services.documents
    summary = next(d for d in await documents.issuer.of_holder(cedula) if d.kind == kind.value)
    pdf = documents.store.get(summary.id, f"{kind.value}.pdf")
    png = documents.store.get(summary.id, f"{kind.value}.png")
    verified = await documents.verifier.verify_file(png)
    assert verified.document is not None
    rows = {image: {r.label: r.value for r in spy.drawn[(summary.id, image)].rows} for image in (False, True)}
    doc = Printed(kind.value, same(pdftotext(pdf, tmp)), rows[False], rows[True], verified.document)
    doc.extra["verdict"] = verified.verdict.value
    return doc


def check_holder(doc: Printed, cedula: str, registry_name: str) -> None:
    """The holder's name as the registry spells it, on the PDF, the image and the image's signed token."""
    doc.check("Titular", registry_name)
    doc.check("Cédula", cedula)
    assert same(doc.png_facts.holder_name) == same(registry_name)
    if cedula in NOMBRES:
        assert same(registry_name) == same(NOMBRES[cedula])


def check_validity(doc: Printed, *, issued: str, expires: str) -> None:
    """Issued today and valid until ``expires``: the image's token says so and a verifier agrees."""
    vigente = datetime.strptime(expires, "%d/%m/%Y").date() >= datetime.now(ECUADOR).date()
    assert doc.extra["verdict"] == ("valido" if vigente else "vencido")
    doc.check("Fecha de emisión", issued)
    doc.check("Válido hasta", expires)
    assert ddmmyyyy(doc.png_facts.issued_at.astimezone(ECUADOR)) == issued
    assert ddmmyyyy(doc.png_facts.expires_at.astimezone(ECUADOR)) == expires


# -- the sandbox's records themselves ----------------------------------------------------------------------------


def test_the_sandbox_population_is_spelt_with_accents() -> None:
    texts = [
        (PROJECT / "data/sandbox" / name).read_text(encoding="utf-8")
        for name in ("identidades_demo.yml", "nombres.yml", "territorio.yml", "catalogos.yml")
    ]
    texts.append((PROJECT / "integrations/registros/sandbox/model.py").read_text(encoding="utf-8"))
    words = {w.strip(",.:;[]{}()\"'") for text in texts for w in text.split()}
    assert sorted(words & SIN_TILDE) == []


# -- cédula digital ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("demo", VIVOS, ids=ids(VIVOS))
async def test_cedula_digital(demo: dict[str, Any], world: World, spy: Spy, tmp_path: Path) -> None:  # noqa: F811
    cedula, sender = str(demo["cedula"]), f"web:{demo['clave']}"
    await world.services.identidad.verify(sender, cedula, str(demo["codigo_dactilar"]))
    dispatcher = CollectingDispatcher()
    await mostrar_cedula_digital(dispatcher, tracker(sender_id=sender), {})
    persona = await world.services.registros.registro_civil.consultar_ciudadano(cedula)
    assert persona.fecha_expiracion and persona.fecha_cedulacion and persona.fecha_nacimiento
    assert persona.estado_civil and persona.sexo and persona.lugar_nacimiento and persona.nacionalidad
    doc = await printed(world, spy, cedula, DocumentKind.CEDULA_DIGITAL, tmp_path)
    check_holder(doc, cedula, persona.nombre)
    doc.check("Fecha de nacimiento", ddmmyyyy(persona.fecha_nacimiento))
    doc.check("Lugar de nacimiento", persona.lugar_nacimiento)
    doc.check("Nacionalidad", persona.nacionalidad)
    doc.check("Sexo", persona.sexo)
    doc.check("Estado civil", persona.estado_civil)
    doc.check("Fecha de expedición", ddmmyyyy(persona.fecha_cedulacion))
    check_validity(doc, issued=today(), expires=ddmmyyyy(persona.fecha_expiracion))
    genero = FEMENINO if persona.sexo == "MUJER" else MASCULINO
    assert same(doc.pdf_rows["Estado civil"]) in genero | {"unión de hecho"}
    assert doc.no_consta() == []
    # The chat says the same as the document.
    [datos] = [m["text"] for m in dispatcher.messages if m.get("plantilla") == "cedula_digital_datos"]
    assert f"Vence: {ddmmyyyy(persona.fecha_expiracion)}" in datos
    assert f"Estado civil: {doc.pdf_rows['Estado civil']}" in datos
    assert same(persona.nombre) in same(datos)


# -- licencia de conducir ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("demo", CONDUCTORES, ids=ids(CONDUCTORES))
async def test_licencia(demo: dict[str, Any], world: World, spy: Spy, tmp_path: Path) -> None:  # noqa: F811
    cedula, sender = str(demo["cedula"]), f"web:{demo['clave']}"
    await world.services.identidad.verify(sender, cedula, str(demo["codigo_dactilar"]))
    await mostrar_licencia(CollectingDispatcher(), tracker(sender_id=sender), {})
    licencia = await world.services.registros.ant.licencia(cedula)
    persona = await world.services.registros.registro_civil.consultar_ciudadano(cedula)
    assert licencia is not None
    doc = await printed(world, spy, cedula, DocumentKind.LICENCIA_CONDUCIR, tmp_path)
    check_holder(doc, cedula, persona.nombre)
    doc.check("Categoría", licencia.tipo)
    for rows in doc.rows():
        assert Decimal(rows["Puntos"].split("/")[0]) == licencia.puntos
    # The ANT records the blood type and the restrictions: printed as recorded (the demo's own values), never
    # «No consta en la ANT».
    assert licencia.tipo_sangre and licencia.restricciones, "the ANT's licence carries blood type and restrictions"
    assert (licencia.tipo_sangre, licencia.restricciones) == (
        demo["licencia"]["tipo_sangre"],
        demo["licencia"]["restricciones"],
    )
    doc.check("Tipo de sangre", licencia.tipo_sangre)
    doc.check("Restricciones", licencia.restricciones)
    assert doc.no_consta() == []
    # Issued today, valid until the ANT's expiry date: not an issue date moved back to reach it.
    check_validity(doc, issued=today(), expires=ddmmyyyy(licencia.fecha_vencimiento))


# -- matrícula vehicular -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("demo", "vehiculo"), AL_DIA, ids=ids(AL_DIA))
async def test_matricula(
    demo: dict[str, Any],
    vehiculo: dict[str, Any],
    world: World,  # noqa: F811
    spy: Spy,
    tmp_path: Path,
) -> None:
    s, cedula = world.services, str(demo["cedula"])
    registro = await s.registros.ant.matricula(str(vehiculo["placa"]))
    persona = await s.registros.registro_civil.consultar_ciudadano(cedula)
    assert registro.estado is EstadoMatricula.AL_DIA and registro.anio_ultima_matricula is not None
    await matricula.emitir(
        s,
        registro,
        Holder(cedula=cedula, name=persona.nombre),
        conversation_id="web:matricula",
        ahora=datetime.now(ECUADOR),
    )
    doc = await printed(world, spy, cedula, DocumentKind.MATRICULA_VEHICULAR, tmp_path)
    v = registro.vehiculo
    for label, value in [
        ("Placa", v.placa),
        ("Marca", v.marca),
        ("Modelo", v.modelo),
        ("Año", str(v.anio)),
        ("Color", v.color),
        ("Clase", v.clase),
    ]:
        doc.check(label, value)
    # The ANT records the chassis number (the demo's own VIN): printed as recorded, never «No consta en la ANT».
    assert v.chasis == vehiculo["chasis"] and len(v.chasis) == 17
    doc.check("Número de chasis", v.chasis)
    assert doc.no_consta() == []
    # Valid until the end of the registration month a year after the last registration in the ANT.
    anio, mes = registro.anio_ultima_matricula + 1, registro.mes_matriculacion
    fin = (date(anio + mes // 12, mes % 12 + 1, 1)) - timedelta(days=1)
    check_validity(doc, issued=today(), expires=ddmmyyyy(fin))


async def test_no_consta_only_when_the_ant_sends_nothing(world: World, spy: Spy, tmp_path: Path) -> None:  # noqa: F811
    """An ANT answer without blood type, restrictions or chassis: those fields, and only those, read «No consta»."""
    s, cedula = world.services, "1712345675"
    persona = await s.registros.registro_civil.consultar_ciudadano(cedula)
    titular = Holder(cedula=cedula, name=persona.nombre)
    licencia = await s.registros.ant.licencia(cedula)
    assert licencia is not None
    sin_datos = replace(licencia, tipo_sangre=None, restricciones=None)
    await licencia_service.emitir(s, sin_datos, titular, conversation_id="web:licencia")
    doc = await printed(world, spy, cedula, DocumentKind.LICENCIA_CONDUCIR, tmp_path)
    assert sorted(set(doc.no_consta())) == ["Restricciones", "Tipo de sangre"]
    doc.check("Tipo de sangre", licencia_service.NO_CONSTA)
    registro = await s.registros.ant.matricula("PDA-4521")
    sin_chasis = replace(registro, vehiculo=replace(registro.vehiculo, chasis=None))
    await matricula.emitir(s, sin_chasis, titular, conversation_id="web:matricula", ahora=datetime.now(ECUADOR))
    doc = await printed(world, spy, cedula, DocumentKind.MATRICULA_VEHICULAR, tmp_path)
    assert sorted(set(doc.no_consta())) == ["Número de chasis"]
    doc.check("Número de chasis", matricula.NO_CONSTA)


# -- certificado de votación -------------------------------------------------------------------------------------


@pytest.mark.parametrize("demo", VOTANTES, ids=ids(VOTANTES))
async def test_certificado_votacion(demo: dict[str, Any], world: World, spy: Spy, tmp_path: Path) -> None:  # noqa: F811
    s, cedula = world.services, str(demo["cedula"])
    registro = await s.registros.cne.registro_votacion(cedula)
    lugar = getattr(registro, "lugar", None)
    assert lugar is not None, "the CNE's record carries the voting place"
    if registro.multa_pendiente > 0:  # a fined voter gets it once the fine is paid
        campos = votacion.campos_certificado(registro, votacion._textos(s.settings.textos_dir), multa_pagada_aqui=True)
        await s.documents.issuer.issue(DocumentKind.CERTIFICADO_VOTACION, Holder(cedula, registro.nombre), campos)
    else:
        solicitud = await s.solicitudes.crear(
            tramite="certificado_votacion", conversation_id="web:votacion", cedula=cedula, datos={}
        )
        assert (await votacion.procesar(s, solicitud, cedula)).documento is not None
    doc = await printed(world, spy, cedula, DocumentKind.CERTIFICADO_VOTACION, tmp_path)
    check_holder(doc, cedula, registro.nombre)
    doc.check("Proceso electoral", registro.proceso)
    doc.check("Provincia", lugar.provincia)
    doc.check("Cantón", lugar.canton)
    doc.check("Parroquia", lugar.parroquia)
    doc.check("Junta receptora del voto", lugar.junta)
    doc.check("Recinto electoral", lugar.recinto)
    assert doc.no_consta() == []


# -- certificado de nacimiento -----------------------------------------------------------------------------------


@pytest.mark.parametrize("demo", VIVOS, ids=ids(VIVOS))
async def test_certificado_nacimiento(demo: dict[str, Any], world: World, spy: Spy, tmp_path: Path) -> None:  # noqa: F811
    s, cedula = world.services, str(demo["cedula"])
    solicitud = await s.solicitudes.crear(
        tramite="certificado_nacimiento", conversation_id="web:nacimiento", cedula=cedula, datos={"para": "propio"}
    )
    assert (await nacimiento.procesar(s, solicitud, cedula)).documento is not None
    persona = await s.registros.registro_civil.consultar_ciudadano(cedula)
    assert persona.fecha_nacimiento and persona.lugar_nacimiento and persona.nombre_padre and persona.nombre_madre
    doc = await printed(world, spy, cedula, DocumentKind.CERTIFICADO_NACIMIENTO, tmp_path)
    check_holder(doc, cedula, persona.nombre)
    doc.check("Fecha de nacimiento", ddmmyyyy(persona.fecha_nacimiento))
    doc.check("Lugar de nacimiento", persona.lugar_nacimiento)
    doc.check("Nombre del padre", persona.nombre_padre)
    doc.check("Nombre de la madre", persona.nombre_madre)
    inscripcion = [getattr(persona, f"{k}_inscripcion", None) for k in ("tomo", "pagina", "acta")]
    assert all(inscripcion), "the birth record carries its tomo, página and acta"
    doc.check("Inscripción (tomo, página, acta)", ", ".join(str(n) for n in inscripcion))
    check_validity(doc, issued=today(), expires=ddmmyyyy((datetime.now(UTC) + timedelta(days=90)).astimezone(ECUADOR)))
    assert doc.no_consta() == []


# -- certificado de antecedentes penales -------------------------------------------------------------------------


@pytest.mark.parametrize("demo", ADULTOS, ids=ids(ADULTOS))
async def test_antecedentes_penales(demo: dict[str, Any], world: World, spy: Spy, tmp_path: Path) -> None:  # noqa: F811
    s, cedula, motivo = world.services, str(demo["cedula"]), "Requisito para un empleo"
    solicitud = await s.solicitudes.crear(
        tramite="antecedentes_penales", conversation_id="web:record", cedula=cedula, datos={"motivo": motivo}
    )
    assert (await antecedentes.procesar(s, solicitud, cedula)).documento is not None
    record = await s.registros.ministerio_interior.antecedentes(cedula, motivo=motivo)
    doc = await printed(world, spy, cedula, DocumentKind.CERTIFICADO_ANTECEDENTES_PENALES, tmp_path)
    check_holder(doc, cedula, record.nombre)
    doc.check("Resultado", "REGISTRA ANTECEDENTES" if record.registra else "NO REGISTRA ANTECEDENTES")
    doc.check("Motivo de la consulta", motivo)


# -- certificado de RUC ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("demo", CON_RUC, ids=ids(CON_RUC))
async def test_certificado_ruc(demo: dict[str, Any], world: World, spy: Spy, tmp_path: Path) -> None:  # noqa: F811
    s, cedula = world.services, str(demo["cedula"])
    registro = await ruc.consultar(s, cedula)
    await ruc.emitir_certificado(s, registro, cedula=cedula, conversation_id="web:ruc")
    doc = await printed(world, spy, cedula, DocumentKind.CERTIFICADO_RUC, tmp_path)
    check_holder(doc, cedula, registro.razon_social)
    doc.check("RUC", registro.numero)
    doc.check("Razón social", registro.razon_social)
    doc.check("Actividad económica", "; ".join(a.descripcion for a in registro.actividades))
    doc.check("Estado del contribuyente", registro.estado.value)
    assert registro.fecha_inicio_actividades is not None
    doc.check("Inicio de actividades", ddmmyyyy(registro.fecha_inicio_actividades))
