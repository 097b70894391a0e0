"""Engine and session factory. The caller (a service) owns the session and its transaction."""

from __future__ import annotations

from pathlib import Path
from typing import TypeAlias

from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

# The names services and the web layer annotate with, so that only this package names SQLAlchemy.
Engine: TypeAlias = AsyncEngine
Session: TypeAlias = AsyncSession
SessionFactory: TypeAlias = async_sessionmaker[AsyncSession]


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def create_engine(url: str, *, pool_size: int = 20) -> AsyncEngine:
    """An engine for the ledger and the gateway. Database errors never quote the statement's
    parameters (``hide_parameters``): a logged error cannot carry what a borrower typed.

    PostgreSQL: a fixed pool (no overflow). Overflow connections are closed after each use,
    so under a burst every request paid for a new server connection (bench/status_load.py saw
    346 connections opened in 20 s); requests beyond the pool wait for a connection instead."""
    if is_sqlite(url):
        database = make_url(url).database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(url, connect_args={"timeout": 30}, hide_parameters=True)

        @event.listens_for(engine.sync_engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record):  # pragma: no cover - trivial
            # SQLAlchemy emits BEGIN itself (below); IMMEDIATE takes the write lock up front so
            # two concurrent read-then-write transactions queue instead of failing to upgrade.
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        @event.listens_for(engine.sync_engine, "begin")
        def _sqlite_begin(conn):  # pragma: no cover - trivial
            conn.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    # pool_pre_ping: a pooled connection is checked (one round trip) when it is taken from the
    # pool and replaced if the server dropped it (restart, failover, idle kill), so the first
    # request after PostgreSQL comes back succeeds instead of failing on a dead socket. The
    # asyncpg status path takes its connection from this pool too, so it is covered as well.
    return create_async_engine(
        url, pool_size=pool_size, max_overflow=0, pool_timeout=10, pool_pre_ping=True, hide_parameters=True
    )


def create_session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


def postgresql_engine_of(sessions: SessionFactory) -> Engine | None:
    """The engine behind ``sessions`` when it is PostgreSQL's (the asyncpg status path reads
    through it), else None."""
    engine = sessions.kw.get("bind")
    if engine is not None and engine.dialect.name == "postgresql":
        return engine
    return None


async def ping(engine: Engine) -> None:
    """One round trip to the database (the health check); raises when it cannot be reached."""
    async with engine.connect() as conn:
        await conn.execute(text("SELECT 1"))
