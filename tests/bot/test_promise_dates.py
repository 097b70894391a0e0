"""Promise dates: the date rule as the promise action applies it, and a refused date that says
the latest allowed date (the ledger's 422 carries it) while keeping the amount already given."""

from __future__ import annotations

import pytest

from actions.account import ActionShowOverdueStatus
from actions.dialogue import ActionHandleInform
from actions.promises import ActionPromiseToPay
from harness import Conversation

D1 = ("13800000001", "1990-03-15", "4321")  # M1: promises up to 14 days ahead (2026-12-09)
D4 = ("13800000004", "1992-06-21", "3456")


async def verified(borrower, first) -> Conversation:
    conv = Conversation()
    conv.user(*first)
    await conv.run(ActionShowOverdueStatus)
    await conv.verify(*borrower)
    return conv


@pytest.mark.parametrize(
    "text, expected",
    [
        ("我下周五还500", "2026-12-04"),
        ("I'll pay 500 next Friday", "2026-12-04"),
        ("周五还500", "2026-11-27"),
        ("I'll pay 500 on Friday", "2026-11-27"),
        ("月底还500", "2026-11-30"),
        ("500 by the end of the month", "2026-11-30"),
        ("后天还五百", "2026-11-27"),
        ("I can pay 500 in 3 days", "2026-11-28"),
        ("12月3號還五百", "2026-12-03"),
    ],
)
async def test_the_promise_date_follows_the_date_rule(text, expected):
    conv = await verified(D1, ("我欠多少钱", "ask_overdue_status"))
    conv.user(text, "promise_to_pay")
    await conv.run(ActionPromiseToPay)
    assert [(p["amount"], p["promised_date"]) for p in conv.ledger.promises] == [("500.00", expected)]


@pytest.mark.parametrize(
    "first, text, then, latest",
    [
        (("我欠多少钱", "ask_overdue_status"), "1月20号还500", "12月5号", "2026年12月9日"),
        (("how much do I owe", "ask_overdue_status"), "I'll pay 500 on Jan 20", "Dec 5", "9 Dec 2026"),
    ],
)
async def test_a_refused_date_says_the_latest_allowed_date_and_keeps_the_amount(first, text, then, latest):
    conv = await verified(D1, first)
    conv.user(text, "promise_to_pay")
    await conv.run(ActionPromiseToPay)
    assert conv.ledger.promises == []
    assert latest in conv.all_text()
    assert conv.slots["awaiting"] == "promise_details" and conv.slots["promise_amount"] == "500.00"
    conv.user(then, "inform")
    await conv.run(ActionHandleInform)
    assert [(p["amount"], p["promised_date"]) for p in conv.ledger.promises] == [("500.00", "2026-12-05")]


async def test_a_refusal_without_the_latest_date_still_answers():
    conv = await verified(D1, ("我欠多少钱", "ask_overdue_status"))
    conv.ledger.omit_latest_date = True  # an older ledger: only the reason
    conv.user("1月20号还500", "promise_to_pay")
    await conv.run(ActionPromiseToPay)
    assert conv.ledger.promises == [] and conv.slots["awaiting"] == "promise_details"
    assert conv.all_text()
