"""Identity verification (docs/policy.md, Verification) and the token check of every
borrower-scoped call.

Two limits: the policy's per-borrower lock (max_failures, lock_minutes) and a per-client limit
(max_failures_per_client in client_window_minutes) on failed attempts from one client_ref across
all borrowers, so that someone who knows many phone numbers cannot keep them all locked out.

A subject is the borrower the identifier points at, or, for an identifier matching nobody,
the identifier itself: an unknown phone gets exactly the answers (attempts left, lock) a
known one would, so nothing is revealed. Every attempt is audited.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from ..db import models as m
from ..db import repositories as repo
from ..db.session import Session
from ..domain.errors import (
    LedgerError,
    NotFound,
    VerificationFailed,
    VerificationLocked,
    VerificationRateLimited,
    VerificationRequired,
)
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
    agent: str | None = None  # an agent acting for the borrower at the desk (the audit's actor)

    @property
    def actor(self) -> str:
        return f"agent:{self.agent}" if self.agent else f"borrower:{self.borrower_id}"


def normalise_phone(phone: str) -> str:
    phone = phone.strip()
    if phone.startswith("+86"):
        return phone[3:]
    if phone.startswith("+"):
        return phone[1:]
    if len(phone) == 13 and phone.startswith("86"):
        return phone[2:]
    return phone


def client_key(ledger: Ledger, client_ref: str) -> str:
    """The stored form of a client_ref: an HMAC keyed by the ledger's secret salt, so the
    database holds nothing the gateway's reference could be matched against without the key."""
    return hmac.new(ledger.id_hash_salt.encode(), f"client_ref:{client_ref}".encode(), hashlib.sha256).hexdigest()


async def _client_window(ledger: Ledger, session: Session, client_ref: str | None, now: datetime):
    """The client's failure row with its window rolled over when due, and the seconds to wait
    when it is over its limit (None when it may try). No client_ref: no per-client limit."""
    if client_ref is None:
        return None, None
    rules = ledger.policy.verification
    window = timedelta(minutes=rules.client_window_minutes)
    row = await repo.verification_client(session, client_key(ledger, client_ref))
    if row.window_start is None or row.window_start + window <= now:
        row.window_start = now
        row.failures = 0
    if row.failures >= rules.max_failures_per_client:
        return row, max(1, math.ceil((row.window_start + window - now).total_seconds()))
    return row, None


async def verify(
    ledger: Ledger,
    *,
    conversation_id: str,
    date_of_birth: date,
    id_last4: str,
    phone: str | None = None,
    loan_number: str | None = None,
    client: str = "api",
    client_ref: str | None = None,
) -> VerifiedSession:
    now = ledger.now()
    kind = "phone" if phone is not None else "loan_number"
    identifier = normalise_phone(phone) if phone is not None else (loan_number or "").strip()
    failure: LedgerError | None = None
    result: VerifiedSession | None = None
    borrower_id: str | None = None
    async with ledger.sessions() as session, session.begin():
        # The per-client limit comes first: a client over it learns nothing and changes no
        # borrower's failure count (the lock of borrowers it names stays untouched).
        client_row, retry_after = await _client_window(ledger, session, client_ref, now)
        if retry_after is not None:
            outcome = "client_limited"
            failure = VerificationRateLimited(retry_after)
        else:
            outcome, failure, result, borrower_id = await _check_answers(
                ledger, session, now, kind, identifier, phone is not None, date_of_birth, id_last4, conversation_id
            )
            if client_row is not None and outcome != "success":
                client_row.failures += 1
        session.add(
            m.VerificationAttempt(
                at=now, conversation_id=conversation_id, borrower_id=borrower_id, identifier_kind=kind, outcome=outcome
            )
        )
        detail = {"conversation_id": conversation_id, "identifier_kind": kind, "outcome": outcome}
        if client_row is not None:
            detail["client"] = client_row.client_key[:16]
        await repo.add_audit(
            session, at=now, actor=client, action="verification_attempt", borrower_id=borrower_id, detail=detail
        )
    if failure is not None:
        raise failure
    assert result is not None
    return result


async def _check_answers(
    ledger: Ledger,
    session: Session,
    now: datetime,
    kind: str,
    identifier: str,
    by_phone: bool,
    date_of_birth: date,
    id_last4: str,
    conversation_id: str,
):
    """The per-borrower (per-subject) check: lock, answers, failure count. Returns (outcome,
    failure to raise or None, session issued or None, borrower id or None)."""
    rules = ledger.policy.verification
    if by_phone:
        borrower = await repo.borrower_by_phone(session, identifier)
    else:
        borrower = await repo.borrower_by_loan_number(session, identifier)
    if borrower is not None:
        subject_key = f"borrower:{borrower.id}"
    else:
        subject_key = "unknown:" + hashlib.sha256(f"{kind}:{identifier}".encode()).hexdigest()
    borrower_id = borrower.id if borrower is not None else None
    subject = await repo.verification_subject(session, subject_key)
    if subject.locked_until is not None and subject.locked_until > now:
        return "locked", VerificationLocked(subject.locked_until), None, borrower_id
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
        return (
            "success",
            None,
            VerifiedSession(token, expires_at, borrower.id, borrower.name, borrower.language),
            borrower_id,
        )
    subject.failures += 1
    if subject.failures >= rules.max_failures:
        subject.failures = 0
        subject.locked_until = now + timedelta(minutes=rules.lock_minutes)
        return "locked_now", VerificationLocked(subject.locked_until), None, borrower_id
    return "failure", VerificationFailed(rules.max_failures - subject.failures), None, borrower_id


async def authorize(ledger: Ledger, session: Session, token: str | None, conversation_id: str | None) -> Caller:
    """Check a verification token inside the caller's transaction and slide its expiry.

    Raises VerificationRequired when the token is missing, unknown, expired or bound to
    another conversation."""
    if not token or not conversation_id:
        raise VerificationRequired("a verification token and a conversation id are required")
    now = ledger.now()
    row = await repo.verification_session(session, token_hash(token))
    if (
        row is None
        or row.expires_at <= now
        or not secrets.compare_digest(row.conversation_id.encode(), conversation_id.encode())
    ):
        raise VerificationRequired("the verification is missing, expired or bound to another conversation")
    if now - row.last_used_at >= TOKEN_TOUCH_INTERVAL:
        row.last_used_at = now
        row.expires_at = now + timedelta(minutes=ledger.policy.verification.token_idle_minutes)
    return Caller(row.borrower_id, row.conversation_id)


async def borrower_loan(session: Session, caller: Caller, loan_number: str, *, lock: bool = False) -> m.Loan:
    loan = await repo.loan_of_borrower(session, loan_number, caller.borrower_id, for_update=lock)
    if loan is None:
        raise NotFound("no such loan")
    return loan


def require_same_borrower(caller: Caller, borrower_id: str) -> None:
    if borrower_id != caller.borrower_id:
        raise NotFound("no such borrower")
