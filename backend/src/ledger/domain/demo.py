"""The demo portfolio (the README's demo borrowers), defined once (pure): the seeder and the tests use it.

All dates are relative to ``today``. The oldest unpaid instalment k (for D5 the next one)
falls due exactly the stated number of days from today; the disbursement date is k months
before it, and every due date keeps the day of month of that exact due date (month-end
rule), so the stated DPD holds on every day of the year. "Paid" instalments were paid in
full on their due date.

D6's broken arrangement: 4 months ago (after instalment 2, before instalment 3 fell due) a
1-month deferral was accepted: instalments 3-12 were replaced by 9 monthly instalments of
the remaining principal at the contract rate, the first due 2 months after acceptance. The
borrower kept paying the original (smaller) instalment on the original dates (instalments 3
and 4), which fell short of the plan's cumulative amount after its second due date, so the
plan is broken and void: the original contract applies with all payments, i.e. instalments
1-4 paid and instalment 5 is 35 days past due.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from .account import ArrangementRecord, LoanContract, PaymentRecord
from .schedule import add_months, build_schedule


@dataclass(frozen=True)
class DemoBorrower:
    key: str
    name: str
    language: str
    phone: str
    date_of_birth: date
    id_last4: str
    product: str
    principal: Decimal
    apr: Decimal
    term: int
    loan_number: str
    paid_instalments: int
    anchor_instalment: int  # the instalment whose due date is exact
    anchor_days_from_today: int  # negative = in the past
    dispute_reason: str | None = None


def _b(
    key: str,
    name: str,
    lang: str,
    dob: str,
    id4: str,
    product: str,
    principal: str,
    apr: str,
    term: int,
    paid: int,
    anchor: int,
    days: int,
    dispute: str | None = None,
) -> DemoBorrower:
    n = int(key[1:])
    return DemoBorrower(
        key,
        name,
        lang,
        f"1380000000{n}",
        date.fromisoformat(dob),
        id4,
        product,
        Decimal(principal),
        Decimal(apr),
        term,
        f"HX{n:010d}",
        paid,
        anchor,
        days,
        dispute,
    )


DEMO_BORROWERS: dict[str, DemoBorrower] = {
    b.key: b
    for b in (
        _b("D1", "王芳", "zh", "1990-03-15", "4321", "fenfu", "12000.00", "0.18", 12, 3, 4, -15),
        _b("D2", "李强", "zh", "1985-07-02", "5678", "cash_loan", "50000.00", "0.154", 24, 6, 7, -45),
        _b("D3", "张伟", "zh", "1978-11-30", "9012", "cash_loan", "30000.00", "0.18", 12, 2, 3, -120),
        _b("D4", "Emily Chen", "en", "1992-06-21", "3456", "consumer_instalment", "8000.00", "0.12", 12, 5, 6, -20),
        _b("D5", "陈静", "zh", "1995-01-09", "7890", "fenfu", "6000.00", "0.18", 6, 2, 3, 10),
        _b("D6", "刘洋", "zh", "1988-09-18", "2468", "cash_loan", "20000.00", "0.18", 12, 4, 5, -35),
        _b(
            "D7",
            "Michael Brown",
            "en",
            "1980-12-05",
            "1357",
            "consumer_instalment",
            "10000.00",
            "0.12",
            12,
            3,
            4,
            -30,
            dispute="amount is wrong",
        ),
    )
}

D6_ARRANGEMENT_ID = "demo-D6-deferral"


def demo_contract(b: DemoBorrower, today: date) -> LoanContract:
    anchor_due = today + timedelta(days=b.anchor_days_from_today)
    disbursed = add_months(anchor_due, -b.anchor_instalment)
    return LoanContract.create(b.loan_number, b.principal, b.apr, b.term, disbursed, due_day=anchor_due.day)


def _paid(contract: LoanContract, key: str, count: int) -> list[PaymentRecord]:
    return [PaymentRecord(f"DEMO-{key}-{s.number}", s.amount, s.due_date) for s in contract.schedule[:count]]


def _d6_arrangement(contract: LoanContract, today: date) -> ArrangementRecord:
    accepted = add_months(today, -4)
    remaining = contract.principal - sum((s.principal for s in contract.schedule[:2]), Decimal("0.00"))
    schedule = build_schedule(
        remaining,
        contract.apr,
        contract.term - 2 - 1,
        add_months(accepted, 1),
        first_number=contract.term + 1,
        due_day=accepted.day,
    )
    return ArrangementRecord(D6_ARRANGEMENT_ID, "deferral", accepted, tuple(range(3, contract.term + 1)), schedule)


def demo_loans(today: date) -> dict[str, tuple[LoanContract, tuple[PaymentRecord, ...], tuple[ArrangementRecord, ...]]]:
    """Every demo loan as (contract, payments, arrangements) relative to ``today``."""
    out = {}
    for key, b in DEMO_BORROWERS.items():
        contract = demo_contract(b, today)
        payments = tuple(_paid(contract, key, b.paid_instalments))
        arrangements: tuple[ArrangementRecord, ...] = ()
        if key == "D6":
            arrangements = (_d6_arrangement(contract, today),)
        out[key] = (contract, payments, arrangements)
    return out
