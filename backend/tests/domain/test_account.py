"""Replay of contract + payments + arrangements (worked examples; expected values from oracle.py or by hand)."""

from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction

from ledger.domain.account import ArrangementRecord, LoanContract, PaymentRecord, arrangement_state, derive_status
from ledger.domain.schedule import ScheduledInstalment

from . import oracle

D = Decimal


def loan(disbursed=date(2025, 12, 31), principal="12000.00", apr="0.18", term=12):
    return LoanContract.create("HX-T", D(principal), D(apr), term, disbursed)


def pay(amount, on, ref=None):
    return PaymentRecord(ref or f"P-{on}-{amount}", D(amount), on)


def test_penalty_accrues_every_calendar_day_across_month_ends(policy):
    c = loan()  # instalment 1 due 2026-01-31
    inst = c.schedule[0]
    assert inst.due_date == date(2026, 1, 31)
    s = derive_status(c, [], [], date(2026, 3, 2), policy)
    days = (date(2026, 3, 2) - date(2026, 1, 31)).days  # Feb 1 .. Mar 2 = 28 + 2 = 30 days
    assert days == 30 and s.days_past_due == 30
    first = s.instalments[0]
    assert first.penalty_interest == oracle.dec(oracle.penalty(Fraction(inst.principal), Fraction(c.apr), 30))
    # instalment 2 (due Feb 28) is 2 days past due on Mar 2: 2 days of penalty, no late fee yet
    second = s.instalments[1]
    assert second.due_date == date(2026, 2, 28)
    assert second.penalty_interest == oracle.dec(oracle.penalty(Fraction(c.schedule[1].principal), Fraction(c.apr), 2))
    assert second.late_fee == 0


def test_late_fee_is_charged_at_exactly_three_days_past_due_not_two(policy):
    c = loan()
    due = c.schedule[0].due_date
    assert derive_status(c, [], [], due + timedelta(days=2), policy).overdue.late_fees == 0
    s3 = derive_status(c, [], [], due + timedelta(days=3), policy)
    assert s3.overdue.late_fees == D("50.00")  # 5% of 1100.16 = 55.01 -> capped at 50.00
    s40 = derive_status(c, [], [], due + timedelta(days=20), policy)
    assert s40.instalments[0].late_fee == D("50.00")  # charged once, not again


def test_late_fee_not_charged_when_paid_before_third_day(policy):
    c = loan()
    due = c.schedule[0].due_date
    s = derive_status(
        c, [pay(c.schedule[0].amount + D("0.63"), due + timedelta(days=2))], [], due + timedelta(days=10), policy
    )
    assert s.instalments[0].late_fee == 0
    assert s.instalments[0].state == "paid"


def test_late_fee_floor_and_percentage(policy):
    small = LoanContract.create("HX-S", D("1000.00"), D("0.12"), 12, date(2026, 1, 10))  # A = 88.85 -> 4.44 -> 10
    s = derive_status(small, [], [], small.schedule[0].due_date + timedelta(days=3), policy)
    assert s.overdue.late_fees == D("10.00")
    mid = LoanContract.create("HX-M", D("8000.00"), D("0.12"), 12, date(2026, 1, 10))  # A = 710.79 -> 35.54
    s = derive_status(mid, [], [], mid.schedule[0].due_date + timedelta(days=3), policy)
    assert s.overdue.late_fees == oracle.dec(oracle.late_fee(Fraction(mid.schedule[0].amount))) == D("35.54")


def test_partial_payment_pays_fee_then_penalty_then_interest_then_principal_oldest_first(policy):
    c = loan()
    i1, i2 = c.schedule[0], c.schedule[1]
    as_of = date(2026, 3, 10)  # i1 38 DPD, i2 10 DPD, both with late fees
    before = derive_status(c, [], [], as_of - timedelta(days=1), policy)
    b1 = before.instalments[0]
    # pay the late fee + penalty of i1 + 100.00: 100.00 goes to i1's interest (180.00)
    amount = b1.late_fee + b1.penalty_interest + D("100.00")
    s = derive_status(c, [pay(amount, as_of)], [], as_of, policy)
    v1, v2 = s.instalments[0], s.instalments[1]
    assert v1.unpaid_charges == v1.penalty_interest - b1.penalty_interest  # only today's accrual left
    assert v1.unpaid_interest == i1.interest - D("100.00")
    assert v1.unpaid_principal == i1.principal
    assert v2.paid == 0 and v2.unpaid_interest == i2.interest
    # a second payment that covers i1's interest and some principal leaves i2 untouched
    s2 = derive_status(
        c,
        [pay(amount, as_of), pay("100.00", as_of + timedelta(days=1), "second")],
        [],
        as_of + timedelta(days=1),
        policy,
    )
    w1 = s2.instalments[0]
    assert w1.unpaid_interest == 0
    # the payment is allocated before that day's accrual: it pays yesterday's penalty, 80.00 interest, then principal
    paid_to_principal = D("100.00") - (i1.interest - D("100.00")) - v1.unpaid_charges
    assert w1.unpaid_principal == i1.principal - paid_to_principal
    # that day's penalty accrues on the reduced principal
    assert w1.unpaid_charges == oracle.dec(oracle.penalty(Fraction(w1.unpaid_principal), Fraction(c.apr), 1))
    assert s2.instalments[1].paid == 0


def test_excess_after_overdue_and_due_goes_to_next_instalment_interest_first(policy):
    c = loan()
    i1, i2 = c.schedule[0], c.schedule[1]
    s = derive_status(c, [pay(i1.amount + D("10.00"), i1.due_date)], [], i1.due_date, policy)
    assert s.instalments[0].state == "paid"
    assert s.instalments[1].paid == D("10.00") and s.instalments[1].unpaid_interest == i2.interest - D("10.00")
    assert s.days_past_due == 0 and s.bucket == "M0"


def test_payment_of_payoff_closes_the_loan_and_excess_becomes_refund(policy):
    c = loan()
    as_of = date(2026, 2, 10)  # i1 10 DPD
    s = derive_status(c, [], [], as_of, policy)
    # payoff on the same day: charges + interest of due instalments + all principal (no future interest)
    expected_payoff = s.overdue.late_fees + s.overdue.penalty_interest + c.schedule[0].interest + c.principal
    # the payment is allocated before the day's accrual, so take yesterday's charges
    s_prev = derive_status(c, [], [], as_of - timedelta(days=1), policy)
    payoff_at_payment = (
        s_prev.overdue.late_fees + s_prev.overdue.penalty_interest + c.schedule[0].interest + c.principal
    )
    assert s.payoff_amount == expected_payoff
    paid = derive_status(c, [pay(payoff_at_payment + D("25.50"), as_of)], [], as_of + timedelta(days=40), policy)
    assert paid.closed and paid.closed_on == as_of
    assert paid.refund_owed == D("25.50")
    assert paid.payoff_amount == 0 and paid.days_past_due == 0 and paid.overdue.total == 0
    assert all(i.state == "paid" for i in paid.instalments)
    later = derive_status(
        c,
        [pay(payoff_at_payment, as_of), pay("5.00", as_of + timedelta(days=3), "x")],
        [],
        as_of + timedelta(days=5),
        policy,
    )
    assert later.closed and later.refund_owed == D("5.00")


def test_payment_just_below_payoff_does_not_close(policy):
    c = loan()
    as_of = date(2026, 2, 10)
    prev = derive_status(c, [], [], as_of - timedelta(days=1), policy)
    payoff = prev.overdue.late_fees + prev.overdue.penalty_interest + c.schedule[0].interest + c.principal
    s = derive_status(c, [pay(payoff - D("0.01"), as_of)], [], as_of, policy)
    assert not s.closed and s.refund_owed == 0


def test_current_loan_has_nothing_overdue_and_next_due(policy):
    c = loan()
    s = derive_status(c, [], [], date(2026, 1, 20), policy)
    assert s.days_past_due == 0 and s.bucket == "M0" and s.overdue.total == 0
    assert s.next_due is not None and s.next_due.due_date == date(2026, 1, 31)
    assert s.payoff_amount == c.principal
    due_day = derive_status(c, [], [], date(2026, 1, 31), policy)
    assert due_day.instalments[0].state == "due" and due_day.days_past_due == 0
    assert due_day.payoff_amount == c.principal + c.schedule[0].interest


def _fee_waiver_replacing_first(c, accepted, **waived):
    """A fee waiver accepted on `accepted` that replaces instalment 1 by one payment of the same
    amount due 7 days later, late fees waived (50.00)."""
    first = c.schedule[0]
    inst = ScheduledInstalment(13, accepted + timedelta(days=7), first.principal, first.interest, first.amount)
    return ArrangementRecord("A1", "fee_waiver", accepted, (1,), (inst,), waived_late_fees=D("50.00"), **waived)


def test_arrangement_replaces_instalments_and_is_kept_when_paid(policy):
    c = loan()
    accepted = date(2026, 2, 10)
    arr = _fee_waiver_replacing_first(c, accepted, waived_penalty_interest=D("6.33"))
    during = derive_status(c, [], [arr], accepted + timedelta(days=3), policy)
    assert during.arrangement_states == {"A1": "active"} and during.active_arrangement_id == "A1"
    assert during.instalments[0].state == "replaced" and during.days_past_due == 0 and during.overdue.total == 0
    kept = derive_status(
        c, [pay(c.schedule[0].amount, accepted + timedelta(days=5))], [arr], accepted + timedelta(days=15), policy
    )
    assert kept.arrangement_states == {"A1": "kept"}
    assert kept.days_past_due == 0 and kept.overdue.total == 0


def test_broken_arrangement_is_void_and_charges_are_reinstated(policy):
    c = loan()
    accepted = date(2026, 2, 10)
    arr = _fee_waiver_replacing_first(c, accepted)
    payments = [pay("500.00", accepted + timedelta(days=6))]
    on_due = derive_status(c, payments, [arr], accepted + timedelta(days=7), policy)
    assert on_due.arrangement_states == {"A1": "active"}  # broken only from the day after
    as_of = accepted + timedelta(days=8)
    broken = derive_status(c, payments, [arr], as_of, policy)
    assert broken.arrangement_states == {"A1": "broken"} and broken.active_arrangement_id is None
    assert arrangement_state(arr, payments, as_of) == "broken"
    without = derive_status(c, payments, [], as_of, policy)
    assert broken.overdue == without.overdue and broken.days_past_due == without.days_past_due
    assert broken.instalments[0].late_fee == D("50.00")  # reinstated (and paid first by the 500.00)
