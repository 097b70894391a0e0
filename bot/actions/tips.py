"""ask_financial_tips: tips paraphrased from the seed articles, and a small budget from the
figures the borrower gave (their own numbers, not the ledger's)."""

from __future__ import annotations

import re
from decimal import Decimal

from actions import texts
from actions.common import LedgerAction, Turn
from actions.parsing import money, normalize, parse_amount, parse_amount_or_nothing

_INCOME = re.compile(r"收入|工资|薪水|挣|赚|月薪|income|earn|salary|make|paid")
_EXPENSES = re.compile(r"开销|开支|花|支出|生活费|房租|吃饭|expense|spend|rent|cost|bills")
_DEBTS = re.compile(r"还款|债|贷|信用卡|debt|loan|repay|credit card")


def parse_budget(text: str) -> dict[str, Decimal]:
    """Income / expenses / debts named in one message ("收入8000，开销5000")."""
    found: dict[str, Decimal] = {}
    for segment in re.split(r"[,，;；。、]|\band\b|\bbut\b", normalize(text or "").lower()):
        for key, pattern in (("income", _INCOME), ("debts", _DEBTS), ("expenses", _EXPENSES)):
            if pattern.search(segment) and key not in found:
                value = parse_amount(segment) if key == "income" else parse_amount_or_nothing(segment)
                if value is not None and value >= 0:
                    found[key] = value
                break
    return found


class ActionFinancialTips(LedgerAction):
    intents = ("ask_financial_tips",)

    def name(self) -> str:
        return "action_financial_tips"

    async def handle(self, turn: Turn) -> None:
        tips = texts.TIPS
        if turn.slot("awaiting") == "budget_figures" and turn.latest_intent != "ask_financial_tips":
            await self.budget_only(turn)
            return
        start = int(turn.slot("tips_shown") or 0) % len(tips)
        chosen = [tips[(start + i) % len(tips)] for i in range(3)]
        bullet = "· "
        turn.say_raw("\n".join([texts.text("tips_intro", turn.lang)] + [bullet + t[turn.lang] for t in chosen]))
        turn.set("tips_shown", float(start + 3))
        await self.budget_only(turn)

    async def budget_only(self, turn: Turn) -> None:
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
        figures = dict(income=turn.money(income), expenses=turn.money(expenses), debts=turn.money(debts))
        if left >= 0:
            turn.say("budget", left=turn.money(left), **figures)
        else:
            turn.say("budget_short", gap=turn.money(-left), **figures)
