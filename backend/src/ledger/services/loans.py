"""Loan services: status (a disclosure), payments, hardship cases, promises, disputes,
arrangements. Each call is one transaction; see the package docstring."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from huanxin_redaction import mask_identity_numbers

from ..db import models as m
from ..db import repositories as repo
from ..db.errors import DuplicateRow
from ..db.session import postgresql_engine_of
from ..domain.account import derive_status
from ..domain.corrections import check_withdrawal
from ..domain.errors import DisputeOpen, DuplicatePaymentConflict, LedgerError, NotFound, PromiseNotOpen
from ..domain.promises import check_promise, promise_state, promise_window_end
from .context import Ledger
from .records import LoanRecords, load_records
from .verification import Caller, authorize, borrower_loan
from .views import arrangement_view, disclosed_status, dispute_view, money, payment_view, promise_view


class InvalidRequest(LedgerError):
    """A well-formed request that makes no sense for the ledger (e.g. a date in the future)."""

    code = "invalid_request"


async def loan_status(
    ledger: Ledger, *, token: str | None, conversation_id: str | None, loan_number: str, as_of: date | None
) -> dict[str, Any]:
    engine = postgresql_engine_of(ledger.sessions)
    if engine is not None:
        # The hot read: the same checks, records and audit entry through asyncpg (status_pg.py says why).
        from . import status_pg

        return await status_pg.loan_status(
            ledger,
            engine,
            token=token,
            conversation_id=conversation_id,
            loan_number=loan_number,
            as_of=as_of,
            invalid_request=InvalidRequest,
        )
    async with ledger.sessions() as session, session.begin():
        caller = await authorize(ledger, session, token, conversation_id)
        loan = await borrower_loan(session, caller, loan_number)
        day = as_of or ledger.today()
        if day < loan.disbursed_on:
            raise InvalidRequest(f"as_of must not be before the disbursement date {loan.disbursed_on}")
        records = await load_records(session, loan)
        view, disclosed = disclosed_status(records, day, ledger.policy, caller.conversation_id)
        await repo.add_audit(
            session,
            at=ledger.now(),
            actor=caller.actor,
            action="status_disclosed",
            borrower_id=caller.borrower_id,
            loan_id=loan.id,
            detail=disclosed,
        )
    return view


async def list_payments(
    ledger: Ledger, *, token: str | None, conversation_id: str | None, loan_number: str
) -> dict[str, Any]:
    async with ledger.sessions() as session, session.begin():
        caller = await authorize(ledger, session, token, conversation_id)
        loan = await borrower_loan(session, caller, loan_number)
        payments = await repo.payments_of_loan(session, loan.id)
        await repo.add_audit(
            session,
            at=ledger.now(),
            actor=caller.actor,
            action="payments_disclosed",
            borrower_id=caller.borrower_id,
            loan_id=loan.id,
            detail={"conversation_id": caller.conversation_id, "count": len(payments)},
        )
    recent = sorted(payments, key=lambda p: (p.received_on, p.created_at), reverse=True)[:50]
    return {"loan_number": loan.loan_number, "payments": [payment_view(p, loan.loan_number) for p in recent]}


def _same_payment(p: m.Payment, loan_id: str, amount: Decimal, received_on: date, channel: str) -> bool:
    return p.loan_id == loan_id and p.amount == amount and p.received_on == received_on and p.channel == channel


async def record_payment(
    ledger: Ledger,
    *,
    loan_number: str,
    external_ref: str,
    amount: Decimal,
    received_on: date,
    channel: str,
    client: str = "api",
) -> tuple[dict[str, Any], bool]:
    """Record a payment; returns (payment, created). Idempotent by external_ref: the same
    reference with the same data returns the original (created False); with different data
    it raises DuplicatePaymentConflict. Two racing inserts meet at the UNIQUE constraint."""
    today = ledger.today()
    if received_on > today:
        raise InvalidRequest(f"received_on {received_on} is in the future")
    async with ledger.sessions() as session, session.begin():
        loan = await repo.loan_by_number(session, loan_number)
        if loan is None:
            raise NotFound("no such loan")
        existing = await repo.payment_by_ref(session, external_ref)
        if existing is None:
            if received_on < loan.disbursed_on:
                raise InvalidRequest(f"received_on {received_on} is before the disbursement date")
            payment = m.Payment(
                loan_id=loan.id,
                external_ref=external_ref,
                amount=amount,
                received_on=received_on,
                channel=channel,
                created_at=ledger.now(),
            )
            try:
                await repo.add_in_savepoint(session, payment)
            except DuplicateRow:
                existing = await repo.payment_by_ref(session, external_ref)
                if existing is None:
                    raise
            else:
                await repo.add_audit(
                    session,
                    at=ledger.now(),
                    actor=client,
                    action="payment_recorded",
                    borrower_id=loan.borrower_id,
                    loan_id=loan.id,
                    detail={
                        "external_ref": external_ref,
                        "amount": money(amount),
                        "received_on": received_on.isoformat(),
                        "channel": channel,
                    },
                )
                return payment_view(payment, loan.loan_number), True
        if not _same_payment(existing, loan.id, amount, received_on, channel):
            raise DuplicatePaymentConflict(f"external_ref {external_ref} was already recorded with different data")
        return payment_view(existing, loan.loan_number), False


async def open_hardship_case(
    ledger: Ledger,
    *,
    token: str | None,
    conversation_id: str | None,
    loan_number: str,
    reason: str,
    duration: str,
    monthly_income: Decimal,
    essential_expenses: Decimal,
    other_debt_payments: Decimal,
    notes: str | None,
) -> dict[str, Any]:
    async with ledger.sessions() as session, session.begin():
        caller = await authorize(ledger, session, token, conversation_id)
        loan = await borrower_loan(session, caller, loan_number)
        now = ledger.now()
        case = m.HardshipCase(
            loan_id=loan.id,
            borrower_id=caller.borrower_id,
            reason=reason,
            duration=duration,
            monthly_income=monthly_income,
            essential_expenses=essential_expenses,
            other_debt_payments=other_debt_payments,
            notes=notes,
            created_at=now,
        )
        session.add(case)
        await session.flush()
        disposable = monthly_income - essential_expenses - other_debt_payments
        await repo.add_audit(
            session,
            at=now,
            actor=caller.actor,
            action="hardship_case_opened",
            borrower_id=caller.borrower_id,
            loan_id=loan.id,
            detail={
                "conversation_id": caller.conversation_id,
                "case_id": case.id,
                "reason": reason,
                "duration": duration,
                "disposable_income": money(disposable),
            },
        )
    return {
        "case_id": case.id,
        "loan_number": loan.loan_number,
        "reason": reason,
        "duration": duration,
        "monthly_income": money(monthly_income),
        "essential_expenses": money(essential_expenses),
        "other_debt_payments": money(other_debt_payments),
        "disposable_income": money(disposable),
        "notes": notes,
        "created_at": now.isoformat(),
    }


async def _loan_records(
    ledger: Ledger, token: str | None, conversation_id: str | None, loan_number: str
) -> tuple[m.Loan, LoanRecords]:
    """The caller's loan and its records, read in one transaction (not a disclosure: no audit entry)."""
    async with ledger.sessions() as session, session.begin():
        caller = await authorize(ledger, session, token, conversation_id)
        loan = await borrower_loan(session, caller, loan_number)
        return loan, await load_records(session, loan)


async def list_arrangements(
    ledger: Ledger, *, token: str | None, conversation_id: str | None, loan_number: str
) -> dict[str, Any]:
    loan, records = await _loan_records(ledger, token, conversation_id, loan_number)
    today = ledger.today()
    payments = records.payment_records
    return {
        "loan_number": loan.loan_number,
        "arrangements": [arrangement_view(a, loan.loan_number, payments, today) for a in records.arrangements],
    }


async def list_promises(
    ledger: Ledger, *, token: str | None, conversation_id: str | None, loan_number: str
) -> dict[str, Any]:
    loan, records = await _loan_records(ledger, token, conversation_id, loan_number)
    today = ledger.today()
    payments = records.payment_records
    return {
        "loan_number": loan.loan_number,
        "promises": [promise_view(p, loan.loan_number, payments, today) for p in records.promises],
    }


async def make_promise(
    ledger: Ledger,
    *,
    token: str | None,
    conversation_id: str | None,
    loan_number: str,
    amount: Decimal,
    promised_date: date,
    replaces: str | None = None,
    desk_caller: Caller | None = None,
) -> dict[str, Any]:
    """Record a promise; with ``replaces``, the new promise replaces that open one of the loan
    (which becomes ``replaced``), checked by the same rules with the replaced one's window end.
    ``desk_caller``: an agent records it for a borrower verified in the conversation (the desk's
    door checked that); no token then."""
    today = ledger.today()
    rules = ledger.policy.promises
    async with ledger.sessions() as session, session.begin():
        caller = desk_caller or await authorize(ledger, session, token, conversation_id)
        loan = await borrower_loan(session, caller, loan_number, lock=True)
        await repo.lock_loan(session, loan.id)
        records = await load_records(session, loan)
        payments = records.payment_records
        status = derive_status(records.contract, payments, records.arrangement_records, today, ledger.policy)
        states = [
            (p, promise_state(p.amount, p.made_on, p.promised_date, payments, today, p.replaced_on))
            for p in records.promises
        ]
        old: m.Promise | None = None
        if replaces is not None:
            old, old_state = next(((p, st) for p, st in states if p.id == replaces), (None, None))
            if old is None:
                raise NotFound("no such promise on this loan")
            if old_state != "open":
                raise PromiseNotOpen(f"promise {replaces} is {old_state}; only an open promise can be replaced")
        window_start = today - timedelta(days=rules.broken_window_days)
        broken_recent = sum(
            1 for p, st in states if st == "broken" and p.promised_date + timedelta(days=1) >= window_start
        )
        window_ends_on = old.window_ends_on if old is not None else promise_window_end(status, today, ledger.policy)
        check_promise(
            amount,
            promised_date,
            status,
            open_promises=sum(1 for p, st in states if st == "open" and p is not old),
            broken_in_90_days=broken_recent,
            dispute_open=records.dispute is not None,
            as_of=today,
            policy=ledger.policy,
            window_ends_on=window_ends_on,
        )
        now = ledger.now()
        promise = m.Promise(
            loan_id=loan.id,
            amount=amount,
            promised_date=promised_date,
            made_on=today,
            created_at=now,
            window_ends_on=window_ends_on,
            replaces_id=old.id if old is not None else None,
        )
        if old is not None:
            old.replaced_on = today
        session.add(promise)
        await session.flush()
        detail = {
            "conversation_id": caller.conversation_id,
            "promise_id": promise.id,
            "amount": money(amount),
            "promised_date": promised_date.isoformat(),
        }
        if old is not None:
            detail["replaces"] = old.id
            await repo.add_audit(
                session,
                at=now,
                actor=caller.actor,
                action="promise_replaced",
                borrower_id=caller.borrower_id,
                loan_id=loan.id,
                detail={
                    "conversation_id": caller.conversation_id,
                    "promise_id": old.id,
                    "replaced_by": promise.id,
                    "from": {"amount": money(old.amount), "promised_date": old.promised_date.isoformat()},
                    "to": {"amount": money(amount), "promised_date": promised_date.isoformat()},
                },
            )
        await repo.add_audit(
            session,
            at=now,
            actor=caller.actor,
            action="promise_made",
            borrower_id=caller.borrower_id,
            loan_id=loan.id,
            detail=detail,
        )
    return promise_view(promise, loan.loan_number, payments, today)


async def open_dispute(
    ledger: Ledger,
    *,
    token: str | None,
    conversation_id: str | None,
    loan_number: str,
    reason: str,
    details: str | None,
) -> dict[str, Any]:
    today = ledger.today()
    details = mask_identity_numbers(details)  # the borrower's words, never an ID number
    async with ledger.sessions() as session, session.begin():
        caller = await authorize(ledger, session, token, conversation_id)
        loan = await borrower_loan(session, caller, loan_number, lock=True)
        await repo.lock_loan(session, loan.id)
        existing = await repo.open_dispute(session, loan.id)
        if existing is not None:
            raise DisputeOpen(
                f"dispute {existing.case_number} is already open; a reply comes by {existing.reply_due_by}",
                case_number=existing.case_number,
                reply_due_by=existing.reply_due_by,
            )
        reply_due_by = today + timedelta(days=ledger.policy.disputes.reply_days)
        prefix = f"DSP-{today.year}-"
        opened = await repo.add_numbered(
            session,
            lambda number: m.Dispute(
                case_number=number,
                loan_id=loan.id,
                borrower_id=caller.borrower_id,
                reason=reason,
                details=details,
                opened_on=today,
                reply_due_by=reply_due_by,
                status="open",
                created_at=ledger.now(),
                conversation_id=caller.conversation_id,
            ),
            prefix,
            m.Dispute.case_number,
        )
        if opened is None:  # pragma: no cover - 20 concurrent disputes in one instant
            raise DisputeOpen("could not allocate a case number; try again")
        dispute, case_number = opened, opened.case_number
        await repo.add_audit(
            session,
            at=ledger.now(),
            actor=caller.actor,
            action="dispute_opened",
            borrower_id=caller.borrower_id,
            loan_id=loan.id,
            detail={"conversation_id": caller.conversation_id, "case_number": case_number, "reason": reason},
        )
    return dispute_view(dispute, loan.loan_number)


async def withdraw_dispute(
    ledger: Ledger,
    *,
    token: str | None,
    conversation_id: str | None,
    loan_number: str,
    case_number: str,
    reason: str | None,
) -> dict[str, Any]:
    """The borrower withdraws a dispute opened by mistake: it stays on record as ``withdrawn``
    and collection resumes. Only from the conversation that opened it, within the policy's
    window (domain/corrections.py)."""
    reason = mask_identity_numbers(reason)
    async with ledger.sessions() as session, session.begin():
        caller = await authorize(ledger, session, token, conversation_id)
        loan = await borrower_loan(session, caller, loan_number, lock=True)
        await repo.lock_loan(session, loan.id)
        dispute = await repo.dispute_by_case_number(session, loan.id, case_number)
        if dispute is None:
            raise NotFound("no such dispute on this loan")
        now = ledger.now()
        check_withdrawal(
            "dispute",
            status=dispute.status,
            filed_at=dispute.created_at,
            filed_in=dispute.conversation_id,
            conversation_id=caller.conversation_id,
            now=now,
            policy=ledger.policy,
        )
        dispute.status = "withdrawn"
        dispute.withdrawn_at = now
        dispute.withdrawal_reason = reason
        await repo.add_audit(
            session,
            at=now,
            actor=caller.actor,
            action="dispute_withdrawn",
            borrower_id=caller.borrower_id,
            loan_id=loan.id,
            detail={"conversation_id": caller.conversation_id, "case_number": case_number, "reason": reason},
        )
        return dispute_view(dispute, loan.loan_number)
