"""Equal-instalment (annuity, 等额本息) schedules and the due-date month-end rule.

Per docs/policy.md (Schedules): period rate r; instalment A = P * r / (1 - (1 + r)^-n) rounded
half-up to the fen (A = P / n rounded when r = 0); each period's interest = balance * r rounded
half-up; principal part = A - interest; the last instalment pays exactly the remaining balance
plus its interest, so it absorbs every rounding difference and the principal parts sum to P.

Period rate: r = APR / 12 for monthly schedules. For ``period_months = 3`` (the quarterly
plan) the period rate is the nominal APR / 12 * 3 = APR / 4, i.e. the same nominal annual rate
with no compounding inside the quarter (consistent with the monthly r = APR / 12, which is also
nominal, not effective).
"""

from __future__ import annotations

import calendar
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, getcontext, localcontext
from functools import lru_cache, partial

from .money import CENT, ZERO, round_fen


@dataclass(frozen=True, init=False)
class ScheduledInstalment:
    """One instalment of a schedule: amount = principal + interest + captured charges.

    ``penalty_interest`` and ``late_fees`` are zero in contract schedules; an arrangement may
    carry charges that were accrued before it (and not waived) into its first instalment.
    """

    number: int
    due_date: date
    principal: Decimal
    interest: Decimal
    amount: Decimal
    penalty_interest: Decimal = ZERO
    late_fees: Decimal = ZERO

    def __init__(
        self,
        number: int,
        due_date: date,
        principal: Decimal,
        interest: Decimal,
        amount: Decimal,
        penalty_interest: Decimal = ZERO,
        late_fees: Decimal = ZERO,
    ) -> None:
        # Each field in order, written out: mypyc compiles this into a native constructor
        # (docs/policy-lab.md, Speed; tests/domain/test_record_inits.py keeps it in step).
        object.__setattr__(self, "number", number)
        object.__setattr__(self, "due_date", due_date)
        object.__setattr__(self, "principal", principal)
        object.__setattr__(self, "interest", interest)
        object.__setattr__(self, "amount", amount)
        object.__setattr__(self, "penalty_interest", penalty_interest)
        object.__setattr__(self, "late_fees", late_fees)


_MONTH_DAYS = (0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def month_day(year: int, month: int, day: int) -> date:
    """The date ``day`` of the month, or the last day of that month when it has fewer days."""
    if day > 28:  # only then can the month be too short (calendar.monthrange also works out a weekday)
        last = 29 if month == 2 and calendar.isleap(year) else _MONTH_DAYS[month]
        if day > last:
            day = last
    return date(year, month, day)


def add_months(anchor: date, months: int, *, day: int | None = None) -> date:
    """``anchor`` moved by ``months`` calendar months (may be negative), same day of month.

    When that day does not exist in the target month, the last day of that month is used:
    Jan 31 + 1 -> Feb 28 (29 in leap years), Jan 31 + 2 -> Mar 31 (the anchor's day is kept,
    not the previous result's). ``day`` overrides the anchor's day of month.
    """
    index = anchor.year * 12 + (anchor.month - 1) + months
    return month_day(index // 12, index % 12 + 1, anchor.day if day is None else day)


# The relief engine builds the same schedules again and again (each extension tried, both
# policies of the policy lab, the same loan's plans): both functions below are pure, so their
# results are kept, keyed by the exact text of each amount (str round-trips a Decimal, exponent
# included, where == and hash would take Decimal("1.0") for Decimal("1.00")). Floats are never
# money here; one given anyway is not cached (its text is not its value).
CACHE_SIZE = 4096


def annuity_payment(principal: Decimal, monthly_rate: Decimal, n: int) -> Decimal:
    """See ``_annuity_payment``; cached."""
    if isinstance(principal, float) or isinstance(monthly_rate, float):
        return _annuity_payment(principal, monthly_rate, n)
    return _annuity_cached(str(principal), str(monthly_rate), n)


def annuity_payments(principal: Decimal, monthly_rate: Decimal) -> Callable[[int], Decimal]:
    """``annuity_payment(principal, monthly_rate, n)`` as a function of n (the amounts' cache
    keys made once: the relief engine tries one balance over many terms)."""
    if isinstance(principal, float) or isinstance(monthly_rate, float):
        return partial(_annuity_payment, principal, monthly_rate)
    return partial(_annuity_cached, str(principal), str(monthly_rate))


@lru_cache(maxsize=CACHE_SIZE)
def _annuity_cached(principal: str, monthly_rate: str, n: int) -> Decimal:
    return _annuity_payment(Decimal(principal), Decimal(monthly_rate), n)


def _annuity_payment(principal: Decimal, monthly_rate: Decimal, n: int) -> Decimal:
    """Equal periodic payment, rounded half-up to the fen.

    A = P * r / (1 - (1 + r)^-n); for r = 0, A = P / n. This is numpy-financial's
    ``pmt(rate=r, nper=n, pv=-P)`` (payments at the end of each period, fv = 0), computed in
    Decimal with 40 significant digits and rounded once at the end.
    See https://numpy.org/numpy-financial/latest/pmt.html.
    """
    if n < 1:
        raise ValueError("n must be >= 1")
    if monthly_rate < 0:
        raise ValueError("rate must be >= 0")
    with localcontext() as ctx:
        ctx.prec = 40
        p = Decimal(principal)
        if monthly_rate == 0:
            return round_fen(p / n)
        r = Decimal(monthly_rate)
        a = p * r / (1 - (1 + r) ** -n)
    return round_fen(a)


def period_rate(apr: Decimal, period_months: int = 1) -> Decimal:
    """Nominal period rate APR / 12 * period_months (kept unrounded)."""
    with localcontext() as ctx:
        ctx.prec = 40
        return Decimal(apr) / 12 * period_months


def build_schedule(
    principal: Decimal,
    apr: Decimal,
    term: int,
    start: date,
    *,
    first_number: int = 1,
    period_months: int = 1,
    due_day: int | None = None,
) -> tuple[ScheduledInstalment, ...]:
    """Annuity schedule of ``term`` instalments; instalment k (1-based) is due add_months(start, k * period_months).

    ``due_day`` (default: start's day of month) is the day of month of every due date, with
    the month-end rule. Numbers run from ``first_number``. Cached (see ``CACHE_SIZE``): the
    result is a tuple of frozen records, shared safely.
    """
    if isinstance(principal, float) or isinstance(apr, float):
        return _build_schedule(principal, apr, term, start, first_number, period_months, due_day)
    return _schedule_cached(str(principal), str(apr), term, start, first_number, period_months, due_day)


@lru_cache(maxsize=CACHE_SIZE)
def _schedule_cached(
    principal: str, apr: str, term: int, start: date, first_number: int, period_months: int, due_day: int | None
) -> tuple[ScheduledInstalment, ...]:
    return _build_schedule(Decimal(principal), Decimal(apr), term, start, first_number, period_months, due_day)


def _build_schedule(
    principal: Decimal,
    apr: Decimal,
    term: int,
    start: date,
    first_number: int,
    period_months: int,
    due_day: int | None,
) -> tuple[ScheduledInstalment, ...]:
    if term < 1:
        raise ValueError("term must be >= 1")
    fen = _whole_fen(principal)
    if fen is None or type(apr) is not Decimal or not apr.is_finite() or apr < 0 or getcontext().prec != CONTEXT_PREC:
        return _build_schedule_decimal(principal, apr, term, start, first_number, period_months, due_day)
    return _build_schedule_fen(fen, apr, term, start, first_number, period_months, due_day)


# The schedule in whole fen (Python int), with the same figures as ``_build_schedule_decimal``
# (docs/policy-lab.md, Speed; compared by the Hypothesis properties of
# tests/domain/test_schedule_fen.py). Every amount there is a whole number of fen except a
# period's interest, balance * r with r = APR * period_months / 12 (a 40-digit Decimal), the
# product in the thread's context (28 digits), rounded half-up to the fen. Here that interest
# is the exact fraction N / D fen (N = balance * c * period_months, D = 12 * 10^k for
# APR = c * 10^-k) rounded half-up; the Decimal product differs from N / D by less than
# N / D * 10^-26 (r's rounding and the product's), so both round alike whenever N / D is
# further than that from a half fen. When it is not (exactly on a half fen, or too close to
# tell), that one interest is the Decimal computation itself.
CONTEXT_PREC = 28  # the default decimal context, which the relief engine runs in
_MARGIN = 10 ** (CONTEXT_PREC - 2)


def _whole_fen(amount: Decimal) -> int | None:
    """``amount`` in fen when it is a Decimal of whole fen (not negative), else None."""
    if type(amount) is not Decimal or not amount.is_finite() or amount < 0:
        return None
    scaled = amount * 100
    if scaled != scaled.to_integral_value():
        return None
    return int(scaled)


def _money(fen: int) -> Decimal:
    """Whole fen as a two-place Decimal (the exponents sum: 0 + -2)."""
    return Decimal(fen) * CENT


def _build_schedule_fen(
    principal_fen: int,
    apr: Decimal,
    term: int,
    start: date,
    first_number: int,
    period_months: int,
    due_day: int | None,
) -> tuple[ScheduledInstalment, ...]:
    r = period_rate(apr, period_months)
    a = _whole_fen(annuity_payment(_money(principal_fen), r, term))
    assert a is not None  # annuity_payment rounds to the fen
    _sign, digits, exponent = apr.as_tuple()
    assert isinstance(exponent, int)  # apr is finite and not negative (checked by the caller)
    coefficient = int("".join(map(str, digits)))
    if exponent >= 0:
        coefficient *= 10**exponent
        exponent = 0
    numerator = coefficient * period_months
    two_d = 24 * 10**-exponent
    d = two_d // 2
    balance = principal_fen
    day = start.day if due_day is None else due_day
    index = start.year * 12 + start.month - 1
    out: list[ScheduledInstalment] = []
    for k in range(1, term + 1):
        n = balance * numerator
        interest, rem = divmod(2 * n + d, two_d)
        if rem == 0 or min(rem, two_d - rem) * _MARGIN <= 2 * n:  # on or too near a half fen
            interest = int((_money(balance) * r).quantize(CENT, rounding=ROUND_HALF_UP) * 100)
        if k == term:
            part = balance
        else:
            part = a - interest
            if part < 0:
                part = 0
            elif part > balance:
                part = balance
        at = index + k * period_months
        out.append(
            ScheduledInstalment(
                first_number + k - 1,
                month_day(at // 12, at % 12 + 1, day),
                Decimal(part) * CENT,  # _money, written out
                Decimal(interest) * CENT,
                Decimal(part + interest) * CENT,
            )
        )
        balance -= part
    return tuple(out)


def _build_schedule_decimal(
    principal: Decimal,
    apr: Decimal,
    term: int,
    start: date,
    first_number: int,
    period_months: int,
    due_day: int | None,
) -> tuple[ScheduledInstalment, ...]:
    """The schedule in Decimal: for an amount that is not whole fen, and the reference of the
    whole-fen schedule (tests/domain/test_schedule_fen.py)."""
    if term < 1:
        raise ValueError("term must be >= 1")
    r = period_rate(apr, period_months)
    a = annuity_payment(principal, r, term)
    balance = Decimal(principal)
    day = start.day if due_day is None else due_day
    out: list[ScheduledInstalment] = []
    for k in range(1, term + 1):
        interest = round_fen(balance * r)
        if k == term:
            part = balance
        else:
            part = min(max(a - interest, ZERO), balance)
        amount = part + interest
        out.append(
            ScheduledInstalment(
                number=first_number + k - 1,
                due_date=add_months(start, k * period_months, day=day),
                principal=round_fen(part),
                interest=interest,
                amount=round_fen(amount),
            )
        )
        balance -= part
    return tuple(out)
