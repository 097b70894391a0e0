"""What the agent desk may do in the ledger (scope "desk"): see a borrower's verification
state (so an agent sees a lock-out) and record that an agent verified the borrower by other
means, which clears the lock. A locked-out borrower thus reaches a person at once instead of
waiting out the lock.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ..db import repositories as repo
from ..db.session import Session
from ..domain.errors import NotFound
from .context import Ledger

MANUAL_VERIFICATION = "manual_verification"


async def _state(ledger: Ledger, session: Session, borrower_id: str) -> dict[str, Any]:
    now = ledger.now()
    rules = ledger.policy.verification
    subject = await repo.existing_verification_subject(session, f"borrower:{borrower_id}")
    locked_until = subject.locked_until if subject is not None else None
    locked = locked_until is not None and locked_until > now
    failures = 0 if subject is None or (locked_until is not None and not locked) else subject.failures
    manual = await repo.latest_audit_entry(session, borrower_id, MANUAL_VERIFICATION)
    return {
        "borrower_id": borrower_id,
        "locked": locked,
        "locked_until": locked_until.isoformat() if locked and locked_until is not None else None,
        "failures": failures,
        "attempts_left": 0 if locked else rules.max_failures - failures,
        "last_manual_verification": None
        if manual is None
        else {
            "agent": manual.actor.removeprefix("agent:"),
            "method": manual.detail.get("method"),
            "at": manual.at.isoformat(),
        },
    }


async def borrower_verification_state(ledger: Ledger, *, borrower_id: str) -> dict[str, Any]:
    async with ledger.sessions() as session:
        if await repo.borrower_by_id(session, borrower_id) is None:
            raise NotFound("no such borrower")
        return await _state(ledger, session, borrower_id)


async def conversation_verification_state(ledger: Ledger, *, conversation_id: str) -> dict[str, Any]:
    """The borrower a conversation verified as, or else the known borrower its latest attempts
    named (identifiers matching nobody name no one), with that borrower's lock."""
    now = ledger.now()
    async with ledger.sessions() as session:
        verified = await repo.borrower_verified_in_conversation(session, conversation_id, now)
        borrower_id = verified or await repo.borrower_last_named_in_conversation(session, conversation_id)
        if borrower_id is None:
            state: dict[str, Any] = {
                "borrower_id": None,
                "locked": False,
                "locked_until": None,
                "failures": 0,
                "attempts_left": ledger.policy.verification.max_failures,
                "last_manual_verification": None,
            }
        else:
            state = await _state(ledger, session, borrower_id)
    return {"conversation_id": conversation_id, "verified": verified is not None, **state}


async def record_manual_verification(
    ledger: Ledger,
    *,
    borrower_id: str,
    agent: str,
    method: str,
    note: str | None,
    conversation_id: str | None,
    client: str,
) -> dict[str, Any]:
    """Clear the borrower's verification lock and failure count; audited as the agent (who,
    when, how). The schema keeps identity answers out of the note, so none reach the audit."""
    now: datetime = ledger.now()
    async with ledger.sessions() as session, session.begin():
        if await repo.borrower_by_id(session, borrower_id) is None:
            raise NotFound("no such borrower")
        subject = await repo.verification_subject(session, f"borrower:{borrower_id}")
        lock_cleared = subject.locked_until is not None and subject.locked_until > now
        subject.failures = 0
        subject.locked_until = None
        await repo.add_audit(
            session,
            at=now,
            actor=f"agent:{agent}",
            action=MANUAL_VERIFICATION,
            borrower_id=borrower_id,
            detail={
                "method": method,
                "note": note,
                "conversation_id": conversation_id,
                "lock_cleared": lock_cleared,
                "via": client,
            },
        )
    return {
        "borrower_id": borrower_id,
        "agent": agent,
        "method": method,
        "conversation_id": conversation_id,
        "verified_at": now.isoformat(),
        "lock_cleared": lock_cleared,
    }
