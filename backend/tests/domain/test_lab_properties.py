"""Hypothesis properties of the policy lab's fast path: for random loans (any amount, rate,
term, due day, payments early, late, partial or over, a relief plan accepted on a past day
and then kept or broken, facts on file or a profile, an open dispute or not), the optimised
replay gives the reference replay's status exactly (tests/domain/reference_replay.py, repr:
Decimal exponents included) and the worker's path (rows as PostgreSQL sends them) gives,
loan for loan, the outcome of the lab before its speed work (reference_lab.py: the reference
replay, the engine as the API calls it under each policy on its own)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from ledger.domain import account, lab, lab_rows
from ledger.domain.account import LoanContract, PaymentRecord, derive_status
from ledger.domain.lab import LabLoan, evaluate_loan
from ledger.domain.money import round_fen
from ledger.domain.relief import HardshipFacts, build_arrangement, evaluate_relief
from ledger.policy_file import load_policy
from ledger.services import lab_worker

from . import reference_lab
from . import reference_replay as ref
from .test_replay_golden import PROFILES, REASONS, _candidate, _pg_row

POLICY = load_policy()
CANDIDATE = _candidate(POLICY)
AS_OF = date(2026, 11, 25)
cents = st.integers(min_value=1, max_value=8_000_000).map(lambda c: Decimal(c) / 100)


APRS = (Decimal("0"), Decimal("0.0365"), Decimal("0.12"), Decimal("0.154"), Decimal("0.24"))


@st.composite
def loans(draw: st.DrawFn) -> LabLoan:
    disbursed = AS_OF - timedelta(days=draw(st.integers(1, 1200)))
    contract = LoanContract.create(
        "HL1",
        Decimal(draw(st.integers(10_000, 8_000_000))) / 100,
        draw(st.sampled_from(APRS)),
        draw(st.sampled_from((1, 3, 6, 12, 24, 36))),
        disbursed,
        due_day=draw(st.integers(1, 31)),
    )
    pays: list[PaymentRecord] = []
    # each instalment: paid on time, late, early, in part, over, or not at all
    for s in contract.schedule:
        how = draw(st.sampled_from(("due", "late", "early", "part", "over", "skip", "stop")))
        if how == "stop":
            break
        if how == "skip":
            continue
        shift = {"late": draw(st.integers(1, 90)), "early": -draw(st.integers(1, 20))}.get(how, 0)
        amount = s.amount
        if how == "part":
            amount = (s.amount * Decimal(draw(st.integers(1, 99))) / 100).quantize(Decimal("0.01"))
        elif how == "over":
            amount = s.amount + draw(cents)
        day = s.due_date + timedelta(days=shift)
        if amount > 0 and disbursed <= day <= AS_OF:
            pays.append(PaymentRecord(f"P{len(pays)}", amount, day))
    arrangements: tuple = ()
    if draw(st.booleans()) and (AS_OF - disbursed).days > 2:
        accepted = disbursed + timedelta(days=draw(st.integers(1, (AS_OF - disbursed).days - 1)))
        before = [p for p in pays if p.received_on < accepted]
        status = derive_status(contract, before, (), accepted, POLICY)
        facts = HardshipFacts(
            draw(st.sampled_from(REASONS)),
            draw(st.sampled_from(("temporary", "long_term"))),
            draw(cents),
            draw(cents),
            Decimal("0.00"),
        )
        ev = evaluate_relief(contract, status, facts, lab.relief_history((), POLICY, False), accepted, POLICY)
        offers = [p for p in ev.plans if p.eligible and p.offer is not None]
        if offers:
            plan = offers[draw(st.integers(0, len(offers) - 1))]
            assert plan.offer is not None
            arr = build_arrangement(plan.offer, plan.plan_type, "A1", accepted)
            arrangements = (arr,)
            kept = draw(st.integers(0, len(arr.schedule)))
            pays = before + [
                PaymentRecord(f"A{s.number}", s.amount, s.due_date) for s in arr.schedule[:kept] if s.due_date <= AS_OF
            ]
    facts = None
    if draw(st.booleans()):
        facts = HardshipFacts(
            draw(st.sampled_from(REASONS)),
            draw(st.sampled_from(("temporary", "long_term"))),
            draw(cents),
            draw(cents),
            draw(cents),
        )
    return LabLoan(contract, tuple(pays), arrangements, facts, draw(st.integers(0, 19)) == 0)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(loan=loans(), back=st.integers(0, 400))
def test_the_replay_gives_the_reference_status_exactly(loan, back):
    for day in (AS_OF, AS_OF - timedelta(days=back)):
        new = derive_status(loan.contract, loan.payments, loan.arrangements, day, POLICY)
        old = ref.derive_status(loan.contract, loan.payments, loan.arrangements, day, POLICY)
        assert repr(new) == repr(old)


@pytest.mark.parametrize("core", ["pure", "compiled"])
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(loan=loans())
def test_the_workers_path_gives_the_reference_outcome_loan_for_loan(core, loan):
    """Pure and compiled (services.lab_core) core alike."""
    lab_worker.init(POLICY, CANDIDATE, AS_OF, PROFILES, core)
    row = _pg_row(loan)
    fast_outcome = evaluate_loan(lab_rows.loan_from_row(row), POLICY, CANDIDATE, AS_OF, PROFILES)
    fast, fast_changes = lab_worker.evaluate_batch([row])
    outcome = reference_lab.evaluate_loan(loan, POLICY, CANDIDATE, AS_OF, PROFILES)
    assert repr(fast_outcome) == repr(outcome)
    slow = lab.LabReport()
    slow.add(outcome)
    assert fast_changes == list(lab.changes_of(outcome))
    assert repr(fast) == repr(slow)


@settings(max_examples=300, deadline=None)
@given(unpaid=st.integers(1, 10**10), apr=st.sampled_from(APRS))
@example(unpaid=30_000, apr=Decimal("0.0365"))  # 300.00 * 0.0365 * 1.5 / 365 = 0.045: half a fen
@example(unpaid=10_000, apr=Decimal("0.0365"))  # 0.015
def test_a_days_penalty_in_fen_is_round_fen_of_the_amount_in_yuan_times_the_daily_rate(unpaid, apr):
    """The integer replay's daily penalty is the Decimal replay's round_fen(unpaid * daily rate),
    half-up on an exact half fen (the APR 0.0365 makes the daily rate 0.00015: exact halves)."""
    charges = POLICY.charges
    rate = charges.penalty_annual_rate(apr) / charges.day_count
    expected = round_fen((Decimal(unpaid) / 100) * rate)
    assert account._Replay(rate).daily_penalty(unpaid) == int(expected * 100)
