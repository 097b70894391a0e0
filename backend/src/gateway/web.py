"""The gateway's aiohttp application factory: borrower web chat, agent desk, WeChat.

``init_app(settings)`` builds the same app for ``python -m gateway`` and for tests; resources
(database engine, HTTP client for Rasa and WeChat, Redis) live in a cleanup context. The
factory imports the route modules (chat_web, desk_web, wechat_web), never the reverse; they
share state through ``keys`` and answer errors through ``problems``.
"""

from __future__ import annotations

import logging
import weakref
from datetime import timedelta
from typing import Any

import aiohttp
from aiohttp import web

from httpedge.access_log import SafeAccessLogger, access_logger
from httpedge.slow_clients import body_timeout_middleware
from ledger.desk_door import DeskDoor, create_engine, create_session_factory

from . import (
    canned_web,
    chat_web,
    desk_history_web,
    desk_web,
    insights_web,
    outbound_web,
    policy_lab_web,
    sms_web,
    telegram_web,
    wechat_web,
)
from .agents import DeskAuth
from .canned_store import CannedStore
from .chat_web import STATIC
from .clients import parse_networks
from .conversations import ConversationService
from .events import event_sink
from .hub import Hub
from .keys import (
    Overrides,
    auth_key,
    canned_key,
    door_key,
    edge_limits_key,
    engine_key,
    hub_key,
    overrides_key,
    proxies_key,
    service_key,
    settings_key,
    sockets_key,
)
from .ledger_bridge import LedgerAccounts, LedgerAuditLog
from .locks import ConversationLocks, RedisClient
from .problems import error_middleware, problem
from .rasa import RasaPool
from .ratelimit import Limits, LimitSpec
from .settings import GatewaySettings
from .turn_sql import TurnStore

__all__ = ["Overrides", "init_app", "server_options"]

log = logging.getLogger("gateway")


def server_options(settings: GatewaySettings) -> dict[str, Any]:
    """How the gateway is served (``python -m gateway`` and the tests): an access log that cannot
    print a query string or a header, and a short keep-alive for idle connections. ``python -m
    gateway`` adds the request-head deadline (httpedge.slow_clients); bodies have theirs in
    init_app's middleware."""
    return {"access_log_class": SafeAccessLogger, "access_log": access_logger("gateway"), "keepalive_timeout": 15}


def _body_too_slow() -> web.Response:
    return problem(408, "request_timeout", "the request body did not arrive in time")


@web.middleware
async def security_headers(request: web.Request, handler):
    response = await handler(request)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    if request.path.startswith(("/desk", "/insights")):
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Cache-Control", "no-store")
    return response


# ---- app factory ------------------------------------------------------------------------


def init_app(settings: GatewaySettings, overrides: Overrides | None = None) -> web.Application:
    overrides = overrides or Overrides()
    app = web.Application(
        middlewares=[
            security_headers,
            error_middleware,
            body_timeout_middleware(settings.client_timeout_s, _body_too_slow),
            desk_web.csrf_middleware,
        ],
        client_max_size=64 * 1024,
    )
    app[settings_key] = settings
    app[overrides_key] = overrides
    app[hub_key] = Hub()
    app[sockets_key] = weakref.WeakSet()
    app[proxies_key] = parse_networks(settings.trusted_proxies)
    app[edge_limits_key] = Limits(
        {
            "new_conversation": LimitSpec(settings.new_conversations_per_hour, "1 hour"),
            "chat_message": LimitSpec(settings.chat_messages_per_minute, "1 minute"),
        }
    )

    async def close_sockets(app: web.Application) -> None:
        sockets = app[sockets_key]
        for ws in list(sockets):
            await ws.close(code=aiohttp.WSCloseCode.GOING_AWAY, message=b"server shutdown")

    app.on_shutdown.append(close_sockets)

    async def resources(app: web.Application):
        if not settings.system_secret:
            log.warning(
                "GATEWAY_SYSTEM_SECRET is not set: the action server cannot verify hand-back intents, "
                "and client references use a key of this process only"
            )
        if not settings.rasa_jwt_secret:
            log.warning("RASA_JWT_SECRET is not set: hand-back slots are sent to Rasa's HTTP API without a JWT")
        engine = create_engine(settings.database_url)
        sessions = create_session_factory(engine)
        http = aiohttp.ClientSession()
        redis = RedisClient(settings.redis_url) if settings.redis_url else None
        locks = ConversationLocks(
            redis, ttl_s=settings.rasa_timeout_s * 2 + 10, wait_s=settings.rasa_timeout_s * 4 + 10
        )
        rasa = RasaPool(
            settings.rasa_urls, http, timeout_s=settings.rasa_timeout_s, jwt_secret=settings.rasa_jwt_secret
        )
        audit = overrides.audit
        if audit is None:
            audit = LedgerAuditLog(sessions, DeskDoor(sessions, clock=overrides.clock))
        accounts = overrides.accounts
        if accounts is None:
            accounts = LedgerAccounts(sessions, DeskDoor.from_env(sessions, overrides.clock))
        events = overrides.events if overrides.events is not None else event_sink(settings.events)
        service = ConversationService(
            sessions,
            rasa,
            locks,
            app[hub_key],
            audit,
            accounts,
            overrides.clock,
            settings.handback_intent,
            system_secret=(settings.system_secret or "").encode("utf-8"),
            slow_notice_s=settings.slow_reply_notice_s,
            idle_expiry=timedelta(minutes=settings.idle_expiry_minutes),
            events=events,
            guard=settings.compliance,
            canned=settings.canned,
            turns=TurnStore.for_engine(engine),
        )
        canned = CannedStore(sessions, settings.compliance, audit, app[hub_key], overrides.clock)
        await canned.seed(settings.canned)  # the file's replies the table lacks (canned_store)
        service.canned_source = canned.active
        app[canned_key] = canned
        app[engine_key] = engine
        app[service_key] = service
        app[auth_key] = DeskAuth(sessions, settings.session_ttl_s, overrides.clock)
        app[door_key] = DeskDoor.from_env(sessions, overrides.clock)  # the policy: ledger outcomes
        wechat_web.attach(app, http, redis)
        yield
        await http.close()
        if redis is not None:
            await redis.close()
        await events.close()
        await service.turns.close()
        await engine.dispose()

    app.cleanup_ctx.append(resources)
    app.add_routes(chat_web.routes)
    app.add_routes(sms_web.routes)
    app.add_routes(telegram_web.routes)
    desk_web.setup(app)
    canned_web.setup(app)
    desk_history_web.setup(app)
    insights_web.setup(app)
    policy_lab_web.setup(app)
    outbound_web.setup(app)
    wechat_web.setup(app)
    app.router.add_static("/static/", STATIC, name="static")
    return app
