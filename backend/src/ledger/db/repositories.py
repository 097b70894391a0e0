"""Repositories: queries and inserts on a caller's session. They never commit; the service
that opened the session owns the transaction."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any, TypeVar

from sqlalchemy import func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from . import models as m
from .errors import DuplicateRow


def dialect(session: AsyncSession) -> str:
    return session.get_bind().dialect.name


async def add_in_savepoint(session: AsyncSession, row: m.Base) -> None:
    """Insert ``row`` now, inside a savepoint. When a constraint refuses it (a concurrent
    transaction took the same unique key) only the savepoint is rolled back, the caller's
    transaction goes on, and DuplicateRow is raised."""
    try:
        async with session.begin_nested():
            session.add(row)
    except IntegrityError as exc:
        raise DuplicateRow(f"a constraint refused the {type(row).__name__} row") from exc


Row = TypeVar("Row", bound=m.Base)


async def add_numbered(
    session: AsyncSession, make_row: Callable[[str], Row], prefix: str, numbered: Any, attempts: int = 20
) -> Row | None:
    """Adds ``make_row(case_number)`` under the first free case number with ``prefix`` (the prefix
    and six digits) after those the column ``numbered`` already holds; a number a concurrent
    transaction took is skipped. None when ``attempts`` numbers in a row were taken."""
    taken = int((await session.execute(select(func.count(numbered)).where(numbered.like(f"{prefix}%")))).scalar_one())
    for attempt in range(attempts):
        row = make_row(f"{prefix}{taken + 1 + attempt:06d}")
        try:
            await add_in_savepoint(session, row)
            return row
        except DuplicateRow:
            continue
    return None


async def add_audit(
    session: AsyncSession,
    *,
    at: datetime,
    actor: str,
    action: str,
    borrower_id: str | None = None,
    loan_id: str | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    session.add(
        m.AuditEntry(at=at, actor=actor, action=action, borrower_id=borrower_id, loan_id=loan_id, detail=detail or {})
    )


async def add_audits(session: AsyncSession, entries: Sequence[dict[str, Any]]) -> None:
    """Many audit entries (``add_audit``'s fields each) in one INSERT, in the order given."""
    if entries:
        await session.execute(insert(m.AuditEntry), list(entries))


# ------------------------------------------------------------- borrowers and loans


async def borrower_by_id(session: AsyncSession, borrower_id: str) -> m.Borrower | None:
    return await session.get(m.Borrower, borrower_id)


async def borrower_by_phone(session: AsyncSession, phone: str) -> m.Borrower | None:
    return (await session.execute(select(m.Borrower).where(m.Borrower.phone == phone))).scalar_one_or_none()


async def borrower_by_loan_number(session: AsyncSession, loan_number: str) -> m.Borrower | None:
    stmt = select(m.Borrower).join(m.Loan, m.Loan.borrower_id == m.Borrower.id).where(m.Loan.loan_number == loan_number)
    return (await session.execute(stmt)).scalar_one_or_none()


async def loan_of_borrower(
    session: AsyncSession, loan_number: str, borrower_id: str, *, for_update: bool = False
) -> m.Loan | None:
    stmt = select(m.Loan).where(m.Loan.loan_number == loan_number, m.Loan.borrower_id == borrower_id)
    if for_update and dialect(session) == "postgresql":
        stmt = stmt.with_for_update()
    return (await session.execute(stmt)).scalar_one_or_none()


async def loan_by_id(session: AsyncSession, loan_id: str) -> m.Loan | None:
    return await session.get(m.Loan, loan_id)


async def loan_by_number(session: AsyncSession, loan_number: str, *, for_update: bool = False) -> m.Loan | None:
    stmt = select(m.Loan).where(m.Loan.loan_number == loan_number)
    if for_update and dialect(session) == "postgresql":
        stmt = stmt.with_for_update()
    return (await session.execute(stmt)).scalar_one_or_none()


async def lock_loan(session: AsyncSession, loan_id: str) -> None:
    """Serialise writers of one loan: SELECT ... FOR UPDATE on PostgreSQL (SQLite's
    BEGIN IMMEDIATE already serialises every write transaction)."""
    if dialect(session) == "postgresql":
        await session.execute(select(m.Loan.id).where(m.Loan.id == loan_id).with_for_update())


async def loans_of_borrower(session: AsyncSession, borrower_id: str) -> Sequence[m.Loan]:
    stmt = select(m.Loan).where(m.Loan.borrower_id == borrower_id).order_by(m.Loan.loan_number)
    return (await session.execute(stmt)).scalars().all()


async def contact_preference(session: AsyncSession, borrower_id: str) -> m.ContactPreference | None:
    return await session.get(m.ContactPreference, borrower_id)


# ------------------------------------------------------------- loan records


async def instalments_of_loan(session: AsyncSession, loan_id: str) -> Sequence[m.Instalment]:
    """The contract's schedule rows, in no particular order."""
    return (await session.execute(select(m.Instalment).where(m.Instalment.loan_id == loan_id))).scalars().all()


async def payments_of_loan(session: AsyncSession, loan_id: str) -> Sequence[m.Payment]:
    stmt = (
        select(m.Payment)
        .where(m.Payment.loan_id == loan_id)
        .order_by(m.Payment.received_on, m.Payment.created_at, m.Payment.id)
    )
    return (await session.execute(stmt)).scalars().all()


async def payment_by_ref(session: AsyncSession, external_ref: str) -> m.Payment | None:
    return (await session.execute(select(m.Payment).where(m.Payment.external_ref == external_ref))).scalar_one_or_none()


async def arrangements_of_loan(session: AsyncSession, loan_id: str) -> Sequence[m.Arrangement]:
    stmt = (
        select(m.Arrangement)
        .where(m.Arrangement.loan_id == loan_id)
        .options(selectinload(m.Arrangement.instalments))
        .order_by(m.Arrangement.accepted_at, m.Arrangement.id)
    )
    return (await session.execute(stmt)).scalars().all()


async def promises_of_loan(session: AsyncSession, loan_id: str) -> Sequence[m.Promise]:
    stmt = select(m.Promise).where(m.Promise.loan_id == loan_id).order_by(m.Promise.created_at, m.Promise.id)
    return (await session.execute(stmt)).scalars().all()


async def open_dispute(session: AsyncSession, loan_id: str) -> m.Dispute | None:
    stmt = (
        select(m.Dispute)
        .where(m.Dispute.loan_id == loan_id, m.Dispute.status == "open")
        .order_by(m.Dispute.created_at)
        .limit(1)
    )
    return (await session.execute(stmt)).scalar_one_or_none()


async def dispute_by_case_number(session: AsyncSession, loan_id: str, case_number: str) -> m.Dispute | None:
    stmt = select(m.Dispute).where(m.Dispute.loan_id == loan_id, m.Dispute.case_number == case_number)
    return (await session.execute(stmt)).scalar_one_or_none()


async def complaint_by_id(session: AsyncSession, complaint_id: str) -> m.Complaint | None:
    return await session.get(m.Complaint, complaint_id)


async def escalation_by_id(session: AsyncSession, escalation_id: str) -> m.Escalation | None:
    return await session.get(m.Escalation, escalation_id)


async def open_trace_like(
    session: AsyncSession, loan_id: str, paid_on: date | None, amount: Decimal | None, reference: str | None
) -> m.PaymentTrace | None:
    """The loan's open payment trace of the same day, amount and reference, if one exists."""
    stmt = select(m.PaymentTrace).where(m.PaymentTrace.loan_id == loan_id, m.PaymentTrace.status == "open")
    for trace in (await session.execute(stmt)).scalars():
        if (trace.paid_on, trace.amount, trace.reference) == (paid_on, amount, reference):
            return trace
    return None


async def hardship_case(session: AsyncSession, case_id: str, loan_id: str) -> m.HardshipCase | None:
    stmt = select(m.HardshipCase).where(m.HardshipCase.id == case_id, m.HardshipCase.loan_id == loan_id)
    return (await session.execute(stmt)).scalar_one_or_none()


async def newest_hardship_case(session: AsyncSession, loan_id: str) -> m.HardshipCase | None:
    stmt = (
        select(m.HardshipCase)
        .where(m.HardshipCase.loan_id == loan_id)
        .order_by(m.HardshipCase.created_at.desc(), m.HardshipCase.id)
        .limit(1)
    )
    return (await session.execute(stmt)).scalar_one_or_none()


async def offer_by_id(session: AsyncSession, offer_id: str, *, refresh: bool = False) -> m.Offer | None:
    """The offer; with refresh, read again from the database even if this session has it already
    (after taking the loan lock, to see a supersession committed meanwhile)."""
    if not refresh:
        return await session.get(m.Offer, offer_id)
    stmt = select(m.Offer).where(m.Offer.id == offer_id).execution_options(populate_existing=True)
    return (await session.execute(stmt)).scalar_one_or_none()


async def supersede_open_offers(session: AsyncSession, loan_id: str, at: datetime) -> None:
    accepted = select(m.Arrangement.offer_id).where(
        m.Arrangement.loan_id == loan_id, m.Arrangement.offer_id.is_not(None)
    )
    await session.execute(
        update(m.Offer)
        .where(m.Offer.loan_id == loan_id, m.Offer.superseded_at.is_(None), m.Offer.id.not_in(accepted))
        .values(superseded_at=at)
    )


async def arrangement_for_evaluation(session: AsyncSession, evaluation_id: str) -> m.Arrangement | None:
    stmt = select(m.Arrangement).where(m.Arrangement.evaluation_id == evaluation_id)
    return (await session.execute(stmt)).scalar_one_or_none()


# ------------------------------------------------------------- verification


async def verification_subject(session: AsyncSession, subject: str) -> m.VerificationSubject:
    """The subject's row, created when missing, locked for this transaction on PostgreSQL."""
    values = {"subject": subject, "failures": 0, "locked_until": None}
    if dialect(session) == "postgresql":
        await session.execute(pg_insert(m.VerificationSubject).values(**values).on_conflict_do_nothing())
        stmt = select(m.VerificationSubject).where(m.VerificationSubject.subject == subject).with_for_update()
    else:
        await session.execute(sqlite_insert(m.VerificationSubject).values(**values).on_conflict_do_nothing())
        stmt = select(m.VerificationSubject).where(m.VerificationSubject.subject == subject)
    stmt = stmt.execution_options(populate_existing=True)
    return (await session.execute(stmt)).scalar_one()


async def existing_verification_subject(session: AsyncSession, subject: str) -> m.VerificationSubject | None:
    """The subject's row if one was ever written (read only: neither created nor locked)."""
    return await session.get(m.VerificationSubject, subject)


async def latest_audit_entry(session: AsyncSession, borrower_id: str, action: str) -> m.AuditEntry | None:
    stmt = (
        select(m.AuditEntry)
        .where(m.AuditEntry.borrower_id == borrower_id, m.AuditEntry.action == action)
        .order_by(m.AuditEntry.at.desc(), m.AuditEntry.id.desc())
        .limit(1)
    )
    return (await session.execute(stmt)).scalar_one_or_none()


async def borrower_verified_in_conversation(session: AsyncSession, conversation_id: str, now: datetime) -> str | None:
    """The borrower of the conversation's latest verification session still valid at ``now``."""
    stmt = (
        select(m.VerificationSession.borrower_id)
        .where(m.VerificationSession.conversation_id == conversation_id, m.VerificationSession.expires_at > now)
        .order_by(m.VerificationSession.created_at.desc())
        .limit(1)
    )
    return (await session.execute(stmt)).scalar_one_or_none()


async def borrower_last_named_in_conversation(session: AsyncSession, conversation_id: str) -> str | None:
    """The known borrower the conversation's latest verification attempt named (attempts whose
    identifier matched nobody name no one)."""
    stmt = (
        select(m.VerificationAttempt.borrower_id)
        .where(m.VerificationAttempt.conversation_id == conversation_id, m.VerificationAttempt.borrower_id.is_not(None))
        .order_by(m.VerificationAttempt.at.desc(), m.VerificationAttempt.id.desc())
        .limit(1)
    )
    return (await session.execute(stmt)).scalar_one_or_none()


async def verification_client(session: AsyncSession, client_key: str) -> m.VerificationClient:
    """The client's row, created when missing, locked for this transaction on PostgreSQL."""
    values = {"client_key": client_key, "window_start": None, "failures": 0}
    if dialect(session) == "postgresql":
        await session.execute(pg_insert(m.VerificationClient).values(**values).on_conflict_do_nothing())
        stmt = select(m.VerificationClient).where(m.VerificationClient.client_key == client_key).with_for_update()
    else:
        await session.execute(sqlite_insert(m.VerificationClient).values(**values).on_conflict_do_nothing())
        stmt = select(m.VerificationClient).where(m.VerificationClient.client_key == client_key)
    stmt = stmt.execution_options(populate_existing=True)
    return (await session.execute(stmt)).scalar_one()


async def verification_session(session: AsyncSession, token_hash: str) -> m.VerificationSession | None:
    stmt = select(m.VerificationSession).where(m.VerificationSession.token_hash == token_hash)
    return (await session.execute(stmt)).scalar_one_or_none()


async def api_client_by_token_hash(session: AsyncSession, token_hash: str) -> m.ApiClient | None:
    return (await session.execute(select(m.ApiClient).where(m.ApiClient.token_hash == token_hash))).scalar_one_or_none()
