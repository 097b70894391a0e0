"""The demo portfolio (the README's demo borrowers), defined once (pure): the seeder and the tests use it.

All dates are relative to ``today``. The oldest unpaid instalment k (for D5 the next one)
falls due exactly the stated number of days from today; the disbursement date is k months
before it, and every due date keeps the day of month of that exact due date (month-end
rule), so the stated DPD holds on every day of the year. "Paid" instalments were paid in
full on their due date.

Loan numbers follow the order of the portfolio table, one per loan: HX0000000001 for D1's loan
... HX0000000007 for D7's, then D8's two loans, (a) the 分付 purchase HX0000000008 and (b) the
cash loan HX0000000009. A borrower's only loan has the borrower's key ("D1"); the loans of a
borrower with several are keyed "D8a", "D8b" in the order of the table. Phones are 1380000000k
for Dk.

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
class DemoLoan:
    key: str  # "D1" for a borrower's only loan; "D8a", "D8b" for the loans of a borrower with several
    borrower: str  # the borrower's key
    product: str
    principal: Decimal
    apr: Decimal
    term: int
    loan_number: str
    paid_instalments: int
    anchor_instalment: int  # the instalment whose due date is exact
    anchor_days_from_today: int  # negative = in the past
    dispute_reason: str | None = None


@dataclass(frozen=True)
class DemoBorrower:
    key: str
    name: str
    language: str
    phone: str
    date_of_birth: date
    id_last4: str
    loans: tuple[DemoLoan, ...]


# (product, principal, APR, term, paid instalments, anchor instalment, days from today, dispute)
_Terms = tuple[str, str, str, int, int, int, int, str | None]

# The demo portfolio in the order of demo-portfolio.md's table: (key, name, language, date of
# birth, ID last 4, its loans). A loan's key is the borrower's key, with a, b, ... when the
# borrower has several.
_PORTFOLIO: tuple[tuple[str, str, str, str, str, tuple[_Terms, ...]], ...] = (
    ("D1", "王芳", "zh", "1990-03-15", "4321", (("fenfu", "12000.00", "0.18", 12, 3, 4, -15, None),)),
    ("D2", "李强", "zh", "1985-07-02", "5678", (("cash_loan", "50000.00", "0.154", 24, 6, 7, -45, None),)),
    ("D3", "张伟", "zh", "1978-11-30", "9012", (("cash_loan", "30000.00", "0.18", 12, 2, 3, -120, None),)),
    (
        "D4",
        "Emily Chen",
        "en",
        "1992-06-21",
        "3456",
        (("consumer_instalment", "8000.00", "0.12", 12, 5, 6, -20, None),),
    ),
    ("D5", "陈静", "zh", "1995-01-09", "7890", (("fenfu", "6000.00", "0.18", 6, 2, 3, 10, None),)),
    ("D6", "刘洋", "zh", "1988-09-18", "2468", (("cash_loan", "20000.00", "0.18", 12, 4, 5, -35, None),)),
    (
        "D7",
        "Michael Brown",
        "en",
        "1980-12-05",
        "1357",
        (("consumer_instalment", "10000.00", "0.12", 12, 3, 4, -30, "amount is wrong"),),
    ),
    (
        "D8",
        "赵敏",
        "zh",
        "1993-04-12",
        "6802",
        (
            ("fenfu", "3600.00", "0.18", 6, 2, 3, -10, None),
            ("cash_loan", "15000.00", "0.154", 12, 5, 6, 5, None),
        ),
    ),
)


def _build() -> dict[str, DemoBorrower]:
    borrowers: dict[str, DemoBorrower] = {}
    number = 0
    for key, name, lang, dob, id4, terms in _PORTFOLIO:
        loans = []
        for index, (product, principal, apr, term, paid, anchor, days, dispute) in enumerate(terms):
            number += 1  # loan numbers follow the table: HX0000000001, ... one per loan
            loan_key = key if len(terms) == 1 else f"{key}{chr(ord('a') + index)}"
            loans.append(
                DemoLoan(
                    loan_key,
                    key,
                    product,
                    Decimal(principal),
                    Decimal(apr),
                    term,
                    f"HX{number:010d}",
                    paid,
                    anchor,
                    days,
                    dispute,
                )
            )
        phone = f"138{int(key[1:]):08d}"
        borrowers[key] = DemoBorrower(key, name, lang, phone, date.fromisoformat(dob), id4, tuple(loans))
    return borrowers


DEMO_BORROWERS: dict[str, DemoBorrower] = _build()
# Every demo loan by its key ("D1" ... "D7", "D8a", "D8b").
DEMO_LOANS: dict[str, DemoLoan] = {loan.key: loan for b in DEMO_BORROWERS.values() for loan in b.loans}

D6_ARRANGEMENT_ID = "demo-D6-deferral"


def demo_contract(b: DemoLoan, today: date) -> LoanContract:
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
    """Every demo loan, by its key in DEMO_LOANS, as (contract, payments, arrangements) relative to ``today``."""
    out = {}
    for key, b in DEMO_LOANS.items():
        contract = demo_contract(b, today)
        payments = tuple(_paid(contract, key, b.paid_instalments))
        arrangements: tuple[ArrangementRecord, ...] = ()
        if key == "D6":
            arrangements = (_d6_arrangement(contract, today),)
        out[key] = (contract, payments, arrangements)
    return out
