"""Identity verification (collections-policy.md) and the token check of every
borrower-scoped call.

A subject is the borrower the identifier points at, or, for an identifier matching nobody,
the identifier itself: an unknown phone gets exactly the answers (attempts left, lock) a
known one would, so nothing is revealed. Every attempt is audited.
"""
from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from ..db import models as m
from ..db import repositories as repo
from ..domain.errors import LedgerError, NotFound, VerificationFailed, VerificationLocked, VerificationRequired
from .context import Ledger, token_hash

TOKEN_TOUCH_INTERVAL = timedelta(seconds=30)


@dataclass(frozen=True)
class VerifiedSession:
    token: str
    expires_at: datetime
    borrower_id: str
    name: str
    language: str


@dataclass(frozen=True)
class Caller:
    """The borrower a valid token speaks for, and the conversation it is bound to."""

    borrower_id: str
    conversation_id: str

    @property
    def actor(self) -> str:
        return f"borrower:{self.borrower_id}"


def normalise_phone(phone: str) -> str:
    phone = phone.strip()
    if phone.startswith("+86"):
        return phone[3:]
    if phone.startswith("+"):
        return phone[1:]
    if len(phone) == 13 and phone.startswith("86"):
        return phone[2:]
    return phone


async def verify(
    ledger: Ledger,
    *,
    conversation_id: str,
    date_of_birth: date,
    id_last4: str,
    phone: str | None = None,
    loan_number: str | None = None,
    client: str = "api",
) -> VerifiedSession:
    rules = ledger.policy.verification
    now = ledger.now()
    kind = "phone" if phone is not None else "loan_number"
    identifier = normalise_phone(phone) if phone is not None else (loan_number or "").strip()
    failure: LedgerError | None = None
    result: VerifiedSession | None = None
    async with ledger.sessions() as session, session.begin():
        if phone is not None:
            borrower = await repo.borrower_by_phone(session, identifier)
        else:
            borrower = await repo.borrower_by_loan_number(session, identifier)
        if borrower is not None:
            subject_key = f"borrower:{borrower.id}"
        else:
            subject_key = "unknown:" + hashlib.sha256(f"{kind}:{identifier}".encode()).hexdigest()
        subject = await repo.verification_subject(session, subject_key)
        if subject.locked_until is not None and subject.locked_until > now:
            outcome = "locked"
            failure = VerificationLocked(subject.locked_until)
        else:
            if subject.locked_until is not None:
                subject.locked_until = None
                subject.failures = 0
            matches = (
                borrower is not None
                and borrower.date_of_birth == date_of_birth
                and secrets.compare_digest(borrower.national_id_last4.upper().encode(), id_last4.upper().encode())
            )
            if matches:
                assert borrower is not None
                outcome = "success"
                subject.failures = 0
                token = secrets.token_urlsafe(32)
                expires_at = now + timedelta(minutes=rules.token_idle_minutes)
                session.add(
                    m.VerificationSession(
                        token_hash=token_hash(token),
                        borrower_id=borrower.id,
                        conversation_id=conversation_id,
                        created_at=now,
                        last_used_at=now,
                        expires_at=expires_at,
                    )
                )
                result = VerifiedSession(token, expires_at, borrower.id, borrower.name, borrower.language)
            else:
                subject.failures += 1
                if subject.failures >= rules.max_failures:
                    outcome = "locked_now"
                    subject.failures = 0
                    subject.locked_until = now + timedelta(minutes=rules.lock_minutes)
                    failure = VerificationLocked(subject.locked_until)
                else:
                    outcome = "failure"
                    failure = VerificationFailed(rules.max_failures - subject.failures)
        borrower_id = borrower.id if borrower is not None else None
        session.add(
            m.VerificationAttempt(
                at=now, conversation_id=conversation_id, borrower_id=borrower_id, identifier_kind=kind, outcome=outcome
            )
        )
        await repo.add_audit(
            session,
            at=now,
            actor=client,
            action="verification_attempt",
            borrower_id=borrower_id,
            detail={"conversation_id": conversation_id, "identifier_kind": kind, "outcome": outcome},
        )
    if failure is not None:
        raise failure
    assert result is not None
    return result


async def authorize(ledger: Ledger, session: AsyncSession, token: str | None, conversation_id: str | None) -> Caller:
    """Check a verification token inside the caller's transaction and slide its expiry.

    Raises VerificationRequired when the token is missing, unknown, expired or bound to
    another conversation."""
    if not token or not conversation_id:
        raise VerificationRequired("a verification token and a conversation id are required")
    now = ledger.now()
    row = await repo.verification_session(session, token_hash(token))
    if row is None or row.expires_at <= now or not secrets.compare_digest(row.conversation_id.encode(), conversation_id.encode()):
        raise VerificationRequired("the verification is missing, expired or bound to another conversation")
    if now - row.last_used_at >= TOKEN_TOUCH_INTERVAL:
        row.last_used_at = now
        row.expires_at = now + timedelta(minutes=ledger.policy.verification.token_idle_minutes)
    return Caller(row.borrower_id, row.conversation_id)


async def borrower_loan(session: AsyncSession, caller: Caller, loan_number: str, *, lock: bool = False) -> m.Loan:
    loan = await repo.loan_of_borrower(session, loan_number, caller.borrower_id, for_update=lock)
    if loan is None:
        raise NotFound("no such loan")
    return loan


def require_same_borrower(caller: Caller, borrower_id: str) -> None:
    if borrower_id != caller.borrower_id:
        raise NotFound("no such borrower")
