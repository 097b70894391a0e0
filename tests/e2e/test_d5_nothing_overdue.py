"""D5 is current: told nothing is overdue, with the next due date and amount from the ledger;
asking how to pay gives the payoff amount, not an invented arrears figure."""

from __future__ import annotations

from stack_helpers.e2e_stack import DEMO, date_text, money_text


def test_d5_is_told_nothing_is_overdue_and_what_falls_due_next(chat, ledger):
    who = DEMO["D5"]
    api = ledger.verify(who)
    status = api.status(who.loan_number)
    assert status["days_past_due"] == 0 and status["overdue"]["total"] == "0.00"

    c = chat()
    answer = c.verify(who, "我这个月要还多少钱")
    assert who.name in answer and "没有逾期" in answer, answer
    assert "逾期金额" not in answer and "罚息" not in answer
    assert money_text(status["next_due"]["amount"], "zh") in answer
    assert date_text(status["next_due"]["due_date"], "zh") in answer

    pay = c.say("我想现在还款，怎么还")
    assert who.loan_number in pay, pay  # the transfer reference
    assert "没有逾期" in pay and money_text(status["payoff_amount"], "zh") in pay, pay
