"""Stand-ins the gateway tests and the fuzzer (bench/fuzz_gateway.py) share: a settable clock,
an audit sink and a WeChat API client that record, and the schema both backends start from.

A plain module (not conftest) so that a script can import it without pytest's fixtures.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import create_async_engine

from gateway.db import Base
from ledger.db.models import Base as LedgerBase

FIXED_NOW = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)  # where every test's clock starts


class FakeClock:
    def __init__(self) -> None:
        self.now = FIXED_NOW

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


class FakeAudit:
    def __init__(self) -> None:
        self.entries: list[tuple[str, str, str, dict]] = []

    async def record(self, actor, action, conversation_id, detail):
        self.entries.append((actor, action, conversation_id, detail))


class FakeWeChatClient:
    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []

    async def send_text(self, openid: str, content: str) -> None:
        self.sent.append((openid, content))


async def count_rows(database_url: str) -> tuple[int, int]:
    """(conversations, messages) stored: what a refused request must leave unchanged."""
    from sqlalchemy import func, select

    from gateway.db import Conversation, Message

    engine = create_async_engine(database_url)
    async with engine.connect() as conn:
        convs = (await conn.execute(select(func.count()).select_from(Conversation))).scalar_one()
        msgs = (await conn.execute(select(func.count()).select_from(Message))).scalar_one()
    await engine.dispose()
    return convs, msgs


async def create_schema(url: str) -> None:
    engine = create_async_engine(url)
    async with engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
        await conn.run_sync(LedgerBase.metadata.create_all)
    await engine.dispose()


PG_ADMIN_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"


def pg_url(database: str) -> str:
    return f"postgresql+asyncpg://postgres@127.0.0.1:5432/{database}"


async def fresh_pg_database(database: str) -> str:
    """An empty schema (gateway and ledger tables) in ``database``, created when missing.

    Raises OSError when PostgreSQL is not running on 127.0.0.1:5432.
    """
    from sqlalchemy import text

    admin = create_async_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as conn:
            exists = (
                await conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": database})
            ).scalar()
            if not exists:
                await conn.execute(text(f'CREATE DATABASE "{database}"'))
    finally:
        await admin.dispose()
    url = pg_url(database)
    engine = create_async_engine(url)
    async with engine.begin() as conn:
        await conn.execute(text("DROP SCHEMA public CASCADE"))
        await conn.execute(text("CREATE SCHEMA public"))
        await conn.run_sync(LedgerBase.metadata.create_all)
        await conn.run_sync(Base.metadata.create_all)
    await engine.dispose()
    return url
