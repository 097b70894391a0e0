"""Agent desk over HTTP: login, queue, conversation view and agent actions, desk WebSocket.

Authentication: ``hx_desk`` session cookie (HttpOnly, SameSite=Strict, Secure when
GATEWAY_COOKIE_SECURE=1) naming a server-side session with an absolute expiry. CSRF: every
POST under /desk/ carries ``X-CSRF-Token`` equal to the session's token (the login form uses
a double-submit cookie instead, since there is no session yet); a cross-site Origin is
refused as well.
"""
from __future__ import annotations

import asyncio
import contextlib
import secrets
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import aiohttp
from aiohttp import web

from .conversations import AgentIdentity, InvalidInput, token_bytes

SESSION_COOKIE = "hx_desk"
LOGIN_CSRF_COOKIE = "hx_login_csrf"
STATIC = Path(__file__).parent / "static"
routes = web.RouteTableDef()
agent_rkey = web.RequestKey("agent", AgentIdentity)
csrf_rkey = web.RequestKey("csrf", str)


def _keys():
    from .web import auth_key, hub_key, problem, read_json, service_key, settings_key

    return auth_key, hub_key, problem, read_json, service_key, settings_key


def _origin_ok(request: web.Request) -> bool:
    origin = request.headers.get("Origin")
    if not origin:
        return True  # same-origin form posts from old browsers; the CSRF token still applies
    _, _, _, _, _, settings_key = _keys()
    if origin in request.app[settings_key].allowed_origins:
        return True
    try:
        return urlparse(origin).netloc == request.host
    except ValueError:  # unparseable, e.g. "http://[": not our origin
        return False


@web.middleware
async def csrf_middleware(request: web.Request, handler):
    auth_key, _, problem, _, _, _ = _keys()
    if not request.path.startswith("/desk"):
        return await handler(request)
    if request.path in ("/desk/login",):
        return await handler(request)
    resolved = await request.app[auth_key].resolve(request.cookies.get(SESSION_COOKIE))
    if resolved is None:
        if request.method == "GET" and request.path == "/desk":
            raise web.HTTPSeeOther("/desk/login")
        return problem(401, "unauthorized", "log in first")
    agent, csrf = resolved
    if request.method not in ("GET", "HEAD", "OPTIONS"):
        sent = request.headers.get("X-CSRF-Token", "")
        if not _origin_ok(request) or not secrets.compare_digest(token_bytes(sent), token_bytes(csrf)):
            return problem(403, "csrf_failed", "missing or wrong CSRF token")
    request[agent_rkey] = agent
    request[csrf_rkey] = csrf
    return await handler(request)


def _login_page(csrf: str, error: str = "") -> str:
    html = (STATIC / "login.html").read_text(encoding="utf-8")
    return html.replace("{{csrf}}", csrf).replace("{{error}}", error)


def _set_cookie(response: web.StreamResponse, request: web.Request, name: str, value: str, max_age: int) -> None:
    _, _, _, _, _, settings_key = _keys()
    response.set_cookie(name, value, max_age=max_age, path="/", httponly=True, samesite="Strict",
                        secure=request.app[settings_key].cookie_secure)


@routes.get("/desk/login")
async def login_form(request: web.Request) -> web.Response:
    csrf = secrets.token_urlsafe(24)
    response = web.Response(text=_login_page(csrf), content_type="text/html")
    _set_cookie(response, request, LOGIN_CSRF_COOKIE, csrf, 3600)
    response.headers["Cache-Control"] = "no-store"
    return response


@routes.post("/desk/login")
async def login(request: web.Request) -> web.Response:
    auth_key, _, problem, _, _, settings_key = _keys()
    try:
        form = await request.post()
    except (ValueError, LookupError):  # multipart without boundary or names, unknown charset, not text
        return problem(400, "invalid_request", "the login form could not be read")
    cookie = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    sent = str(form.get("csrf", ""))
    if not cookie or not secrets.compare_digest(token_bytes(cookie), token_bytes(sent)) or not _origin_ok(request):
        return problem(403, "csrf_failed", "the login form expired; reload it")
    result = await request.app[auth_key].login(str(form.get("username", ""))[:64], str(form.get("password", ""))[:256])
    if result is None:
        csrf = secrets.token_urlsafe(24)
        response = web.Response(status=401, text=_login_page(csrf, "用户名或密码错误 / Wrong username or password"),
                                content_type="text/html")
        _set_cookie(response, request, LOGIN_CSRF_COOKIE, csrf, 3600)
        return response
    token, _, _ = result
    response = web.HTTPSeeOther("/desk")
    _set_cookie(response, request, SESSION_COOKIE, token, request.app[settings_key].session_ttl_s)
    response.del_cookie(LOGIN_CSRF_COOKIE, path="/")
    raise response


@routes.post("/desk/logout")
async def logout(request: web.Request) -> web.Response:
    auth_key, *_ = _keys()
    await request.app[auth_key].logout(request.cookies.get(SESSION_COOKIE, ""))
    response = web.json_response({"status": "logged_out"})
    response.del_cookie(SESSION_COOKIE, path="/")
    return response


@routes.get("/desk")
async def desk_page(request: web.Request) -> web.FileResponse:
    return web.FileResponse(STATIC / "desk.html")


@routes.get("/desk/api/me")
async def me(request: web.Request) -> web.Response:
    agent: AgentIdentity = request[agent_rkey]
    return web.json_response({"username": agent.username, "display_name": agent.display_name, "role": agent.role,
                              "csrf_token": request[csrf_rkey]})


@routes.get("/desk/api/queue")
async def queue(request: web.Request) -> web.Response:
    *_, service_key, _ = _keys()
    return web.json_response({"conversations": await request.app[service_key].queue(request[agent_rkey])})


@routes.get("/desk/api/conversations/{conversation_id}")
async def conversation(request: web.Request) -> web.Response:
    *_, service_key, _ = _keys()
    service = request.app[service_key]
    view = await service.view(request[agent_rkey], request.match_info["conversation_id"])
    await service.record_view(request[agent_rkey], request.match_info["conversation_id"])
    return web.json_response(view)


@routes.post("/desk/api/conversations/{conversation_id}/take")
async def take(request: web.Request) -> web.Response:
    *_, service_key, _ = _keys()
    return web.json_response(await request.app[service_key].take_over(request[agent_rkey], request.match_info["conversation_id"]))


def _text(data: dict[str, Any], key: str, required: bool = False) -> str:
    value = data.get(key, "")
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise InvalidInput(f"{key} must be a string")
    if required and not value.strip():
        raise InvalidInput(f"{key} is required")
    return value


@routes.post("/desk/api/conversations/{conversation_id}/messages")
async def reply(request: web.Request) -> web.Response:
    _, _, _, read_json, service_key, _ = _keys()
    data = await read_json(request)
    agent_only = data.get("agent_only", False)
    if not isinstance(agent_only, bool):
        raise InvalidInput("agent_only must be true or false")
    message = await request.app[service_key].agent_message(request[agent_rkey], request.match_info["conversation_id"],
                                                           _text(data, "text", required=True), agent_only)
    return web.json_response(message, status=201)


@routes.post("/desk/api/conversations/{conversation_id}/handback")
async def handback(request: web.Request) -> web.Response:
    _, _, _, read_json, service_key, _ = _keys()
    data = await read_json(request)
    slots = data.get("slots") or {}
    if not isinstance(slots, dict) or not all(isinstance(v, (str, int, bool)) or v is None for v in slots.values()):
        raise InvalidInput("slots must be an object of plain values")
    result = await request.app[service_key].hand_back(request[agent_rkey], request.match_info["conversation_id"],
                                                      note=_text(data, "note"), slots=slots,
                                                      internal_note=_text(data, "internal_note"))
    return web.json_response(result)


@routes.post("/desk/api/conversations/{conversation_id}/close")
async def close(request: web.Request) -> web.Response:
    _, _, _, read_json, service_key, _ = _keys()
    data = await read_json(request)
    result = await request.app[service_key].close(request[agent_rkey], request.match_info["conversation_id"],
                                                  _text(data, "outcome", required=True), note=_text(data, "note"))
    return web.json_response(result)


def _visible(agent: AgentIdentity, event: dict[str, Any]) -> bool:
    return agent.is_supervisor or event.get("assigned_agent") in (None, agent.username)


@routes.get("/ws/desk")
async def desk_socket(request: web.Request) -> web.StreamResponse:
    auth_key, hub_key, problem, _, _, _ = _keys()
    resolved = await request.app[auth_key].resolve(request.cookies.get(SESSION_COOKIE))
    if resolved is None or not _origin_ok(request):
        return problem(401, "unauthorized", "log in first")
    agent, _ = resolved
    ws = web.WebSocketResponse(heartbeat=20, max_msg_size=4096)
    await ws.prepare(request)
    from .web import sockets_key

    request.app[sockets_key].add(ws)
    sub = request.app[hub_key].subscribe("desk")

    async def pump() -> None:
        while True:
            event = await sub.queue.get()
            if event is None:
                await ws.close(code=aiohttp.WSCloseCode.TRY_AGAIN_LATER, message=b"lagging")
                return
            if _visible(agent, event):
                await ws.send_json(event)

    task = asyncio.create_task(pump())
    try:
        await ws.send_json({"type": "hello", "username": agent.username, "role": agent.role})
        async for _ in ws:  # the desk only listens; actions go through the CSRF-checked POSTs
            pass
    finally:
        sub.close()
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task
    return ws


def setup(app: web.Application) -> None:
    app.add_routes(routes)
