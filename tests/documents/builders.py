"""Sample holders and fields for every document kind (fictitious people from the sandbox), and photos of them."""

from __future__ import annotations

import io

from PIL import Image, ImageDraw

from bot.documents.service import Holder
from bot.documents.templates import DocumentKind

HOLDER = Holder(cedula="1710034065", name="MARÍA JOSÉ PEÑAFIEL ÁLVAREZ")

FIELDS: dict[DocumentKind, dict[str, str]] = {
    DocumentKind.CEDULA_DIGITAL: {
        "fecha_nacimiento": "12/03/1990",
        "lugar_nacimiento": "Quito, Pichincha",
        "nacionalidad": "Ecuatoriana",
        "sexo": "Mujer",
        "estado_civil": "Soltera",
        "fecha_expedicion": "05/06/2019",
    },
    DocumentKind.LICENCIA_CONDUCIR: {
        "categoria": "B",
        "puntos": "30",
        "tipo_sangre": "O+",
        "restricciones": "Usar lentes",
    },
    DocumentKind.MATRICULA_VEHICULAR: {
        "placa": "PBX-1234",
        "marca": "Chevrolet",
        "modelo": "Aveo Family",
        "anio": "2019",
        "color": "Plateado",
        "clase": "Automóvil",
        "chasis": "9GAXX19Y7KB123456",
    },
    DocumentKind.CERTIFICADO_NACIMIENTO: {
        "fecha_nacimiento": "12/03/1990",
        "lugar_nacimiento": "Quito, Pichincha",
        "nombre_padre": "JOSÉ PEÑAFIEL CAÑAR",
        "nombre_madre": "ANA ÁLVAREZ ÑUÑEZ",
        "inscripcion": "Tomo 12, página 34, acta 5678",
    },
    DocumentKind.CERTIFICADO_ANTECEDENTES_PENALES: {
        "resultado": "No registra antecedentes penales",
        "motivo": "Trámite laboral",
    },
    DocumentKind.CERTIFICADO_VOTACION: {
        "proceso_electoral": "Elecciones Seccionales 2027",
        "provincia": "Pichincha",
        "canton": "Quito",
        "parroquia": "Iñaquito",
        "junta": "15 femenino",
        "recinto": "Unidad Educativa Benalcázar",
        "estado": "Sufragó",
    },
    DocumentKind.CERTIFICADO_RUC: {
        "ruc": "1710034065001",
        "razon_social": "PEÑAFIEL ÁLVAREZ MARÍA JOSÉ",
        "actividad_economica": "Servicios de diseño gráfico",
        "estado": "Activo",
        "fecha_inicio": "01/02/2015",
    },
}


def photo_of(png: bytes, *, degrees: float = 4.0, scale: float = 0.8, quality: int = 60) -> bytes:
    """A phone's photo of a document's PNG: turned a few degrees on a light background, scaled, JPEG q60."""
    image = Image.open(io.BytesIO(png)).convert("RGB")
    image = image.rotate(degrees, resample=Image.Resampling.BICUBIC, expand=True, fillcolor=(236, 232, 225))
    image = image.resize((round(image.width * scale), round(image.height * scale)), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=quality)
    return out.getvalue()


def landscape_photo(size: tuple[int, int] = (640, 480)) -> bytes:
    """A photo with no QR code in it (smooth gradients and a few shapes), as JPEG."""
    image = Image.new("RGB", size)
    pixels = image.load()
    assert pixels is not None
    for x in range(size[0]):
        for y in range(size[1]):
            pixels[x, y] = (x * 255 // size[0], y * 255 // size[1], 128)
    draw = ImageDraw.Draw(image)
    draw.ellipse((100, 80, 300, 280), fill=(250, 210, 40))
    draw.rectangle((350, 250, 600, 460), fill=(30, 90, 40))
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=80)
    return out.getvalue()
