"""The term plans' search (relief._search_extension: bisection on the annuity payment, which
does not rise with the term) gives what the plain linear search over every extension gave."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from types import SimpleNamespace

from hypothesis import example, given, settings
from hypothesis import strategies as st

from ledger.domain.relief import _search_extension
from ledger.domain.schedule import annuity_payment, build_schedule, period_rate


def linear_search(balance, apr, f, extensions, cap, as_of):
    """The search as it was before the bisection: every extension in order."""
    if cap <= 0:
        longest = [ext for ext in extensions if f.remaining_term + ext >= 1][-1:]
        return None, annuity_payment(balance, period_rate(apr), f.remaining_term + longest[0]) if longest else balance
    best = None
    for ext in extensions:
        n = f.remaining_term + ext
        if n < 1:
            continue
        a = annuity_payment(balance, period_rate(apr), n)
        best = a
        if a <= cap:
            sched = build_schedule(balance, apr, n, as_of, first_number=f.first_number)
            largest = max(i.amount for i in sched)
            if largest <= cap:
                return sched, largest
    return None, best if best is not None else balance


fen = st.integers(min_value=0, max_value=20_000_000).map(lambda n: Decimal(n).scaleb(-2))
aprs = st.integers(min_value=0, max_value=3600).map(lambda n: Decimal(n).scaleb(-4))


@settings(max_examples=400, deadline=None)
@given(
    balance=fen,
    apr=aprs,
    remaining=st.integers(min_value=0, max_value=36),
    min_ext=st.integers(min_value=0, max_value=1),
    top=st.integers(min_value=-1, max_value=24),
    cap_from=st.integers(min_value=0, max_value=40),
    cap_shift=st.integers(min_value=-3, max_value=3),
    first_number=st.integers(min_value=1, max_value=40),
    day=st.dates(min_value=date(2024, 1, 1), max_value=date(2030, 12, 31)),
)
@example(Decimal("1000.00"), Decimal("0"), 3, 1, 12, 5, 0, 4, date(2026, 1, 31))
@example(Decimal("0.00"), Decimal("0.18"), 0, 0, 0, 0, 0, 1, date(2026, 12, 1))
@example(Decimal("12000.00"), Decimal("0.18"), 0, 1, 0, 0, 1, 1, date(2026, 12, 1))
def test_bisection_finds_what_the_linear_search_found(
    balance, apr, remaining, min_ext, top, cap_from, cap_shift, first_number, day
):
    f = SimpleNamespace(remaining_term=remaining, first_number=first_number)
    extensions = range(min_ext, top + 1)
    # Caps near the payments the search meets (a fen either side of one), and beyond them.
    n = max(1, remaining + min(cap_from, 30))
    cap = annuity_payment(balance, period_rate(apr), n) + Decimal(cap_shift).scaleb(-2)
    for c in (cap, Decimal("0.00"), Decimal("-1.00"), balance + 1):
        assert _search_extension(balance, apr, f, extensions, c, day) == linear_search(
            balance, apr, f, extensions, c, day
        )
