"""The analytics store and consumer on SQLite and PostgreSQL; RabbitMQ at 127.0.0.1:5672.

PostgreSQL: the database HUANXIN_PG_ANALYTICS_DB (default huanxin_analytics), emptied per test;
HUANXIN_SKIP_PG=1 runs on SQLite only. RabbitMQ: HUANXIN_TEST_AMQP_URL (default
amqp://guest:guest@127.0.0.1:5672/); each test declares its own exchange and queue, named with
HUANXIN_TEST_AMQP_PREFIX (default huanxin-test), and deletes them. The RabbitMQ tests are
skipped, saying so, when no broker answers; HUANXIN_REQUIRE_AMQP=1 makes that a failure.
"""

from __future__ import annotations

import asyncio
import os
import uuid

import pytest

from huanxin_testkit.gw_fakes import fresh_pg_database
from ledger.cli import migrate
from ledger.db.session import create_engine, create_session_factory

PG_DB = os.environ.get("HUANXIN_PG_ANALYTICS_DB", "huanxin_analytics")
AMQP_URL = os.environ.get("HUANXIN_TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/")
AMQP_PREFIX = os.environ.get("HUANXIN_TEST_AMQP_PREFIX", "huanxin-test")


def _backends() -> list[str]:
    return ["sqlite"] if os.environ.get("HUANXIN_SKIP_PG") == "1" else ["sqlite", "postgresql"]


@pytest.fixture(params=_backends())
async def db_url(request, tmp_path) -> str:
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'ledger.sqlite3'}"
        await asyncio.to_thread(migrate, url)  # Alembic runs its own event loop
        return url
    return await fresh_pg_database(PG_DB)


@pytest.fixture
async def pg_url() -> str:
    if os.environ.get("HUANXIN_SKIP_PG") == "1":
        pytest.skip("HUANXIN_SKIP_PG=1")
    return await fresh_pg_database(PG_DB)


@pytest.fixture
async def sessions(db_url):
    engine = create_engine(db_url)
    yield create_session_factory(engine)
    await engine.dispose()


@pytest.fixture
async def amqp():
    """(url, exchange, queue) of a fresh exchange and queue, deleted afterwards."""
    import aio_pika

    try:
        connection = await aio_pika.connect(AMQP_URL, timeout=3)
    except Exception as exc:  # any failure to connect means no broker here
        if os.environ.get("HUANXIN_REQUIRE_AMQP") == "1":
            raise
        pytest.skip(f"RabbitMQ not reachable at {AMQP_URL}: {exc}")
    suffix = uuid.uuid4().hex[:8]
    names = (f"{AMQP_PREFIX}-events-{suffix}", f"{AMQP_PREFIX}-analytics-{suffix}")
    yield AMQP_URL, *names
    channel = await connection.channel()
    await channel.queue_delete(names[1])
    await channel.exchange_delete(names[0])
    await connection.close()
