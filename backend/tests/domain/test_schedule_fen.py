"""The schedule in whole fen (schedule._build_schedule_fen, what build_schedule runs for an
amount of whole fen) gives the Decimal schedule (schedule._build_schedule_decimal, the
computation as it was) figure for figure, Decimal exponents included; month_day gives the
calendar's last day of the month."""

from __future__ import annotations

import calendar
from datetime import date
from decimal import Decimal, localcontext

from hypothesis import example, given, settings
from hypothesis import strategies as st

from ledger.domain.schedule import _build_schedule, _build_schedule_decimal, build_schedule, month_day

fen = st.integers(min_value=0, max_value=2_000_000_000).map(lambda n: Decimal(n).scaleb(-2))
# Contract rates (4 decimals), the reduced rate's products (up to 8) and rates whose period
# rate does not end (APR / 12 with a factor 3 left: 0.01 / 12 = 0.000833...).
aprs = st.one_of(
    st.integers(min_value=0, max_value=3600).map(lambda n: Decimal(n).scaleb(-4)),
    st.integers(min_value=0, max_value=36_000_000).map(lambda n: Decimal(n).scaleb(-8)),
    st.sampled_from([Decimal("0.01"), Decimal("0.06"), Decimal("0.1"), Decimal("0.0365"), Decimal("0.2")]),
)


def same(a, b) -> None:
    assert len(a) == len(b)
    for x, y in zip(a, b, strict=True):
        assert repr(x) == repr(y)  # repr shows each Decimal's exponent


@settings(max_examples=600, deadline=None)
@given(
    principal=fen,
    apr=aprs,
    term=st.integers(min_value=1, max_value=48),
    start=st.dates(min_value=date(2020, 1, 1), max_value=date(2035, 12, 31)),
    first_number=st.integers(min_value=1, max_value=60),
    period_months=st.sampled_from([1, 3]),
    due_day=st.one_of(st.none(), st.integers(min_value=1, max_value=31)),
)
# Interest exactly on a half fen: with a period rate that ends (0.06 / 12 = 0.005 on CNY 1.00)
# and with one that does not (0.01 / 12 on CNY 6.00 is 0.5 fen exactly, the 40-digit Decimal
# rate a hair below: the Decimal product rounds down).
@example(Decimal("1.00"), Decimal("0.06"), 2, date(2026, 1, 31), 1, 1, None)
@example(Decimal("6.00"), Decimal("0.01"), 1, date(2026, 1, 31), 1, 1, None)
@example(Decimal("0.00"), Decimal("0.18"), 3, date(2026, 12, 1), 1, 3, 31)
# Too near a half fen to tell: the exact interest on CNY 1.00 at this rate is a hair below half
# a fen (rounds to 0.00), the 28-digit Decimal product is exactly 0.005 (rounds to 0.01); the
# whole-fen path must give the Decimal figure.
@example(Decimal("1.00"), Decimal("0.059999999999999999999999999999"), 1, date(2026, 1, 31), 1, 1, None)
def test_whole_fen_schedule_is_the_decimal_schedule(principal, apr, term, start, first_number, period_months, due_day):
    fen_path = _build_schedule(principal, apr, term, start, first_number, period_months, due_day)
    decimal_path = _build_schedule_decimal(principal, apr, term, start, first_number, period_months, due_day)
    same(fen_path, decimal_path)


@settings(max_examples=200, deadline=None)
@given(
    principal=st.integers(min_value=0, max_value=10**12),
    apr=aprs,
    term=st.integers(min_value=1, max_value=36),
)
@example(600, Decimal("0.01"), 1)
def test_half_fen_interest_many_fen(principal, apr, term):
    """Balances whose interest falls on or near a half fen (multiples of 3 and 600 fen)."""
    for p in (Decimal(principal).scaleb(-2), Decimal(principal * 600).scaleb(-2), Decimal(principal * 3).scaleb(-2)):
        same(
            _build_schedule(p, apr, term, date(2026, 3, 31), 1, 1, None),
            _build_schedule_decimal(p, apr, term, date(2026, 3, 31), 1, 1, None),
        )


def test_amounts_not_in_whole_fen_and_other_contexts_take_the_decimal_path():
    odd = Decimal("1000.005")
    same(
        _build_schedule(odd, Decimal("0.18"), 6, date(2026, 1, 15), 1, 1, None),
        _build_schedule_decimal(odd, Decimal("0.18"), 6, date(2026, 1, 15), 1, 1, None),
    )
    with localcontext() as ctx:
        ctx.prec = 8  # a product rounded to 8 digits: not the figures of the default context
        same(
            _build_schedule(Decimal("1234.56"), Decimal("0.1"), 12, date(2026, 1, 15), 1, 1, None),
            _build_schedule_decimal(Decimal("1234.56"), Decimal("0.1"), 12, date(2026, 1, 15), 1, 1, None),
        )


def test_build_schedule_sums_to_the_principal():
    sched = build_schedule(Decimal("10000.00"), Decimal("0.1799"), 12, date(2026, 1, 31))
    assert sum(i.principal for i in sched) == Decimal("10000.00")
    assert [i.due_date for i in sched][:2] == [date(2026, 2, 28), date(2026, 3, 31)]


def test_month_day_is_the_calendars():
    for year in (1900, 2000, 2023, 2024, 2100):
        for month in range(1, 13):
            last = calendar.monthrange(year, month)[1]
            for day in range(1, 32):
                assert month_day(year, month, day) == date(year, month, min(day, last))
