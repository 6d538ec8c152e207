"""Staff login: argon2 hashes, server-side sessions, cookie flags, CSRF on every POST, rate limit, logout."""

from __future__ import annotations

import re
from typing import Any

import httpx
from argon2 import PasswordHasher
from fastapi.testclient import TestClient
from sqlalchemy import select

from bot.gateway.app import create_app
from bot.settings import Settings
from bot.storage.db import migrate
from bot.storage.models_console import AuditEntry, LoginAttempt, StaffMember, StaffSession
from tests.console.conftest import PASSWORD, FakeRasa, Gateway, Staff, query


def rows(settings: Settings, model: Any) -> list[Any]:
    async def _rows(session: Any) -> list[Any]:
        return list((await session.scalars(select(model).order_by(model.__table__.c[0]))).all())

    return query(settings, _rows)


def test_passwords_are_stored_as_argon2_hashes_and_sessions_by_token_hash(gateway: Gateway) -> None:
    ana = gateway.staff("ana")
    [member] = rows(gateway.settings, StaffMember)
    assert member.password_hash.startswith("$argon2id$")
    assert PasswordHasher().verify(member.password_hash, PASSWORD)
    [stored] = rows(gateway.settings, StaffSession)
    token = ana.client.cookies["chasqui_consola"]
    assert token not in stored.token_hash and len(stored.token_hash) == 64


def test_the_session_cookie_is_httponly_samesite_strict_and_secure_only_on_https(
    gateway: Gateway, settings: Settings
) -> None:
    gateway.create_staff("ana")
    member = Staff(client=gateway.client(), usuario="ana")
    response = member.login()
    cookie = response.headers["set-cookie"]
    assert "chasqui_consola=" in cookie
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/consola" in cookie
    assert "Secure" not in cookie

    migrate(settings.effective_database_url)
    https = settings.model_copy(update={"public_base_url": "https://chasqui.gob.example"})
    app = create_app(https, rasa_transport=httpx.MockTransport(FakeRasa().handler))
    with TestClient(app, base_url="https://testserver") as client:
        secure = Staff(client=client, usuario="ana").login()
    assert secure.status_code == 303
    assert "Secure" in secure.headers["set-cookie"]


def test_pages_need_a_session(gateway: Gateway) -> None:
    anonymous = gateway.client()
    for path in ("/consola/cola", "/consola/atenciones/1", "/consola/tablero", "/consola/eventos"):
        response = anonymous.get(path, follow_redirects=False)
        assert (response.status_code, response.headers["location"]) == (303, "/consola/entrar"), path
    assert anonymous.post("/consola/atenciones/1/tomar", follow_redirects=False).status_code == 303


def test_every_post_needs_the_sessions_csrf_token(gateway: Gateway) -> None:
    ana = gateway.staff("ana")
    gateway.says("quiero hablar con un asesor")
    case = gateway.open_case()
    for token in ("", "otro-token"):
        response = ana.client.post(f"/consola/atenciones/{case}/tomar", data={"csrf": token}, follow_redirects=False)
        assert response.status_code == 403
    assert ana.client.post("/consola/latido").status_code == 403
    assert ana.client.post("/consola/latido", headers={"X-CSRF-Token": ana.csrf}).status_code == 204
    assert ana.act(case, "tomar") == "tomada"


def test_the_login_form_has_its_own_csrf_check(gateway: Gateway) -> None:
    gateway.create_staff("ana")
    client = gateway.client()
    response = client.post("/consola/entrar", data={"usuario": "ana", "clave": PASSWORD, "csrf": "x"})
    assert response.status_code == 403
    assert "La página venció" in response.text


def test_repeated_failures_lock_the_account_even_with_the_right_password(gateway: Gateway) -> None:
    gateway.create_staff("ana")
    member = Staff(client=gateway.client(), usuario="ana")
    assert [member.login(password="equivocada-123").status_code for _ in range(3)] == [401] * 3
    locked = member.login()  # even the right password, within the pause after the third failure
    assert locked.status_code == 429
    assert "Demasiados intentos fallidos. Espere unos minutos" in locked.text
    attempts = rows(gateway.settings, LoginAttempt)
    assert [(a.usuario, a.success) for a in attempts] == [("ana", False)] * 3

    clock = gateway.consola.auth._clock  # a quarter of an hour later the user may try again
    from datetime import timedelta

    gateway.consola.auth._clock = lambda: clock() + timedelta(minutes=16)
    assert member.login().status_code == 303


def test_unknown_users_and_deactivated_accounts_get_the_same_answer(gateway: Gateway) -> None:
    ghost = Staff(client=gateway.client(), usuario="nadie").login()
    assert (ghost.status_code, "Usuario o contraseña incorrectos." in ghost.text) == (401, True)
    admin = gateway.staff("admin", rol="admin", equipos=())
    ana = gateway.staff("ana")
    [member] = [m for m in rows(gateway.settings, StaffMember) if m.usuario == "ana"]
    assert admin.post(f"/consola/personal/{member.id}/activo", {"activo": "0"}).status_code == 303
    assert ana.client.get("/consola/cola", follow_redirects=False).status_code == 303  # its session ended
    again = Staff(client=gateway.client(), usuario="ana").login()
    assert again.status_code == 401


def test_logout_ends_the_session(gateway: Gateway) -> None:
    ana = gateway.staff("ana")
    assert ana.post("/consola/salir").headers["location"] == "/consola/entrar"
    assert ana.client.get("/consola/cola", follow_redirects=False).status_code == 303
    assert rows(gateway.settings, StaffSession) == []
    assert [e.action for e in rows(gateway.settings, AuditEntry)][-1] == "salir"


def test_admins_create_staff_and_refusals_are_explained(gateway: Gateway) -> None:
    admin = gateway.staff("admin", rol="admin", equipos=())
    created = admin.client.post(
        "/consola/personal",
        data={
            "csrf": admin.csrf,
            "nombre": "Carla Ruiz",
            "usuario": "carla",
            "clave": "una-clave-larga-1",
            "rol": "supervisor",
            "equipos": ["ant", "sri", "inventado"],
        },
        follow_redirects=False,
    )
    assert created.headers["location"] == "/consola/personal?aviso=personal_creado"
    [carla] = [m for m in rows(gateway.settings, StaffMember) if m.usuario == "carla"]
    assert (carla.rol, carla.equipos) == ("supervisor", ["ant", "sri"])
    short = admin.post("/consola/personal", {"nombre": "X", "usuario": "equis", "clave": "corta", "rol": "agente"})
    assert short.headers["location"] == "/consola/personal?aviso=clave_corta"
    assert "al menos 12 caracteres" in admin.client.get(short.headers["location"]).text
    agent = gateway.staff("ana")
    assert agent.client.get("/consola/personal").status_code == 403
    assert agent.post("/consola/personal", {"usuario": "x"}).status_code == 403


def test_the_login_page_is_spanish_and_loads_nothing_from_elsewhere(gateway: Gateway) -> None:
    page = gateway.client().get("/consola/entrar")
    assert page.status_code == 200
    assert '<html lang="es">' in page.text and "Contraseña" in page.text
    assert not re.search(r"(src|href)=\"https?://", page.text)
    assert "default-src 'none'" in page.headers["content-security-policy"]
