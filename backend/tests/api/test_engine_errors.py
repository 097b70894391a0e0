"""A database error never quotes the statement's parameters, so a logged error cannot carry
what a borrower typed (the gateway and the ledger log failed statements)."""

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from ledger.db.session import create_engine


async def test_a_failed_statement_does_not_quote_its_parameters(tmp_path):
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'e.sqlite3'}")
    try:
        async with engine.begin() as conn:
            await conn.execute(text("CREATE TABLE t (v TEXT NOT NULL UNIQUE)"))
            await conn.execute(text("INSERT INTO t VALUES (:v)"), {"v": "my phone 13800000001"})
        with pytest.raises(DBAPIError) as failure:
            async with engine.begin() as conn:
                await conn.execute(text("INSERT INTO t VALUES (:v)"), {"v": "my phone 13800000001"})
        assert "13800000001" not in str(failure.value)
    finally:
        await engine.dispose()
