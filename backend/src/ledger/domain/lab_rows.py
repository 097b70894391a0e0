"""The policy lab's rows -> domain records, and one batch of rows -> a partial report.

A row is the loan tuple of ledger.db.lab_queries: on PostgreSQL the instalments and payments
arrive as text and the facts as JSON text, money as exact decimal text, parsed here (in a worker
process, not in the process that reads the database). No I/O: this module, with the rest of the
lab's pure core, is also compiled by mypyc (services.lab_core; docs/policy-lab.md, Speed).
"""

from __future__ import annotations

import json
import re
from datetime import date
from decimal import Decimal
from typing import Any

from .account import FenInstalment, FenLoan, LoanContract, PaymentRecord, arrangement_from_row
from .lab import Change, HardshipProfile, LabLoan, LabReport, changes_of, evaluate_loan
from .policy import Policy
from .relief import HardshipFacts
from .schedule import ScheduledInstalment

# The whole text of a loan's instalments / payments, every amount written with two decimals
# (as PostgreSQL writes numeric(_, 2)): checked once per loan by one expression, then read
# field by field without a check per amount.
_MONEY = r"-?[0-9]+\.[0-9][0-9]"
_DAY = r"[0-9]{4}-[0-9]{2}-[0-9]{2}"
_FEN_SCHEDULE = re.compile(rf"(?:[0-9]+,{_DAY},{_MONEY},{_MONEY},{_MONEY}(?:;|$))*")
_FEN_PAYMENTS = re.compile(rf"(?:{_MONEY},{_DAY}(?:;|$))*")


def _fen_loan(inst: str, pays: str) -> FenLoan | None:
    """The PostgreSQL text of a loan's instalments and payments in fen; None when an amount is
    not written with two decimals (then the Decimal records keep its exponent)."""
    if _FEN_SCHEDULE.fullmatch(inst) is None or _FEN_PAYMENTS.fullmatch(pays) is None:
        return None
    try:
        # Two decimals everywhere: without the point, an amount's digits are its fen.
        f = inst.replace(".", "").replace(";", ",").split(",") if inst else []
        schedule: tuple[FenInstalment, ...] = tuple(
            zip(
                map(int, f[0::5]),
                map(date.fromisoformat, f[1::5]),
                map(int, f[2::5]),
                map(int, f[3::5]),
                map(int, f[4::5]),
                strict=True,
            )
        )
        g = pays.replace(".", "").replace(";", ",").split(",") if pays else []
        payments = tuple(zip(map(date.fromisoformat, g[1::2]), map(int, g[0::2]), strict=True))
    except ValueError:
        return None
    return FenLoan(schedule, payments)


def loan_from_row(row: tuple[Any, ...]) -> LabLoan:
    """A loan tuple of ledger.db.lab_queries as domain records. On PostgreSQL the instalments
    and payments arrive as text (lab_queries._PG_BATCH) and the facts as JSON text, money as
    exact decimal text: parsed here, in the worker, not in the process that reads the database.
    Payments read from PostgreSQL carry no external reference (the replay does not use it).
    A loan from PostgreSQL without arrangements comes with its schedule and payments in fen
    (``LabLoan.fen``; its contract's schedule and its payments empty): the replay's input."""
    number, principal, apr, term, disbursed_on, inst, pays, arrs, facts, dispute = row
    if isinstance(facts, str):
        reason, duration, income, expenses, debts = json.loads(facts)
        facts = (reason, duration, Decimal(income), Decimal(expenses), Decimal(debts))
    # A loan without arrangements (most) goes to the replay in fen, without Decimal records.
    fen = _fen_loan(inst, pays) if isinstance(inst, str) and not arrs else None
    if fen is not None:
        contract = LoanContract(number, Decimal(principal), Decimal(apr), term, disbursed_on, ())
        return LabLoan(contract, (), (), None if facts is None else HardshipFacts(*facts), bool(dispute), fen)
    if isinstance(inst, str):
        inst = [
            (int(n), date.fromisoformat(d), Decimal(p), Decimal(i), Decimal(a))
            for n, d, p, i, a in (part.split(",") for part in inst.split(";") if part)
        ]
        pays = [
            ("", Decimal(amount), date.fromisoformat(on))
            for amount, on in (part.split(",") for part in pays.split(";") if part)
        ]
    contract = LoanContract(
        number,
        Decimal(principal),
        Decimal(apr),
        term,
        disbursed_on,
        tuple(ScheduledInstalment(n, d, p, i, a) for n, d, p, i, a in inst),
    )
    arrangements = tuple(arrangement_from_row(a) for a in arrs)
    return LabLoan(
        contract,
        tuple(PaymentRecord(ref, amount, on) for ref, amount, on in pays),
        arrangements,
        None if facts is None else HardshipFacts(*facts),
        bool(dispute),
    )


def evaluate_rows(
    rows: list[tuple[Any, ...]],
    current: Policy,
    candidate: Policy,
    as_of: date,
    profiles: tuple[HardshipProfile, ...],
) -> tuple[LabReport, list[Change]]:
    """Every loan of ``rows`` under both policies: the batch's partial report and its changes."""
    report = LabReport()
    changes: list[Change] = []
    for row in rows:
        outcome = evaluate_loan(loan_from_row(row), current, candidate, as_of, profiles)
        found = changes_of(outcome)
        report.add(outcome, found)
        changes.extend(found)
    return report, changes
