"""Sample holders and fields for every document kind (fictitious people from the sandbox)."""

from __future__ import annotations

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
