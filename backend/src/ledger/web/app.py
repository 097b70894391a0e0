"""The aiohttp application factory: tests, `ledger serve` and benchmarks build it the same way."""

from __future__ import annotations

import hashlib
import hmac
import logging
from collections.abc import AsyncIterator, Callable
from datetime import datetime
from typing import Any

from aiohttp import web

from httpedge.slow_clients import body_timeout_middleware

from ..cadence_file import load_cadence
from ..db import repositories as repo
from ..db.session import create_engine, create_session_factory
from ..domain.policy import Policy
from ..policy_file import load_policy
from ..scopes import Scope
from ..services.context import Ledger, utc_now
from ..settings import Settings
from . import handlers  # noqa: F401 - registers the routes
from .keys import CADENCE, CLIENT, ENGINE, LEDGER, OPENAPI, POLICY, POLICY_VERSION, SETTINGS
from .openapi import build_openapi
from .problem import problem, problem_middleware
from .registry import OPERATIONS, Operation, routes

log = logging.getLogger("ledger.web")


PUBLIC_PATHS = {"/healthz", "/api/v1/openapi.json"}
# (method, canonical path) -> operation: where the scope check finds what a route accepts.
OPERATION_BY_ROUTE: dict[tuple[str, str], Operation] = {(op.method, op.path): op for op in OPERATIONS}


def _static_client(settings: Settings, token: str) -> tuple[str, Scope] | None:
    """The client a token from the environment stands for. Every configured token is compared
    (constant time each) so the answer's timing does not say which one matched."""
    found: tuple[str, Scope] | None = None
    for client, scope, expected in settings.static_clients():
        if hmac.compare_digest(token.encode(), expected.encode()):
            found = (client, scope)
    return found


def _operation(request: web.Request) -> Operation | None:
    resource = request.match_info.route.resource
    if resource is None:  # no route: the router answers 404/405 itself
        return None
    method = "GET" if request.method == "HEAD" else request.method  # aiohttp serves HEAD with the GET handler
    return OPERATION_BY_ROUTE.get((method, resource.canonical))


@web.middleware
async def client_auth_middleware(request: web.Request, handler) -> web.StreamResponse:
    """Every /api/v1 call except the OpenAPI document needs the API client's bearer token,
    and the token's scope must be one the endpoint accepts (403 otherwise, before anything runs)."""
    if request.path in PUBLIC_PATHS or not request.path.startswith("/api/"):
        return await handler(request)
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        return problem(401, "unauthorized", "missing bearer token")
    client: tuple[str, str] | None = _static_client(request.app[SETTINGS], token)
    if client is None:
        ledger = request.app[LEDGER]
        async with ledger.sessions() as session:
            row = await repo.api_client_by_token_hash(session, hashlib.sha256(token.encode()).hexdigest())
        if row is None:
            return problem(401, "unauthorized", "invalid bearer token")
        client = (f"api:{row.name}", row.scope)
    name, scope = client
    resource = request.match_info.route.resource
    op = _operation(request)
    if resource is not None and (op is None or scope not in op.scopes):
        return problem(
            403, "forbidden", f"a client with scope {scope!r} may not call {request.method} {resource.canonical}"
        )
    request[CLIENT] = name
    return await handler(request)


def _body_too_slow() -> web.Response:
    return problem(408, "request_timeout", "the request body did not arrive in time")


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


POLICY_VERSION_HEADER = "X-Policy-Version"


def policy_version(policy: Policy) -> str:
    """A short digest of everything the policy says (its records' repr: every field, amounts
    with their exponents). Sent on every answer, so a client that keeps the policy's texts
    (the action server) knows at its next call of any kind that they changed."""
    return hashlib.sha256(repr(policy).encode()).hexdigest()[:16]


async def _name_the_policy(request: web.Request, response: web.StreamResponse) -> None:
    response.headers[POLICY_VERSION_HEADER] = request.app[POLICY_VERSION]


def init_app(
    settings: Settings, *, clock: Callable[[], datetime] | None = None, policy: Policy | None = None
) -> web.Application:
    """Build the application. Fails fast (SettingsError, PolicyError naming the key) before
    serving anything when the environment, the policy file or the cadence file is unusable."""
    settings.require_serving()
    app = web.Application(
        client_max_size=settings.client_max_size,
        middlewares=[
            problem_middleware,
            body_timeout_middleware(settings.client_timeout, _body_too_slow),
            client_auth_middleware,
        ],
    )
    app[SETTINGS] = settings
    app[POLICY] = policy if policy is not None else load_policy(settings.policy_file)
    app[POLICY_VERSION] = policy_version(app[POLICY])
    app.on_response_prepare.append(_name_the_policy)
    # The contact cadence is validated now, against the policy, so a bad file stops start-up
    # naming its key (the planner and a dispatcher load it again when they run); the API uses
    # its STOP confirmation.
    app[CADENCE] = load_cadence(settings.cadence_file, app[POLICY])
    app[OPENAPI] = build_openapi(OPERATIONS)
    app.cleanup_ctx.append(database_context(clock or utc_now))
    app.add_routes(routes)
    return app


def openapi_document() -> dict[str, Any]:
    return build_openapi(OPERATIONS)
