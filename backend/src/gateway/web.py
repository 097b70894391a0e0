"""The gateway's aiohttp application: borrower widget and its WebSocket, agent desk, WeChat.

``init_app(settings)`` builds the same app for ``python -m gateway serve`` and for tests;
resources (database engine, HTTP client for Rasa and WeChat, Redis) live in a cleanup
context. Domain errors become ``application/problem+json`` in one middleware.
"""
from __future__ import annotations

import asyncio
import contextlib
import errno
import json
import logging
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncEngine

from ledger.db.session import create_engine, create_session_factory

from .agents import DeskAuth
from .conversations import (
    AccountReader,
    AuditSink,
    Conflict,
    ConversationService,
    Forbidden,
    InvalidInput,
    NotFound,
    utcnow,
)
from .hub import Hub
from .locks import ConversationLocks, RedisClient
from .rasa import RasaPool
from .settings import GatewaySettings

log = logging.getLogger("gateway")
STATIC = Path(__file__).parent / "static"


@dataclass
class Overrides:
    """Test seams: a clock, a WeChat API client, an audit sink or account reader of their own."""

    clock: Callable[[], datetime] = utcnow
    wechat_client: Any = None
    audit: AuditSink | None = None
    accounts: AccountReader | None = None


settings_key = web.AppKey("settings", GatewaySettings)
service_key = web.AppKey("service", ConversationService)
auth_key = web.AppKey("auth", DeskAuth)
hub_key = web.AppKey("hub", Hub)
engine_key = web.AppKey("engine", AsyncEngine)
overrides_key = web.AppKey("overrides", Overrides)
sockets_key = web.AppKey("sockets", weakref.WeakSet)


def problem(status: int, code: str, detail: str, **extra: Any) -> web.Response:
    body = {"type": "about:blank", "title": code.replace("_", " "), "status": status, "code": code, "detail": detail, **extra}
    text = json.dumps(body, ensure_ascii=False)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # the detail quotes input with a lone surrogate: escape it instead of failing
        text = json.dumps(body)
    return web.Response(status=status, text=text, content_type="application/problem+json")


@web.middleware
async def error_middleware(request: web.Request, handler):
    try:
        return await handler(request)
    except NotFound as exc:
        return problem(404, "not_found", f"no such conversation: {exc}")
    except Forbidden as exc:
        return problem(403, "forbidden", str(exc))
    except Conflict as exc:
        return problem(409, "conflict", str(exc))
    except InvalidInput as exc:
        return problem(422, "invalid_request", str(exc))
    except web.HTTPRequestEntityTooLarge:
        return problem(413, "payload_too_large", "request body too large")
    except OSError as exc:  # aiohttp's static route lets a name too long for the file system escape
        if exc.errno != errno.ENAMETOOLONG:
            raise
        return problem(404, "not_found", "no such file")


@web.middleware
async def security_headers(request: web.Request, handler):
    response = await handler(request)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    if request.path.startswith("/desk"):
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Cache-Control", "no-store")
    return response


async def read_json(request: web.Request) -> dict[str, Any]:
    try:
        data = await request.json()
    except (ValueError, LookupError, RecursionError):  # not JSON, not UTF-8, unknown charset, nested too deep
        raise InvalidInput("body must be a JSON object") from None
    if not isinstance(data, dict):
        raise InvalidInput("body must be a JSON object")
    return data


MAX_SEQ = 2**31 - 1  # messages.seq is a 32-bit INTEGER: a larger bound makes PostgreSQL refuse the query


def parse_after(text: str) -> int:
    """The ``after`` sequence number of a replay; ValueError unless an integer up to MAX_SEQ (negative means 0)."""
    after = max(int(text), 0)
    if after > MAX_SEQ:
        raise ValueError("after out of range")
    return after


# ---- borrower web chat ------------------------------------------------------------------

routes = web.RouteTableDef()


@routes.get("/healthz")
async def healthz(request: web.Request) -> web.Response:
    from sqlalchemy import text

    try:
        async with request.app[engine_key].connect() as conn:
            await conn.execute(text("SELECT 1"))
        db = "ok"
    except Exception:  # noqa: BLE001 - health reports, never raises
        db = "unavailable"
    return web.json_response({"status": "ok" if db == "ok" else "degraded", "database": db},
                             status=200 if db == "ok" else 503)


@routes.get("/")
async def index(request: web.Request) -> web.Response:
    raise web.HTTPFound("/demo")


@routes.get("/demo")
async def demo_page(request: web.Request) -> web.FileResponse:
    return web.FileResponse(STATIC / "demo.html")


@routes.get("/chat")
async def chat_page(request: web.Request) -> web.FileResponse:
    return web.FileResponse(STATIC / "chat.html")


@routes.get("/widget.js")
async def widget_js(request: web.Request) -> web.FileResponse:
    return web.FileResponse(STATIC / "widget.js")


@routes.post("/api/chat/conversations")
async def create_conversation(request: web.Request) -> web.Response:
    data = await read_json(request) if request.can_read_body else {}
    language = data.get("language", "zh")
    if language not in ("zh", "en"):
        raise InvalidInput("language must be zh or en")
    conv, token = await request.app[service_key].create_web_conversation(language)
    return web.json_response({"conversation_id": conv.id, "token": token, "language": conv.language}, status=201)


async def _pump(ws: web.WebSocketResponse, sub) -> None:
    while True:
        event = await sub.queue.get()
        if event is None:
            await ws.close(code=aiohttp.WSCloseCode.TRY_AGAIN_LATER, message=b"lagging")
            return
        await ws.send_json(event)


@routes.get("/ws/chat")
async def chat_socket(request: web.Request) -> web.StreamResponse:
    service = request.app[service_key]
    conv_id = request.query.get("conversation", "")
    token = request.query.get("token", "")
    try:
        after = parse_after(request.query.get("after", "0"))
    except ValueError:
        after = 0
    conv = await service.authenticate_client(conv_id, token)
    if conv is None:
        return problem(403, "forbidden", "unknown conversation or wrong token")
    ws = web.WebSocketResponse(heartbeat=20, max_msg_size=16 * 1024)
    await ws.prepare(request)
    request.app[sockets_key].add(ws)
    hub = request.app[hub_key]
    sub = hub.subscribe(f"conv:{conv.id}")  # subscribe before replay: nothing falls in between
    pump: asyncio.Task | None = None
    try:
        await ws.send_json({"type": "state", "state": conv.state, "language": conv.language})
        for message in await service.transcript(conv.id, after_seq=after):
            await ws.send_json({"type": "message", "conversation_id": conv.id, **message})
        pump = asyncio.create_task(_pump(ws, sub))
        async for frame in ws:
            if frame.type != aiohttp.WSMsgType.TEXT:
                continue
            try:
                data = json.loads(frame.data)
            except (ValueError, RecursionError):
                await ws.send_json({"type": "error", "code": "invalid_request", "detail": "not JSON"})
                continue
            if not isinstance(data, dict) or data.get("type") != "message":
                continue
            text = data.get("text")
            payload = data.get("payload")
            client_msg_id = data.get("client_msg_id")
            if not isinstance(text, str) or (payload is not None and not isinstance(payload, str)) or (
                client_msg_id is not None and (not isinstance(client_msg_id, str) or len(client_msg_id) > 100)
            ):
                await ws.send_json({"type": "error", "code": "invalid_request", "detail": "bad message"})
                continue
            if payload is not None and not payload.startswith("/"):
                payload = None  # only intent payloads from the bot's own buttons are passed on
            try:
                result = await service.handle_borrower_message(conv.id, text, payload=payload,
                                                               client_msg_id=f"web:{client_msg_id}" if client_msg_id else None)
            except InvalidInput as exc:
                await ws.send_json({"type": "error", "code": "invalid_request", "detail": str(exc)})
                continue
            await ws.send_json({"type": "ack", "client_msg_id": client_msg_id, "seq": result.borrower_seq,
                                "duplicate": result.duplicate})
    finally:
        sub.close()
        if pump is not None:
            pump.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await pump
    return ws


@routes.get("/api/chat/conversations/{conversation_id}/messages")
async def chat_messages(request: web.Request) -> web.Response:
    """Transcript for the widget (same auth as the socket): a fallback when WebSockets are blocked."""
    service = request.app[service_key]
    token = request.headers.get("X-Client-Token", "")
    conv = await service.authenticate_client(request.match_info["conversation_id"], token)
    if conv is None:
        return problem(403, "forbidden", "unknown conversation or wrong token")
    try:
        after = parse_after(request.query.get("after", "0"))
    except ValueError:
        raise InvalidInput(f"after must be an integer from 0 to {MAX_SEQ}") from None
    return web.json_response({"state": conv.state, "messages": await service.transcript(conv.id, after_seq=after)})


# ---- app factory ------------------------------------------------------------------------

def init_app(settings: GatewaySettings, overrides: Overrides | None = None) -> web.Application:
    from . import desk_web, wechat_web

    overrides = overrides or Overrides()
    app = web.Application(middlewares=[security_headers, error_middleware, desk_web.csrf_middleware],
                          client_max_size=64 * 1024)
    app[settings_key] = settings
    app[overrides_key] = overrides
    app[hub_key] = Hub()
    app[sockets_key] = weakref.WeakSet()

    async def close_sockets(app: web.Application) -> None:
        for ws in list(app[sockets_key]):
            await ws.close(code=aiohttp.WSCloseCode.GOING_AWAY, message=b"server shutdown")

    app.on_shutdown.append(close_sockets)

    async def resources(app: web.Application):
        engine = create_engine(settings.database_url)
        sessions = create_session_factory(engine)
        http = aiohttp.ClientSession()
        redis = RedisClient(settings.redis_url) if settings.redis_url else None
        locks = ConversationLocks(redis, ttl_s=settings.rasa_timeout_s * 2 + 10, wait_s=settings.rasa_timeout_s * 4 + 10)
        rasa = RasaPool(settings.rasa_urls, http, timeout_s=settings.rasa_timeout_s, token=settings.rasa_token)
        if overrides.audit is not None:
            audit = overrides.audit
        else:
            from .ledger_bridge import LedgerAuditLog

            audit = LedgerAuditLog(sessions, overrides.clock)
        if overrides.accounts is not None:
            accounts = overrides.accounts
        else:
            from .ledger_bridge import make_account_reader

            accounts = make_account_reader(sessions, overrides.clock)
        service = ConversationService(sessions, rasa, locks, app[hub_key], audit, accounts, overrides.clock,
                                      settings.handback_intent)
        app[engine_key] = engine
        app[service_key] = service
        app[auth_key] = DeskAuth(sessions, settings.session_ttl_s, overrides.clock)
        wechat_web.attach(app, http)
        yield
        await http.close()
        if redis is not None:
            await redis.close()
        await engine.dispose()

    app.cleanup_ctx.append(resources)
    app.add_routes(routes)
    desk_web.setup(app)
    wechat_web.setup(app)
    app.router.add_static("/static/", STATIC, name="static")
    return app
