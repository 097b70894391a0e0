"""Offers compared on one basis, and never a plan that leaves the borrower worse off.

Every offer carries the figures a borrower compares plans by (headline payment and frequency,
number of payments, first and last date, total to repay for the whole loan, difference from
today's schedule); the evaluation carries today's schedule itself. The figures are checked
here against an independent computation in exact rational arithmetic (tests/domain/oracle.py),
and every plan type is checked against the "worse off" rule of docs/policy.md.
"""

import dataclasses
from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction

import pytest

from ledger.domain.account import LoanContract, PaymentRecord, derive_status
from ledger.domain.demo import demo_loans
from ledger.domain.relief import PLAN_TYPES, HardshipFacts, ReliefHistory, evaluate_relief

from . import oracle

D = Decimal
F = Fraction
TODAY = date(2026, 11, 25)


def facts(reason="job_loss", duration="temporary", income="9000", expenses="3000", debts="500"):
    return HardshipFacts(reason, duration, D(income), D(expenses), D(debts))


def evaluate(key, f=None, policy=None, today=TODAY, history=None):
    contract, payments, arrangements = demo_loans(today)[key]
    status = derive_status(contract, payments, arrangements, today, policy)
    if history is None:
        history = ReliefHistory(restructure_dates=tuple(a.accepted_on for a in arrangements), open_dispute=key == "D7")
    return evaluate_relief(contract, status, f or facts(), history, today, policy), contract, status


def offered(ev):
    return {p.plan_type: p for p in ev.plans if p.eligible}


def codes(ev, plan):
    return {r.code for r in ev.plan(plan).reasons}


# ---- an independent model of a demo loan (instalments 1..paid paid on their due dates, nothing else)


class Loan:
    """The loan as the oracle sees it on TODAY: contract schedule, charges of the overdue instalments."""

    def __init__(self, contract: LoanContract, paid: int, today: date = TODAY):
        apr = F(contract.apr)
        day = contract.schedule[0].due_date.day
        self.apr = apr
        self.rows = oracle.schedule(F(contract.principal), apr, contract.term, contract.disbursed_on, day)
        self.unpaid = self.rows[paid:]
        self.overdue = [r for r in self.unpaid if r[0] < today]
        self.to_come = [r for r in self.unpaid if r[0] > today]
        assert len(self.overdue) + len(self.to_come) == len(self.unpaid)  # nothing falls due today in the demo
        self.penalty = sum((oracle.penalty(r[1], apr, (today - r[0]).days) for r in self.overdue), F(0))
        self.late_fees = sum((oracle.late_fee(r[3]) for r in self.overdue), F(0))
        self.due_now = sum((r[3] for r in self.overdue), F(0)) + self.penalty + self.late_fees
        self.total = self.due_now + sum((r[3] for r in self.to_come), F(0))
        self.instalment = self.to_come[0][3]
        self.balance = sum((r[1] for r in self.unpaid), F(0)) + sum((r[2] for r in self.overdue), F(0))


def demo_loan(key, paid):
    contract = demo_loans(TODAY)[key][0]
    return Loan(contract, paid)


def dec(x: Fraction) -> Decimal:
    value = oracle.dec(x)
    assert not value.is_nan(), x
    return value


def quarterly_schedule(p: Fraction, apr: Fraction, n: int, start: date):
    """oracle.schedule for a 3-month period (period rate APR / 4)."""
    r = apr / 4
    a = oracle.annuity(p, r, n)
    bal, out = p, []
    for k in range(1, n + 1):
        i = oracle.fen(bal * r)
        prin = bal if k == n else a - i
        out.append((oracle.plus_months(start, 3 * k), prin, i, prin + i))
        bal -= prin
    return out


# ---- today's schedule


@pytest.mark.parametrize("key,paid", [("D1", 3), ("D2", 6), ("D3", 2), ("D4", 5)])
def test_todays_schedule_is_the_amount_due_now_then_every_instalment_to_come(policy, key, paid):
    ev, _, _ = evaluate(key, policy=policy)
    loan = demo_loan(key, paid)
    cur = ev.current
    assert cur.payment_amount == dec(loan.instalment) and cur.payment_frequency == "monthly"
    assert cur.amount_due_now == dec(loan.due_now)
    assert cur.total_to_repay == dec(loan.total)
    assert cur.payment_count == 1 + len(loan.to_come)  # what is overdue is one payment, due now
    assert cur.first_payment_date == TODAY
    assert cur.next_instalment_date == loan.to_come[0][0]
    assert cur.last_payment_date == loan.to_come[-1][0]


def test_a_current_loan_has_nothing_due_now(policy):
    ev, _, status = evaluate("D5", policy=policy)
    cur = ev.current
    assert cur.amount_due_now == 0 and cur.first_payment_date == status.next_due.due_date
    assert cur.payment_count == sum(1 for i in status.instalments if i.state == "upcoming")


# ---- the comparison figures of each plan, against the oracle


def test_term_extension_figures_equal_an_independent_computation(policy):
    ev, _, _ = evaluate("D1", policy=policy)
    loan = demo_loan("D1", 3)
    limit = F(2750)
    cap = min(limit, loan.instalment)
    m = len(loan.to_come)
    ext = next(
        e for e in range(1, 13) if all(r[3] <= cap for r in oracle.schedule(loan.balance, loan.apr, m + e, TODAY))
    )
    rows = oracle.schedule(loan.balance, loan.apr, m + ext, TODAY)
    total = sum((r[3] for r in rows), F(0))
    te = ev.plan("term_extension")
    assert te.eligible
    c = te.comparison
    assert len(te.offer.schedule) == m + ext and ext >= 1
    assert c.payment_amount == te.offer.payment_amount == dec(rows[0][3])
    assert c.payment_frequency == "monthly" and c.later_payment_amount is None
    assert c.payment_count == m + ext
    assert (c.first_payment_date, c.last_payment_date) == (rows[0][0], rows[-1][0])
    assert c.total_to_repay == te.offer.total_to_repay == dec(total)
    assert c.payment_change == dec(rows[0][3]) - dec(loan.instalment) < 0
    assert c.total_change == dec(total) - dec(loan.total)


def test_fee_waiver_is_compared_on_the_whole_loan_not_the_overdue_part_only(policy):
    ev, _, _ = evaluate("D1", policy=policy)
    loan = demo_loan("D1", 3)
    waived = loan.late_fees + oracle.fen(loan.penalty / 2)  # M1: all late fees, half the penalty interest
    fw = ev.plan("fee_waiver")
    c = fw.comparison
    assert c.payment_amount == fw.offer.payment_amount == dec(loan.due_now - waived)
    assert c.payment_frequency == "once"
    assert c.later_payment_amount == dec(loan.instalment)  # then today's instalments, unchanged
    assert c.payment_count == 1 + len(loan.to_come)
    assert c.first_payment_date == TODAY + timedelta(days=7)
    assert c.last_payment_date == loan.to_come[-1][0]
    assert c.total_to_repay == dec(loan.total - waived)
    assert c.total_change == -dec(waived) and c.payment_change is None


def test_deferral_figures_equal_an_independent_computation(policy):
    ev, _, _ = evaluate("D1", policy=policy)
    loan = demo_loan("D1", 3)
    n = len(loan.to_come) - 1
    rows = oracle.schedule(loan.balance, loan.apr, n, oracle.plus_months(TODAY, 1), TODAY.day)
    charges = loan.penalty + loan.late_fees
    first = rows[0][3] + charges
    total = sum((r[3] for r in rows), F(0)) + charges
    d = ev.plan("deferral")
    c = d.comparison
    assert c.payment_amount == d.offer.payment_amount == dec(first)  # the headline is the first payment
    assert c.later_payment_amount == dec(rows[1][3])
    assert c.payment_count == n
    assert (c.first_payment_date, c.last_payment_date) == (rows[0][0], rows[-1][0])
    assert c.total_to_repay == dec(total)
    assert c.payment_change == dec(rows[1][3] - loan.instalment)
    assert c.total_change == dec(total) - dec(loan.total)


@pytest.mark.parametrize("key,paid", [("D1", 3), ("D2", 6), ("D4", 5)])
def test_quarterly_headline_is_its_first_payment(policy, key, paid):
    ev, _, _ = evaluate(key, facts(reason="irregular_income", income="30000"), policy=policy)
    loan = demo_loan(key, paid)
    quarters = -(-len(loan.to_come) // 3)
    rows = quarterly_schedule(loan.balance, loan.apr, quarters, TODAY)
    first = rows[0][3] + loan.penalty + loan.late_fees
    q = ev.plan("quarterly")
    assert q.eligible
    o, c = q.offer, q.comparison
    assert o.payment_amount == o.schedule[0].amount == o.first_payment_amount == dec(first)
    assert c.payment_amount == dec(first) and c.payment_frequency == "quarterly"
    assert c.later_payment_amount == dec(rows[1][3])
    assert c.payment_count == quarters
    assert (c.first_payment_date, c.last_payment_date) == (rows[0][0], rows[-1][0])
    assert c.payment_change == dec(rows[1][3]) - 3 * dec(loan.instalment)  # against a quarter of today's schedule
    assert c.total_change == c.total_to_repay - dec(loan.total)


def test_settlement_is_compared_with_everything_today_s_schedule_asks(policy):
    ev, _, _ = evaluate("D3", policy=policy)
    loan = demo_loan("D3", 2)
    overdue_interest = sum((r[2] for r in loan.overdue), F(0))
    amount = sum((r[1] for r in loan.unpaid), F(0)) + oracle.fen(overdue_interest / 2)
    s = ev.plan("settlement")
    c = s.comparison
    assert c.payment_amount == c.total_to_repay == dec(amount)
    assert c.payment_count == 1 and c.first_payment_date == c.last_payment_date == TODAY + timedelta(days=14)
    assert c.later_payment_amount is None and c.payment_change is None
    assert c.total_change == -dec(loan.total - amount)


def test_reduced_rate_figures_equal_an_independent_computation(policy):
    f = facts(reason="job_loss", duration="long_term", income="20000")
    ev, contract, _ = evaluate("D2", f, policy=policy)
    loan = demo_loan("D2", 6)
    apr = max(loan.apr / 2, F(6, 100))
    cap = min(F(ev.affordability_limit), loan.instalment)
    m = len(loan.to_come)
    ext = next(e for e in range(0, 13) if all(r[3] <= cap for r in oracle.schedule(loan.balance, apr, m + e, TODAY)))
    rows = oracle.schedule(loan.balance, apr, m + ext, TODAY)
    rr = ev.plan("reduced_rate")
    assert rr.eligible and rr.offer.apr < contract.apr
    assert len(rr.offer.schedule) == m + ext
    assert rr.comparison.payment_amount == dec(rows[0][3]) <= dec(loan.instalment)
    assert rr.comparison.total_to_repay == dec(sum((r[3] for r in rows), F(0)))


# ---- never worse off


def worse_off_reason(plan_type, offer, comparison, current, contract):
    """docs/policy.md "Never worse off", written again from the words (None = the plan is fine)."""
    regular = [i.amount - i.penalty_interest - i.late_fees for i in offer.schedule]
    if plan_type == "term_extension":
        if len(offer.schedule) <= current.payment_count - (1 if current.amount_due_now > 0 else 0):
            return "extends nothing"
        if max(regular) > current.payment_amount:
            return "monthly payment above today's"
    if plan_type == "reduced_rate":
        if offer.apr >= contract.apr:
            return "rate not lower"
        if max(regular) > current.payment_amount:
            return "monthly payment above today's"
    if plan_type in ("fee_waiver", "settlement") and comparison.total_change >= 0:
        return "total not lower"
    if plan_type in ("deferral", "quarterly") and comparison.first_payment_date <= current.next_instalment_date:
        return "no payment holiday"
    lower_payment = comparison.payment_change is not None and comparison.payment_change < 0
    later = comparison.first_payment_date > current.next_instalment_date
    if not (comparison.total_change < 0 or lower_payment or later):
        return "no relief at all"
    return None


FACTS = (
    facts(),
    facts(income="4000", expenses="1000", debts="0"),
    facts(income="40000"),
    facts(reason="irregular_income"),
    facts(reason="irregular_income", income="40000"),
    facts(reason="illness", duration="long_term", income="30000"),
    facts(reason="job_loss", duration="long_term", income="6000", expenses="2000", debts="0"),
)


@pytest.mark.parametrize("key", ["D1", "D2", "D3", "D4", "D5", "D6"])
def test_no_offered_plan_of_any_type_leaves_the_borrower_worse_off(policy, key):
    seen = set()
    for f in FACTS:
        ev, contract, _ = evaluate(key, f, policy=policy)
        for p in ev.plans:
            assert (p.comparison is not None) == p.eligible
            if p.eligible:
                seen.add(p.plan_type)
                assert worse_off_reason(p.plan_type, p.offer, p.comparison, ev.current, contract) is None, p.plan_type
    assert seen  # every demo loan in hardship gets something


def test_every_plan_type_is_offered_somewhere_and_checked(policy):
    seen = set()
    for key in ("D1", "D2", "D3", "D4"):
        for f in FACTS:
            ev, _, _ = evaluate(key, f, policy=policy)
            seen |= set(offered(ev))
    assert seen == set(PLAN_TYPES)


@pytest.mark.parametrize("key", ["D1", "D2", "D4"])
def test_a_term_extension_always_extends_and_lowers_the_monthly_payment(policy, key):
    """The reported case: a "term extension" of 0 months whose payment was above today's instalment."""
    ev, _, status = evaluate(key, policy=policy)
    te = ev.plan("term_extension")
    assert te.eligible
    remaining = sum(1 for i in status.instalments if i.state == "upcoming")
    assert len(te.offer.schedule) > remaining
    assert te.offer.largest_payment <= ev.current.payment_amount
    assert te.comparison.payment_change < 0


def test_term_extension_refused_when_the_longest_extension_does_not_lower_the_payment(policy):
    short = dataclasses.replace(
        policy,
        plans=dataclasses.replace(
            policy.plans, term_extension=dataclasses.replace(policy.plans.term_extension, max_extension_months=1)
        ),
    )
    ev, _, _ = evaluate("D2", facts(income="40000"), policy=short)
    te = ev.plan("term_extension")
    assert not te.eligible and te.offer is None and te.comparison is None
    (r,) = [r for r in te.reasons if r.code == "no_lower_payment"]
    assert "2433.85" in r.en and "2433.85" in r.zh  # today's instalment, named


def test_term_extension_refused_when_the_loan_cannot_be_extended(policy):
    none = dataclasses.replace(
        policy,
        plans=dataclasses.replace(
            policy.plans, term_extension=dataclasses.replace(policy.plans.term_extension, max_total_term_months=12)
        ),
    )
    ev, _, _ = evaluate("D1", policy=none)
    assert not ev.plan("term_extension").eligible and "no_extension_possible" in codes(ev, "term_extension")


def test_reduced_rate_refused_when_the_rate_would_not_be_lower(policy):
    cheap = LoanContract.create("HX-CHEAP", D("30000.00"), D("0.05"), 12, date(2026, 5, 10))
    as_of = cheap.schedule[4].due_date + timedelta(days=40)
    status = derive_status(cheap, [], [], as_of, policy)
    ev = evaluate_relief(cheap, status, facts(duration="long_term", income="50000"), ReliefHistory(), as_of, policy)
    assert not ev.plan("reduced_rate").eligible and "no_lower_rate" in codes(ev, "reduced_rate")


def test_fee_waiver_refused_when_it_would_waive_nothing(policy):
    stingy = dataclasses.replace(
        policy,
        plans=dataclasses.replace(
            policy.plans,
            fee_waiver=dataclasses.replace(
                policy.plans.fee_waiver,
                late_fee_waiver_share=D("0"),
                penalty_waiver_share_m1=D("0"),
                penalty_waiver_share_later=D("0"),
            ),
        ),
    )
    ev, _, _ = evaluate("D1", policy=stingy)
    assert not ev.plan("fee_waiver").eligible and "nothing_waived" in codes(ev, "fee_waiver")


def test_settlement_refused_when_it_saves_nothing(policy):
    """A matured loan with no charges: all principal plus all overdue interest is exactly what is owed."""
    free = dataclasses.replace(
        policy,
        charges=dataclasses.replace(
            policy.charges,
            penalty_rate_multiplier=D("0"),
            late_fee_rate=D("0"),
            late_fee_min=D("0"),
            late_fee_max=D("0"),
        ),
        plans=dataclasses.replace(
            policy.plans, settlement=dataclasses.replace(policy.plans.settlement, overdue_interest_share=D("1"))
        ),
    )
    c = LoanContract.create("HX-OLD", D("6000.00"), D("0.18"), 6, date(2025, 1, 10))
    as_of = c.schedule[-1].due_date + timedelta(days=100)
    status = derive_status(c, [], [], as_of, free)
    ev = evaluate_relief(c, status, facts(income="50000"), ReliefHistory(), as_of, free)
    assert ev.current.total_to_repay == status.payoff_amount
    assert not ev.plan("settlement").eligible and "no_saving" in codes(ev, "settlement")


def test_a_matured_loan_compares_with_the_amount_due_now(policy):
    c = LoanContract.create("HX-OLD", D("6000.00"), D("0.18"), 6, date(2025, 1, 10))
    as_of = c.schedule[-1].due_date + timedelta(days=20)
    paid = [PaymentRecord(f"P{s.number}", s.amount, s.due_date) for s in c.schedule[:-1]]
    status = derive_status(c, paid, [], as_of, policy)
    ev = evaluate_relief(c, status, facts(income="50000"), ReliefHistory(), as_of, policy)
    cur = ev.current
    assert cur.payment_amount == cur.amount_due_now == cur.total_to_repay == status.overdue.total
    assert (
        cur.payment_count == 1 and cur.first_payment_date == cur.last_payment_date == cur.next_instalment_date == as_of
    )
    te = ev.plan("term_extension")
    assert te.eligible and te.comparison.payment_change < 0


def test_nothing_owed_or_an_open_dispute_has_no_comparison(policy):
    ev, _, _ = evaluate("D7", policy=policy)
    assert all(p.comparison is None for p in ev.plans)
