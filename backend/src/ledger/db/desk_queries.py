"""The queries behind the gateway's door into the ledger (``ledger/desk_door.py``): which borrower
a conversation is linked to, and the rows the desk's account panel and contact rules show.

Each takes the caller's session; the door owns the session and its transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from . import models as m

SessionFactory = async_sessionmaker[AsyncSession]


async def audit_entries(s: AsyncSession, action: str, since: datetime, limit: int) -> Sequence[m.AuditEntry]:
    """The audit entries of one action since a moment, newest first, at most ``limit``."""
    query = (
        select(m.AuditEntry)
        .where(m.AuditEntry.action == action, m.AuditEntry.at >= since)
        .order_by(m.AuditEntry.at.desc())
        .limit(limit)
    )
    return (await s.execute(query)).scalars().all()


async def linked_borrower_id(s: AsyncSession, conversation_ids: Sequence[str]) -> str | None:
    """The borrower the ledger linked to a conversation, by a verification or else an escalation.

    ``conversation_ids`` are the names the ledger may know the conversation by, the most recent
    first (the bot's current sender id, then the conversation id): the first one linked wins."""
    for conversation_id in conversation_ids:
        borrower_id = (
            await s.execute(
                select(m.VerificationSession.borrower_id)
                .where(m.VerificationSession.conversation_id == conversation_id)
                .order_by(m.VerificationSession.created_at.desc())
                .limit(1)
            )
        ).scalar_one_or_none()
        if borrower_id:
            return borrower_id
        borrower_id = (
            await s.execute(
                select(m.Escalation.borrower_id)
                .where(m.Escalation.conversation_id == conversation_id, m.Escalation.borrower_id.is_not(None))
                .order_by(m.Escalation.created_at.desc())
                .limit(1)
            )
        ).scalar_one_or_none()
        if borrower_id:
            return borrower_id
    return None


async def linked_borrower_ids(s: AsyncSession, conversation_ids: Sequence[str]) -> dict[str, str]:
    """Each of these conversation names the ledger linked to a borrower, in two queries whatever
    their number: the newest verification's borrower, else the newest escalation's (as
    ``linked_borrower_id`` decides for one name)."""
    names = list(dict.fromkeys(conversation_ids))
    linked: dict[str, str] = {}
    if not names:
        return linked
    escalated = await s.execute(
        select(m.Escalation.conversation_id, m.Escalation.borrower_id)
        .where(m.Escalation.conversation_id.in_(names), m.Escalation.borrower_id.is_not(None))
        .order_by(m.Escalation.created_at)
    )
    for name, borrower_id in escalated:
        if borrower_id:
            linked[name] = borrower_id  # ascending: the newest is written last
    verified = await s.execute(
        select(m.VerificationSession.conversation_id, m.VerificationSession.borrower_id)
        .where(m.VerificationSession.conversation_id.in_(names))
        .order_by(m.VerificationSession.created_at)
    )
    newest_verified: dict[str, str | None] = {}
    for name, borrower_id in verified:
        newest_verified[name] = borrower_id
    # a verification outranks an escalation (when its newest one names a borrower)
    return linked | {name: b for name, b in newest_verified.items() if b}


async def conversations_verified_as(s: AsyncSession, borrower_id: str, limit: int = 500) -> list[str]:
    """The conversation names the borrower verified in (expired sessions too), newest first."""
    newest = func.max(m.VerificationSession.created_at)
    rows = await s.execute(
        select(m.VerificationSession.conversation_id)
        .where(m.VerificationSession.borrower_id == borrower_id)
        .group_by(m.VerificationSession.conversation_id)
        .order_by(newest.desc())
        .limit(limit)
    )
    return list(rows.scalars())


async def linked_borrower(s: AsyncSession, conversation_ids: Sequence[str]) -> m.Borrower | None:
    """The borrower linked to the first of these conversation ids that names one, if any."""
    borrower_id = await linked_borrower_id(s, conversation_ids)
    return await borrower(s, borrower_id) if borrower_id else None


async def borrowers_by_id(s: AsyncSession, borrower_ids: Sequence[str]) -> dict[str, m.Borrower]:
    rows = await s.execute(select(m.Borrower).where(m.Borrower.id.in_(list(borrower_ids))))
    return {b.id: b for b in rows.scalars()}


async def loans_of_borrowers(s: AsyncSession, borrower_ids: Sequence[str]) -> Sequence[m.Loan]:
    """The loans of these borrowers by loan number."""
    query = select(m.Loan).where(m.Loan.borrower_id.in_(list(borrower_ids))).order_by(m.Loan.loan_number)
    return (await s.execute(query)).scalars().all()


async def borrower(s: AsyncSession, borrower_id: str) -> m.Borrower | None:
    return await s.get(m.Borrower, borrower_id)


async def contact_preference(s: AsyncSession, borrower_id: str) -> m.ContactPreference | None:
    return await s.get(m.ContactPreference, borrower_id)


async def loans_of(s: AsyncSession, borrower_id: str) -> Sequence[m.Loan]:
    """The borrower's loans by loan number."""
    return (
        (await s.execute(select(m.Loan).where(m.Loan.borrower_id == borrower_id).order_by(m.Loan.loan_number)))
        .scalars()
        .all()
    )


async def recent_hardship_cases(s: AsyncSession, loan_id: str, limit: int = 3) -> Sequence[m.HardshipCase]:
    return (
        (
            await s.execute(
                select(m.HardshipCase)
                .where(m.HardshipCase.loan_id == loan_id)
                .order_by(m.HardshipCase.created_at.desc())
                .limit(limit)
            )
        )
        .scalars()
        .all()
    )


async def open_offers(s: AsyncSession, loan_id: str, limit: int = 6) -> Sequence[m.Offer]:
    """The loan's offers not superseded, newest first."""
    return (
        (
            await s.execute(
                select(m.Offer)
                .where(m.Offer.loan_id == loan_id, m.Offer.superseded_at.is_(None))
                .order_by(m.Offer.created_at.desc())
                .limit(limit)
            )
        )
        .scalars()
        .all()
    )


async def disputes_of(s: AsyncSession, loan_id: str) -> Sequence[m.Dispute]:
    return (await s.execute(select(m.Dispute).where(m.Dispute.loan_id == loan_id))).scalars().all()


async def payment_traces_of(s: AsyncSession, loan_id: str, limit: int = 10) -> Sequence[m.PaymentTrace]:
    """The loan's payment traces, newest first."""
    return (
        (
            await s.execute(
                select(m.PaymentTrace)
                .where(m.PaymentTrace.loan_id == loan_id)
                .order_by(m.PaymentTrace.created_at.desc())
                .limit(limit)
            )
        )
        .scalars()
        .all()
    )


async def has_open_dispute(s: AsyncSession, borrower_id: str) -> bool:
    """Whether any loan of the borrower has an open dispute."""
    found = (
        await s.execute(
            select(m.Dispute.id)
            .join(m.Loan, m.Loan.id == m.Dispute.loan_id)
            .where(m.Loan.borrower_id == borrower_id, m.Dispute.status == "open")
            .limit(1)
        )
    ).scalar_one_or_none()
    return found is not None


async def latest_case_numbers(s: AsyncSession, conversation_ids: Sequence[str]) -> dict[str, str]:
    """The newest escalation's case number under each of these conversation names that has one,
    in one query whatever their number."""
    names = list(dict.fromkeys(conversation_ids))
    if not names:
        return {}
    rows = await s.execute(
        select(m.Escalation.conversation_id, m.Escalation.case_number)
        .where(m.Escalation.conversation_id.in_(names))
        .order_by(m.Escalation.created_at)
    )
    return {name: case for name, case in rows if case}  # ascending: the newest is written last


async def latest_escalation(s: AsyncSession, conversation_ids: Sequence[str]) -> m.Escalation | None:
    """The newest escalation filed under the first of these conversation ids that has one."""
    for conversation_id in conversation_ids:
        escalation = (
            await s.execute(
                select(m.Escalation)
                .where(m.Escalation.conversation_id == conversation_id)
                .order_by(m.Escalation.created_at.desc())
                .limit(1)
            )
        ).scalar_one_or_none()
        if escalation is not None:
            return escalation
    return None
