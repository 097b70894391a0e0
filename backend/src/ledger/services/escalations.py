"""Hand-overs to humans (escalations) and complaints."""

from __future__ import annotations

from typing import Any

from huanxin_redaction import mask_identity_numbers

from ..db import models as m
from ..db import repositories as repo
from ..domain.corrections import check_withdrawal
from ..domain.errors import NotFound, VerificationRequired
from .context import Ledger
from .verification import authorize


async def _caller_borrower(ledger: Ledger, session, token: str | None, conversation_id: str) -> str | None:
    """The verified borrower when a valid token for this conversation is sent, else None."""
    if not token:
        return None
    try:
        return (await authorize(ledger, session, token, conversation_id)).borrower_id
    except VerificationRequired:
        return None


async def _numbered_escalation(ledger: Ledger, session, **fields: Any) -> m.Escalation:
    """A new open escalation with its case number (ESC-<year>-<six digits>): the short reference a
    borrower is given and can quote, never the row's id."""
    prefix = f"ESC-{ledger.today().year}-"
    escalation = await repo.add_numbered(
        session,
        lambda number: m.Escalation(case_number=number, status="open", created_at=ledger.now(), **fields),
        prefix,
        m.Escalation.case_number,
    )
    if escalation is None:  # pragma: no cover - 20 concurrent escalations in one instant
        raise RuntimeError("no free escalation case number")
    return escalation


async def escalate(
    ledger: Ledger,
    *,
    conversation_id: str,
    reason: str,
    summary: str,
    language: str | None,
    token: str | None,
    client: str = "api",
) -> dict[str, Any]:
    summary = mask_identity_numbers(summary) or ""  # free text keeps its words, never an ID number
    async with ledger.sessions() as session, session.begin():
        borrower_id = await _caller_borrower(ledger, session, token, conversation_id)
        escalation = await _numbered_escalation(
            ledger,
            session,
            conversation_id=conversation_id,
            borrower_id=borrower_id,
            reason=reason,
            summary=summary,
            language=language,
        )
        await repo.add_audit(
            session,
            at=ledger.now(),
            actor=f"borrower:{borrower_id}" if borrower_id else client,
            action="escalation_created",
            borrower_id=borrower_id,
            detail={"conversation_id": conversation_id, "escalation_id": escalation.id, "reason": reason},
        )
    return {
        "escalation_id": escalation.id,
        "case_number": escalation.case_number,
        "status": "open",
        "borrower_linked": borrower_id is not None,
    }


async def complain(
    ledger: Ledger,
    *,
    conversation_id: str,
    text: str,
    token: str | None,
    client: str = "api",
) -> dict[str, Any]:
    text = mask_identity_numbers(text) or ""
    async with ledger.sessions() as session, session.begin():
        borrower_id = await _caller_borrower(ledger, session, token, conversation_id)
        now = ledger.now()
        escalation = await _numbered_escalation(
            ledger,
            session,
            conversation_id=conversation_id,
            borrower_id=borrower_id,
            reason="complaint",
            summary=text[:500],
            language=None,
        )
        complaint = m.Complaint(
            conversation_id=conversation_id,
            borrower_id=borrower_id,
            text=text,
            escalation_id=escalation.id,
            created_at=now,
        )
        session.add(complaint)
        await session.flush()
        await repo.add_audit(
            session,
            at=now,
            actor=f"borrower:{borrower_id}" if borrower_id else client,
            action="complaint_filed",
            borrower_id=borrower_id,
            detail={"conversation_id": conversation_id, "complaint_id": complaint.id, "escalation_id": escalation.id},
        )
    return {"complaint_id": complaint.id, "escalation_id": escalation.id, "case_number": escalation.case_number}


async def withdraw_complaint(
    ledger: Ledger,
    *,
    complaint_id: str,
    conversation_id: str,
    reason: str | None,
    token: str | None,
    client: str = "api",
) -> dict[str, Any]:
    """The borrower withdraws a complaint filed by mistake, as they filed it: from the same
    conversation, with a valid token for it when the complaint was linked to a verified
    borrower. It stays on record as ``withdrawn`` (with its hand-over); within the policy's
    window only (domain/corrections.py). Another conversation's complaint is not found."""
    reason = mask_identity_numbers(reason)
    async with ledger.sessions() as session, session.begin():
        complaint = await repo.complaint_by_id(session, complaint_id)
        if complaint is None or complaint.conversation_id != conversation_id:
            raise NotFound("no such complaint in this conversation")
        actor = client
        if complaint.borrower_id is not None:
            caller = await authorize(ledger, session, token, conversation_id)
            if caller.borrower_id != complaint.borrower_id:
                raise NotFound("no such complaint in this conversation")
            actor = caller.actor
        now = ledger.now()
        check_withdrawal(
            "complaint",
            status=complaint.status,
            filed_at=complaint.created_at,
            filed_in=complaint.conversation_id,
            conversation_id=conversation_id,
            now=now,
            policy=ledger.policy,
        )
        complaint.status = "withdrawn"
        complaint.withdrawn_at = now
        complaint.withdrawal_reason = reason
        escalation = await repo.escalation_by_id(session, complaint.escalation_id)
        if escalation is not None and escalation.status == "open":
            escalation.status = "withdrawn"
        await repo.add_audit(
            session,
            at=now,
            actor=actor,
            action="complaint_withdrawn",
            borrower_id=complaint.borrower_id,
            detail={
                "conversation_id": conversation_id,
                "complaint_id": complaint.id,
                "escalation_id": complaint.escalation_id,
                "reason": reason,
            },
        )
    return {
        "complaint_id": complaint.id,
        "escalation_id": complaint.escalation_id,
        "status": "withdrawn",
        "withdrawn_at": now.isoformat(),
    }
