"""The conversation corpus (tests/e2e/conversaciones/*.yml): its schema, the matcher and the runner.

Importable and testable without Rasa: `cargar` reads and validates the YAML files, `revisar_turno` and
`revisar_documento` compare an answer with what is expected, and `correr` talks one conversation through a
running Chasqui's web channel (any base URL, or an httpx transport in unit tests) into a `ResultadoConversacion`.

Every comparison folds both sides (`plegar`): lower case, accents removed, «» ¿¡ removed, whitespace collapsed.
A turn is understood when its checks pass and, always, the answer is not empty and does not say «Disculpe, no le
entendí», nor any other «no (le) entendí» (a form's «No entendí para quién es») or «sigo sin entenderle», unless
the turn allows it (`permite_no_entendido`). A message is a list, which may carry up to 10
options whatever `max_botones` says, when its `custom` has a truthy `lista` (or `list`) or it has more than three
buttons (more than WhatsApp's quick replies: the channel shows them as a numbered list).
"""

from __future__ import annotations

import os
import re
import subprocess
import tempfile
import time
import unicodedata
import uuid
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

import httpx
import yaml
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator, model_validator

# CHASQUI_CONVERSACIONES_CARPETA runs another folder (e.g. conversaciones_pendientes) through the same runner.
CARPETA = Path(os.environ.get("CHASQUI_CONVERSACIONES_CARPETA") or Path(__file__).parent / "conversaciones")
NO_ENTENDIDO = ("no le entendi", "no entendi", "sigo sin entenderle")
MAX_BOTONES_RAPIDOS = 3
MAX_FILAS_LISTA = 10
TARJETA = {"numero": "4111 1111 1111 1111", "vencimiento": "12/30", "cvv": "123"}
_ENLACE_PAGO = re.compile(r"/pagos/(\w+)\?t=([\w.~-]+)")
_QUITAR = str.maketrans("", "", "«»¿¡")
Mensaje = dict[str, Any]


def plegar(texto: str) -> str:
    """Lower case, no accents, no «» ¿ ¡, single spaces: the form every comparison uses."""
    sin_tildes = "".join(c for c in unicodedata.normalize("NFD", texto.lower()) if not unicodedata.combining(c))
    return " ".join(sin_tildes.translate(_QUITAR).split())


class Tipo(StrEnum):
    PREGUNTA_EN_FORMULARIO = "pregunta_en_formulario"
    DATOS_POR_ADELANTADO = "datos_por_adelantado"
    TEXTO_LIBRE_NO_ES_DATO = "texto_libre_no_es_dato"
    INTENCION_SOBRE_PALABRAS = "intencion_sobre_palabras"
    CONSENTIMIENTO = "consentimiento"
    OTRA_ENTIDAD = "otra_entidad"
    REGLA_EXPLICADA = "regla_explicada"
    PERSONA = "persona"
    ENTREGA = "entrega"
    REGIONALISMO = "regionalismo"
    DOS_PEDIDOS = "dos_pedidos"
    CAMBIO_DE_OPINION = "cambio_de_opinion"
    MENUS = "menus"


class _Estricto(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Turno(_Estricto):
    """What the citizen says (or the runner does) and what the answer must show."""

    dice: str | None = Field(default=None, min_length=1)
    accion: Literal["pagar"] | None = None
    espera: list[str] = []
    alguno: list[str] = []
    no_espera: list[str] = []
    regex: str | None = None
    max_botones: int | None = Field(default=None, ge=0)
    permite_no_entendido: bool = False

    @field_validator("regex")
    @classmethod
    def _compila(cls, valor: str | None) -> str | None:
        try:
            re.compile(valor or "")
        except re.error as exc:
            raise ValueError(f"regex no válida: {exc}") from exc
        return valor

    @model_validator(mode="after")
    def _dice_o_accion(self) -> Turno:
        if (self.dice is None) == (self.accion is None):
            raise ValueError("un turno tiene «dice» o «accion», uno de los dos")
        revisa = self.espera or self.alguno or self.no_espera or self.regex or self.max_botones is not None
        if self.accion is not None and revisa:
            raise ValueError("un turno con «accion» no lleva comprobaciones")
        return self


class Documento(_Estricto):
    contiene: list[str] = []
    no_contiene: list[str] = []


class Conversacion(_Estricto):
    nombre: str = Field(min_length=3)
    tipo: Tipo
    canal: Literal["web"] = "web"
    consentimiento: Literal["previo", "ninguno"] = "previo"
    turnos: list[Turno] = Field(min_length=1)
    documento: Documento | None = None
    _archivo: str = PrivateAttr(default="")

    @property
    def archivo(self) -> str:
        return self._archivo

    @property
    def paga(self) -> bool:
        return any(t.accion == "pagar" for t in self.turnos)


class ArchivoCorpus(_Estricto):
    conversaciones: list[Conversacion] = Field(min_length=1)


def cargar_archivo(ruta: Path) -> list[Conversacion]:
    conversaciones = ArchivoCorpus.model_validate(yaml.safe_load(ruta.read_text(encoding="utf-8"))).conversaciones
    for conversacion in conversaciones:
        conversacion._archivo = ruta.stem
    return conversaciones


def cargar(carpeta: Path = CARPETA) -> list[Conversacion]:
    """Every conversation of the folder, file by file; names must be unique across files."""
    todas = [c for ruta in sorted(carpeta.glob("*.yml")) for c in cargar_archivo(ruta)]
    repetidas = sorted({c.nombre for c in todas if [d.nombre for d in todas].count(c.nombre) > 1})
    if repetidas:
        raise ValueError(f"conversaciones repetidas: {repetidas}")
    return todas


def en_orden(conversaciones: list[Conversacion]) -> list[Conversacion]:
    """Those that pay last: a payment changes the shared sandbox registries (a fine paid) for the others."""
    return sorted(conversaciones, key=lambda c: c.paga)


# --- the matcher


def texto_de(mensajes: list[Mensaje]) -> str:
    return plegar(" ".join(str(m.get("text") or "") for m in mensajes))


def es_lista(mensaje: Mensaje) -> bool:
    """A list (rows, not quick replies): marked in `custom`, or more than three buttons (WhatsApp renders them as a
    numbered list)."""
    custom = mensaje.get("custom")
    marked = isinstance(custom, dict) and bool(custom.get("lista") or custom.get("list"))
    return marked or len(mensaje.get("buttons") or []) > MAX_BOTONES_RAPIDOS


def opciones(mensaje: Mensaje) -> int:
    """Buttons, or the rows of a list (`custom.lista` as a list, or a dict with `filas` / `rows`)."""
    custom: dict[str, Any] = mensaje["custom"] if isinstance(mensaje.get("custom"), dict) else {}
    lista = custom.get("lista") or custom.get("list")
    filas = (lista.get("filas") or lista.get("rows")) if isinstance(lista, dict) else lista
    return max(len(mensaje.get("buttons") or []), len(filas) if isinstance(filas, list) else 0)


def revisar_turno(turno: Turno, mensajes: list[Mensaje]) -> list[str]:
    """What is wrong with the answer to one turn (empty: understood)."""
    if not any(str(m.get("text") or "").strip() or m.get("buttons") or m.get("custom") for m in mensajes):
        return ["respuesta vacía"]
    texto = texto_de(mensajes)
    no_entendio = next((n for n in NO_ENTENDIDO if n in texto), None)
    problemas = [f"dice «{no_entendio}»"] if no_entendio and not turno.permite_no_entendido else []
    problemas += [f"falta «{e}»" for e in turno.espera if plegar(e) not in texto]
    if turno.alguno and not any(plegar(a) in texto for a in turno.alguno):
        problemas.append(f"no aparece ninguna de {turno.alguno}")
    problemas += [f"no debía decir «{n}»" for n in turno.no_espera if plegar(n) in texto]
    if turno.regex is not None and not re.search(turno.regex, texto):
        problemas.append(f"no cumple la regex {turno.regex!r}")
    for mensaje in mensajes if turno.max_botones is not None else []:
        limite = MAX_FILAS_LISTA if es_lista(mensaje) else int(turno.max_botones or 0)
        if opciones(mensaje) > limite:
            problemas.append(f"un mensaje tiene {opciones(mensaje)} opciones (máximo {limite})")
    return problemas


def revisar_documento(documento: Documento, texto_pdf: str | None) -> list[str]:
    if texto_pdf is None:
        return ["no llegó ningún PDF"]
    texto = plegar(texto_pdf)
    faltan = [f"el PDF no dice «{c}»" for c in documento.contiene if plegar(c) not in texto]
    return faltan + [f"el PDF dice «{n}»" for n in documento.no_contiene if plegar(n) in texto]


def ultimo_pdf(mensajes: list[Mensaje]) -> str | None:
    """The URL of the last PDF sent (a custom.document of kind pdf)."""
    documentos = [m["custom"].get("document") for m in mensajes if isinstance(m.get("custom"), dict)]
    urls = [d.get("url") for d in documentos if isinstance(d, dict) and d.get("kind") == "pdf"]
    return urls[-1] if urls else None


def ultimo_enlace_pago(mensajes: list[Mensaje]) -> tuple[str, str] | None:
    enlaces = [e for m in mensajes for e in _ENLACE_PAGO.findall(str(m.get("text") or ""))]
    return enlaces[-1] if enlaces else None


def describir(turno: Turno) -> str:
    partes = [f"{k} {v!r}" for k, v in turno.model_dump(include={"espera", "alguno", "no_espera"}).items() if v]
    partes += [f"regex {turno.regex!r}"] if turno.regex else []
    partes += [f"max_botones {turno.max_botones}"] if turno.max_botones is not None else []
    return "; ".join(partes) or "una respuesta"


# --- results


@dataclass
class ResultadoTurno:
    numero: int
    dice: str
    esperado: str
    respuesta: str
    problemas: list[str]

    @property
    def entendido(self) -> bool:
        return not self.problemas


@dataclass
class ResultadoConversacion:
    nombre: str
    tipo: str
    archivo: str
    turnos: list[ResultadoTurno] = field(default_factory=list)
    problemas: list[str] = field(default_factory=list)  # the runner's actions and the document

    @property
    def paso(self) -> bool:
        return not self.problemas and all(t.entendido for t in self.turnos)


@dataclass
class Resultados:
    conversaciones: list[ResultadoConversacion] = field(default_factory=list)

    @property
    def turnos(self) -> list[ResultadoTurno]:
        return [t for c in self.conversaciones for t in c.turnos]

    def porcentajes(self) -> tuple[float, float]:
        """(conversations passed, turns understood), in %; 0 when nothing ran."""
        pasaron, entendidos = sum(c.paso for c in self.conversaciones), sum(t.entendido for t in self.turnos)
        return 100 * pasaron / max(1, len(self.conversaciones)), 100 * entendidos / max(1, len(self.turnos))

    def resumen(self) -> str:
        pasaron, entendidos = sum(c.paso for c in self.conversaciones), sum(t.entendido for t in self.turnos)
        pc, pt = self.porcentajes()
        lineas = [
            f"Conversaciones: {pasaron}/{len(self.conversaciones)} pasaron ({pc:.1f} %) · "
            f"turnos entendidos: {entendidos}/{len(self.turnos)} ({pt:.1f} %)"
        ]
        for c in self.conversaciones:
            lineas += [f"✗ [{c.archivo}] {c.nombre}: {p}" for p in c.problemas]
            for t in (t for t in c.turnos if not t.entendido):
                lineas += [
                    f"✗ [{c.archivo}] {c.nombre} · turno {t.numero}: «{t.dice}»",
                    f"    esperado: {t.esperado}",
                    f"    falla: {'; '.join(t.problemas)}",
                    f"    respondió: {t.respuesta[:600]!r}",
                ]
        tipos = sorted({c.tipo for c in self.conversaciones})
        lineas += ["Por tipo: " + " · ".join(f"{t} {self._pasaron(t)}" for t in tipos)] if tipos else []
        return "\n".join(lineas)

    def _pasaron(self, tipo: str) -> str:
        del_tipo = [c for c in self.conversaciones if c.tipo == tipo]
        return f"{sum(c.paso for c in del_tipo)}/{len(del_tipo)}"


# --- the runner


class Chat:
    """One citizen on the web channel: the answer to each message plus what the web chat fetches by itself."""

    def __init__(self, http: httpx.Client) -> None:
        self.http, self.sender, self.ultimo_id = http, f"web:corpus-{uuid.uuid4()}", 0
        self.historial: list[Mensaje] = []

    def novedades(self) -> list[Mensaje]:
        """Messages nobody asked for (handoff notices, a person's replies, notifications): GET /mensajes."""
        respuesta = self.http.get("/webhooks/rest/mensajes", params={"sender": self.sender, "despues": self.ultimo_id})
        lista = respuesta.json() if respuesta.status_code == 200 else []
        nuevos = [m for m in lista if isinstance(m, dict) and isinstance(m.get("id"), int) and m["id"] > self.ultimo_id]
        self.ultimo_id = max([self.ultimo_id, *(m["id"] for m in nuevos)])
        self.historial += nuevos
        return nuevos

    def dice(self, texto: str) -> list[Mensaje]:
        cuerpo = {"sender": self.sender, "message": texto, "metadata": {"message_id": uuid.uuid4().hex}}
        for _ in range(12):  # Rasa loading or down: 503, retried with the same message id
            respuesta = self.http.post("/webhooks/rest/webhook", json=cuerpo, timeout=90)
            if respuesta.status_code != 503:
                break
            time.sleep(10)
        respuesta.raise_for_status()
        mensajes: list[Mensaje] = respuesta.json()
        self.historial += mensajes
        return mensajes + self.novedades()

    def pagar(self, *, espera: float = 60, calma: float = 8) -> list[str]:
        """Pay the last payment link seen with the approved test card, then wait for the chat to hear of it.

        The wait ends when a PDF arrives, `calma` seconds after the last message the chat fetched by itself (the
        worker issues the document a few seconds after the confirmation), or after `espera` seconds.
        """
        enlace = ultimo_enlace_pago(self.historial)
        if enlace is None:
            return ["no hay enlace de pago en la conversación"]
        pago_id, token = enlace
        for paso in (self.http.get(f"/pagos/{pago_id}", params={"t": token}),
                     self.http.post(f"/pagos/{pago_id}", data={"t": token, **TARJETA})):  # fmt: skip
            if paso.status_code != 200:
                return [f"{paso.request.method} {paso.request.url.path} respondió {paso.status_code}"]
        inicio, ultima = time.monotonic(), None
        while (ahora := time.monotonic()) < inicio + espera and (ultima is None or ahora < ultima + calma):
            nuevos = self.novedades()
            if ultimo_pdf(nuevos) is not None:
                break
            ultima = ahora if nuevos else ultima
            time.sleep(1)
        return []

    def texto_pdf(self) -> str | None:
        """The text of the last PDF sent (pdftotext), downloaded from the gateway under test."""
        self.novedades()
        url = ultimo_pdf(self.historial)
        if url is None:
            return None
        partes = urlsplit(url)
        descarga = self.http.get(partes.path + (f"?{partes.query}" if partes.query else ""))
        with tempfile.NamedTemporaryFile(suffix=".pdf") as archivo:
            archivo.write(descarga.content)
            archivo.flush()
            hecho = subprocess.run(["pdftotext", archivo.name, "-"], capture_output=True, text=True, check=False)
        return hecho.stdout if hecho.returncode == 0 else None


def correr(
    conversacion: Conversacion, base_url: str, *, transporte: httpx.BaseTransport | None = None
) -> ResultadoConversacion:
    """Talk one conversation through, turn by turn, in a brand-new chat; never raises on a wrong answer."""
    resultado = ResultadoConversacion(conversacion.nombre, conversacion.tipo.value, conversacion.archivo)
    with httpx.Client(base_url=base_url, transport=transporte, timeout=30, follow_redirects=True) as http:
        chat = Chat(http)
        try:
            if conversacion.consentimiento == "previo":  # as conftest's citizen(): past the privacy notice
                chat.dice("hola")
                chat.dice("/consentimiento_acepto")
            for numero, turno in enumerate(conversacion.turnos, start=1):
                if turno.dice is None:
                    resultado.problemas += [f"turno {numero} ({turno.accion}): {p}" for p in chat.pagar()]
                    continue
                try:
                    mensajes, problemas = chat.dice(turno.dice), []
                except httpx.HTTPError as exc:
                    mensajes, problemas = [], [f"sin respuesta: {type(exc).__name__} {exc}"]
                respuesta = " | ".join(str(m.get("text") or m.get("custom") or "") for m in mensajes)
                problemas = problemas or revisar_turno(turno, mensajes)
                resultado.turnos.append(ResultadoTurno(numero, turno.dice, describir(turno), respuesta, problemas))
            if conversacion.documento is not None:
                resultado.problemas += revisar_documento(conversacion.documento, chat.texto_pdf())
        except httpx.HTTPError as exc:
            resultado.problemas.append(f"la conversación se cortó: {type(exc).__name__} {exc}")
    return resultado
