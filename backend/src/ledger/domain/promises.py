"""Promises to pay: when one may be taken, and whether it was kept.

A promise is ``open`` until payments received from the day it was made reach its amount
(``kept``, even before the promised date) or the promised date passes without that
(``broken``, from the day after the promised date).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta
from decimal import Decimal

from .account import LoanStatus, PaymentRecord
from .errors import PromiseRejected
from .money import ZERO
from .policy import Policy


def check_promise(
    amount: Decimal,
    promised_date: date,
    status: LoanStatus,
    *,
    open_promise_exists: bool,
    broken_in_90_days: int,
    dispute_open: bool,
    as_of: date,
    policy: Policy,
) -> None:
    """Raise PromiseRejected(reason) unless the promise may be recorded.

    Checked in this order: dispute_open (an open dispute pauses collection), nothing_owed,
    too_many_broken_promises (``max_broken`` broken in the window: a human takes over),
    open_promise_exists (one open promise per loan), amount_out_of_range (more than 0 and at
    most the payoff amount), date_out_of_window (from today to ``window_days_m1`` days ahead
    while DPD <= 30, ``window_days_later`` days from 31 DPD on; the error names the latest date).
    """
    rules = policy.promises
    if dispute_open:
        raise PromiseRejected("dispute_open", "an open dispute pauses collection")
    if status.closed or status.payoff_amount <= 0:
        raise PromiseRejected("nothing_owed", "nothing is owed on this loan")
    if broken_in_90_days >= rules.max_broken:
        raise PromiseRejected(
            "too_many_broken_promises", f"{broken_in_90_days} promises broken in {rules.broken_window_days} days"
        )
    if open_promise_exists:
        raise PromiseRejected("open_promise_exists", "the loan already has an open promise")
    if amount <= ZERO or amount > status.payoff_amount:
        raise PromiseRejected(
            "amount_out_of_range", f"amount must be more than 0.00 and at most {status.payoff_amount}"
        )
    window = rules.window_days(status.days_past_due)
    latest = as_of + timedelta(days=window)
    if not as_of <= promised_date <= latest:
        raise PromiseRejected(
            "date_out_of_window", f"date must be from {as_of} to {latest}", latest_date=latest, max_days=window
        )


def promise_state(
    amount: Decimal, made_on: date, promised_date: date, payments: Iterable[PaymentRecord], as_of: date
) -> str:
    """ "kept" when payments received from ``made_on`` to ``min(promised_date, as_of)`` reach ``amount``;
    "broken" from the day after ``promised_date`` otherwise; else "open"."""
    until = min(promised_date, as_of)
    paid = sum((p.amount for p in payments if made_on <= p.received_on <= until), ZERO)
    if paid >= amount:
        return "kept"
    return "broken" if as_of > promised_date else "open"
