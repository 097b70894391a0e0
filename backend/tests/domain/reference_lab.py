"""The policy lab's evaluation of one loan as it was before the lab's speed work (commit f97670d
of ledger/domain/lab.py's ``evaluate_loan``): the reference replay (reference_replay.py) and the
relief engine as the API calls it, each policy on its own (texts, comparisons, its own figures).
test_replay_golden.py and test_lab_properties.py compare the lab's fast path with it."""

from __future__ import annotations

from datetime import date, timedelta

from ledger.domain.lab import HardshipProfile, LabLoan, LoanOutcome, _outcomes, assign_profile, relief_history
from ledger.domain.money import ZERO
from ledger.domain.policy import Policy
from ledger.domain.relief import evaluate_relief

from . import reference_replay as ref


def _history_outcomes(loan: LabLoan, as_of: date, policy: Policy) -> tuple[tuple[str, str, str], ...]:
    out = []
    for a in loan.arrangements:
        if a.accepted_on > as_of:
            continue
        state = ref.arrangement_state(a, loan.payments, as_of)
        if state not in ("kept", "broken"):
            continue
        day = a.accepted_on - timedelta(days=1)
        before = ref.derive_status(
            loan.contract,
            tuple(p for p in loan.payments if p.received_on <= day),
            tuple(x for x in loan.arrangements if x.accepted_on <= day),
            day,
            policy,
        )
        out.append((a.plan_type, before.bucket, state))
    return tuple(out)


def evaluate_loan(
    loan: LabLoan, current: Policy, candidate: Policy, as_of: date, profiles: tuple[HardshipProfile, ...]
) -> LoanOutcome:
    if loan.facts is not None:
        facts, profile = loan.facts, "on file"
    else:
        chosen = assign_profile(loan.contract.loan_number, profiles)
        facts, profile = chosen.facts(), chosen.name
    status_now = ref.derive_status(loan.contract, loan.payments, loan.arrangements, as_of, current)
    status_cand = ref.derive_status(loan.contract, loan.payments, loan.arrangements, as_of, candidate)
    ev_now = evaluate_relief(
        loan.contract, status_now, facts, relief_history(loan.arrangements, current, loan.open_dispute), as_of, current
    )
    ev_cand = evaluate_relief(
        loan.contract,
        status_cand,
        facts,
        relief_history(loan.arrangements, candidate, loan.open_dispute),
        as_of,
        candidate,
    )
    for ev in (ev_now, ev_cand):  # every text made, as the API does
        for plan in ev.plans:
            for r in plan.reasons:
                assert r.zh and r.en
    return LoanOutcome(
        loan_number=loan.contract.loan_number,
        bucket=status_now.bucket,
        profile=profile,
        current_payment=ev_now.current.payment_amount if ev_now.current is not None else ZERO,
        sides=(_outcomes(ev_now), _outcomes(ev_cand)),
        history=_history_outcomes(loan, as_of, current) if loan.arrangements else (),
    )
