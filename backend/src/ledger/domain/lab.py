"""The policy lab's pure core: one loan under the current and a candidate policy, and the report.

``evaluate_loan`` derives the loan's status as of a day and runs the relief engine
(``relief.evaluate_relief``) under both policies with the same hardship facts: the facts on
file for the loan, or else a named ``HardshipProfile`` chosen deterministically from the
scenario mix by the loan number (``assign_profile``). ``LabReport`` adds loan outcomes up
(and merges partial reports from several processes) into the figures of docs/policy-lab.md.

Words used in the report, per plan:
* offered: the engine makes the plan eligible (every rule met, affordability included);
* eligible: every rule met except perhaps affordability (offered, or refused only for
  ``not_affordable`` / ``no_disposable_income``); affordable = offered;
* deciding rule of a gain or a loss: the first reason code against the plan on the side
  that does not offer it (the engine lists reasons against before reasons for).

No I/O: everything is passed in.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from .account import (
    ArrangementRecord,
    FenLoan,
    LoanContract,
    LoanStatus,
    PaymentRecord,
    arrangement_state,
    derive_status,
)
from .money import ZERO
from .policy import Policy
from .relief import (
    PLAN_TYPES,
    HardshipFacts,
    ReliefEvaluation,
    ReliefHistory,
    evaluate_relief,
    status_figures,
)

SIDES = ("current", "candidate")
AFFORDABILITY_CODES = frozenset({"not_affordable", "no_disposable_income"})
# Every reason code the engine gives against a plan (relief.py); the others are reasons for.
AGAINST_CODES = frozenset(
    {
        "dpd_too_high",
        "dpd_too_low",
        "restructure_limit",
        "no_disposable_income",
        "not_affordable",
        "recent_fee_waiver",
        "no_charges",
        "nothing_waived",
        "no_saving",
        "no_lower_payment",
        "not_long_term",
        "no_extension_possible",
        "no_lower_rate",
        "not_temporary",
        "not_irregular_income",
        "no_holiday",
        "dispute_open",
        "nothing_owed",
    }
)
# Upper edges of the payment-to-disposable-income bins (the last bin is "above the last edge").
RATIO_EDGES = (
    Decimal("0.10"),
    Decimal("0.20"),
    Decimal("0.30"),
    Decimal("0.40"),
    Decimal("0.50"),
    Decimal("0.75"),
    Decimal("1.00"),
)
RATIO_BINS = tuple(f"<= {e}" for e in RATIO_EDGES) + (f"> {RATIO_EDGES[-1]}", "no disposable income")


@dataclass(frozen=True)
class HardshipProfile:
    """A named hardship case the lab assumes for loans with no hardship facts on file."""

    name: str
    reason: str
    duration: str
    monthly_income: Decimal
    essential_expenses: Decimal
    other_debt_payments: Decimal
    weight: int

    def facts(self) -> HardshipFacts:
        return HardshipFacts(
            self.reason, self.duration, self.monthly_income, self.essential_expenses, self.other_debt_payments
        )


def assign_profile(loan_number: str, profiles: tuple[HardshipProfile, ...]) -> HardshipProfile:
    """The profile of a loan: the same on every run and in every process (a hash of the loan
    number, not Python's salted ``hash``), each profile taking its weight's share of loans."""
    total = sum(p.weight for p in profiles)
    if total <= 0:
        raise ValueError("the scenario mix needs a positive total weight")
    point = int.from_bytes(hashlib.sha256(loan_number.encode()).digest()[:8], "big") % total
    for p in profiles:
        if point < p.weight:
            return p
        point -= p.weight
    raise AssertionError("unreachable")  # pragma: no cover


@dataclass(frozen=True, init=False)
class LabLoan:
    """One loan as the lab reads it from the ledger."""

    contract: LoanContract
    payments: tuple[PaymentRecord, ...]
    arrangements: tuple[ArrangementRecord, ...]
    facts: HardshipFacts | None  # the latest hardship case on file, if any
    open_dispute: bool = False
    # The schedule and payments in fen, read instead of contract.schedule and payments (both
    # empty then): the worker's rows from PostgreSQL, for a loan without arrangements.
    fen: FenLoan | None = field(default=None, repr=False, compare=False)

    def __init__(
        self,
        contract: LoanContract,
        payments: tuple[PaymentRecord, ...],
        arrangements: tuple[ArrangementRecord, ...],
        facts: HardshipFacts | None,
        open_dispute: bool = False,
        fen: FenLoan | None = None,
    ) -> None:
        # Each field in order, written out: mypyc compiles this into a native constructor
        # (docs/policy-lab.md, Speed; tests/domain/test_record_inits.py keeps it in step).
        object.__setattr__(self, "contract", contract)
        object.__setattr__(self, "payments", payments)
        object.__setattr__(self, "arrangements", arrangements)
        object.__setattr__(self, "facts", facts)
        object.__setattr__(self, "open_dispute", open_dispute)
        object.__setattr__(self, "fen", fen)


@dataclass(frozen=True, init=False)
class PlanOutcome:
    plan_type: str
    offered: bool
    eligible: bool  # every rule met but perhaps affordability
    deciding: str | None  # first reason code against, when not offered
    waived_late_fees: Decimal = ZERO
    waived_penalty: Decimal = ZERO
    waived_interest: Decimal = ZERO
    payment: Decimal = ZERO  # the plan's regular payment (monthly, quarterly or once)
    frequency: str = ""
    total_to_repay: Decimal = ZERO
    ratio: Decimal | None = None

    def __init__(
        self,
        plan_type: str,
        offered: bool,
        eligible: bool,
        deciding: str | None,
        waived_late_fees: Decimal = ZERO,
        waived_penalty: Decimal = ZERO,
        waived_interest: Decimal = ZERO,
        payment: Decimal = ZERO,
        frequency: str = "",
        total_to_repay: Decimal = ZERO,
        ratio: Decimal | None = None,
    ) -> None:
        # Each field in order, written out: mypyc compiles this into a native constructor
        # (docs/policy-lab.md, Speed; tests/domain/test_record_inits.py keeps it in step).
        object.__setattr__(self, "plan_type", plan_type)
        object.__setattr__(self, "offered", offered)
        object.__setattr__(self, "eligible", eligible)
        object.__setattr__(self, "deciding", deciding)
        object.__setattr__(self, "waived_late_fees", waived_late_fees)
        object.__setattr__(self, "waived_penalty", waived_penalty)
        object.__setattr__(self, "waived_interest", waived_interest)
        object.__setattr__(self, "payment", payment)
        object.__setattr__(self, "frequency", frequency)
        object.__setattr__(self, "total_to_repay", total_to_repay)
        object.__setattr__(self, "ratio", ratio)


@dataclass(frozen=True, init=False)
class LoanOutcome:
    loan_number: str
    bucket: str
    profile: str  # "on file" or the profile's name
    current_payment: Decimal  # today's instalment (CurrentSchedule.payment_amount)
    sides: tuple[tuple[PlanOutcome, ...], tuple[PlanOutcome, ...]]  # current, candidate
    history: tuple[tuple[str, str, str], ...]  # (plan type, bucket at acceptance, kept|broken)

    def __init__(
        self,
        loan_number: str,
        bucket: str,
        profile: str,
        current_payment: Decimal,
        sides: tuple[tuple[PlanOutcome, ...], tuple[PlanOutcome, ...]],
        history: tuple[tuple[str, str, str], ...],
    ) -> None:
        # Each field in order, written out: mypyc compiles this into a native constructor
        # (docs/policy-lab.md, Speed; tests/domain/test_record_inits.py keeps it in step).
        object.__setattr__(self, "loan_number", loan_number)
        object.__setattr__(self, "bucket", bucket)
        object.__setattr__(self, "profile", profile)
        object.__setattr__(self, "current_payment", current_payment)
        object.__setattr__(self, "sides", sides)
        object.__setattr__(self, "history", history)


def relief_history(arrangements: Iterable[ArrangementRecord], policy: Policy, open_dispute: bool) -> ReliefHistory:
    """The loan's relief history as the API builds it (services.relief._history)."""
    arrs = tuple(arrangements)
    return ReliefHistory(
        restructure_dates=tuple(a.accepted_on for a in arrs if a.plan_type in policy.relief.restructure_plans),
        fee_waiver_dates=tuple(a.accepted_on for a in arrs if a.plan_type == "fee_waiver"),
        open_dispute=open_dispute,
    )


def _outcomes(evaluation: ReliefEvaluation) -> tuple[PlanOutcome, ...]:
    out = []
    for plan in evaluation.plans:
        against = [r.code for r in plan.reasons if r.code in AGAINST_CODES]
        offered = plan.eligible and plan.offer is not None
        if offered and plan.offer is not None:
            t = plan.offer
            out.append(
                PlanOutcome(
                    plan.plan_type,
                    True,
                    True,
                    None,
                    t.waived.late_fees,
                    t.waived.penalty_interest,
                    t.waived.interest,
                    t.payment_amount,
                    t.payment_frequency,
                    t.total_to_repay,
                    t.payment_to_disposable_income,
                )
            )
        else:
            eligible = bool(against) and all(c in AFFORDABILITY_CODES for c in against)
            out.append(PlanOutcome(plan.plan_type, False, eligible, against[0] if against else "not_offered"))
    return tuple(out)


def _history_outcomes(loan: LabLoan, as_of: date, policy: Policy) -> tuple[tuple[str, str, str], ...]:
    """Each settled arrangement (kept or broken as of ``as_of``) with the bucket the loan was in
    the day before it was accepted."""
    out = []
    for a in loan.arrangements:
        if a.accepted_on > as_of:
            continue
        state = arrangement_state(a, loan.payments, as_of)
        if state not in ("kept", "broken"):
            continue
        day = a.accepted_on - timedelta(days=1)
        before = derive_status(
            loan.contract,
            tuple(p for p in loan.payments if p.received_on <= day),
            tuple(x for x in loan.arrangements if x.accepted_on <= day),
            day,
            policy,
            lean=True,
        )
        out.append((a.plan_type, before.bucket, state))
    return tuple(out)


def _same_status_rules(a: Policy, b: Policy) -> bool:
    return a.charges == b.charges and a.buckets == b.buckets


def evaluate_loan(
    loan: LabLoan,
    current: Policy,
    candidate: Policy,
    as_of: date,
    profiles: tuple[HardshipProfile, ...],
) -> LoanOutcome:
    """The loan under both policies, as the API would evaluate it today with the same facts."""
    if loan.facts is not None:
        facts, profile = loan.facts, "on file"
    else:
        chosen = assign_profile(loan.contract.loan_number, profiles)
        facts, profile = chosen.facts(), chosen.name
    # Lean statuses: the engine reads only the unpaid instalments (no views of paid or replaced ones).
    status_now: LoanStatus = derive_status(
        loan.contract, loan.payments, loan.arrangements, as_of, current, lean=True, fen=loan.fen
    )
    status_cand = (
        status_now
        if _same_status_rules(current, candidate)
        else derive_status(loan.contract, loan.payments, loan.arrangements, as_of, candidate, lean=True, fen=loan.fen)
    )
    history_now = relief_history(loan.arrangements, current, loan.open_dispute)
    history_cand = relief_history(loan.arrangements, candidate, loan.open_dispute)
    # The status's figures for the engine, worked out once when both policies derive the same
    # status (they depend on the history only through its highest instalment number).
    figures = None
    if (
        status_cand is status_now
        and history_now.highest_instalment_number == history_cand.highest_instalment_number
        and not loan.open_dispute
        and not status_now.closed
        and status_now.payoff_amount > 0
    ):
        figures = status_figures(status_now, as_of, history_now)
    # The lab prints no comparison with today's schedule and no reason text (the engine makes
    # a text only when it is read): comparisons=False.
    ev_now = evaluate_relief(
        loan.contract, status_now, facts, history_now, as_of, current, comparisons=False, figures=figures
    )
    ev_cand = evaluate_relief(
        loan.contract, status_cand, facts, history_cand, as_of, candidate, comparisons=False, figures=figures
    )
    return LoanOutcome(
        loan_number=loan.contract.loan_number,
        bucket=status_now.bucket,
        profile=profile,
        current_payment=ev_now.current.payment_amount if ev_now.current is not None else ZERO,
        sides=(_outcomes(ev_now), _outcomes(ev_cand)),
        history=_history_outcomes(loan, as_of, current) if loan.arrangements else (),
    )


@dataclass(frozen=True)
class Change:
    """A loan that gains or loses a plan under the candidate, and the rule that decided it."""

    loan_number: str
    bucket: str
    plan_type: str
    direction: str  # gains | loses
    rule: str
    profile: str


def changes_of(outcome: LoanOutcome) -> tuple[Change, ...]:
    out = []
    for now, cand in zip(outcome.sides[0], outcome.sides[1], strict=True):
        if now.offered == cand.offered:
            continue
        if cand.offered:
            out.append(
                Change(outcome.loan_number, outcome.bucket, now.plan_type, "gains", now.deciding or "", outcome.profile)
            )
        else:
            out.append(
                Change(
                    outcome.loan_number, outcome.bucket, now.plan_type, "loses", cand.deciding or "", outcome.profile
                )
            )
    return tuple(out)


def ratio_bin(ratio: Decimal | None) -> str:
    if ratio is None:
        return RATIO_BINS[-1]
    for edge, name in zip(RATIO_EDGES, RATIO_BINS, strict=False):
        if ratio <= edge:
            return name
    return RATIO_BINS[-2]


def _add(d: dict[tuple[str, ...], int], key: tuple[str, ...], n: int = 1) -> None:
    d[key] = d.get(key, 0) + n


def _addm(d: dict[tuple[str, ...], Decimal], key: tuple[str, ...], amount: Decimal) -> None:
    d[key] = d.get(key, ZERO) + amount


@dataclass
class LabReport:
    """The sums over the portfolio; ``add`` one outcome, ``merge`` another partial report.

    Keys are tuples of names: (side, plan, bucket) for counts and money, (plan, direction,
    rule) for changes, (side, plan, bin) for the ratio distribution, (plan, bucket, state)
    for the arrangements history."""

    loans: int = 0
    loans_gaining: int = 0  # loans that gain at least one plan
    loans_losing: int = 0  # loans that lose at least one plan
    by_bucket: dict[tuple[str, ...], int] = field(default_factory=dict)
    by_profile: dict[tuple[str, ...], int] = field(default_factory=dict)
    offered: dict[tuple[str, ...], int] = field(default_factory=dict)
    eligible: dict[tuple[str, ...], int] = field(default_factory=dict)
    changes: dict[tuple[str, ...], int] = field(default_factory=dict)
    changes_by_bucket: dict[tuple[str, ...], int] = field(default_factory=dict)
    waived: dict[tuple[str, ...], Decimal] = field(default_factory=dict)  # (side, plan, kind)
    payments_before: dict[tuple[str, ...], Decimal] = field(default_factory=dict)  # (side, plan)
    payments_after: dict[tuple[str, ...], Decimal] = field(default_factory=dict)  # (side, plan)
    to_repay: dict[tuple[str, ...], Decimal] = field(default_factory=dict)  # (side, plan, bucket)
    ratios: dict[tuple[str, ...], int] = field(default_factory=dict)
    history: dict[tuple[str, ...], int] = field(default_factory=dict)

    def add(self, o: LoanOutcome, changes: tuple[Change, ...] | None = None) -> None:
        """Add one outcome; ``changes``: its ``changes_of(o)`` when the caller has them already."""
        self.loans += 1
        _add(self.by_bucket, (o.bucket,))
        _add(self.by_profile, (o.profile,))
        for side, plans in zip(SIDES, o.sides, strict=True):
            for p in plans:
                key = (side, p.plan_type, o.bucket)
                if p.eligible:
                    _add(self.eligible, key)
                if not p.offered:
                    continue
                _add(self.offered, key)
                _addm(self.waived, (side, p.plan_type, "late_fees"), p.waived_late_fees)
                _addm(self.waived, (side, p.plan_type, "penalty_interest"), p.waived_penalty)
                _addm(self.waived, (side, p.plan_type, "interest"), p.waived_interest)
                if p.frequency == "monthly":
                    _addm(self.payments_before, (side, p.plan_type), o.current_payment)
                    _addm(self.payments_after, (side, p.plan_type), p.payment)
                _addm(self.to_repay, key, p.total_to_repay)
                _add(self.ratios, (side, p.plan_type, ratio_bin(p.ratio)))
        if changes is None:
            changes = changes_of(o)
        for c in changes:
            _add(self.changes, (c.plan_type, c.direction, c.rule))
            _add(self.changes_by_bucket, (c.plan_type, c.direction, c.bucket))
        self.loans_gaining += any(c.direction == "gains" for c in changes)
        self.loans_losing += any(c.direction == "loses" for c in changes)
        for plan, bucket, state in o.history:
            _add(self.history, (plan, bucket, state))

    def merge(self, other: LabReport) -> None:
        self.loans += other.loans
        self.loans_gaining += other.loans_gaining
        self.loans_losing += other.loans_losing
        for name in (
            "by_bucket",
            "by_profile",
            "offered",
            "eligible",
            "changes",
            "changes_by_bucket",
            "ratios",
            "history",
        ):
            mine: dict[tuple[str, ...], int] = getattr(self, name)
            for k, v in getattr(other, name).items():
                _add(mine, k, v)
        for name in ("waived", "payments_before", "payments_after", "to_repay"):
            mine_m: dict[tuple[str, ...], Decimal] = getattr(self, name)
            for k, amount in getattr(other, name).items():
                _addm(mine_m, k, amount)

    def kept_rate(self, plan: str, bucket: str) -> tuple[int, int] | None:
        """(kept, settled) arrangements of this plan accepted in this bucket, None without history."""
        kept = self.history.get((plan, bucket, "kept"), 0)
        broken = self.history.get((plan, bucket, "broken"), 0)
        return (kept, kept + broken) if kept + broken else None

    def expected_collections(self, side: str, plan: str, bucket: str) -> Decimal | None:
        """Estimate: total to repay under the plan for every loan offered it in the bucket, times
        the plan's kept rate in that bucket observed in the ledger; None without history."""
        rate = self.kept_rate(plan, bucket)
        if rate is None:
            return None
        kept, settled = rate
        total = self.to_repay.get((side, plan, bucket), ZERO)
        return (total * kept / settled).quantize(Decimal("0.01"))


def plan_types() -> tuple[str, ...]:
    return PLAN_TYPES
