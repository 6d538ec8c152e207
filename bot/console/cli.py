"""`chasqui crear-admin`: the first administrator of the console (admins create the other staff there)."""

from __future__ import annotations

import asyncio
import getpass
import sys
from typing import TextIO

from bot.console.auth import InvalidStaff, StaffAuth
from bot.settings import Settings
from bot.storage.db import create_engine, session_factory
from bot.storage.models_console import Rol

# What the command prints for each refusal of `StaffAuth.create_staff` (the console words them in templates).
REFUSALS = {
    "usuario": "El usuario debe tener de 3 a 60 letras minúsculas, números, punto, guion o guion bajo.",
    "usuario_repetido": "Ese usuario ya existe.",
    "clave_corta": "La contraseña debe tener al menos 12 caracteres.",
    "nombre": "Escriba el nombre.",
    "rol": "Rol desconocido.",
}


def read_password(*, from_stdin: bool, stdin: TextIO | None = None) -> str | None:
    """The password from one line of standard input, or typed twice at a hidden prompt."""
    if from_stdin:
        return (stdin or sys.stdin).readline().rstrip("\r\n")
    first = getpass.getpass("Contraseña (12 caracteres o más): ")
    if getpass.getpass("Repita la contraseña: ") != first:
        return None
    return first


async def create_admin(settings: Settings, *, usuario: str, nombre: str, password: str) -> str:
    """Create an admin account in the app database (already migrated).

    Returns:
        The stored user name.

    Raises:
        InvalidStaff: see `StaffAuth.create_staff`.
    """
    engine = create_engine(settings.effective_database_url)
    try:
        auth = StaffAuth(sessions=session_factory(engine))
        member = await auth.create_staff(usuario=usuario, nombre=nombre, password=password, rol=Rol.ADMIN, equipos=[])
        return member.usuario
    finally:
        await engine.dispose()


def main_crear_admin(settings: Settings, *, usuario: str, nombre: str, password_stdin: bool) -> int:
    password = read_password(from_stdin=password_stdin)
    if password is None:
        print("Las contraseñas no coinciden.", file=sys.stderr)
        return 1
    try:
        created = asyncio.run(create_admin(settings, usuario=usuario, nombre=nombre, password=password))
    except InvalidStaff as exc:
        print(REFUSALS.get(exc.code, exc.code), file=sys.stderr)
        return 1
    print(f"Cuenta de administrador creada: {created}. Entre en {settings.effective_public_base_url}/consola")
    return 0
