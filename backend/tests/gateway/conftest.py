from __future__ import annotations

import os

import pytest
from aiohttp.test_utils import TestServer

from gateway.keys import Overrides
from gateway.settings import GatewaySettings
from gateway.web import init_app, server_options
from huanxin_testkit.gw_fake_rasa import make_fake_rasa
from huanxin_testkit.gw_fakes import FakeAudit, FakeClock, FakeWeChatClient, create_schema, fresh_pg_database
from huanxin_testkit.gw_helpers import SYSTEM_SECRET, WECHAT_TOKEN


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def audit() -> FakeAudit:
    return FakeAudit()


@pytest.fixture
def wechat_client() -> FakeWeChatClient:
    return FakeWeChatClient()


@pytest.fixture
async def database_url(tmp_path) -> str:
    url = f"sqlite+aiosqlite:///{tmp_path / 'gateway.sqlite3'}"
    await create_schema(url)
    return url


@pytest.fixture
async def fake_rasa(aiohttp_server):
    return await aiohttp_server(make_fake_rasa("rasa-1"))


@pytest.fixture
def make_gateway(aiohttp_client, database_url, clock, audit, wechat_client, fake_rasa):
    async def make(**settings_overrides):
        values = {
            "database_url": database_url,
            "rasa_urls": (str(fake_rasa.make_url("")).rstrip("/"),),
            "wechat_token": WECHAT_TOKEN,
            "session_ttl_s": 3600,
            "handback_intent": "handback",
            "system_secret": SYSTEM_SECRET,
        }
        values.update(settings_overrides)
        settings = GatewaySettings(**values)
        app = init_app(settings, Overrides(clock=clock, audit=audit, wechat_client=wechat_client))
        server = TestServer(app)
        await server.start_server(**server_options(settings))  # served as `python -m gateway` serves it
        return await aiohttp_client(server)

    return make


@pytest.fixture
async def gateway_client(make_gateway):
    return await make_gateway()


PG_DB = os.environ.get("HUANXIN_PG_GATEWAY_DB", "test_gateway")  # parallel checkouts use their own


@pytest.fixture
async def pg_database_url() -> str:
    """A fresh schema in the database test_gateway (created when missing); skipped without PostgreSQL."""
    try:
        return await fresh_pg_database(PG_DB)
    except OSError:
        pytest.skip("PostgreSQL is not running on 127.0.0.1:5432")


@pytest.fixture
def refused_port():
    """A port that refuses connections for the whole test: bound, never listening, so no other
    server of the test run can be given it (a released "unused" port can be handed out again)."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]
