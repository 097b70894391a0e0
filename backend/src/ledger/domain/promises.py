"""Promises to pay: when one may be taken, and whether it was kept.

A promise is ``open`` until payments received from the day it was made reach its amount
(``kept``, even before the promised date) or the promised date passes without that
(``broken``, from the day after the promised date). An open promise may be replaced by a new
one ("I meant Friday next week", "make it 500"): it is then ``replaced`` and the new one is
checked by the same rules, with the latest date the replaced one allowed (``window_ends_on``),
so that moving a promise never stretches the policy's window.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta
from decimal import Decimal

from .account import LoanStatus, PaymentRecord
from .errors import PromiseRejected
from .money import ZERO
from .policy import Policy


def promise_window_end(status: LoanStatus, as_of: date, policy: Policy) -> date:
    """The latest date a promise made on ``as_of`` may carry: ``window_days_m1`` days ahead while
    DPD <= 30, ``window_days_later`` days from 31 DPD on."""
    return as_of + timedelta(days=policy.promises.window_days(status.days_past_due))


def check_promise(
    amount: Decimal,
    promised_date: date,
    status: LoanStatus,
    *,
    open_promises: int,
    broken_in_90_days: int,
    dispute_open: bool,
    as_of: date,
    policy: Policy,
    window_ends_on: date | None = None,
) -> None:
    """Raise PromiseRejected(reason) unless the promise may be recorded.

    ``open_promises`` counts the loan's open promises other than the one being replaced;
    ``window_ends_on`` is the latest date of the promise being replaced (None for a new one).

    Checked in this order: dispute_open (an open dispute pauses collection), nothing_owed,
    too_many_broken_promises (``max_broken`` broken in the window: a human takes over),
    open_promise_exists (``max_open`` promises already open), amount_out_of_range (more than 0
    and at most the payoff amount), date_out_of_window (from today to the window's end: see
    ``promise_window_end``; the rejection carries ``earliest``,
    ``latest`` and ``max_days``, the latest date's distance from today).
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
    if open_promises >= rules.max_open:
        raise PromiseRejected("open_promise_exists", f"the loan already has {open_promises} open promise(s)")
    if amount <= ZERO or amount > status.payoff_amount:
        raise PromiseRejected(
            "amount_out_of_range", f"amount must be more than 0.00 and at most {status.payoff_amount}"
        )
    latest = window_ends_on if window_ends_on is not None else promise_window_end(status, as_of, policy)
    if not as_of <= promised_date <= latest:
        raise PromiseRejected(
            "date_out_of_window",
            f"date must be from {as_of} to {latest}",
            earliest=as_of,
            latest=latest,
            max_days=(latest - as_of).days,
        )


def promise_state(
    amount: Decimal,
    made_on: date,
    promised_date: date,
    payments: Iterable[PaymentRecord],
    as_of: date,
    replaced_on: date | None = None,
) -> str:
    """ "replaced" from the day a newer promise replaced it; "kept" when payments received from
    ``made_on`` to ``min(promised_date, as_of)`` reach ``amount``; "broken" from the day after
    ``promised_date`` otherwise; else "open"."""
    if replaced_on is not None and replaced_on <= as_of:
        return "replaced"
    until = min(promised_date, as_of)
    paid = sum((p.amount for p in payments if made_on <= p.received_on <= until), ZERO)
    if paid >= amount:
        return "kept"
    return "broken" if as_of > promised_date else "open"
