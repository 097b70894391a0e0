"""Payment traces: the borrower says a payment was made that the ledger does not show
(domain/corrections.py holds the rules). One transaction per call, like every service."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from huanxin_redaction import mask_identity_numbers

from ..db import models as m
from ..db import repositories as repo
from ..domain.corrections import check_payment_claim, trace_reply_due
from ..domain.errors import LedgerError
from .context import Ledger
from .verification import Caller, authorize, borrower_loan
from .views import money, trace_view


class TraceNumbersExhausted(LedgerError):  # pragma: no cover - 20 concurrent traces in one instant
    code = "invalid_request"


async def open_payment_trace(
    ledger: Ledger,
    *,
    token: str | None,
    conversation_id: str | None,
    loan_number: str,
    paid_on: date | None,
    amount: Decimal | None,
    reference: str | None,
    channel: str | None,
    desk_caller: Caller | None = None,
) -> tuple[dict[str, Any], bool]:
    """Open a payment trace on the caller's loan; returns (trace, created). The same claim
    (day, amount, reference) while its trace is open returns that trace (created False).
    ``desk_caller``: an agent records it for a borrower verified in the conversation."""
    today = ledger.today()
    reference = mask_identity_numbers(reference)  # a reference is never a phone or an ID number
    async with ledger.sessions() as session, session.begin():
        caller = desk_caller or await authorize(ledger, session, token, conversation_id)
        loan = await borrower_loan(session, caller, loan_number, lock=True)
        await repo.lock_loan(session, loan.id)
        check_payment_claim(paid_on, amount, as_of=today, disbursed_on=loan.disbursed_on)
        existing = await repo.open_trace_like(session, loan.id, paid_on, amount, reference)
        if existing is not None:
            return trace_view(existing, loan.loan_number), False
        reply_due_by = trace_reply_due(today, ledger.policy)
        prefix = f"TRC-{today.year}-"
        opened = await repo.add_numbered(
            session,
            lambda number: m.PaymentTrace(
                case_number=number,
                loan_id=loan.id,
                borrower_id=caller.borrower_id,
                conversation_id=caller.conversation_id,
                paid_on=paid_on,
                amount=amount,
                reference=reference,
                channel=channel,
                opened_on=today,
                reply_due_by=reply_due_by,
                status="open",
                created_at=ledger.now(),
            ),
            prefix,
            m.PaymentTrace.case_number,
        )
        if opened is None:  # pragma: no cover - 20 concurrent traces in one instant
            raise TraceNumbersExhausted("could not allocate a case number; try again")
        trace = opened
        await repo.add_audit(
            session,
            at=ledger.now(),
            actor=caller.actor,
            action="payment_trace_opened",
            borrower_id=caller.borrower_id,
            loan_id=loan.id,
            detail={
                "conversation_id": caller.conversation_id,
                "case_number": trace.case_number,
                "paid_on": paid_on.isoformat() if paid_on else None,
                "amount": money(amount) if amount is not None else None,
                "reference": reference,
                "channel": channel,
            },
        )
        return trace_view(trace, loan.loan_number), True
