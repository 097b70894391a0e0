"""ask_financial_tips: tips paraphrased from the seed articles, and a small budget from the
figures the borrower gave (actions/budget.py)."""

from __future__ import annotations

from actions import texts
from actions.base import LedgerAction
from actions.budget import answer_budget
from actions.turn import Turn


class ActionFinancialTips(LedgerAction):
    def name(self) -> str:
        return "action_financial_tips"

    async def handle(self, turn: Turn) -> None:
        tips = texts.TIPS
        if turn.slot("awaiting") == "budget_figures" and turn.latest_intent != "ask_financial_tips":
            answer_budget(turn)
            return
        start = int(turn.slot("tips_shown") or 0) % len(tips)
        chosen = [tips[(start + i) % len(tips)] for i in range(3)]
        bullet = "· "
        turn.say_raw("\n".join([texts.text("tips_intro", turn.lang)] + [bullet + t[turn.lang] for t in chosen]))
        turn.set("tips_shown", float(start + 3))
        answer_budget(turn)
