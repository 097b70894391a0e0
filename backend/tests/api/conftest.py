"""API tests through the app factory, on SQLite and on PostgreSQL.

PostgreSQL: a dedicated database ``huanxin_test`` (re-created once per session, migrations
applied once); every test starts from empty ledger tables (the audit log is append-only, so it
is never emptied: tests look only at entries of the borrowers they created). Set
HUANXIN_SKIP_PG=1 to run on SQLite only.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text

from ledger.cli import migrate
from ledger.db.models import Base
from ledger.db.session import create_engine
from ledger.services.seeding import seed_demo
from ledger.settings import Settings
from ledger.web.app import init_app
from ledger.web.keys import LEDGER

API_TOKEN = "test-api-token"  # LEDGER_API_TOKEN: the bot's token (scope bot)
DESK_TOKEN = "test-desk-token"
PAYMENTS_TOKEN = "test-payments-token"
ANALYTICS_TOKEN = "test-analytics-token"
SALT = "test-salt"
PG_ADMIN_URL = os.environ.get("HUANXIN_PG_ADMIN", "postgresql://postgres@127.0.0.1:5432/postgres")
PG_TEST_DB = os.environ.get("HUANXIN_PG_TEST_DB", "huanxin_test")  # parallel checkouts use their own
CLEANED_TABLES = [t.name for t in reversed(Base.metadata.sorted_tables) if t.name != "audit_log"]


def _backends() -> list[str]:
    return ["sqlite"] if os.environ.get("HUANXIN_SKIP_PG") == "1" else ["sqlite", "postgresql"]


async def _recreate_pg_database() -> None:
    import asyncpg

    conn = await asyncpg.connect(PG_ADMIN_URL)
    try:
        await conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            f"WHERE datname = '{PG_TEST_DB}' AND pid <> pg_backend_pid()"
        )
        await conn.execute(f'DROP DATABASE IF EXISTS "{PG_TEST_DB}"')
        await conn.execute(f'CREATE DATABASE "{PG_TEST_DB}"')
    finally:
        await conn.close()


@pytest.fixture(scope="session", params=_backends())
def database_url(request, tmp_path_factory) -> str:
    """A migrated database per backend, once per session."""
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('ledger') / 'ledger.sqlite3'}"
    else:
        asyncio.run(_recreate_pg_database())
        url = f"postgresql+asyncpg://postgres@127.0.0.1:5432/{PG_TEST_DB}"
    migrate(url)
    return url


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory) -> Path:
    """An empty SQLite ledger with every migration applied, made once a session: a test that
    needs a fresh file of its own takes a copy (copy_sqlite) instead of migrating again."""
    path = tmp_path_factory.mktemp("template") / "migrated.sqlite3"
    migrate(f"sqlite+aiosqlite:///{path}")
    return path


def copy_sqlite(template: Path, to: Path) -> Path:
    """A consistent copy of the SQLite file ``template`` (its write-ahead log included) at ``to``."""
    source, copy = sqlite3.connect(template), sqlite3.connect(to)
    try:
        source.backup(copy)
    finally:
        copy.close()
        source.close()
    return to


async def clean(url: str) -> None:
    engine = create_engine(url)
    try:
        async with engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                await conn.execute(text("TRUNCATE " + ", ".join(CLEANED_TABLES) + " CASCADE"))
            else:
                for table in CLEANED_TABLES:
                    await conn.execute(text(f"DELETE FROM {table}"))
    finally:
        await engine.dispose()


@dataclass
class FakeClock:
    """The ledger's clock; tests move it forward to expire tokens, locks and offers."""

    now: datetime = field(default_factory=lambda: datetime.now(UTC))

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs) -> None:
        self.now += timedelta(**kwargs)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def settings(database_url) -> Settings:
    return Settings(
        database_url=database_url,
        api_token=API_TOKEN,
        id_hash_salt=SALT,
        desk_token=DESK_TOKEN,
        payments_token=PAYMENTS_TOKEN,
        analytics_token=ANALYTICS_TOKEN,
    )


@pytest.fixture
async def client(aiohttp_client, settings, clock):
    await clean(settings.database_url)
    app = init_app(settings, clock=clock)
    return await aiohttp_client(app)


@pytest.fixture
async def demo(client) -> dict[str, str]:
    """Seed the demo portfolio; returns {key: borrower_id}."""
    ledger = client.app[LEDGER]
    return await seed_demo(ledger.sessions, salt=SALT, today=ledger.today())


AUTH = {"Authorization": f"Bearer {API_TOKEN}"}
DESK = {"Authorization": f"Bearer {DESK_TOKEN}"}
PAYMENTS = {"Authorization": f"Bearer {PAYMENTS_TOKEN}"}
ANALYTICS = {"Authorization": f"Bearer {ANALYTICS_TOKEN}"}
SCOPE_HEADERS = {"bot": AUTH, "desk": DESK, "payments": PAYMENTS, "analytics": ANALYTICS}
