from decimal import Decimal

import pytest

from ledger.domain.errors import InvalidAmount
from ledger.domain.money import CENT, format_money, round_fen, to_money


def test_round_fen_rounds_half_up():
    assert round_fen(Decimal("0.125")) == Decimal("0.13")
    assert round_fen(Decimal("0.124999")) == Decimal("0.12")
    assert round_fen(Decimal("2.675")) == Decimal("2.68")
    assert CENT == Decimal("0.01")


def test_to_money_accepts_exact_values_and_rejects_float():
    assert to_money("1250") == Decimal("1250.00")
    assert to_money(7) == Decimal("7.00")
    assert to_money(Decimal("3.5")) == Decimal("3.50")
    with pytest.raises(TypeError):
        to_money(1.5)  # type: ignore[arg-type]


@pytest.mark.parametrize("text", ["1.005", "abc", "NaN", "Infinity", ""])
def test_to_money_rejects_more_than_two_decimals_and_non_numbers(text):
    with pytest.raises(InvalidAmount):
        to_money(text)


def test_format_money_always_has_two_decimals():
    assert format_money(Decimal("1250")) == "1250.00"
    assert format_money(Decimal("0.5")) == "0.50"
