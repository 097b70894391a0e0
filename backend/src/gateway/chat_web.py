"""Borrower web chat: the demo and chat pages, the widget script, conversation creation, the chat
WebSocket (authenticated by its first frame) and the transcript fallback; the health check."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
from pathlib import Path

import aiohttp
from aiohttp import web
from sqlalchemy.exc import SQLAlchemyError

from ledger.desk_door import REMINDER_REF, DeskActionRefused

from .clients import client_address, client_ref
from .conversations import InvalidInput, TokenRefused
from .csat import score_problem
from .desk_actions import DeskActions, refusal_status
from .keys import edge_limits_key, engine_key, proxies_key, service_key, settings_key, sockets_key
from .problems import problem, read_json

log = logging.getLogger("gateway")
STATIC = Path(__file__).parent / "static"

# WebSocket close codes the widget acts on: 4401 no valid auth frame, 4403 unknown/wrong/expired
# (start a fresh chat), 4408 no auth frame in time
WS_NOT_AUTH, WS_REFUSED, WS_AUTH_TIMEOUT = 4401, 4403, 4408


def client_of(request: web.Request) -> str:
    """The client's address (X-Forwarded-For only from GATEWAY_TRUSTED_PROXIES)."""
    return client_address(request.remote, request.headers.get("X-Forwarded-For"), request.app[proxies_key])


def client_ref_of(request: web.Request) -> str:
    return client_ref(request.app[service_key].system_secret, client_of(request))


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
    return web.json_response(
        {
            "status": "ok" if db == "ok" else "degraded",
            "database": db,
            "bot_failures": dict(request.app[service_key].failures),
        },
        status=200 if db == "ok" else 503,
    )


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
    data = await read_json(request) if request.body_exists else {}
    language = data.get("language", "zh")
    if language not in ("zh", "en"):
        raise InvalidInput("language must be zh or en")
    reminder = data.get("reminder_ref")
    if reminder is not None and not (isinstance(reminder, str) and REMINDER_REF.fullmatch(reminder)):
        raise InvalidInput("reminder_ref must be a reminder's reference, e.g. r1a")
    wait = await request.app[edge_limits_key].hit("new_conversation", client_ref_of(request))
    if wait is not None:
        response = problem(
            429, "rate_limited", "too many new conversations from this address; try again later", retry_after=int(wait)
        )
        response.headers["Retry-After"] = str(int(wait))
        return response
    conv, token = await request.app[service_key].create_web_conversation(language, reminder)
    return web.json_response({"conversation_id": conv.id, "token": token, "language": conv.language}, status=201)


async def _pump(ws: web.WebSocketResponse, sub) -> None:
    while True:
        event = await sub.queue.get()
        if event is None:
            await ws.close(code=aiohttp.WSCloseCode.TRY_AGAIN_LATER, message=b"lagging")
            return
        await ws.send_json(event)


async def _authenticate_socket(request: web.Request, ws: web.WebSocketResponse):
    """The first frame must be ``{"type": "auth", "conversation_id", "token", "after"}`` within
    ws_auth_timeout_s (secrets never travel in the URL). Returns (ChatOpening, token) or
    closes the socket and returns None."""
    settings = request.app[settings_key]
    try:
        frame = await ws.receive(timeout=settings.ws_auth_timeout_s)
    except TimeoutError:
        await ws.close(code=WS_AUTH_TIMEOUT, message=b"authenticate first")
        return None
    data = None
    if frame.type == aiohttp.WSMsgType.TEXT:
        with contextlib.suppress(ValueError, RecursionError):  # not JSON, or nested too deep
            data = json.loads(frame.data)
    if not (
        isinstance(data, dict)
        and data.get("type") == "auth"
        and isinstance(data.get("conversation_id"), str)
        and isinstance(data.get("token"), str)
    ):
        await ws.close(code=WS_NOT_AUTH, message=b"first frame must be an auth frame")
        return None
    after = data.get("after", 0)
    after = after if isinstance(after, int) and not isinstance(after, bool) and 0 < after <= MAX_SEQ else 0
    token = data["token"][:200]
    opening = await request.app[service_key].open_chat(data["conversation_id"][:64], token, after)
    if opening is None:
        await ws.close(code=WS_REFUSED, message=b"unknown, wrong or expired conversation")
        return None
    return opening, token


@routes.get("/ws/chat")
async def chat_socket(request: web.Request) -> web.StreamResponse:
    service = request.app[service_key]
    settings = request.app[settings_key]
    limits = request.app[edge_limits_key]
    idle_timeout = settings.ws_idle_timeout_s or settings.idle_expiry_minutes * 60
    ws = web.WebSocketResponse(heartbeat=20, max_msg_size=16 * 1024, receive_timeout=idle_timeout)
    await ws.prepare(request)
    request.app[sockets_key].add(ws)
    authenticated = await _authenticate_socket(request, ws)
    if authenticated is None:
        return ws
    opening, token = authenticated
    conv, sub = opening.conversation, opening.subscription  # subscribed before the replay was read
    ref = client_ref_of(request)
    connection = secrets.token_hex(8)  # the message limit's key: this socket
    pump: asyncio.Task | None = None
    try:
        await ws.send_json({"type": "state", "state": conv.state, "language": conv.language, "csat": opening.csat})
        for message in opening.messages:
            await ws.send_json({"type": "message", "conversation_id": conv.id, **message})
        pump = asyncio.create_task(_pump(ws, sub))
        while not ws.closed:
            try:
                frame = await ws.receive()
            except TimeoutError:  # silent for the idle expiry: the conversation is over for this socket
                await ws.close(code=aiohttp.WSCloseCode.GOING_AWAY, message=b"idle")
                break
            if frame.type in (
                aiohttp.WSMsgType.CLOSE,
                aiohttp.WSMsgType.CLOSING,
                aiohttp.WSMsgType.CLOSED,
                aiohttp.WSMsgType.ERROR,
            ):
                break
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
            language = data.get("language")  # set on the first message after the widget's toggle
            if (
                not isinstance(text, str)
                or (payload is not None and (not isinstance(payload, str) or len(payload) > 2000))
                or (client_msg_id is not None and (not isinstance(client_msg_id, str) or len(client_msg_id) > 100))
            ):
                await ws.send_json({"type": "error", "code": "invalid_request", "detail": "bad message"})
                continue
            if language is not None and language not in ("zh", "en"):
                await ws.send_json(
                    {
                        "type": "error",
                        "code": "invalid_request",
                        "detail": "language must be zh or en",
                        "client_msg_id": client_msg_id,
                    }
                )
                continue
            wait = await limits.hit("chat_message", connection)
            if wait is not None:
                await ws.send_json(
                    {
                        "type": "error",
                        "code": "rate_limited",
                        "retry_after": int(wait),
                        "client_msg_id": client_msg_id,
                        "detail": "too many messages; slow down",
                    }
                )
                continue
            try:
                result = await service.handle_borrower_message(
                    conv.id,
                    text,
                    payload=payload,
                    client_ref=ref,
                    client_msg_id=f"web:{client_msg_id}" if client_msg_id else None,
                    client_token=token,
                    language_choice=language,
                )
            except TokenRefused:  # expired while the socket was open
                await ws.close(code=WS_REFUSED, message=b"conversation expired")
                break
            except InvalidInput as exc:
                await ws.send_json(
                    {"type": "error", "code": "invalid_request", "detail": str(exc), "client_msg_id": client_msg_id}
                )
                continue
            except (SQLAlchemyError, OSError):
                # The database failed mid-turn: the socket stays, the widget keeps the message in its
                # outbox and sends it again; a stored but unanswered message then gets its turn.
                log.exception("borrower message of conversation %s not handled: storage failed", conv.id)
                await ws.send_json(
                    {
                        "type": "error",
                        "code": "unavailable",
                        "retry_after": 3,
                        "client_msg_id": client_msg_id,
                        "detail": "temporarily unavailable; sending again",
                    }
                )
                continue
            await ws.send_json(
                {
                    "type": "ack",
                    "client_msg_id": client_msg_id,
                    "seq": result.borrower_seq,
                    "duplicate": result.duplicate,
                }
            )
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
    return web.json_response(
        {
            "state": conv.state,
            "csat": await service.csat_state(conv.id),
            "messages": await service.transcript(conv.id, after_seq=after),
        }
    )


@routes.post("/api/chat/conversations/{conversation_id}/csat")
async def rate_conversation(request: web.Request) -> web.Response:
    """The borrower's one-tap rating (``{"score": 1..5}``) of a conversation that asked for one,
    with the conversation's own token (X-Client-Token): once; 403 for another session, 409 when
    no rating was asked or it is rated already, 422 for a bad score."""
    token = request.headers.get("X-Client-Token", "")
    body = await read_json(request)
    problem_text = score_problem(body)
    if problem_text:
        raise InvalidInput(problem_text)
    try:
        await request.app[service_key].rate(request.match_info["conversation_id"], token, body["score"])
    except TokenRefused:
        return problem(403, "forbidden", "unknown conversation or wrong token")
    return web.json_response({"csat": "rated", "score": body["score"]}, status=201)


@routes.post("/api/chat/conversations/{conversation_id}/plan-cards/{card_id}/accept")
async def accept_plan_card(request: web.Request) -> web.Response:
    """The borrower accepts a plan an agent sent as a card (same auth as the transcript: the
    X-Client-Token header); the ledger re-checks it and makes the arrangement."""
    token = request.headers.get("X-Client-Token", "")[:200]
    try:
        result = await DeskActions(request.app[service_key]).accept_plan(
            request.match_info["conversation_id"], token, request.match_info["card_id"]
        )
    except DeskActionRefused as exc:
        return problem(refusal_status(exc), exc.code, str(exc), **exc.extra)
    return web.json_response(result, status=201)
