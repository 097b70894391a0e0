"""A small budget from the figures the borrower gives (their own numbers, not the ledger's):
read from one message, then income minus expenses and other debt payments. Shown after the
financial tips, and when a reply (inform) brings the figures."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from actions.parsing import money, parse_monthly_figures
from actions.turn import Turn


def parse_budget(text: str) -> dict[str, Decimal]:
    """Income / expenses / debts named in one message ("收入8000，开销5000"): the figures
    parse_monthly_figures reads (ranges, averages, several parts), negative ones left out."""
    return {kind: value for kind, value in parse_monthly_figures(text).items() if value >= 0}


def answer_budget(turn: Turn) -> None:
    """The budget from the figures given (in reply to the question for them, or with the request
    for tips) or known from the hardship form; the question for them when income or expenses
    are missing."""
    continuing = turn.slot("awaiting") == "budget_figures"
    turn.set("awaiting", None)
    given = parse_budget(turn.latest_text if continuing else turn.message_for("ask_financial_tips"))
    income = given.get("income", money(turn.slot("monthly_income")))
    expenses = given.get("expenses", money(turn.slot("essential_expenses")))
    debts = given.get("debts", money(turn.slot("other_debt_payments")) or Decimal("0.00"))
    if income is None or expenses is None:
        turn.set("awaiting", "budget_figures")
        turn.say("budget_ask")
        return
    left = income - expenses - debts
    figures: dict[str, Any] = {
        "income": turn.money(income),
        "expenses": turn.money(expenses),
        "debts": turn.money(debts),
    }
    if left >= 0:
        turn.say("budget", left=turn.money(left), **figures)
    else:
        turn.say("budget_short", gap=turn.money(-left), **figures)
