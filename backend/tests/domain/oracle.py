"""Independent reference computations for the tests, in exact rational arithmetic (fractions.Fraction).

Written from collections-policy.md without using ledger.domain, so the domain is checked
against a second implementation rather than against itself.
"""

from __future__ import annotations

import calendar
from datetime import date
from decimal import Decimal
from fractions import Fraction


def fen(x: Fraction) -> Fraction:
    """Round half-up to 1/100 (amounts here are never negative)."""
    return Fraction((x * 100 * 2 + 1) // 2, 100)


def dec(x: Fraction) -> Decimal:
    return Decimal(x.numerator * 100 // x.denominator) / 100 if fen(x) == x else Decimal("NaN")


def plus_months(d: date, months: int, day: int | None = None) -> date:
    y, m = divmod(d.year * 12 + d.month - 1 + months, 12)
    m += 1
    return date(y, m, min(day or d.day, calendar.monthrange(y, m)[1]))


def annuity(p: Fraction, r: Fraction, n: int) -> Fraction:
    if r == 0:
        return fen(p / n)
    return fen(p * r / (1 - (1 + r) ** -n))


def schedule(p: Fraction, apr: Fraction, n: int, start: date, day: int | None = None):
    """[(due, principal, interest, amount)] per the policy's annuity rules."""
    r = apr / 12
    a = annuity(p, r, n)
    bal = p
    out = []
    for k in range(1, n + 1):
        i = fen(bal * r)
        prin = bal if k == n else a - i
        out.append((plus_months(start, k, day), prin, i, prin + i))
        bal -= prin
    return out


def late_fee(amount: Fraction) -> Fraction:
    return min(max(fen(amount * Fraction(5, 100)), Fraction(10)), Fraction(50))


def penalty(principal: Fraction, apr: Fraction, days: int) -> Fraction:
    rate = min(apr * Fraction(3, 2), Fraction(24, 100))
    return days * fen(principal * rate / 365)
