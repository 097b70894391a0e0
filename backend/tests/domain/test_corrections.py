"""Withdrawing a dispute or complaint filed by mistake, and payment traces: the pure rules."""

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from ledger.domain.corrections import add_working_days, check_payment_claim, check_withdrawal, trace_reply_due
from ledger.domain.errors import ComplaintNotOpen, DisputeNotOpen, InvalidAmount, WithdrawalWindowClosed

FILED = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)


def withdraw(policy, kind="dispute", **kw):
    args = dict(status="open", filed_at=FILED, filed_in="conv-1", conversation_id="conv-1", now=FILED, policy=policy)
    args.update(kw)
    check_withdrawal(kind, **args)


def test_an_open_record_is_withdrawn_from_its_own_conversation_within_the_window(policy):
    assert policy.withdrawals.window_hours == 24
    withdraw(policy)
    withdraw(policy, "complaint", now=FILED + timedelta(hours=24))
    with pytest.raises(WithdrawalWindowClosed):
        withdraw(policy, now=FILED + timedelta(hours=24, seconds=1))
    shorter = replace(policy, withdrawals=replace(policy.withdrawals, window_hours=1))
    with pytest.raises(WithdrawalWindowClosed):
        withdraw(shorter, now=FILED + timedelta(hours=2))


def test_another_conversation_or_an_unknown_one_cannot_withdraw(policy):
    with pytest.raises(WithdrawalWindowClosed):
        withdraw(policy, conversation_id="conv-2")
    with pytest.raises(WithdrawalWindowClosed):  # filed before conversations were recorded: a person handles it
        withdraw(policy, filed_in=None)


def test_only_an_open_record_can_be_withdrawn_and_that_is_checked_first(policy):
    with pytest.raises(DisputeNotOpen):
        withdraw(policy, status="withdrawn", conversation_id="conv-2")
    with pytest.raises(DisputeNotOpen):
        withdraw(policy, status="resolved")
    with pytest.raises(ComplaintNotOpen):
        withdraw(policy, "complaint", status="withdrawn")
    with pytest.raises(ValueError):
        withdraw(policy, "promise")


def test_working_days_skip_weekends():
    wednesday = date(2026, 11, 25)
    assert add_working_days(wednesday, 3) == date(2026, 11, 30)  # Thu, Fri, Mon
    friday = date(2026, 11, 27)
    assert add_working_days(friday, 1) == date(2026, 11, 30)
    saturday = date(2026, 11, 28)
    assert add_working_days(saturday, 3) == date(2026, 12, 2)
    assert add_working_days(wednesday, 0) == wednesday


def test_a_trace_is_answered_within_the_policys_working_days(policy):
    assert policy.payment_traces.reply_working_days == 3
    assert trace_reply_due(date(2026, 11, 25), policy) == date(2026, 11, 30)
    five = replace(policy, payment_traces=replace(policy.payment_traces, reply_working_days=5))
    assert trace_reply_due(date(2026, 11, 25), five) == date(2026, 12, 2)


def test_a_payment_claim_needs_a_plausible_day_or_amount():
    today, disbursed = date(2026, 11, 25), date(2026, 7, 10)
    check_payment_claim(date(2026, 11, 18), None, as_of=today, disbursed_on=disbursed)
    check_payment_claim(None, Decimal("500.00"), as_of=today, disbursed_on=disbursed)
    check_payment_claim(today, Decimal("0.01"), as_of=today, disbursed_on=disbursed)
    for paid_on, amount in (
        (None, None),
        (today + timedelta(days=1), None),
        (date(2026, 7, 9), None),
        (None, Decimal("0.00")),
        (None, Decimal("-5.00")),
    ):
        with pytest.raises(InvalidAmount):
            check_payment_claim(paid_on, amount, as_of=today, disbursed_on=disbursed)
