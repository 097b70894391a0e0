"""Agent desk over HTTP: login, queue, conversation view and agent actions, desk WebSocket.

Authentication: ``hx_desk`` session cookie (HttpOnly, SameSite=Strict, Secure when
GATEWAY_COOKIE_SECURE=1) naming a server-side session with an absolute expiry. CSRF: every
POST under /desk/ carries ``X-CSRF-Token`` equal to the session's token (the login form uses
a double-submit cookie instead, since there is no session yet); a cross-site Origin is
refused as well.

Login attempts go through ``LoginThrottle`` (429 + Retry-After) and a bounded argon2 thread
pool (503 + Retry-After when full). A desk socket closes (code 4401) when its session ends:
at once on logout, within GATEWAY_DESK_SESSION_CHECK seconds after a reset or deactivation
(those come from the CLI, another process). Live updates are deltas: message, conversation
and delivery_failed events; the desk asks for one queue line (/desk/api/queue/{id}) only for
a conversation it has not listed yet.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections import defaultdict
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import aiohttp
from aiohttp import web

from ledger.desk_door import DeskActionRefused

from .agents import HashPoolBusy, LoginThrottle, PasswordPool
from .compliance import MessageStopped
from .contact_rules import ContactRefused, DeliveryFailed
from .conversations import AgentIdentity, InvalidInput, hash_token, token_bytes
from .desk_actions import DeskActions, refusal_status
from .desk_shift import DeskPresence, DeskShift
from .keys import (
    agent_rkey,
    auth_key,
    csrf_rkey,
    door_key,
    hub_key,
    overrides_key,
    service_key,
    settings_key,
    sockets_key,
)
from .problems import problem, read_json
from .queue_filters import ESCALATION_REASONS, LANGUAGES, WAITING_STEPS, BadFilter, parse_queue_query

log = logging.getLogger("gateway.desk")
SESSION_COOKIE = "hx_desk"
LOGIN_CSRF_COOKIE = "hx_login_csrf"
SESSION_ENDED = 4401  # WebSocket close code: the desk session is over, log in again
STATIC = Path(__file__).parent / "static"
routes = web.RouteTableDef()
throttle_key = web.AppKey("login_throttle", LoginThrottle)
presence_key = web.AppKey("desk_presence", DeskPresence)
desk_sockets_key = web.AppKey("desk_sockets", defaultdict)  # session token hash -> open desk sockets


def _origin_ok(request: web.Request) -> bool:
    origin = request.headers.get("Origin")
    if not origin:
        return True  # same-origin form posts from old browsers; the CSRF token still applies
    if origin in request.app[settings_key].allowed_origins:
        return True
    try:
        return urlparse(origin).netloc == request.host
    except ValueError:  # unparseable, e.g. "http://[": not our origin
        return False


# What an analyst may reach under /desk: who they are and logging out. Everything else there
# shows conversations (transcripts, account panels); an analyst's page is /insights.
ANALYST_DESK_PATHS = frozenset({"/desk/api/me", "/desk/logout"})


@web.middleware
async def csrf_middleware(request: web.Request, handler):
    if not request.path.startswith(("/desk", "/insights")):
        return await handler(request)
    if request.path in ("/desk/login",):
        return await handler(request)
    resolved = await request.app[auth_key].resolve(request.cookies.get(SESSION_COOKIE))
    if resolved is None:
        if request.method == "GET" and request.path in ("/desk", "/insights"):
            raise web.HTTPSeeOther("/desk/login")
        return problem(401, "unauthorized", "log in first")
    agent, csrf = resolved
    if agent.role == "analyst" and request.path.startswith("/desk") and request.path not in ANALYST_DESK_PATHS:
        if request.method == "GET" and request.path == "/desk":
            raise web.HTTPSeeOther("/insights")
        return problem(403, "forbidden", "an analyst sees the insights page (/insights), not conversations")
    if agent.role != "analyst":
        request.app[presence_key].touch(agent.username)  # an analyst is not an agent on shift
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
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path="/",
        httponly=True,
        samesite="Strict",
        secure=request.app[settings_key].cookie_secure,
    )


@routes.get("/desk/login")
async def login_form(request: web.Request) -> web.Response:
    csrf = secrets.token_urlsafe(24)
    response = web.Response(text=_login_page(csrf), content_type="text/html")
    _set_cookie(response, request, LOGIN_CSRF_COOKIE, csrf, 3600)
    response.headers["Cache-Control"] = "no-store"
    return response


def _login_again(request: web.Request, status: int, error: str, retry_after: float | None = None) -> web.Response:
    csrf = secrets.token_urlsafe(24)
    response = web.Response(status=status, text=_login_page(csrf, error), content_type="text/html")
    _set_cookie(response, request, LOGIN_CSRF_COOKIE, csrf, 3600)
    if retry_after is not None:
        response.headers["Retry-After"] = str(int(retry_after))
    return response


@routes.post("/desk/login")
async def login(request: web.Request) -> web.Response:
    try:
        form = await request.post()
    except (ValueError, LookupError):  # multipart without boundary or names, unknown charset, not text
        return problem(400, "invalid_request", "the login form could not be read")
    cookie = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    sent = str(form.get("csrf", ""))
    if not cookie or not secrets.compare_digest(token_bytes(cookie), token_bytes(sent)) or not _origin_ok(request):
        return problem(403, "csrf_failed", "the login form expired; reload it")
    username = str(form.get("username", ""))[:64]
    throttle = request.app[throttle_key]
    wait = await throttle.wait(username, request.remote)
    if wait is not None:
        return _login_again(
            request, 429, f"登录尝试过多，请 {int(wait)} 秒后再试 / Too many attempts: try again in {int(wait)} s", wait
        )
    try:
        result = await request.app[auth_key].login(username, str(form.get("password", ""))[:256])
    except HashPoolBusy:
        return _login_again(request, 503, "系统繁忙，请稍后再试 / Busy: try again in a moment", 1)
    if result is None:
        await throttle.failed(username, request.remote)
        return _login_again(request, 401, "用户名或密码错误 / Wrong username or password")
    await throttle.succeeded(username)
    token, _, _ = result
    response = web.HTTPSeeOther("/desk")
    _set_cookie(response, request, SESSION_COOKIE, token, request.app[settings_key].session_ttl_s)
    response.del_cookie(LOGIN_CSRF_COOKIE, path="/")
    raise response


@routes.post("/desk/logout")
async def logout(request: web.Request) -> web.Response:
    token = request.cookies.get(SESSION_COOKIE, "")
    await request.app[auth_key].logout(token)
    request.app[presence_key].forget(request[agent_rkey].username)
    for ws in list(request.app[desk_sockets_key].get(hash_token(token), ())):
        await ws.close(code=SESSION_ENDED, message=b"logged out")
    response = web.json_response({"status": "logged_out"})
    response.del_cookie(SESSION_COOKIE, path="/")
    return response


@routes.get("/desk")
async def desk_page(request: web.Request) -> web.FileResponse:
    return web.FileResponse(STATIC / "desk.html")


@routes.get("/desk/api/me")
async def me(request: web.Request) -> web.Response:
    agent: AgentIdentity = request[agent_rkey]
    return web.json_response(
        {
            "username": agent.username,
            "display_name": agent.display_name,
            "role": agent.role,
            "csrf_token": request[csrf_rkey],
            "overdue_after_s": request.app[settings_key].desk.overdue_after_s,
            "queue_filters": {
                "reasons": list(ESCALATION_REASONS),
                "buckets": list(request.app[service_key].queue_buckets() or ()),
                "languages": list(LANGUAGES),
                "waiting_min": list(WAITING_STEPS),
            },
        }
    )


def _mark_overdue(request: web.Request, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Unassigned escalations waiting longer than GATEWAY_DESK_OVERDUE_MINUTES are marked
    and listed first (the service's order is kept within each group)."""
    limit = request.app[settings_key].desk.overdue_after_s
    for item in items:
        item["overdue"] = item.get("wait_seconds") is not None and item["wait_seconds"] >= limit
    items.sort(key=lambda item: not item["overdue"])
    return items


@routes.get("/desk/api/queue")
async def queue(request: web.Request) -> web.Response:
    """The queue's lines; filters and search as queue_filters.py says (a bad one: 400 naming it)."""
    service = request.app[service_key]
    try:
        query = parse_queue_query(request.query, service.queue_buckets())
    except BadFilter as exc:
        return problem(400, "invalid_request", exc.detail, parameter=exc.parameter)
    items = await service.queue(request[agent_rkey], query=query)
    return web.json_response({"conversations": _mark_overdue(request, items)})


@routes.get("/desk/api/queue/{conversation_id}")
async def queue_item(request: web.Request) -> web.Response:
    item = await request.app[service_key].queue_item(request[agent_rkey], request.match_info["conversation_id"])
    return web.json_response(_mark_overdue(request, [item])[0])


@routes.get("/desk/api/conversations/{conversation_id}")
async def conversation(request: web.Request) -> web.Response:
    service = request.app[service_key]
    view = await service.view(request[agent_rkey], request.match_info["conversation_id"])
    shown = max((m["seq"] for m in view["messages"]), default=0)
    await service.record_view(request[agent_rkey], request.match_info["conversation_id"], shown)
    return web.json_response(view)


@routes.post("/desk/api/conversations/{conversation_id}/take")
async def take(request: web.Request) -> web.Response:
    return web.json_response(
        await request.app[service_key].take_over(request[agent_rkey], request.match_info["conversation_id"])
    )


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
    data = await read_json(request)
    agent_only = data.get("agent_only", False)
    if not isinstance(agent_only, bool):
        raise InvalidInput("agent_only must be true or false")
    service, agent, conversation_id = (
        request.app[service_key],
        request[agent_rkey],
        request.match_info["conversation_id"],
    )
    canned_id = data.get("canned_id")
    if canned_id is not None:  # a canned reply by its id, filled here from the account
        if not isinstance(canned_id, str):
            raise InvalidInput("canned_id must be a string")
        if data.get("text") or agent_only:
            raise InvalidInput("send either a canned_id or a text, and a canned reply only to the borrower")
        text = await service.canned_text(agent, conversation_id, canned_id)
    else:
        text = _text(data, "text", required=True)
    try:
        message = await service.agent_message(agent, conversation_id, text, agent_only, canned_id)
    except ContactRefused as exc:
        return problem(
            409, "contact_refused", f"not sent: {exc.refusal.detail}", reason=exc.refusal.reason, message=exc.message
        )
    except MessageStopped as exc:  # the compliance guard: rewrite it
        findings = [
            {"rule": f.rule, "category": f.category, "reason_zh": f.reason_zh, "reason_en": f.reason_en}
            for f in exc.verdict.findings
        ]
        detail = "未发送，请改写 / not sent, please rewrite it: " + " ".join(
            f"{f.reason_zh} {f.reason_en}" for f in exc.verdict.findings
        )
        return problem(422, "message_stopped", detail, findings=findings)
    except DeliveryFailed as exc:
        return problem(502, "send_failed", f"not delivered: {exc.reason}", seq=exc.message["seq"], message=exc.message)
    return web.json_response(message, status=201)


@routes.get("/desk/api/conversations/{conversation_id}/canned")
async def canned_replies(request: web.Request) -> web.Response:
    """The canned replies filled for this conversation (``language``: zh or en, default its own)."""
    language = request.query.get("language")
    if language is not None and language not in ("zh", "en"):
        return problem(400, "invalid_request", "language must be zh or en")
    return web.json_response(
        await request.app[service_key].canned_replies(
            request[agent_rkey], request.match_info["conversation_id"], language
        )
    )


@routes.get("/desk/api/compliance")
async def compliance_stops(request: web.Request) -> web.Response:
    """Supervisors: the replies the compliance guard stopped in the last ``days`` (1-90, default
    7), counted by agent and by category."""
    agent: AgentIdentity = request[agent_rkey]
    if not agent.is_supervisor:
        return problem(403, "forbidden", "only a supervisor sees the compliance counts")
    raw = request.query.get("days", "7")
    if not raw.isdigit() or not 1 <= int(raw) <= 90:
        return problem(400, "invalid_request", "days must be a whole number from 1 to 90")
    since = request.app[service_key].clock() - timedelta(days=int(raw))
    return web.json_response(await request.app[door_key].compliance_stops(since))


@routes.post("/desk/api/conversations/{conversation_id}/assign")
async def assign(request: web.Request) -> web.Response:
    """A supervisor gives the conversation to another agent: {"agent": username}."""
    data = await read_json(request)
    if "agent" not in data:
        raise InvalidInput("agent is required (the username to give the conversation to)")
    result = await request.app[service_key].reassign(
        request[agent_rkey], request.match_info["conversation_id"], data["agent"]
    )
    return web.json_response(result)


@routes.post("/desk/api/conversations/{conversation_id}/promise")
async def promise(request: web.Request) -> web.Response:
    """The borrower's promise to pay: {"loan_number", "amount": "500.00", "promised_date": "YYYY-MM-DD"}."""
    data = await read_json(request)
    try:
        result = await request.app[service_key].record_promise(
            request[agent_rkey],
            request.match_info["conversation_id"],
            data.get("loan_number"),
            data.get("amount"),
            data.get("promised_date"),
        )
    except DeskActionRefused as exc:
        status = 404 if exc.code == "not_found" else 422
        return problem(status, exc.code, str(exc), **exc.extra)
    return web.json_response(result, status=201)


def refused(exc: DeskActionRefused) -> web.Response:
    return problem(refusal_status(exc), exc.code, str(exc), **exc.extra)


@routes.post("/desk/api/conversations/{conversation_id}/plans/evaluate")
async def evaluate_plans(request: web.Request) -> web.Response:
    """The relief plans for one of the borrower's loans: {"loan_number"}; the ledger evaluates them
    on the borrower's newest hardship answers."""
    data = await read_json(request)
    try:
        result = await DeskActions(request.app[service_key]).evaluate_plans(
            request[agent_rkey], request.match_info["conversation_id"], data.get("loan_number")
        )
    except DeskActionRefused as exc:
        return refused(exc)
    return web.json_response(result)


@routes.post("/desk/api/conversations/{conversation_id}/plans/send")
async def send_plan(request: web.Request) -> web.Response:
    """Send an evaluated plan to the borrower as a card: {"loan_number", "plan_type"}."""
    data = await read_json(request)
    try:
        result = await DeskActions(request.app[service_key]).send_plan(
            request[agent_rkey], request.match_info["conversation_id"], data.get("loan_number"), data.get("plan_type")
        )
    except DeskActionRefused as exc:
        return refused(exc)
    return web.json_response(result, status=201)


@routes.post("/desk/api/conversations/{conversation_id}/payment-trace")
async def payment_trace(request: web.Request) -> web.Response:
    """A payment the borrower says was made: {"loan_number", "paid_on", "amount", "reference", "channel"}."""
    data = await read_json(request)
    try:
        trace, created = await DeskActions(request.app[service_key]).record_trace(
            request[agent_rkey], request.match_info["conversation_id"], data
        )
    except DeskActionRefused as exc:
        return refused(exc)
    return web.json_response(trace, status=201 if created else 200)


@routes.post("/desk/api/conversations/{conversation_id}/typing")
async def typing(request: web.Request) -> web.Response:
    """The agent is typing ({"on": true}) or stopped ({"on": false}): shown in the borrower's chat."""
    data = await read_json(request)
    await request.app[service_key].agent_typing(
        request[agent_rkey], request.match_info["conversation_id"], data.get("on")
    )
    return web.Response(status=204)


@routes.post("/desk/api/conversations/{conversation_id}/labels")
async def labels(request: web.Request) -> web.Response:
    """Add and remove labels: {"add": [...], "remove": [...]}."""
    data = await read_json(request)
    result = await request.app[service_key].set_labels(
        request[agent_rkey], request.match_info["conversation_id"], data.get("add"), data.get("remove")
    )
    return web.json_response(result)


@routes.post("/desk/api/conversations/{conversation_id}/handback")
async def handback(request: web.Request) -> web.Response:
    data = await read_json(request)
    slots = data.get("slots") or {}
    if not isinstance(slots, dict) or not all(isinstance(v, (str, int, bool)) or v is None for v in slots.values()):
        raise InvalidInput("slots must be an object of plain values")
    result = await request.app[service_key].hand_back(
        request[agent_rkey],
        request.match_info["conversation_id"],
        note=_text(data, "note"),
        slots=slots,
        internal_note=_text(data, "internal_note"),
    )
    return web.json_response(result)


@routes.post("/desk/api/conversations/{conversation_id}/manual-verification")
async def manual_verification(request: web.Request) -> web.Response:
    data = await read_json(request)
    result = await request.app[service_key].verify_by_other_means(
        request[agent_rkey],
        request.match_info["conversation_id"],
        _text(data, "method", required=True),
        _text(data, "note"),
    )
    return web.json_response(result, status=201)


@routes.post("/desk/api/conversations/{conversation_id}/close")
async def close(request: web.Request) -> web.Response:
    data = await read_json(request)
    result = await request.app[service_key].close(
        request[agent_rkey],
        request.match_info["conversation_id"],
        _text(data, "outcome", required=True),
        note=_text(data, "note"),
    )
    return web.json_response(result)


def _visible(agent: AgentIdentity, event: dict[str, Any]) -> bool:
    """Whether a desk event reaches this agent: supervisors see all; an agent sees what is nobody's
    or theirs, and the event that takes a conversation from them or from the unassigned queue
    (``previous_agent`` their name or None), so their desk drops it at once."""
    return (
        agent.is_supervisor
        or event.get("assigned_agent") in (None, agent.username)
        or ("previous_agent" in event and event["previous_agent"] in (None, agent.username))
    )


@routes.get("/ws/desk")
async def desk_socket(request: web.Request) -> web.StreamResponse:
    resolved = await request.app[auth_key].resolve(request.cookies.get(SESSION_COOKIE))
    if resolved is None or not _origin_ok(request):
        return problem(401, "unauthorized", "log in first")
    agent, _ = resolved
    if agent.role == "analyst":
        return problem(403, "forbidden", "an analyst sees the insights page (/insights), not conversations")
    token = request.cookies.get(SESSION_COOKIE, "")
    ws = web.WebSocketResponse(heartbeat=20, max_msg_size=4096)
    await ws.prepare(request)

    request.app[sockets_key].add(ws)
    registry = request.app[desk_sockets_key]
    registry[hash_token(token)].add(ws)
    presence = request.app[presence_key]
    presence.socket_opened(agent.username)
    sub = request.app[hub_key].subscribe("desk")
    assigning = asyncio.create_task(request.app[service_key].assign_waiting())  # someone is free now
    check_s = request.app[settings_key].desk.session_check_s

    async def watch() -> None:
        """Close the socket once its session is gone (reset, deactivation, expiry elsewhere)."""
        while True:
            await asyncio.sleep(check_s)
            if await request.app[auth_key].resolve(token) is None:
                await ws.close(code=SESSION_ENDED, message=b"session ended")
                return

    async def pump() -> None:
        while True:
            event = await sub.queue.get()
            if event is None:
                await ws.close(code=aiohttp.WSCloseCode.TRY_AGAIN_LATER, message=b"lagging")
                return
            if _visible(agent, event):
                await ws.send_json(event)

    task = asyncio.create_task(pump())
    watcher = asyncio.create_task(watch())
    try:
        await ws.send_json({"type": "hello", "username": agent.username, "role": agent.role})
        async for _ in ws:  # the desk only listens; actions go through the CSRF-checked POSTs
            pass
    finally:
        sub.close()
        presence.socket_closed(agent.username)
        sockets = registry.get(hash_token(token))
        if sockets is not None:
            sockets.discard(ws)
            if not sockets:
                registry.pop(hash_token(token), None)
        for pending in (task, watcher, assigning):
            pending.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await pending
    return ws


async def _purge_loop(auth, interval_s: float) -> None:
    while True:
        await asyncio.sleep(interval_s)
        try:
            purged = await auth.purge_expired()
        except Exception:  # housekeeping retries at the next tick
            log.exception("desk session purge failed")
            continue
        if purged:
            log.info("purged %d expired desk session(s)", purged)


async def _desk_resources(app: web.Application):
    """After the gateway's resources: the argon2 pool, the account audit, desk hours, the purge."""
    desk = app[settings_key].desk
    auth, service = app[auth_key], app[service_key]
    auth.pool = PasswordPool(threads=desk.login_threads, max_pending=desk.login_max_pending)
    if auth.audit is None:
        auth.audit = service.audit
    service.shift = DeskShift(desk.hours, app[presence_key], desk.presence_window_s)
    service.capacity = desk.agent_capacity
    service.auto_assignment = desk.assignment == "least_busy"
    purge = asyncio.create_task(_purge_loop(auth, desk.session_purge_interval_s))
    yield
    purge.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await purge
    auth.close()


def setup(app: web.Application) -> None:

    clock = app[overrides_key].clock
    app[throttle_key] = LoginThrottle(clock=lambda: clock().timestamp())
    app[presence_key] = DeskPresence(clock)
    app[desk_sockets_key] = defaultdict(set)
    app.cleanup_ctx.append(_desk_resources)
    app.add_routes(routes)
