"""The OpenAPI document describes the handlers: every route is documented and vice versa, and
schemathesis (property-based requests generated from the document) finds no 5xx and no
response that breaks the document."""

from __future__ import annotations

import asyncio
import threading

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from huanxin_testkit.served import free_port
from ledger.cli import migrate
from ledger.services.seeding import seed_demo
from ledger.settings import Settings
from ledger.web.app import init_app, openapi_document
from ledger.web.keys import LEDGER

from .conftest import ANALYTICS_TOKEN, API_TOKEN, AUTH, DESK_TOKEN, PAYMENTS_TOKEN, SALT, SCOPE_HEADERS

schema = schemathesis.openapi.from_dict(openapi_document())


async def test_every_route_is_documented_and_every_documented_operation_is_routed(client):
    document = await (await client.get("/api/v1/openapi.json")).json()
    documented = {(method.upper(), path) for path, ops in document["paths"].items() for method in ops}
    routed = {(r.method, r.resource.canonical) for r in client.app.router.routes() if r.method != "HEAD"}
    assert documented == routed
    assert document["openapi"].startswith("3.1")


async def test_documented_request_bodies_are_the_models_the_handlers_validate(client):
    document = await (await client.get("/api/v1/openapi.json")).json()
    body = document["paths"]["/api/v1/loans/{loan_number}/payments"]["post"]["requestBody"]
    ref = body["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
    payment = document["components"]["schemas"][ref]
    assert payment["additionalProperties"] is False
    assert payment["properties"]["amount"]["pattern"] == r"^\d{1,9}(\.\d{1,2})?$"


class LiveServer:
    def __init__(self, url: str, headers: dict[str, str]):
        self.url = url
        self.headers = headers


@pytest.fixture(scope="module")
def live_server(tmp_path_factory):
    """The real app on a free port (own thread and loop, SQLite), demo seeded, D1 verified."""
    from aiohttp import web

    url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('live') / 'ledger.sqlite3'}"
    migrate(url)
    port = free_port()
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    state: dict = {}

    async def start() -> None:
        app = init_app(
            Settings(
                database_url=url,
                api_token=API_TOKEN,
                id_hash_salt=SALT,
                desk_token=DESK_TOKEN,
                payments_token=PAYMENTS_TOKEN,
                analytics_token=ANALYTICS_TOKEN,
            )
        )
        runner = web.AppRunner(app)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        ledger = app[LEDGER]
        state["runner"] = runner
        state["ids"] = await seed_demo(ledger.sessions, salt=SALT, today=ledger.today())

    def run() -> None:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(start())
        ready.set()
        loop.run_forever()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    assert ready.wait(30)
    base = f"http://127.0.0.1:{port}"
    resp = requests.post(
        f"{base}/api/v1/verifications",
        headers=AUTH,
        timeout=10,
        json={"conversation_id": "st", "phone": "13800000001", "date_of_birth": "1990-03-15", "id_last4": "4321"},
    )
    assert resp.status_code == 201
    headers = {**AUTH, "X-Verification-Token": resp.json()["token"], "X-Conversation-Id": "st"}
    yield LiveServer(base, headers)
    asyncio.run_coroutine_threadsafe(state["runner"].cleanup(), loop).result(30)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(10)


@schema.parametrize()
@hypothesis_settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck), database=None)
def test_generated_requests_never_get_a_5xx_and_responses_conform(case, live_server):
    # Each operation is called with a token of a scope it accepts (the first it lists), so the
    # generated requests reach the handlers instead of stopping at 403.
    scopes = case.operation.definition.raw.get("x-scopes") or ["bot"]
    headers = {**live_server.headers, **SCOPE_HEADERS[scopes[0]]}
    case.call_and_validate(
        base_url=live_server.url,
        headers=headers,
        checks=[not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance],
    )
