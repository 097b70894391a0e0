"""The statements of demo seeding and synthetic portfolios (services/seeding.py): clearing a
demo borrower's records before a re-seed, and bulk loading (COPY on PostgreSQL)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, func, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from . import models as m

BORROWER_COLUMNS = (
    "id",
    "name",
    "language",
    "phone",
    "date_of_birth",
    "national_id_hash",
    "national_id_last4",
    "timezone",
    "demo_key",
    "created_at",
)
LOAN_COLUMNS = (
    "id",
    "loan_number",
    "borrower_id",
    "product",
    "principal",
    "apr",
    "term",
    "disbursed_on",
    "currency",
    "created_at",
)
INSTALMENT_COLUMNS = ("loan_id", "number", "due_date", "amount", "principal", "interest")
PAYMENT_COLUMNS = ("id", "loan_id", "external_ref", "amount", "received_on", "channel", "created_at")


async def borrower_by_demo_key(session: AsyncSession, demo_key: str) -> m.Borrower | None:
    return (await session.execute(select(m.Borrower).where(m.Borrower.demo_key == demo_key))).scalar_one_or_none()


async def count_demo_copies(session: AsyncSession) -> int:
    """Copies of demo borrowers made so far (their demo keys are C and seven digits)."""
    query = select(func.count()).select_from(m.Borrower).where(m.Borrower.demo_key.like("C%"))
    return int((await session.execute(query)).scalar_one())


async def delete_loans_sessions_and_preferences(session: AsyncSession, borrower_id: str) -> None:
    """A re-seeded demo borrower starts over: no loans (their records go with them), no
    verification sessions, no contact preference."""
    await session.execute(delete(m.Loan).where(m.Loan.borrower_id == borrower_id))
    await session.execute(delete(m.VerificationSession).where(m.VerificationSession.borrower_id == borrower_id))
    await session.execute(delete(m.ContactPreference).where(m.ContactPreference.borrower_id == borrower_id))


async def delete_verification_subject(session: AsyncSession, subject: str) -> None:
    await session.execute(delete(m.VerificationSubject).where(m.VerificationSubject.subject == subject))


async def insert_instalments(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    await session.execute(insert(m.Instalment), rows)


async def count_loans_numbered(engine: AsyncEngine, prefix: str) -> int:
    async with engine.connect() as conn:
        stmt = select(func.count()).select_from(m.Loan).where(m.Loan.loan_number.like(f"{prefix}%"))
        return (await conn.execute(stmt)).scalar_one()


async def bulk_insert(
    engine: AsyncEngine, borrowers: list[tuple], loans: list[tuple], instalments: list[tuple], payments: list[tuple]
) -> None:
    """Rows as tuples in the order of BORROWER_COLUMNS, LOAN_COLUMNS, INSTALMENT_COLUMNS and
    PAYMENT_COLUMNS, in one transaction: COPY (asyncpg copy_records_to_table) on PostgreSQL,
    executemany inserts elsewhere."""
    tables = (
        ("borrowers", BORROWER_COLUMNS, borrowers, m.Borrower),
        ("loans", LOAN_COLUMNS, loans, m.Loan),
        ("instalments", INSTALMENT_COLUMNS, instalments, m.Instalment),
        ("payments", PAYMENT_COLUMNS, payments, m.Payment),
    )
    async with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            raw = await conn.get_raw_connection()
            apg: Any = raw.driver_connection
            async with apg.transaction():
                for table, columns, rows, _ in tables:
                    await apg.copy_records_to_table(table, records=rows, columns=list(columns))
        else:
            for _, columns, rows, model in tables:
                if rows:
                    await conn.execute(insert(model), [dict(zip(columns, row, strict=True)) for row in rows])
