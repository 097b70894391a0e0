"""Relief engine: each rule's yes and no, offers that add up, D1..D7 as in demo-portfolio.md."""

import dataclasses
from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction

import pytest

from ledger.domain.account import LoanContract, PaymentRecord, derive_status
from ledger.domain.demo import demo_loans
from ledger.domain.policy import Bucket
from ledger.domain.relief import PLAN_TYPES, HardshipFacts, ReliefHistory, build_arrangement, evaluate_relief
from ledger.domain.schedule import annuity_payment, period_rate

from . import oracle

D = Decimal
TODAY = date(2026, 11, 25)
RESTRUCTURES = ("deferral", "term_extension", "reduced_rate", "quarterly")


def facts(reason="job_loss", duration="temporary", income="9000", expenses="3000", debts="500"):
    return HardshipFacts(reason, duration, D(income), D(expenses), D(debts))


def evaluate(key, f=None, history=None, today=TODAY, policy=None):
    contract, payments, arrangements = demo_loans(today)[key]
    status = derive_status(contract, payments, arrangements, today, policy)
    if history is None:
        history = ReliefHistory(restructure_dates=tuple(a.accepted_on for a in arrangements), open_dispute=key == "D7")
    return evaluate_relief(contract, status, f or facts(), history, today, policy), contract, status


def eligible(ev):
    return {p.plan_type for p in ev.plans if p.eligible}


def codes(ev, plan):
    return {r.code for r in ev.plan(plan).reasons}


def test_every_plan_is_always_returned_with_bilingual_reasons(policy):
    for key in ("D1", "D2", "D3", "D4", "D5", "D6", "D7"):
        ev, _, _ = evaluate(key, policy=policy)
        assert tuple(p.plan_type for p in ev.plans) == PLAN_TYPES
        for p in ev.plans:
            assert p.reasons and all(r.code and r.zh and r.en for r in p.reasons)
            assert (p.offer is not None) == p.eligible


def test_d1_temporary_hardship_gets_fee_waiver_deferral_and_term_extension(policy):
    ev, _, status = evaluate("D1", policy=policy)
    assert eligible(ev) == {"fee_waiver", "deferral", "term_extension"}
    assert not ev.needs_human_review
    assert ev.disposable_income == D("5500.00") and ev.affordability_limit == D("2750.00")
    assert {"not_long_term", "dpd_too_low"} <= codes(ev, "reduced_rate")
    assert "not_irregular_income" in codes(ev, "quarterly")
    assert "dpd_too_low" in codes(ev, "settlement")
    fw = ev.plan("fee_waiver").offer
    # M1: late fees 100% and penalty interest 50% waived; the rest is one payment in 7 days
    assert fw.waived.late_fees == status.overdue.late_fees
    assert fw.waived.penalty_interest == oracle.dec(oracle.fen(Fraction(status.overdue.penalty_interest) / 2))
    assert fw.total_to_repay == status.overdue.total - fw.waived.total
    assert fw.payment_frequency == "once" and fw.valid_days == 7 and fw.replaces == (4,)


def test_deferral_needs_temporary_hardship(policy):
    ev, _, _ = evaluate("D1", facts(duration="long_term"), policy=policy)
    assert not ev.plan("deferral").eligible and "not_temporary" in codes(ev, "deferral")


def test_deferral_offer_has_a_holiday_then_re_amortises_at_contract_rate(policy):
    ev, contract, status = evaluate("D1", policy=policy)
    o = ev.plan("deferral").offer
    assert o.holiday_months == 1
    assert o.schedule[0].due_date == date(2027, 1, 25)  # one period after the 1-month holiday
    remaining = sum(1 for i in status.instalments if i.due_date > TODAY and i.state == "upcoming")
    assert len(o.schedule) == remaining - 1
    balance = status.payoff_amount - status.overdue.penalty_interest - status.overdue.late_fees
    assert sum(i.principal for i in o.schedule) == balance
    regular = annuity_payment(balance, period_rate(contract.apr), remaining - 1)
    assert o.schedule[1].amount == regular
    assert o.schedule[0].penalty_interest == status.overdue.penalty_interest  # carried, not waived
    charges = status.overdue.penalty_interest + status.overdue.late_fees
    assert o.payment_amount == o.schedule[0].amount == o.schedule[0].principal + o.schedule[0].interest + charges


def test_d6_restructures_refused_within_twelve_months_with_the_date_in_both_languages(policy):
    ev, _, _ = evaluate("D6", policy=policy)
    accepted = demo_loans(TODAY)["D6"][2][0].accepted_on
    for plan in RESTRUCTURES:
        d = ev.plan(plan)
        assert not d.eligible
        (r,) = [r for r in d.reasons if r.code == "restructure_limit"]
        assert accepted.isoformat() in r.zh and accepted.isoformat() in r.en
    assert ev.plan("fee_waiver").eligible  # fee waivers are not restructures


def test_restructure_allowed_again_after_twelve_months(policy):
    ev, _, _ = evaluate("D1", history=ReliefHistory(restructure_dates=(date(2025, 11, 25),)), policy=policy)
    assert ev.plan("term_extension").eligible
    ev2, _, _ = evaluate("D1", history=ReliefHistory(restructure_dates=(date(2025, 11, 26),)), policy=policy)
    assert not ev2.plan("term_extension").eligible


def test_d7_open_dispute_refuses_every_plan(policy):
    ev, _, _ = evaluate("D7", policy=policy)
    assert eligible(ev) == set()
    assert all([r.code for r in p.reasons] == ["dispute_open"] for p in ev.plans)


def test_d5_current_loan_gets_no_fee_waiver(policy):
    ev, _, _ = evaluate("D5", policy=policy)
    assert not ev.plan("fee_waiver").eligible and "dpd_too_low" in codes(ev, "fee_waiver")


def test_fee_waiver_refused_when_one_was_granted_in_the_last_twelve_months(policy):
    ev, _, _ = evaluate("D1", history=ReliefHistory(fee_waiver_dates=(date(2026, 3, 1),)), policy=policy)
    assert not ev.plan("fee_waiver").eligible and "recent_fee_waiver" in codes(ev, "fee_waiver")


def test_fee_waiver_in_m2_waives_all_penalty_interest(policy):
    ev, _, status = evaluate("D2", policy=policy)
    o = ev.plan("fee_waiver").offer
    assert o.waived.penalty_interest == status.overdue.penalty_interest
    assert o.total_to_repay == status.overdue.principal + status.overdue.interest


def test_d3_long_overdue_gets_settlement_not_deferral(policy):
    ev, _, status = evaluate("D3", policy=policy)
    assert ev.plan("settlement").eligible
    assert not ev.plan("deferral").eligible and "dpd_too_high" in codes(ev, "deferral")
    assert not ev.plan("term_extension").eligible
    o = ev.plan("settlement").offer
    unpaid_principal = sum(i.unpaid_principal for i in status.instalments)
    assert o.total_to_repay == unpaid_principal + oracle.dec(oracle.fen(Fraction(status.overdue.interest) / 2))
    assert o.valid_days == 14 and o.payment_frequency == "once"


def test_reduced_rate_needs_long_term_hardship_and_31_to_180_dpd(policy):
    ev, contract, _ = evaluate("D2", facts(reason="job_loss", duration="long_term", income="20000"), policy=policy)
    d = ev.plan("reduced_rate")
    assert d.eligible and d.offer.apr == max(contract.apr / 2, D("0.06"))
    assert d.offer.waived.interest > 0
    no_temp, _, _ = evaluate("D2", facts(reason="job_loss", duration="temporary", income="20000"), policy=policy)
    assert "not_long_term" in codes(no_temp, "reduced_rate")
    no_reason, _, _ = evaluate("D2", facts(reason="income_drop", duration="long_term", income="20000"), policy=policy)
    assert "not_long_term" in codes(no_reason, "reduced_rate")
    early, _, _ = evaluate("D4", facts(reason="illness", duration="long_term"), policy=policy)
    assert "dpd_too_low" in codes(early, "reduced_rate")


def test_reduced_rate_refused_beyond_180_dpd(policy):
    c = LoanContract.create("HX-OLD", D("30000.00"), D("0.18"), 24, date(2025, 1, 10))
    as_of = c.schedule[0].due_date + timedelta(days=200)
    s = derive_status(c, [], [], as_of, policy)
    ev = evaluate_relief(c, s, facts(duration="long_term", income="50000"), ReliefHistory(), as_of, policy)
    assert s.days_past_due == 200 and "dpd_too_high" in codes(ev, "reduced_rate")


def test_quarterly_needs_irregular_income(policy):
    ev, _, _ = evaluate("D1", facts(reason="irregular_income"), policy=policy)
    q = ev.plan("quarterly")
    assert q.eligible and q.offer.payment_frequency == "quarterly"
    assert q.offer.largest_payment <= ev.disposable_income * D("1.5")
    assert [i.due_date for i in q.offer.schedule[:2]] == [date(2027, 2, 25), date(2027, 5, 25)]


def test_low_income_makes_nothing_affordable_and_needs_human_review(policy):
    ev, _, _ = evaluate("D2", facts(income="3000", expenses="2900", debts="0"), policy=policy)
    for plan in ("deferral", "term_extension"):
        assert not ev.plan(plan).eligible and "not_affordable" in codes(ev, plan)
    assert ev.needs_human_review is (not eligible(ev) or ev.disposable_income <= 0)
    broke, _, _ = evaluate("D1", facts(income="3000", expenses="3000", debts="500"), policy=policy)
    assert broke.needs_human_review and "no_disposable_income" in codes(broke, "term_extension")
    assert {r.code for r in broke.review_reasons} >= {"no_disposable_income"}


def test_term_extension_picks_the_smallest_affordable_extension(policy):
    contract, payments, arrangements = demo_loans(TODAY)["D2"]
    status = derive_status(contract, payments, arrangements, TODAY, policy)
    balance = status.payoff_amount - status.overdue.penalty_interest - status.overdue.late_fees
    m = sum(1 for i in status.instalments if i.state == "upcoming")
    r = period_rate(contract.apr)
    target_ext = 5
    limit = annuity_payment(balance, r, m + target_ext) + D("0.50")
    assert annuity_payment(balance, r, m + target_ext - 1) > limit
    disposable = limit * 2
    ev = evaluate_relief(
        contract, status, facts(income=str(disposable), expenses="0", debts="0"), ReliefHistory(), TODAY, policy
    )
    o = ev.plan("term_extension").offer
    assert len(o.schedule) == m + target_ext
    assert (
        o.waived.late_fees == status.overdue.late_fees and o.waived.penalty_interest == status.overdue.penalty_interest
    )


def test_every_offer_schedule_sums_to_total_to_repay(policy):
    for key in ("D1", "D2", "D3", "D4", "D6"):
        for f in (
            facts(),
            facts(reason="irregular_income"),
            facts(reason="illness", duration="long_term", income="30000"),
        ):
            ev, _, _ = evaluate(key, f, policy=policy)
            for p in ev.plans:
                if p.offer:
                    assert sum(i.amount for i in p.offer.schedule) == p.offer.total_to_repay
                    assert all(
                        i.amount == i.principal + i.interest + i.penalty_interest + i.late_fees
                        for i in p.offer.schedule
                    )
                    assert p.offer.payment_to_disposable_income == (
                        p.offer.largest_payment / ev.disposable_income
                    ).quantize(D("0.01"))


def test_accepted_fee_waiver_paid_in_time_is_kept_and_clears_the_arrears(policy):
    contract, payments, arrangements = demo_loans(TODAY)["D1"]
    ev, _, _ = evaluate("D1", policy=policy)
    offer = ev.plan("fee_waiver").offer
    accepted = TODAY + timedelta(days=1)
    arr = build_arrangement(offer, "fee_waiver", "A-1", accepted)
    assert arr.schedule[0].due_date == accepted + timedelta(days=7)
    paid = payments + (PaymentRecord("FW", offer.total_to_repay, accepted + timedelta(days=3)),)
    s = derive_status(contract, paid, (arr,), accepted + timedelta(days=8), policy)
    assert s.arrangement_states == {"A-1": "kept"} and s.days_past_due == 0 and s.overdue.total == 0
    unpaid = derive_status(contract, payments, (arr,), accepted + timedelta(days=8), policy)
    assert unpaid.arrangement_states == {"A-1": "broken"} and unpaid.days_past_due == 24


def test_accepted_term_extension_becomes_the_effective_schedule(policy):
    contract, payments, _ = demo_loans(TODAY)["D1"]
    ev, _, _ = evaluate("D1", policy=policy)
    offer = ev.plan("term_extension").offer
    arr = build_arrangement(offer, "term_extension", "A-2", TODAY)
    s = derive_status(contract, payments, (arr,), TODAY, policy)
    assert s.days_past_due == 0 and s.overdue.total == 0 and s.active_arrangement_id == "A-2"
    assert s.next_due.due_date == offer.schedule[0].due_date and s.next_due.amount == offer.schedule[0].amount
    assert s.payoff_amount == sum(i.principal for i in offer.schedule)


def test_offer_instalments_are_numbered_after_every_earlier_arrangement(policy):
    ev, contract, _ = evaluate("D6", policy=policy)
    assert (
        ev.plan("fee_waiver").offer.schedule[0].number == contract.term + 1
    )  # broken plan's numbers are not in the status
    d6_arr = demo_loans(TODAY)["D6"][2][0]
    highest = max(i.number for i in d6_arr.schedule)
    ev2, _, _ = evaluate(
        "D6",
        history=ReliefHistory(restructure_dates=(d6_arr.accepted_on,), highest_instalment_number=highest),
        policy=policy,
    )
    assert ev2.plan("fee_waiver").offer.schedule[0].number == highest + 1


@pytest.mark.parametrize(
    "buckets",
    [
        (Bucket("current", 0, 0), Bucket("overdue", 1, None)),
        (Bucket("all", 0, None),),
    ],
)
def test_fee_waiver_works_with_any_valid_bucket_list(policy, buckets):
    """The policy file accepts any contiguous bucket list (one bucket is enough): the fee waiver
    must not assume a third bucket exists. Up to the end of the first overdue bucket (or with no
    later bucket at all) the early share applies."""
    short = dataclasses.replace(policy, buckets=buckets)
    ev, _, status = evaluate("D2", policy=short)
    o = ev.plan("fee_waiver").offer
    share = short.plans.fee_waiver.penalty_waiver_share_m1
    assert o.waived.penalty_interest == (status.overdue.penalty_interest * share).quantize(D("0.01"))
