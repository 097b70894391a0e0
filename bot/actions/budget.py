"""A small budget from the figures the borrower gives (their own numbers, not the ledger's):
read from one message, then income minus expenses and other debt payments. Shown after the
financial tips, and when a reply (inform) brings the figures. The figures are kept in the hardship
form's slots (never asked again), and a correction after an assessment assesses again."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from actions import texts
from actions.parsing import money, parse_monthly_figures, parse_reason_correction, says_correction, to_money_string
from actions.slots import HARDSHIP_FORM, HARDSHIP_SLOTS
from actions.turn import Turn

MAX_MONTHLY = Decimal("1000000.00")  # a monthly figure above this is a typo, not a budget
# The slot that keeps each kind of monthly figure (the hardship form's questions): a figure given
# once in the conversation, for a budget or in the form, is not asked for again.
FIGURE_SLOTS = {"income": "monthly_income", "expenses": "essential_expenses", "debts": "other_debt_payments"}


def remember_figures(turn: Turn, figures: dict[str, Decimal]) -> None:
    """Keeps the plausible figures given (0 to MAX_MONTHLY) in their slots."""
    for kind, value in figures.items():
        if kind in FIGURE_SLOTS and Decimal(0) <= value <= MAX_MONTHLY:
            turn.set(FIGURE_SLOTS[kind], to_money_string(value))


def correct_reason(turn: Turn) -> dict[str, Any]:
    """A correction of the hardship reason given before ("不是失业，是生病了", "actually it's not
    job loss, I'm ill"): says what changed and returns the slot update ({} when the message
    corrects no reason)."""
    before = turn.slot("hardship_reason")
    after = parse_reason_correction(turn.latest_text, before if isinstance(before, str) else None)
    if after is None:
        return {}
    turn.say(
        "hardship_reason_updated",
        before=texts.name_of(texts.REASON_NAMES, before, turn.lang),
        after=texts.name_of(texts.REASON_NAMES, after, turn.lang),
    )
    return {"hardship_reason": after}


def correct_assessment(turn: Turn) -> bool:
    """A correction of the figures or of the reason after an assessment ("不对，收入其实是4000",
    "sorry, my rent is 2500", "不是失业，是生病了"): the values named are replaced, said back, and
    the hardship form starts again with every slot filled, so it submits at once: a new hardship
    case with the corrected values (the ledger's cases are records: the earlier one stays on file,
    the plans now come from the new one) and the plans worked out anew. False (nothing done) when
    the message corrects nothing or no assessment was made."""
    text = turn.latest_text
    if not turn.slot("verified") or any(turn.slot(slot) is None for slot in HARDSHIP_SLOTS):
        return False
    given = {kind: v for kind, v in parse_budget(text).items() if v <= MAX_MONTHLY} if says_correction(text) else {}
    reason = correct_reason(turn)
    if not given and not reason:
        return False
    for slot, value in reason.items():
        turn.set(slot, value)
    for kind, value in given.items():
        name = texts.name_of(texts.FIGURE_NAMES, FIGURE_SLOTS[kind], turn.lang)
        turn.say("hardship_figure_updated", name=name, amount=turn.money(value))
    remember_figures(turn, given)
    for slot in ("offered_plans", "chosen_offer_id", "evaluation_id", "awaiting"):
        turn.set(slot, None)
    turn.followup(HARDSHIP_FORM)
    return True


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
    remember_figures(turn, given)
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
