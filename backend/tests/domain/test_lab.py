"""The policy lab's pure core (ledger.domain.lab): gains and losses, profiles, sums."""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta
from decimal import Decimal

import pytest

from ledger.domain.account import LoanContract
from ledger.domain.lab import (
    HardshipProfile,
    LabLoan,
    LabReport,
    assign_profile,
    changes_of,
    evaluate_loan,
)
from ledger.domain.relief import HardshipFacts

AS_OF = date(2026, 11, 25)
FACTS = HardshipFacts("job_loss", "temporary", Decimal("20000.00"), Decimal("3000.00"), Decimal("0.00"))
PROFILES = (
    HardshipProfile("job_loss_temp", "job_loss", "temporary", Decimal("6000"), Decimal("3000"), Decimal("0"), 3),
    HardshipProfile("illness_long", "illness", "long_term", Decimal("4000"), Decimal("3500"), Decimal("200"), 1),
)


def with_fee_waiver_min_dpd(policy, min_dpd: int):
    fw = dataclasses.replace(policy.plans.fee_waiver, min_dpd=min_dpd)
    return dataclasses.replace(policy, plans=dataclasses.replace(policy.plans, fee_waiver=fw))


def late_loan(number: str, dpd: int) -> LabLoan:
    """A 12-month loan, nothing paid, whose first instalment fell due ``dpd`` days before AS_OF
    (so it is exactly ``dpd`` days past due, computed here from the dates alone)."""
    first_due = AS_OF - timedelta(days=dpd)
    disbursed = date(first_due.year - (first_due.month == 1), (first_due.month - 2) % 12 + 1, first_due.day)
    contract = LoanContract.create(number, Decimal("12000.00"), Decimal("0.18"), 12, disbursed)
    assert contract.schedule[0].due_date == first_due
    return LabLoan(contract, (), (), FACTS)


DPDS = {"L00": 0, "L05": 5, "L12": 12, "L20": 20, "L28": 28, "L29": 29, "L30": 30, "L45": 45, "L90": 90}


def test_lowering_the_fee_waiver_threshold_shows_exactly_the_loans_that_gain_it(policy):
    current = with_fee_waiver_min_dpd(policy, 30)
    candidate = with_fee_waiver_min_dpd(policy, 10)
    loans = [late_loan(n, d) for n, d in DPDS.items()]
    # Computed apart: a loan gains the fee waiver when 10 <= DPD < 30 (it has late fees from 3 DPD).
    expected = sorted(n for n, d in DPDS.items() if 10 <= d < 30)
    report = LabReport()
    changes = []
    for loan in loans:
        outcome = evaluate_loan(loan, current, candidate, AS_OF, PROFILES)
        report.add(outcome)
        changes.extend(changes_of(outcome))
    assert sorted(c.loan_number for c in changes) == expected
    assert {(c.plan_type, c.direction, c.rule) for c in changes} == {("fee_waiver", "gains", "dpd_too_low")}
    assert report.changes == {("fee_waiver", "gains", "dpd_too_low"): len(expected)}
    gained = sum(report.offered.get(("candidate", "fee_waiver", b), 0) for b in ("M0", "M1", "M2", "M3+"))
    before = sum(report.offered.get(("current", "fee_waiver", b), 0) for b in ("M0", "M1", "M2", "M3+"))
    assert gained - before == len(expected)
    # Waived sums are those of the offers: more waived under the candidate, never less.
    assert report.waived[("candidate", "fee_waiver", "late_fees")] > report.waived.get(
        ("current", "fee_waiver", "late_fees"), Decimal(0)
    )


def test_same_policy_changes_nothing(policy):
    for n, d in DPDS.items():
        assert changes_of(evaluate_loan(late_loan(n, d), policy, policy, AS_OF, PROFILES)) == ()


def test_profiles_are_assigned_by_loan_number_in_their_weights():
    names = [assign_profile(f"HX{i:08d}", PROFILES).name for i in range(4000)]
    assert names == [assign_profile(f"HX{i:08d}", PROFILES).name for i in range(4000)]
    share = names.count("job_loss_temp") / len(names)
    assert 0.72 < share < 0.78  # weight 3 of 4
    with pytest.raises(ValueError):
        assign_profile("HX1", (dataclasses.replace(PROFILES[0], weight=0),))


def test_a_loan_without_facts_gets_its_profile(policy):
    loan = dataclasses.replace(late_loan("L20", 20), facts=None)
    outcome = evaluate_loan(loan, policy, policy, AS_OF, PROFILES)
    assert outcome.profile == assign_profile("L20", PROFILES).name


def test_merge_is_the_sum(policy):
    outcomes = [
        evaluate_loan(late_loan(n, d), policy, with_fee_waiver_min_dpd(policy, 10), AS_OF, PROFILES)
        for n, d in DPDS.items()
    ]
    whole, a, b = LabReport(), LabReport(), LabReport()
    for i, o in enumerate(outcomes):
        whole.add(o)
        (a if i % 2 else b).add(o)
    a.merge(b)
    assert a == whole


# Reasons for a plan, or about the whole case (no_plan_eligible): never a deciding rule.
FOR_CODES = {
    "affordable",
    "charges_to_waive",
    "deferral_terms",
    "dpd_reached",
    "dpd_within_limit",
    "fee_waiver_terms",
    "irregular_income",
    "long_term_hardship",
    "lower_payment",
    "no_plan_eligible",
    "no_recent_fee_waiver",
    "no_recent_restructure",
    "quarterly_terms",
    "settlement_terms",
    "temporary_hardship",
}


def test_every_reason_code_of_the_engine_is_known_as_for_or_against():
    """A reason code added to the engine must be classed here, or the lab could name a reason
    for a plan as the rule that refused it."""
    import inspect
    import re

    from ledger.domain import relief
    from ledger.domain.lab import AGAINST_CODES

    codes = set(re.findall(r'Reason\(\s*"([a-z_]+)"', inspect.getsource(relief)))
    assert codes == AGAINST_CODES | FOR_CODES
    assert not AGAINST_CODES & FOR_CODES
