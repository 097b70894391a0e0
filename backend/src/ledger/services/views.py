"""Plain JSON-shaped views of records and domain results (amounts as strings)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime, tzinfo
from decimal import Decimal
from typing import Any

from ..db import models as m
from ..domain.account import LoanStatus, PaymentRecord, arrangement_state, derive_status
from ..domain.money import ZERO, format_money
from ..domain.policy import Policy
from ..domain.promises import promise_state
from ..domain.schedule import ScheduledInstalment
from .records import LoanRecords, arrangement_record


def money(d: Decimal) -> str:
    return format_money(d)


def rate(d: Decimal) -> str:
    return format(d.normalize(), "f")


def schedule_rows(schedule: Iterable[ScheduledInstalment | m.ArrangementInstalment]) -> list[dict[str, Any]]:
    return [
        {
            "number": s.number,
            "due_date": s.due_date.isoformat(),
            "amount": money(s.amount),
            "principal": money(s.principal),
            "interest": money(s.interest),
        }
        for s in schedule
    ]


def payment_view(p: m.Payment, loan_number: str) -> dict[str, Any]:
    return {
        "payment_id": p.id,
        "external_ref": p.external_ref,
        "loan_number": loan_number,
        "amount": money(p.amount),
        "received_on": p.received_on.isoformat(),
        "channel": p.channel,
    }


def promise_view(p: m.Promise, loan_number: str, payments: Sequence[PaymentRecord], as_of: date) -> dict[str, Any]:
    until = min(p.promised_date, as_of)
    paid = sum((x.amount for x in payments if p.made_on <= x.received_on <= until), ZERO)
    return {
        "promise_id": p.id,
        "loan_number": loan_number,
        "amount": money(p.amount),
        "promised_date": p.promised_date.isoformat(),
        "made_on": p.made_on.isoformat(),
        "state": promise_state(p.amount, p.made_on, p.promised_date, payments, as_of, p.replaced_on),
        "paid_toward": money(min(paid, p.amount)),
        "replaces": p.replaces_id,
    }


def dispute_view(d: m.Dispute, loan_number: str) -> dict[str, Any]:
    return {
        "case_number": d.case_number,
        "loan_number": loan_number,
        "reply_due_by": d.reply_due_by.isoformat(),
        "status": d.status,
        "withdrawn_at": d.withdrawn_at.isoformat() if d.withdrawn_at else None,
    }


def trace_view(t: m.PaymentTrace, loan_number: str) -> dict[str, Any]:
    return {
        "trace_id": t.id,
        "case_number": t.case_number,
        "loan_number": loan_number,
        "paid_on": t.paid_on.isoformat() if t.paid_on else None,
        "amount": money(t.amount) if t.amount is not None else None,
        "reference": t.reference,
        "channel": t.channel,
        "opened_on": t.opened_on.isoformat(),
        "reply_due_by": t.reply_due_by.isoformat(),
        "status": t.status,
    }


def arrangement_view(
    a: m.Arrangement, loan_number: str, payments: Sequence[PaymentRecord], as_of: date
) -> dict[str, Any]:
    waived_total = a.waived_late_fees + a.waived_penalty_interest + a.waived_interest
    return {
        "arrangement_id": a.id,
        "loan_number": loan_number,
        "offer_id": a.offer_id,
        "evaluation_id": a.evaluation_id,
        "plan_type": a.plan_type,
        "accepted_at": a.accepted_at.isoformat(),
        "accepted_on": a.accepted_on.isoformat(),
        "payment_frequency": a.payment_frequency,
        "total_to_repay": money(a.total_to_repay),
        "waived": {
            "late_fees": money(a.waived_late_fees),
            "penalty_interest": money(a.waived_penalty_interest),
            "interest": money(a.waived_interest),
            "total": money(waived_total),
        },
        "holiday_months": a.holiday_months,
        "replaces": [int(n) for n in a.replaces],
        "state": arrangement_state(arrangement_record(a), payments, max(as_of, a.accepted_on)),
        "schedule": schedule_rows(a.instalments),
    }


def disclosed_status(
    records: LoanRecords, day: date, policy: Policy, conversation_id: str
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The loan's status view on ``day`` and the audit detail of disclosing it: one answer for
    both reads of GET status (the ORM path and PostgreSQL's fast path)."""
    status = derive_status(records.contract, records.payment_records, records.arrangement_records, day, policy)
    view = status_view(records, status, day)
    detail = {
        "conversation_id": conversation_id,
        "as_of": day.isoformat(),
        "days_past_due": status.days_past_due,
        "overdue_total": view["overdue"]["total"],
    }
    return view, detail


def status_view(records: LoanRecords, status: LoanStatus, as_of: date) -> dict[str, Any]:
    loan = records.loan
    payments = records.payment_records
    open_promise = None
    for p in records.promises:
        view = promise_view(p, loan.loan_number, payments, as_of)
        if view["state"] == "open":
            open_promise = view
    active = None
    if status.active_arrangement_id is not None:
        for a in records.arrangements:
            if a.id == status.active_arrangement_id:
                active = arrangement_view(a, loan.loan_number, payments, as_of)
    dispute = records.dispute
    return {
        "loan_number": loan.loan_number,
        "product": loan.product,
        "currency": loan.currency,
        "as_of": as_of.isoformat(),
        "principal": money(loan.principal),
        "apr": rate(loan.apr),
        "term": loan.term,
        "disbursed_on": loan.disbursed_on.isoformat(),
        "days_past_due": status.days_past_due,
        "bucket": status.bucket,
        "overdue": {
            "principal": money(status.overdue.principal),
            "interest": money(status.overdue.interest),
            "penalty_interest": money(status.overdue.penalty_interest),
            "late_fees": money(status.overdue.late_fees),
            "total": money(status.overdue.total),
        },
        "amount_to_bring_current": money(status.amount_to_bring_current),
        "payoff_amount": money(status.payoff_amount),
        "next_due": None
        if status.next_due is None
        else {"due_date": status.next_due.due_date.isoformat(), "amount": money(status.next_due.amount)},
        "instalments": [
            {
                "number": i.number,
                "due_date": i.due_date.isoformat(),
                "amount": money(i.amount),
                "principal": money(i.principal),
                "interest": money(i.interest),
                "paid": money(i.paid),
                "state": i.state,
                "days_past_due": i.days_past_due,
                "penalty_interest": money(i.penalty_interest),
                "late_fee": money(i.late_fee),
            }
            for i in status.instalments
        ],
        "open_dispute": None
        if dispute is None
        else {"case_number": dispute.case_number, "reply_due_by": dispute.reply_due_by.isoformat()},
        "open_promise": open_promise,
        "active_arrangement": active,
        "closed": status.closed,
        "refund_owed": money(status.refund_owed),
    }


# ---- the desk's account panel: what an agent reads, no internal id, times in the borrower's zone --


def local_time(at: datetime | None, zone: tzinfo) -> str | None:
    """A stored instant in ``zone`` (the borrower's), ISO 8601 with its UTC offset, to the second."""
    return None if at is None else at.astimezone(zone).isoformat(timespec="seconds")


def number_ranges(numbers: Iterable[int]) -> str:
    """Instalment numbers as ranges: [3, 4, 5, 7] -> "3-5, 7"."""
    runs: list[list[int]] = []
    for n in sorted(set(numbers)):
        if runs and n == runs[-1][1] + 1:
            runs[-1][1] = n
        else:
            runs.append([n, n])
    return ", ".join(str(a) if a == b else f"{a}-{b}" for a, b in runs)


def panel_schedule(status: LoanStatus) -> list[dict[str, Any]]:
    """Each instalment of the status in due order (the replaced ones too, and a plan's own marked
    ``plan``): due, paid (charges included) and outstanding, with its charges where non-zero."""
    rows = []
    for i in status.instalments:
        row: dict[str, Any] = {
            "number": i.number,
            "due_date": i.due_date.isoformat(),
            "amount_due": money(i.amount),
            "paid": money(i.paid),
            "outstanding": money(i.outstanding),
            "state": i.state,
            "days_past_due": i.days_past_due,
            "plan": i.is_arrangement,
        }
        if i.penalty_interest:
            row["penalty_interest"] = money(i.penalty_interest)
        if i.late_fee:
            row["late_fee"] = money(i.late_fee)
        rows.append(row)
    return rows


def panel_payment(p: m.Payment, zone: tzinfo) -> dict[str, Any]:
    """A payment: the day it was received (a calendar day, as the ledger books it), when the
    ledger recorded it, amount, channel and the payer's reference."""
    return {
        "received_on": p.received_on.isoformat(),
        "recorded_at": local_time(p.created_at, zone),
        "amount": money(p.amount),
        "channel": p.channel,
        "reference": p.external_ref,
    }


def panel_arrangement(a: m.Arrangement, payments: Sequence[PaymentRecord], as_of: date, zone: tzinfo) -> dict[str, Any]:
    """An arrangement (active, kept or broken) with a summary of its own schedule."""
    view = arrangement_view(a, "", payments, as_of)
    schedule = sorted(a.instalments, key=lambda i: (i.due_date, i.number))
    amounts = sorted({i.amount for i in schedule})
    return {
        "plan_type": a.plan_type,
        "accepted_on": view["accepted_on"],
        "accepted_at": local_time(a.accepted_at, zone),
        "state": view["state"],
        "payment_frequency": a.payment_frequency,
        "total_to_repay": view["total_to_repay"],
        "waived_total": view["waived"]["total"],
        "holiday_months": a.holiday_months,
        "replaces_instalments": number_ranges(int(n) for n in a.replaces),
        "schedule": {
            "instalments": len(schedule),
            "first_due": schedule[0].due_date.isoformat() if schedule else None,
            "last_due": schedule[-1].due_date.isoformat() if schedule else None,
            "smallest_payment": money(amounts[0]) if amounts else None,
            "largest_payment": money(amounts[-1]) if amounts else None,
        },
    }


def panel_promise(p: m.Promise, payments: Sequence[PaymentRecord], as_of: date) -> dict[str, Any]:
    """A promise to pay: amount, the day it was made and promised for, state and paid toward it."""
    view = promise_view(p, "", payments, as_of)
    return {k: view[k] for k in ("amount", "promised_date", "made_on", "state", "paid_toward")}
