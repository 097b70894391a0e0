"""Records the borrower corrects or asks about, as rules without I/O.

- Withdrawing a dispute or a complaint filed by mistake. The borrower may withdraw one only
  from the conversation that filed it and within ``withdrawals.window_hours`` of filing: it
  corrects a slip in the chat, it is not a way to drop a real dispute later (that goes to a
  person). A withdrawn record is kept with its new status, never deleted.
- Payment traces: a borrower says they paid and the ledger shows no such payment. The claim
  needs a day or an amount (or both); the lender replies within
  ``payment_traces.reply_working_days`` working days (Monday to Friday; public holidays are not
  known to the ledger). An open trace pauses nothing: charges are worked out as usual, and a
  payment found later is recorded on the day it was received, so the replay charges it from then.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

from .errors import ComplaintNotOpen, DisputeNotOpen, InvalidAmount, WithdrawalWindowClosed
from .money import ZERO
from .policy import Policy

WITHDRAWABLE = ("dispute", "complaint")


def check_withdrawal(
    kind: str,
    *,
    status: str,
    filed_at: datetime,
    filed_in: str | None,
    conversation_id: str,
    now: datetime,
    policy: Policy,
) -> None:
    """Raise unless the borrower may withdraw this dispute or complaint now: it must be open
    (DisputeNotOpen / ComplaintNotOpen), and asked for from the conversation that filed it
    within the window (WithdrawalWindowClosed)."""
    if kind not in WITHDRAWABLE:
        raise ValueError(f"unknown record kind {kind!r}")
    if status != "open":
        not_open = DisputeNotOpen if kind == "dispute" else ComplaintNotOpen
        raise not_open(f"the {kind} is {status}, not open")
    if filed_in is None or filed_in != conversation_id:
        raise WithdrawalWindowClosed(f"a {kind} can be withdrawn only from the conversation that filed it")
    hours = policy.withdrawals.window_hours
    if now > filed_at + timedelta(hours=hours):
        raise WithdrawalWindowClosed(f"a {kind} can be withdrawn only within {hours} hours of filing")


def add_working_days(start: date, days: int) -> date:
    """The day ``days`` working days (Monday to Friday) after ``start``."""
    day = start
    left = days
    while left > 0:
        day += timedelta(days=1)
        if day.weekday() < 5:
            left -= 1
    return day


def trace_reply_due(opened_on: date, policy: Policy) -> date:
    """The date by which the lender answers a payment trace opened on ``opened_on``."""
    return add_working_days(opened_on, policy.payment_traces.reply_working_days)


class InvalidPaymentClaim(InvalidAmount):
    """A payment claim that cannot be traced: no day and no amount, a day in the future or
    before the loan was paid out, or an amount that is not positive."""


def check_payment_claim(paid_on: date | None, amount: Decimal | None, *, as_of: date, disbursed_on: date) -> None:
    """Raise InvalidPaymentClaim unless the claim names a day or an amount that could be a payment."""
    if paid_on is None and amount is None:
        raise InvalidPaymentClaim("give the day of the payment, its amount, or both")
    if paid_on is not None and paid_on > as_of:
        raise InvalidPaymentClaim(f"paid_on {paid_on} is in the future")
    if paid_on is not None and paid_on < disbursed_on:
        raise InvalidPaymentClaim(f"paid_on {paid_on} is before the loan was paid out on {disbursed_on}")
    if amount is not None and amount <= ZERO:
        raise InvalidPaymentClaim("amount must be more than 0.00")
