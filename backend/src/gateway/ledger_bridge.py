"""What the desk needs from the ledger, read and written in-process through the ledger's
own models and services (same DATABASE_URL, same backend environment): the append-only
audit log and the account panel of the borrower behind a conversation.
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ledger.db.models import AuditEntry, Escalation, VerificationSession

from .conversations import utcnow


async def borrower_for_conversation(s: AsyncSession, conversation_id: str) -> str | None:
    """The borrower the ledger linked to this conversation: by a verification or an escalation."""
    borrower = (
        await s.execute(
            select(VerificationSession.borrower_id)
            .where(VerificationSession.conversation_id == conversation_id)
            .order_by(VerificationSession.created_at.desc())
            .limit(1)
        )
    ).scalar_one_or_none()
    if borrower:
        return borrower
    return (
        await s.execute(
            select(Escalation.borrower_id)
            .where(Escalation.conversation_id == conversation_id, Escalation.borrower_id.is_not(None))
            .order_by(Escalation.created_at.desc())
            .limit(1)
        )
    ).scalar_one_or_none()


class LedgerAuditLog:
    """Agent actions appended to the ledger's audit_log (actor ``agent:<username>``)."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], clock: Callable[[], datetime] = utcnow) -> None:
        self.sessions = sessions
        self.clock = clock

    async def record(self, actor: str, action: str, conversation_id: str, detail: dict[str, Any]) -> None:
        async with self.sessions() as s, s.begin():
            borrower_id = await borrower_for_conversation(s, conversation_id)
            s.add(AuditEntry(at=self.clock(), actor=f"agent:{actor}", action=action, borrower_id=borrower_id,
                             loan_id=None, detail={"conversation_id": conversation_id, **detail}))


class LedgerAccounts:
    """The account panel for a conversation's borrower (placeholder until wired to ledger services)."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], clock: Callable[[], datetime] = utcnow) -> None:
        self.sessions = sessions
        self.clock = clock

    async def account(self, conversation_id: str) -> dict[str, Any] | None:
        async with self.sessions() as s:
            borrower_id = await borrower_for_conversation(s, conversation_id)
        if borrower_id is None:
            return None
        return {"borrower_id": borrower_id}


def make_account_reader(sessions: async_sessionmaker[AsyncSession], clock: Callable[[], datetime] = utcnow) -> LedgerAccounts:
    return LedgerAccounts(sessions, clock)
