"""Ecuador's provinces as the first two digits of a cédula name them (where it was first issued)."""

from __future__ import annotations

PROVINCES = {
    "01": "Azuay",
    "02": "Bolívar",
    "03": "Cañar",
    "04": "Carchi",
    "05": "Cotopaxi",
    "06": "Chimborazo",
    "07": "El Oro",
    "08": "Esmeraldas",
    "09": "Guayas",
    "10": "Imbabura",
    "11": "Loja",
    "12": "Los Ríos",
    "13": "Manabí",
    "14": "Morona Santiago",
    "15": "Napo",
    "16": "Pastaza",
    "17": "Pichincha",
    "18": "Tungurahua",
    "19": "Zamora Chinchipe",
    "20": "Galápagos",
    "21": "Sucumbíos",
    "22": "Orellana",
    "23": "Santo Domingo de los Tsáchilas",
    "24": "Santa Elena",
    "30": "Exterior",  # Ecuadorians registered at a consulate
}
UNKNOWN = "Sin dato"


def province_code(cedula: str) -> str | None:
    """The province code of ``cedula`` (``"17"``), or None when its first digits name no province."""
    code = cedula.strip()[:2]
    return code if code in PROVINCES else None


def province_name(code: str | None) -> str:
    return PROVINCES.get(code or "", UNKNOWN)
