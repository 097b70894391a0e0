"""WeChat Official Account endpoint (/wechat): signature check, dedup, passive reply or
customer-service API, OpenID -> conversation.

Every request is verified before anything else (a bad signature, a timestamp more than five
minutes from now or a (timestamp, nonce) pair already used answers 403 and stores nothing).
A text message is handled as a borrower turn keyed by its MsgId, so a retried push is never
handled twice. If the bot answers within WECHAT_REPLY_DEADLINE seconds (4.5 by
default, under the platform's 5 s) the answer goes back as the passive reply; otherwise the
push is answered "success" and the answer follows through the customer-service API. Agent
and system messages always go through that API.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import aiohttp
from aiohttp import web

from . import wechat
from .clients import client_ref
from .db import Conversation
from .keys import overrides_key, service_key, settings_key
from .locks import RedisClient
from .replay import ReplayGuard
from .texts import text as t

log = logging.getLogger("gateway.wechat")
routes = web.RouteTableDef()
client_key: web.AppKey[wechat.CustomerServiceClient | None] = web.AppKey("wechat_client")
state_key = web.AppKey("wechat_state", dict)
replay_key = web.AppKey("wechat_replay", ReplayGuard)


def _deps(request: web.Request):
    return request.app[settings_key], request.app[service_key]


def _verified(request: web.Request) -> bool:
    """Signed with our token and timestamped within five minutes of now."""
    settings, _ = _deps(request)
    q = request.query
    return wechat.verify_signature(
        settings.wechat_token or "", q.get("signature"), q.get("timestamp"), q.get("nonce")
    ) and request.app[replay_key].fresh(q.get("timestamp", ""))


async def _first_use(request: web.Request) -> bool:
    """The (timestamp, nonce) pair of a verified push was not used before: a replay gets 403."""
    return await request.app[replay_key].first_use(request.query["timestamp"], request.query["nonce"])


def _plain(body: str, status: int = 200) -> web.Response:
    return web.Response(status=status, text=body, content_type="text/plain")


@routes.get("/wechat")
async def echo_check(request: web.Request) -> web.Response:
    if not _verified(request):
        return _plain("forbidden", 403)
    return _plain(request.query.get("echostr", ""))


def _render(replies: list[dict[str, Any]], language: str) -> str:
    parts = [wechat.render_text(r.get("text"), r.get("buttons"), language) for r in replies if not r.get("agent_only")]
    return "\n\n".join(p for p in parts if p)


async def send_via_api(app: web.Application, conv: Conversation, messages: list[dict[str, Any]]) -> str | None:
    """None when sent (or nothing to send), else why not (the desk tells the agent)."""
    client = app[client_key]
    content = _render(messages, conv.language)
    if not content:
        return None
    if client is None:
        log.warning("WeChat customer-service API not configured; message for %s not sent", conv.id)
        return "the WeChat customer-service API is not configured"
    try:
        await client.send_text(conv.external_user_id, content)
    except (wechat.WeChatError, aiohttp.ClientError, TimeoutError, ValueError) as exc:
        log.warning("WeChat customer-service send failed for %s: %s", conv.id, exc)
        why = str(exc) if isinstance(exc, wechat.WeChatApiError) else type(exc).__name__  # never a URL (token)
        return f"WeChat did not take the message: {why}"[:300]
    return None


@routes.post("/wechat")
async def push(request: web.Request) -> web.Response:
    if not _verified(request) or not await _first_use(request):
        return _plain("forbidden", 403)
    if request.query.get("encrypt_type", "raw") not in ("raw", ""):
        return _plain("encrypted mode is not supported; use plain-text mode", 400)
    settings, service = _deps(request)
    try:
        body = await request.read()
        inbound = wechat.parse_message(body)
    except wechat.MalformedMessage as exc:
        return _plain(f"bad request: {exc}", 400)
    except web.HTTPRequestEntityTooLarge:
        return _plain("bad request: body too large", 400)
    state = request.app[state_key]
    key = inbound.dedup_key
    if key in state["inflight"]:
        return _plain(wechat.SUCCESS)  # a retry while the first push is still being handled
    if inbound.msg_type == "event":
        return _plain(wechat.SUCCESS)
    conv = await service.conversation_for_external("wechat", inbound.from_user)
    message = inbound.text_for_bot
    if message is None:
        return web.Response(
            text=wechat.build_text_reply(inbound, t("unsupported_message", conv.language)),
            content_type="application/xml",
        )
    payload = None
    if conv.state == "bot":  # a number picks one of the offered buttons (checked again by the service)
        button = wechat.choose_button(message, await service.last_buttons(conv.id))
        if button is not None and button.get("payload"):
            payload = str(button["payload"])
    ref = client_ref(service.system_secret, f"wechat:{inbound.from_user}")  # the OpenID stands for the device
    state["inflight"].add(key)
    task = asyncio.create_task(
        service.handle_borrower_message(conv.id, message, payload=payload, client_msg_id=key, client_ref=ref)
    )
    state["tasks"].add(task)

    def finished(done: asyncio.Task) -> None:
        state["inflight"].discard(key)
        state["tasks"].discard(done)

    task.add_done_callback(finished)
    try:
        result = await asyncio.wait_for(asyncio.shield(task), timeout=settings.wechat_reply_deadline_s)
    except TimeoutError:

        async def follow_up() -> None:
            try:
                late = await task
            except Exception:  # logged; the push was already answered
                log.exception("late WeChat turn failed")
                return
            if not late.duplicate and late.replies:
                current = await service.get(conv.id)
                await send_via_api(request.app, current or conv, late.replies)

        follower = asyncio.create_task(follow_up())
        state["tasks"].add(follower)
        follower.add_done_callback(state["tasks"].discard)
        return _plain(wechat.SUCCESS)
    if result.duplicate or not result.replies:
        return _plain(wechat.SUCCESS)
    current = await service.get(conv.id)
    content = _render(result.replies, (current or conv).language)
    if not content:
        return _plain(wechat.SUCCESS)
    return web.Response(text=wechat.build_text_reply(inbound, content), content_type="application/xml")


def attach(app: web.Application, http: aiohttp.ClientSession, redis: RedisClient | None = None) -> None:
    """Called once resources exist: the API client, the outbound sender for agent messages and
    the replay guard (Redis when configured, so several gateways share the used nonces)."""
    settings = app[settings_key]
    clock = app[overrides_key].clock
    app[replay_key] = ReplayGuard(redis, lambda: clock().timestamp())
    client = app[overrides_key].wechat_client
    if client is None and settings.wechat_app_id and settings.wechat_app_secret:
        client = wechat.CustomerServiceClient(
            settings.wechat_app_id, settings.wechat_app_secret, wechat.AiohttpPoster(http)
        )
    app[client_key] = client

    async def outbound(conv: Conversation, messages: list[dict[str, Any]]) -> str | None:
        return await send_via_api(app, conv, messages)

    app[service_key].outbound["wechat"] = outbound


def setup(app: web.Application) -> None:
    app[state_key] = {"inflight": set(), "tasks": set()}
    app.add_routes(routes)
