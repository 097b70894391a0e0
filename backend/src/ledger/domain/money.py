"""Exact money: Decimal with two places (fen), one rounding rule.

Every amount is a ``Decimal`` quantised to 0.01 with ROUND_HALF_UP, applied at the end of
each named step of a computation and never in between. Floats are refused: a float is a bug.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from .errors import InvalidAmount

CENT = Decimal("0.01")
ZERO = Decimal("0.00")


def round_fen(x: Decimal) -> Decimal:
    """Round half-up to the fen (0.01): ``round_fen(Decimal("0.125")) == Decimal("0.13")``."""
    if type(x) is Decimal:  # the common case, without a copy (the relief engine rounds often)
        return x.quantize(CENT, rounding=ROUND_HALF_UP)
    if isinstance(x, float):
        raise TypeError("float is not money; use Decimal or str")
    return Decimal(x).quantize(CENT, rounding=ROUND_HALF_UP)


def to_money(value: str | int | Decimal) -> Decimal:
    """Parse an exact amount (str, int or Decimal) into a 2-place Decimal.

    Raises TypeError for floats (and bools) and InvalidAmount for text that is not a finite
    number or that has more than 2 decimals (no silent rounding of input).
    """
    if isinstance(value, (float, bool)):
        raise TypeError(f"money must be str, int or Decimal, not {type(value).__name__}")
    if not isinstance(value, (str, int, Decimal)):
        raise TypeError(f"money must be str, int or Decimal, not {type(value).__name__}")
    try:
        d = Decimal(value.strip()) if isinstance(value, str) else Decimal(value)
    except InvalidOperation as exc:
        raise InvalidAmount(f"not an amount: {value!r}") from exc
    if not d.is_finite():
        raise InvalidAmount(f"not a finite amount: {value!r}")
    exponent = d.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -2:
        raise InvalidAmount(f"more than 2 decimals: {value!r}")
    return d.quantize(CENT)


def format_money(d: Decimal) -> str:
    """Format as a plain string with exactly two decimals: ``"1250.00"``."""
    return f"{round_fen(d):.2f}"
