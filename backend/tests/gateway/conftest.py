from __future__ import annotations

import os
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from aiohttp.test_utils import TestServer

from gateway.keys import Overrides
from gateway.ledger_bridge import LedgerAccounts
from gateway.settings import GatewaySettings
from gateway.web import init_app, server_options
from huanxin_testkit.gw_desk import gateway_factory
from huanxin_testkit.gw_fake_rasa import make_fake_rasa
from huanxin_testkit.gw_fakes import FakeAudit, FakeClock, FakeWeChatClient, create_schema, fresh_pg_database
from huanxin_testkit.gw_helpers import SYSTEM_SECRET, WECHAT_TOKEN
from ledger.db.session import create_engine, create_session_factory
from ledger.desk_door import DeskDoor
from ledger.policy_file import load_policy
from ledger.services.context import Ledger
from ledger.services.seeding import seed_demo


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


@pytest.fixture
async def ledger_gateway(aiohttp_client, database_url, audit, fake_rasa):
    """The gateway in front of a real ledger on the same database (through the ledger's door),
    seeded with the demo portfolio as of today in Shanghai: (client, the ledger, its sessions,
    the demo ids)."""
    engine = create_engine(database_url)
    sessions = create_session_factory(engine)
    policy = load_policy()
    ids = await seed_demo(sessions, salt="test-salt", today=datetime.now(ZoneInfo("Asia/Shanghai")).date())
    settings = GatewaySettings(
        database_url=database_url, rasa_urls=(str(fake_rasa.make_url("")).rstrip("/"),), system_secret=SYSTEM_SECRET
    )
    app = init_app(settings, Overrides(audit=audit, accounts=LedgerAccounts(sessions, DeskDoor(sessions, policy))))
    server = TestServer(app)
    await server.start_server(**server_options(settings))
    client = await aiohttp_client(server)
    yield client, Ledger(sessions, policy, id_hash_salt="test-salt"), sessions, ids
    await engine.dispose()


@pytest.fixture
async def demo_ledger(database_url):
    """The ledger on the gateway's database, seeded with the demo portfolio as of today in
    Shanghai: (its sessions, the demo ids)."""
    engine = create_engine(database_url)
    sessions = create_session_factory(engine)
    ids = await seed_demo(sessions, salt="test-salt", today=datetime.now(ZoneInfo("Asia/Shanghai")).date())
    yield sessions, ids
    await engine.dispose()


@pytest.fixture
def make_ledger_client(aiohttp_client, database_url, clock, audit, wechat_client, fake_rasa, demo_ledger):
    """Makes a gateway client (settings as keywords) in front of ``demo_ledger``, through the
    ledger's door."""
    sessions, _ = demo_ledger

    async def make(**settings):
        accounts = LedgerAccounts(sessions, DeskDoor(sessions, policy=load_policy()))
        factory = gateway_factory(aiohttp_client, database_url, clock, audit, wechat_client, fake_rasa)
        return await factory(accounts=accounts, **settings)

    return make
