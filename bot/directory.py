"""The State beyond Chasqui (`data/directorio.yml`): institutions and the services citizens ask for that
Chasqui does not provide in chat, each answered in one message."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from bot.language import mentions, words


@dataclass(frozen=True)
class Institucion:
    clave: str
    nombre: str
    sitio: str | None


@dataclass(frozen=True)
class ServicioExterno:
    clave: str
    nombre: str
    institucion: Institucion
    palabras: tuple[str, ...]
    respuesta: str

    @property
    def answer(self) -> str:
        """The answer, with the institution's official site when the text does not give it already."""
        sitio = self.institucion.sitio
        if not sitio or sitio.split("//")[-1].removeprefix("www.") in self.respuesta:
            return self.respuesta
        return f"{self.respuesta} Sitio oficial: {sitio}"


@dataclass(frozen=True)
class Municipio:
    """A city's municipality (GAD municipal), for the services only it gives (predial, patente…)."""

    ciudad: str
    sitio: str


@dataclass(frozen=True)
class Directory:
    instituciones: dict[str, Institucion]
    servicios: tuple[ServicioExterno, ...]
    municipios: tuple[Municipio, ...] = ()

    def answer_for(self, servicio: ServicioExterno, text: str) -> str:
        """The service's answer; for a municipality's service, with the site of the city ``text`` names."""
        if servicio.institucion.clave == "municipio":
            city = next((m for m in self.municipios if mentions(text, m.ciudad)), None)
            if city is not None:
                return f"{servicio.answer} En {city.ciudad}: {city.sitio}"
        return servicio.answer

    def find(self, text: str) -> ServicioExterno | None:
        """The service ``text`` names; the longest phrase wins («declaración del impuesto a la renta» over «renta»)."""
        best: tuple[int, ServicioExterno] | None = None
        for servicio in self.servicios:
            for palabra in servicio.palabras:
                size = len(words(palabra))
                if (best is None or size > best[0]) and mentions(text, palabra):
                    best = (size, servicio)
        return best[1] if best else None

    @staticmethod
    def size_of(servicio: ServicioExterno, text: str) -> int:
        """The length in words of the longest of the service's phrases that ``text`` says."""
        return max((len(words(p)) for p in servicio.palabras if mentions(text, p)), default=0)

    def institution_named(self, text: str) -> Institucion | None:
        """The institution ``text`` names by its usual name («el IESS», «la Cancillería»), if any."""
        return next((i for i in self.instituciones.values() if mentions(text, i.nombre)), None)


def load_directory(path: Path) -> Directory:
    """Read and check the directory; a service naming an unknown institution is an error."""
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    instituciones = {
        str(clave): Institucion(clave=str(clave), nombre=str(entry["nombre"]), sitio=entry.get("sitio"))
        for clave, entry in (raw.get("instituciones") or {}).items()
    }
    servicios = []
    for entry in raw.get("servicios") or ():
        institucion = instituciones.get(str(entry.get("institucion")))
        if institucion is None:
            raise ValueError(f"directorio: {entry.get('clave')!r} names an unknown institution")
        servicios.append(
            ServicioExterno(
                clave=str(entry["clave"]),
                nombre=str(entry["nombre"]),
                institucion=institucion,
                palabras=tuple(str(p) for p in entry.get("palabras") or ()),
                respuesta=str(entry["respuesta"]).strip(),
            )
        )
    municipios = tuple(
        Municipio(ciudad=str(ciudad), sitio=str(sitio)) for ciudad, sitio in (raw.get("municipios") or {}).items()
    )
    return Directory(instituciones=instituciones, servicios=tuple(servicios), municipios=municipios)
