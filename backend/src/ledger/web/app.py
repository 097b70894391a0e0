"""The aiohttp application factory: tests, `ledger serve` and benchmarks build it the same way."""
from __future__ import annotations

import hashlib
import hmac
import logging
from collections.abc import AsyncIterator, Callable
from datetime import datetime
from typing import Any

from aiohttp import web

from ..db import repositories as repo
from ..db.session import create_engine, create_session_factory
from ..domain.policy import Policy
from ..policy_file import load_policy
from ..services.context import Ledger, utc_now
from ..settings import Settings
from .openapi import build_openapi
from .problem import problem, problem_middleware
from .keys import CLIENT, ENGINE, LEDGER, OPENAPI, POLICY, SETTINGS
from .registry import OPERATIONS, routes
from . import handlers  # noqa: F401 - registers the routes

log = logging.getLogger("ledger.web")


PUBLIC_PATHS = {"/healthz", "/api/v1/openapi.json"}


@web.middleware
async def client_auth_middleware(request: web.Request, handler) -> web.StreamResponse:
    """Every /api/v1 call except the OpenAPI document needs the API client's bearer token."""
    if request.path in PUBLIC_PATHS or not request.path.startswith("/api/"):
        return await handler(request)
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        return problem(401, "unauthorized", "missing bearer token")
    settings = request.app[SETTINGS]
    expected = settings.api_token or ""
    if expected and hmac.compare_digest(token.encode(), expected.encode()):
        request[CLIENT] = "api"
        return await handler(request)
    ledger = request.app[LEDGER]
    async with ledger.sessions() as session:
        client = await repo.api_client_by_token_hash(session, hashlib.sha256(token.encode()).hexdigest())
    if client is None:
        return problem(401, "unauthorized", "invalid bearer token")
    request[CLIENT] = f"api:{client.name}"
    return await handler(request)


def database_context(clock: Callable[[], datetime]):
    async def ctx(app: web.Application) -> AsyncIterator[None]:
        settings = app[SETTINGS]
        engine = create_engine(settings.database_url)
        app[ENGINE] = engine
        app[LEDGER] = Ledger(
            sessions=create_session_factory(engine),
            policy=app[POLICY],
            id_hash_salt=settings.require_salt(),
            timezone=settings.timezone,
            clock=clock,
        )
        yield
        await engine.dispose()

    return ctx


def init_app(settings: Settings, *, clock: Callable[[], datetime] | None = None, policy: Policy | None = None) -> web.Application:
    """Build the application. Fails fast (SettingsError, PolicyError naming the key) before
    serving anything when the environment or the policy file is unusable."""
    settings.require_serving()
    app = web.Application(
        client_max_size=settings.client_max_size,
        middlewares=[problem_middleware, client_auth_middleware],
    )
    app[SETTINGS] = settings
    app[POLICY] = policy if policy is not None else load_policy(settings.policy_file)
    app[OPENAPI] = build_openapi(OPERATIONS)
    app.cleanup_ctx.append(database_context(clock or utc_now))
    app.add_routes(routes)
    return app


def openapi_document() -> dict[str, Any]:
    return build_openapi(OPERATIONS)
