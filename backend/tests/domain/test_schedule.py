import calendar
from datetime import date
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.domain.demo import DEMO_LOANS, demo_loans
from ledger.domain.schedule import add_months, annuity_payment, build_schedule

from . import oracle


@pytest.mark.parametrize(
    ("anchor", "months", "expected"),
    [
        (date(2026, 1, 31), 1, date(2026, 2, 28)),
        (date(2028, 1, 31), 1, date(2028, 2, 29)),
        (date(2026, 1, 31), 2, date(2026, 3, 31)),
        (date(2026, 1, 30), 1, date(2026, 2, 28)),
        (date(2026, 3, 31), -1, date(2026, 2, 28)),
        (date(2026, 12, 15), 1, date(2027, 1, 15)),
        (date(2026, 1, 15), -13, date(2024, 12, 15)),
    ],
)
def test_add_months_keeps_day_or_uses_month_end(anchor, months, expected):
    assert add_months(anchor, months) == expected


def test_worked_example_12000_at_18_percent_over_12_months():
    # By hand: r = 0.18/12 = 0.015; 1.015^12 = 1.1956182; 1 - 1/1.1956182 = 0.1636119;
    # A = 12000 * 0.015 / 0.1636119 = 180 / 0.1636119 = 1100.1643 -> 1100.16.
    # Instalment 1: interest 12000 * 0.015 = 180.00, principal 1100.16 - 180.00 = 920.16.
    # Instalment 2: balance 11079.84 * 0.015 = 166.1976 -> 166.20, principal 933.96.
    s = build_schedule(Decimal("12000.00"), Decimal("0.18"), 12, date(2026, 1, 31))
    assert annuity_payment(Decimal("12000.00"), Decimal("0.015"), 12) == Decimal("1100.16")
    assert (s[0].interest, s[0].principal, s[0].amount) == (Decimal("180.00"), Decimal("920.16"), Decimal("1100.16"))
    assert (s[1].interest, s[1].principal) == (Decimal("166.20"), Decimal("933.96"))
    assert [i.due_date for i in s[:3]] == [date(2026, 2, 28), date(2026, 3, 31), date(2026, 4, 30)]


def test_zero_rate_splits_principal_and_last_takes_the_remainder():
    # By hand: 1000 / 3 = 333.333.. -> 333.33, 333.33, and the last 1000 - 666.66 = 333.34.
    s = build_schedule(Decimal("1000.00"), Decimal("0"), 3, date(2026, 5, 10))
    assert [i.amount for i in s] == [Decimal("333.33"), Decimal("333.33"), Decimal("333.34")]
    assert all(i.interest == 0 for i in s)


@pytest.mark.parametrize("today", [date(2026, 11, 25), date(2027, 3, 31), date(2028, 2, 29)])
@pytest.mark.parametrize("key", sorted(DEMO_LOANS))
def test_demo_schedules_match_an_independent_fraction_annuity(key, today):
    """Each demo loan's schedule equals a second implementation in exact Fractions (tests/domain/oracle.py)."""
    contract, _, _ = demo_loans(today)[key]
    b = DEMO_LOANS[key]
    anchor = date.fromordinal(today.toordinal() + b.anchor_days_from_today)
    start = oracle.plus_months(anchor, -b.anchor_instalment)
    expected = oracle.schedule(Fraction(b.principal), Fraction(b.apr), b.term, start, anchor.day)
    got = [(i.due_date, Fraction(i.principal), Fraction(i.interest), Fraction(i.amount)) for i in contract.schedule]
    assert got == expected
    assert contract.schedule[b.anchor_instalment - 1].due_date == anchor


def test_quarterly_schedule_uses_apr_over_4_and_three_month_steps():
    s = build_schedule(Decimal("9000.00"), Decimal("0.12"), 4, date(2026, 1, 31), period_months=3)
    a = oracle.annuity(Fraction(9000), Fraction(3, 100), 4)
    assert s[0].amount == Decimal(str(float(a)))  # 2421.24, a value with 2 decimals
    assert [i.due_date for i in s] == [date(2026, 4, 30), date(2026, 7, 31), date(2026, 10, 31), date(2027, 1, 31)]
    assert s[0].interest == Decimal("270.00")


# Realistic sizes (>= 100.00): with a few yuan over many months rounding can use up the balance
# before the last instalment (the clamp then ends it early), which no product sells.
principals = st.integers(min_value=10_000, max_value=100_000_000).map(lambda c: Decimal(c) / 100)
aprs = st.integers(min_value=0, max_value=3600).map(lambda bp: Decimal(bp) / 10000)
starts = st.dates(min_value=date(2000, 1, 1), max_value=date(2090, 12, 31))


@settings(max_examples=300, deadline=None)
@given(principal=principals, apr=aprs, term=st.integers(1, 60), start=starts)
def test_schedule_properties(principal, apr, term, start):
    s = build_schedule(principal, apr, term, start)
    assert len(s) == term
    assert sum(i.principal for i in s) == principal
    assert sum(i.amount for i in s) == principal + sum(i.interest for i in s)
    assert all(i.amount == i.principal + i.interest for i in s)
    assert all(i.principal >= 0 and i.interest >= 0 and i.amount >= 0 for i in s)
    assert all(i.amount == i.amount.quantize(Decimal("0.01")) for i in s)
    a = annuity_payment(principal, apr / 12, term)
    assert all(i.amount == a for i in s[:-1])
    # A is off the exact annuity by at most half a fen; each period's error grows with (1 + r),
    # and each interest rounding adds at most half a fen: the last instalment absorbs all of it.
    growth = (1 + apr / 12) ** term
    assert abs(s[-1].amount - a) <= Decimal("0.01") * term * growth + Decimal("0.01")
    dates = [i.due_date for i in s]
    assert dates == sorted(dates) and len(set(dates)) == term
    for k, d in enumerate(dates, start=1):
        assert d == oracle.plus_months(start, k)
        assert d.day == min(start.day, calendar.monthrange(d.year, d.month)[1])


@settings(max_examples=100, deadline=None)
@given(principal=principals, apr=aprs, term=st.integers(1, 36), start=starts)
def test_schedule_equals_fraction_oracle(principal, apr, term, start):
    got = [
        (i.due_date, Fraction(i.principal), Fraction(i.interest), Fraction(i.amount))
        for i in build_schedule(principal, apr, term, start)
    ]
    assert got == oracle.schedule(Fraction(principal), Fraction(apr), term, start)
