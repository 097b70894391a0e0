"""The policy lab's work in a worker process: rows of one batch -> a partial report.

Imports only the domain (a spawned worker starts quickly); the policies, the day and the
profiles are set once per process by ``init``."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from typing import Any

from ..domain.account import ArrangementRecord, LoanContract, PaymentRecord
from ..domain.lab import Change, HardshipProfile, LabLoan, LabReport, changes_of, evaluate_loan
from ..domain.policy import Policy
from ..domain.relief import HardshipFacts
from ..domain.schedule import ScheduledInstalment

_STATE: dict[str, Any] = {}


def init(current: Policy, candidate: Policy, as_of: date, profiles: tuple[HardshipProfile, ...]) -> None:
    _STATE.update(current=current, candidate=candidate, as_of=as_of, profiles=profiles)


def loan_from_row(row: tuple[Any, ...]) -> LabLoan:
    """A loan tuple of ledger.db.lab_queries as domain records. On PostgreSQL the instalments
    and payments arrive as text (lab_queries._PG_BATCH) and the facts as JSON text, money as
    exact decimal text: parsed here, in the worker, not in the process that reads the database.
    Payments read from PostgreSQL carry no external reference (the replay does not use it)."""
    number, principal, apr, term, disbursed_on, inst, pays, arrs, facts, dispute = row
    if isinstance(inst, str):
        inst = [
            (int(n), date.fromisoformat(d), Decimal(p), Decimal(i), Decimal(a))
            for n, d, p, i, a in (part.split(",") for part in inst.split(";") if part)
        ]
        pays = [
            ("", Decimal(amount), date.fromisoformat(on))
            for amount, on in (part.split(",") for part in pays.split(";") if part)
        ]
    if isinstance(facts, str):
        reason, duration, income, expenses, debts = json.loads(facts)
        facts = (reason, duration, Decimal(income), Decimal(expenses), Decimal(debts))
    contract = LoanContract(
        number,
        Decimal(principal),
        Decimal(apr),
        term,
        disbursed_on,
        tuple(ScheduledInstalment(n, d, p, i, a) for n, d, p, i, a in inst),
    )
    arrangements = tuple(
        ArrangementRecord(
            arrangement_id=aid,
            plan_type=plan,
            accepted_on=accepted_on,
            replaces=replaces,
            schedule=tuple(ScheduledInstalment(*s) for s in sched),
            waived_late_fees=wl,
            waived_penalty_interest=wp,
            waived_interest=wi,
        )
        for aid, plan, accepted_on, replaces, wl, wp, wi, sched in arrs
    )
    return LabLoan(
        contract,
        tuple(PaymentRecord(ref, amount, on) for ref, amount, on in pays),
        arrangements,
        None if facts is None else HardshipFacts(*facts),
        bool(dispute),
    )


def evaluate_batch(rows: list[tuple[Any, ...]]) -> tuple[LabReport, list[Change]]:
    report = LabReport()
    changes: list[Change] = []
    for row in rows:
        outcome = evaluate_loan(
            loan_from_row(row), _STATE["current"], _STATE["candidate"], _STATE["as_of"], _STATE["profiles"]
        )
        report.add(outcome)
        changes.extend(changes_of(outcome))
    return report, changes
