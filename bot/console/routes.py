"""The console's HTTP routes under ``/consola`` (staff only; the public web chat lives elsewhere).

| route | what |
|---|---|
| ``GET/POST /consola/entrar``, ``POST /consola/salir`` | login (rate-limited) and logout |
| ``GET /consola/cola?vista=sin_asignar|mias|todas`` | queues, oldest first; ``/cola/filas`` is the live fragment |
| ``GET /consola/atenciones/{id}`` | a conversation: transcript, context panel, actions; ``/mensajes`` the new lines |
| ``POST /consola/atenciones/{id}/{accion}`` | tomar, responder, predefinida, nota, transferir, devolver, cerrar… |
| ``GET /consola/eventos`` | server-sent events of the queues and conversations the agent may see |
| ``POST /consola/latido`` | the page's heartbeat (agents online) |
| ``GET /consola/tablero`` | supervisors: queue, waits, first-response SLA, agents online, CSAT per team |
| ``GET /consola/analitica``, ``/analitica/{tabla}.csv`` | supervisors: funnels, times, handoffs, CSAT, fallbacks |
| ``POST /consola/analitica/revision`` | supervisors: a message not understood onto the NLU review list |
| ``GET /consola/revision-nlu``, ``POST …/{id}/intencion|quitar`` | supervisors: the NLU review list |
| ``/consola/personal``, ``/consola/respuestas``, ``/consola/auditoria`` | admins: staff, canned replies, audit |
| ``/consola/campanas…`` | admins and comunicaciones: campaigns (`bot.console.campaign_routes`) |

Every POST checks the session's CSRF token; every page and action is written to the audit log.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import secrets
import time
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse

from bot.audit.chain import verify
from bot.console.analytics import charts, period_of
from bot.console.auth import SESSION_HOURS, InvalidCredentials, InvalidStaff, StaffSessionInfo, TooManyAttempts
from bot.console.campaign_routes import add_campaign_routes
from bot.console.service import Consola, Outcome, canned_text_ok
from bot.console.views import VIEWS, Pages, audit_rows, conversation_view, dashboard, queue_rows, transcript
from bot.handoff.events import CaseEvent
from bot.handoff.service import Agent
from bot.security_headers import HTML_HEADERS
from bot.storage import console as repo
from bot.storage import nlu_review
from bot.storage.models_console import HandoffCase, Rol

PREFIX = "/consola"
SESSION_COOKIE = "chasqui_consola"
LOGIN_COOKIE = "chasqui_consola_entrada"
STREAM_SECONDS = 300  # the browser reconnects by itself; the session is checked again then
KEEPALIVE_SECONDS = 15
SECURITY_HEADERS = {**HTML_HEADERS, "Cache-Control": "no-store"}  # the gateway's policy, never cached
ACTIONS = ("tomar", "responder", "predefinida", "nota", "transferir", "devolver", "cerrar", "reenviar")


def _consola(request: Request) -> Consola:
    consola: Consola = request.app.state.consola
    return consola


def _ip(request: Request) -> str:
    return request.client.host if request.client else "-"


def visible_to(agent: Agent, event: CaseEvent) -> bool:
    return agent.covers(event.team) or event.agent_id == agent.id


def create_console_router() -> APIRouter:
    """Build the router; the gateway includes it and sets ``app.state.consola`` in its lifespan."""
    router = APIRouter(prefix=PREFIX, include_in_schema=False)
    pages_cache: dict[int, Pages] = {}

    def pages(consola: Consola) -> Pages:
        if id(consola) not in pages_cache:
            pages_cache[id(consola)] = Pages(consola)
        return pages_cache[id(consola)]

    def html(request: Request, name: str, *, status_code: int = 200, **context: Any) -> HTMLResponse:
        consola = _consola(request)
        body = pages(consola).render(name, ahora=consola.clock(), **context)
        return HTMLResponse(body, status_code=status_code, headers=SECURITY_HEADERS)

    def page(request: Request, who: StaffSessionInfo, name: str, **context: Any) -> HTMLResponse:
        status_code = int(context.pop("status_code", 200))
        return html(request, name, status_code=status_code, yo=who.agent, csrf=who.csrf, **context)

    def set_cookie(request: Request, response: Response, name: str, value: str, *, max_age: int | None = None) -> None:
        response.set_cookie(
            name,
            value,
            max_age=max_age,
            path=PREFIX,
            httponly=True,
            samesite="strict",
            secure=_consola(request).secure_cookies,
        )

    def back(url: str, outcome: Outcome) -> RedirectResponse:
        query = {"aviso": outcome.aviso, **({"dato": outcome.dato} if outcome.dato else {})}
        return RedirectResponse(f"{url}?{urlencode(query)}", status_code=303)

    async def who(request: Request) -> StaffSessionInfo:
        info = await _consola(request).auth.resolve(request.cookies.get(SESSION_COOKIE))
        if info is None:
            raise HTTPException(status_code=303, headers={"Location": f"{PREFIX}/entrar"})
        return info

    async def posted(request: Request, info: StaffSessionInfo) -> dict[str, str]:
        """The form's fields, after the CSRF check (a failed check is a 403)."""
        form = await request.form()
        fields = {key: value for key, value in form.items() if isinstance(value, str)}
        if not info.csrf_ok(fields.get("csrf") or request.headers.get("X-CSRF-Token")):
            raise HTTPException(status_code=403, detail="csrf")
        return fields

    def forbidden(request: Request, info: StaffSessionInfo) -> HTMLResponse:
        return page(request, info, "error.html", codigo="sin_permiso", status_code=403)

    async def viewable(request: Request, info: StaffSessionInfo, case_id: int) -> HandoffCase | None:
        consola = _consola(request)
        case = await consola.get_case(case_id)
        if case is None or not consola.may_view(info.agent, case):
            return None
        return case

    # ------------------------------------------------------------------------------ login

    @router.get("/entrar")
    async def login_form(request: Request, aviso: str = "") -> Response:
        consola = _consola(request)
        if await consola.auth.resolve(request.cookies.get(SESSION_COOKIE)) is not None:
            return RedirectResponse(f"{PREFIX}/cola", status_code=303)
        token = secrets.token_urlsafe(32)
        response = html(request, "entrar.html", csrf=token, aviso=aviso, usuario="")
        set_cookie(request, response, LOGIN_COOKIE, token, max_age=3600)
        return response

    @router.post("/entrar")
    async def login(request: Request) -> Response:
        consola = _consola(request)
        form = await request.form()
        fields = {key: value for key, value in form.items() if isinstance(value, str)}
        expected = request.cookies.get(LOGIN_COOKIE, "")
        given = fields.get("csrf", "")
        usuario = fields.get("usuario", "")
        if not expected or not hmac.compare_digest(expected.encode(), given.encode()):
            return html(request, "entrar.html", status_code=403, csrf=expected, aviso="sesion_vencida", usuario=usuario)
        try:
            logged = await consola.auth.login(usuario=usuario, password=fields.get("clave", ""), ip=_ip(request))
        except TooManyAttempts:
            return html(request, "entrar.html", status_code=429, csrf=expected, aviso="demasiados_intentos", usuario="")
        except InvalidCredentials:
            return html(request, "entrar.html", status_code=401, csrf=expected, aviso="credenciales", usuario=usuario)
        await consola.audit(logged.agent, "entrar", ip=_ip(request))
        response = RedirectResponse(f"{PREFIX}/cola", status_code=303)
        set_cookie(request, response, SESSION_COOKIE, logged.token, max_age=SESSION_HOURS * 3600)
        response.delete_cookie(LOGIN_COOKIE, path=PREFIX)
        return response

    @router.post("/salir")
    async def logout(request: Request) -> Response:
        info = await who(request)
        await posted(request, info)
        consola = _consola(request)
        await consola.auth.logout(info)
        await consola.audit(info.agent, "salir", ip=_ip(request))
        response = RedirectResponse(f"{PREFIX}/entrar", status_code=303)
        response.delete_cookie(SESSION_COOKIE, path=PREFIX)
        return response

    # ------------------------------------------------------------------------------ queues

    @router.get("")
    async def home() -> Response:
        return RedirectResponse(f"{PREFIX}/cola", status_code=303)

    @router.get("/cola")
    async def queue(request: Request, vista: str = "sin_asignar", aviso: str = "") -> Response:
        info = await who(request)
        vista = vista if vista in VIEWS else "sin_asignar"
        if vista == "todas" and not info.agent.supervises:
            vista = "sin_asignar"
        rows = await queue_rows(_consola(request), info.agent, vista)
        await _consola(request).audit(
            info.agent, "ver_cola", ip=_ip(request), detail={"vista": vista, "filas": len(rows)}
        )
        return page(request, info, "cola.html", vista=vista, filas=rows, aviso=aviso)

    @router.get("/cola/filas")
    async def queue_fragment(request: Request, vista: str = "sin_asignar") -> Response:
        info = await who(request)
        vista = vista if vista in VIEWS and (vista != "todas" or info.agent.supervises) else "sin_asignar"
        consola = _consola(request)
        rows = await queue_rows(consola, info.agent, vista)
        await consola.audit(
            info.agent, "ver_cola", ip=_ip(request), detail={"vista": vista, "filas": len(rows), "en_vivo": 1}
        )
        return page(request, info, "_filas.html", vista=vista, filas=rows)

    # ------------------------------------------------------------------------------ conversation

    @router.get("/atenciones/{case_id}")
    async def conversation(request: Request, case_id: int, aviso: str = "", dato: str = "") -> Response:
        info = await who(request)
        case = await viewable(request, info, case_id)
        if case is None:
            return page(request, info, "error.html", codigo="no_encontrada", status_code=404)
        consola = _consola(request)
        view = await conversation_view(consola, info.agent, case)
        await consola.audit(info.agent, "ver_conversacion", ip=_ip(request), case=case, detail={"hasta": view.last_id})
        return page(request, info, "atencion.html", v=view, aviso=aviso, dato=dato)

    @router.get("/atenciones/{case_id}/mensajes")
    async def new_lines(request: Request, case_id: int, despues: int = 0) -> Response:
        info = await who(request)
        case = await viewable(request, info, case_id)
        if case is None:
            return Response(status_code=404, headers=SECURITY_HEADERS)
        consola = _consola(request)
        items, last_id = await transcript(consola, case, after_id=despues)
        if items:
            await consola.audit(
                info.agent, "ver_mensajes", ip=_ip(request), case=case, detail={"desde": despues, "hasta": last_id}
            )
        response = page(request, info, "_items.html", items=items)
        response.headers["X-Ultimo"] = str(last_id)
        return response

    @router.post("/atenciones/{case_id}/{accion}")
    async def act(request: Request, case_id: int, accion: str) -> Response:
        info = await who(request)
        fields = await posted(request, info)
        consola = _consola(request)
        agent, ip = info.agent, _ip(request)
        if accion not in ACTIONS:
            return page(request, info, "error.html", codigo="no_encontrada", status_code=404)
        if accion == "tomar":
            outcome = await consola.claim(agent, case_id, ip=ip)
        elif accion == "responder":
            outcome = await consola.reply(agent, case_id, fields.get("texto", ""), ip=ip)
        elif accion == "predefinida":
            reply_id = fields.get("respuesta", "")
            outcome = await consola.canned(agent, case_id, int(reply_id) if reply_id.isdigit() else 0, ip=ip)
        elif accion == "nota":
            outcome = await consola.note(agent, case_id, fields.get("texto", ""), ip=ip)
        elif accion == "transferir":
            outcome = await consola.transfer(
                agent, case_id, fields.get("destino", ""), fields.get("comentario", ""), ip=ip
            )
        elif accion == "devolver":
            outcome = await consola.hand_back(agent, case_id, ip=ip)
        elif accion == "cerrar":
            outcome = await consola.close(agent, case_id, fields.get("motivo", ""), ip=ip)
        else:
            outcome = await consola.resend(
                agent, case_id, fields.get("documento", ""), fields.get("archivo", ""), ip=ip
            )
        return back(f"{PREFIX}/atenciones/{case_id}", outcome)

    # ------------------------------------------------------------------------------ live updates

    @router.get("/eventos")
    async def events(request: Request) -> Response:
        info = await who(request)
        bus = _consola(request).bus

        async def stream() -> AsyncIterator[str]:
            with bus.subscribe() as pending:
                yield "retry: 3000\n\n"
                deadline = time.monotonic() + STREAM_SECONDS
                while time.monotonic() < deadline:
                    try:
                        event = await asyncio.wait_for(pending.get(), timeout=KEEPALIVE_SECONDS)
                    except TimeoutError:
                        if await request.is_disconnected():
                            return
                        yield ": sigo aqui\n\n"
                        continue
                    if visible_to(info.agent, event):
                        yield f"event: {event.kind.value}\ndata: {json.dumps(event.as_json())}\n\n"

        headers = {**SECURITY_HEADERS, "X-Accel-Buffering": "no"}
        return StreamingResponse(stream(), media_type="text/event-stream", headers=headers)

    @router.post("/latido")
    async def heartbeat(request: Request) -> Response:
        info = await who(request)
        if not info.csrf_ok(request.headers.get("X-CSRF-Token")):
            return Response(status_code=403, headers=SECURITY_HEADERS)
        await _consola(request).auth.heartbeat(info)
        return Response(status_code=204, headers=SECURITY_HEADERS)

    # ------------------------------------------------------------------------------ supervisors, admins

    @router.get("/tablero")
    async def board(request: Request) -> Response:
        info = await who(request)
        if not info.agent.supervises:
            return forbidden(request, info)
        consola = _consola(request)
        stats = await dashboard(consola)
        await consola.audit(info.agent, "ver_tablero", ip=_ip(request))
        return page(request, info, "tablero.html", equipos=stats)

    @router.get("/analitica")
    async def analytics_page(request: Request, desde: str = "", hasta: str = "", aviso: str = "") -> Response:
        info = await who(request)
        consola = _consola(request)
        if not info.agent.supervises or consola.analytics is None:
            return forbidden(request, info)
        period = period_of(desde, hasta, today=consola.clock().astimezone(consola.analytics.zone).date())
        report = await consola.analytics.report(*period.bounds(consola.analytics.zone))
        async with consola.sessions() as session:
            listed = await nlu_review.listed_texts(session=session)
        await consola.audit(
            info.agent, "ver_analitica", ip=_ip(request), detail={"desde": str(period.first), "hasta": str(period.last)}
        )
        return page(
            request,
            info,
            "analitica.html",
            r=report,
            graficos=charts(report),
            desde=period.first.isoformat(),
            hasta=period.last.isoformat(),
            en_revision=listed,
            aviso=aviso,
        )

    @router.post("/analitica/revision")
    async def add_to_review(request: Request) -> Response:
        """Put one of the period's most frequent messages not understood on the NLU review list. The text is
        taken from the report, never from the form, so only a masked text is ever stored."""
        info = await who(request)
        consola = _consola(request)
        if not info.agent.supervises or consola.analytics is None:
            return forbidden(request, info)
        fields = await posted(request, info)
        period = period_of(
            fields.get("desde", ""),
            fields.get("hasta", ""),
            today=consola.clock().astimezone(consola.analytics.zone).date(),
        )
        report = await consola.analytics.report(*period.bounds(consola.analytics.zone))
        frequent = report["no_entendidos_frecuentes"]
        shown = dict(zip(frequent.column("mensaje"), frequent.column("veces"), strict=True))
        wanted = fields.get("mensaje", "")
        aviso = "revision_no_encontrado"
        if wanted in shown:
            async with consola.sessions() as session:
                item = await nlu_review.add_item(
                    session=session, text=str(wanted), times_seen=int(shown[wanted] or 0), added_by_id=info.agent.id
                )
                if item is not None:
                    await repo.add_audit(
                        session=session,
                        staff_id=info.agent.id,
                        usuario=info.agent.usuario,
                        action="agregar_revision_nlu",
                        detail={"id": item.id, "veces": item.times_seen},
                        ip=_ip(request),
                    )
                await session.commit()
            aviso = "revision_agregada" if item is not None else "revision_repetida"
        query = urlencode({"desde": period.first.isoformat(), "hasta": period.last.isoformat(), "aviso": aviso})
        return RedirectResponse(f"{PREFIX}/analitica?{query}#h-no-entendidos", status_code=303)

    @router.get("/revision-nlu")
    async def review_list(request: Request, aviso: str = "") -> Response:
        info = await who(request)
        consola = _consola(request)
        if not info.agent.supervises or consola.analytics is None:
            return forbidden(request, info)
        async with consola.sessions() as session:
            rows = await nlu_review.items(session=session)
        await consola.audit(info.agent, "ver_revision_nlu", ip=_ip(request), detail={"filas": len(rows)})
        return page(request, info, "revision_nlu.html", filas=rows, intenciones=consola.analytics.intents, aviso=aviso)

    @router.post("/revision-nlu/{item_id}/{accion}")
    async def review_action(request: Request, item_id: int, accion: str) -> Response:
        info = await who(request)
        consola = _consola(request)
        if not info.agent.supervises or consola.analytics is None:
            return forbidden(request, info)
        fields = await posted(request, info)
        if accion not in ("intencion", "quitar"):
            return page(request, info, "error.html", codigo="no_encontrada", status_code=404)
        intent = fields.get("intencion", "").strip() or None
        if accion == "intencion" and intent is not None and intent not in consola.analytics.intents:
            return back(f"{PREFIX}/revision-nlu", Outcome("intencion_desconocida", ok=False))
        async with consola.sessions() as session:
            if accion == "intencion":
                done = await nlu_review.set_intent(session=session, item_id=item_id, intent=intent)
                action, detail, aviso = (
                    "clasificar_revision_nlu",
                    {"id": item_id, "intencion": intent},
                    "revision_clasificada",
                )
            else:
                done = await nlu_review.remove_item(session=session, item_id=item_id)
                action, aviso, detail = "quitar_revision_nlu", "revision_quitada", {"id": item_id}
            if not done:
                return back(f"{PREFIX}/revision-nlu", Outcome("revision_no_encontrado", ok=False))
            await repo.add_audit(
                session=session,
                staff_id=info.agent.id,
                usuario=info.agent.usuario,
                action=action,
                detail=detail,
                ip=_ip(request),
            )
            await session.commit()
        return back(f"{PREFIX}/revision-nlu", Outcome(aviso, ok=True))

    @router.get("/analitica/{tabla}.csv")
    async def analytics_csv(request: Request, tabla: str, desde: str = "", hasta: str = "") -> Response:
        info = await who(request)
        consola = _consola(request)
        if not info.agent.supervises or consola.analytics is None:
            return forbidden(request, info)
        period = period_of(desde, hasta, today=consola.clock().astimezone(consola.analytics.zone).date())
        report = await consola.analytics.report(*period.bounds(consola.analytics.zone))
        if tabla not in report.tables:
            return page(request, info, "error.html", codigo="no_encontrada", status_code=404)
        await consola.audit(
            info.agent,
            "descargar_analitica",
            ip=_ip(request),
            detail={"tabla": tabla, "desde": str(period.first), "hasta": str(period.last)},
        )
        filename = f"{tabla}_{period.first}_{period.last}.csv"
        return Response(
            report[tabla].csv(),
            media_type="text/csv; charset=utf-8",
            headers={**SECURITY_HEADERS, "Content-Disposition": f'attachment; filename="{filename}"'},
        )

    @router.get("/personal")
    async def staff(request: Request, aviso: str = "") -> Response:
        info = await who(request)
        if info.agent.rol != Rol.ADMIN:
            return forbidden(request, info)
        consola = _consola(request)
        async with consola.sessions() as session:
            members = await repo.all_staff(session=session)
        await consola.audit(info.agent, "ver_personal", ip=_ip(request))
        return page(
            request, info, "personal.html", personal=members, equipos=list(consola.equipos.teams.values()), aviso=aviso
        )

    @router.post("/personal")
    async def create_staff(request: Request) -> Response:
        info = await who(request)
        if info.agent.rol != Rol.ADMIN:
            return forbidden(request, info)
        fields = await posted(request, info)
        consola = _consola(request)
        form = await request.form()
        teams = [str(t) for t in form.getlist("equipos") if str(t) in consola.equipos.teams]
        try:
            member = await consola.auth.create_staff(
                usuario=fields.get("usuario", ""),
                nombre=fields.get("nombre", ""),
                password=fields.get("clave", ""),
                rol=fields.get("rol", ""),
                equipos=teams,
            )
        except InvalidStaff as exc:
            return back(f"{PREFIX}/personal", Outcome(exc.code, ok=False))
        await consola.audit(
            info.agent,
            "crear_personal",
            ip=_ip(request),
            detail={"usuario": member.usuario, "rol": member.rol, "equipos": teams},
        )
        return back(f"{PREFIX}/personal", Outcome("personal_creado", ok=True))

    @router.post("/personal/{staff_id}/activo")
    async def toggle_staff(request: Request, staff_id: int) -> Response:
        info = await who(request)
        if info.agent.rol != Rol.ADMIN:
            return forbidden(request, info)
        fields = await posted(request, info)
        active = fields.get("activo") == "1"
        if staff_id == info.agent.id and not active:
            return back(f"{PREFIX}/personal", Outcome("no_a_si_mismo", ok=False))
        consola = _consola(request)
        await consola.auth.set_active(staff_id, active)
        await consola.audit(
            info.agent,
            "activar_personal" if active else "desactivar_personal",
            ip=_ip(request),
            detail={"id": staff_id},
        )
        return back(f"{PREFIX}/personal", Outcome("personal_actualizado", ok=True))

    @router.get("/respuestas")
    async def canned(request: Request, aviso: str = "") -> Response:
        info = await who(request)
        if info.agent.rol != Rol.ADMIN:
            return forbidden(request, info)
        consola = _consola(request)
        async with consola.sessions() as session:
            replies = await repo.canned_replies(session=session, include_inactive=True)
        await consola.audit(info.agent, "ver_respuestas", ip=_ip(request))
        return page(
            request,
            info,
            "respuestas.html",
            respuestas=replies,
            equipos=list(consola.equipos.teams.values()),
            aviso=aviso,
        )

    @router.post("/respuestas")
    async def create_canned(request: Request) -> Response:
        info = await who(request)
        if info.agent.rol != Rol.ADMIN:
            return forbidden(request, info)
        fields = await posted(request, info)
        titulo, texto = fields.get("titulo", "").strip(), fields.get("texto", "").strip()
        team = fields.get("equipo", "")
        consola = _consola(request)
        if not titulo or not texto or len(titulo) > 80:
            return back(f"{PREFIX}/respuestas", Outcome("texto_vacio", ok=False))
        if not canned_text_ok(texto):
            return back(f"{PREFIX}/respuestas", Outcome("variables_invalidas", ok=False))
        async with consola.sessions() as session:
            reply = await repo.add_canned_reply(
                session=session, titulo=titulo, texto=texto, equipo=team if team in consola.equipos.teams else None
            )
            await session.commit()
        await consola.audit(info.agent, "crear_respuesta", ip=_ip(request), detail={"id": reply.id})
        return back(f"{PREFIX}/respuestas", Outcome("respuesta_creada", ok=True))

    @router.post("/respuestas/{reply_id}/activo")
    async def toggle_canned(request: Request, reply_id: int) -> Response:
        info = await who(request)
        if info.agent.rol != Rol.ADMIN:
            return forbidden(request, info)
        fields = await posted(request, info)
        consola = _consola(request)
        async with consola.sessions() as session:
            reply = await repo.get_canned_reply(session=session, reply_id=reply_id)
            if reply is not None:
                reply.activo = fields.get("activo") == "1"
                await session.commit()
        await consola.audit(info.agent, "cambiar_respuesta", ip=_ip(request), detail={"id": reply_id})
        return back(f"{PREFIX}/respuestas", Outcome("respuesta_actualizada", ok=True))

    @router.get("/auditoria")
    async def audit_log(request: Request, usuario: str = "", atencion: int | None = None) -> Response:
        info = await who(request)
        if info.agent.rol != Rol.ADMIN:
            return forbidden(request, info)
        consola = _consola(request)
        rows = await audit_rows(consola, usuario=usuario, case_id=atencion)
        # The chain is checked before this view is appended to it, so the page shows the log as it was found.
        chain = None if consola.audit_key is None else await verify(consola.sessions, consola.audit_key)
        await consola.audit(
            info.agent, "ver_auditoria", ip=_ip(request), detail={"usuario": usuario, "atencion": atencion}
        )
        return page(request, info, "auditoria.html", filas=rows, usuario=usuario, atencion=atencion, cadena=chain)

    add_campaign_routes(
        router,
        prefix=PREFIX,
        consola_of=_consola,
        ip_of=_ip,
        who=who,
        posted=posted,
        page=page,
        back=back,
        forbidden=forbidden,
    )
    return router
