"""Offers on one basis, chosen by name or number whatever the NLU read, the broken-arrangement
rule before the yes, and the quick way to pay for a borrower who forgot (issue 9, kind 9).

Over the fake ledger, in both languages. The figures are the ledger's (tests/bot/fake_ledger.py):
the bot formats them, never computes them.
"""

from __future__ import annotations

import copy

import pytest

from actions.account import ActionShowOverdueStatus
from actions.contact import ActionStopContact
from actions.dialogue import ActionHandleAffirm, ActionHandleDeny, ActionHandleInform
from actions.disputes import ActionOpenDispute
from actions.escalation import ActionFileComplaint, ActionRequestHuman
from actions.fallback import ActionClarify, ActionHandleOutOfScope
from actions.hardship import ActionStartHardship, ActionSubmitHardship
from actions.payments import ActionCheckPayment, ActionPayNow
from actions.promises import ActionPromiseToPay
from fake_ledger import _comparison, _offer, _schedule
from harness import Conversation

D1 = ("13800000001", "1990-03-15", "4321")
D4 = ("13800000004", "1992-06-21", "3456")
ZH = {
    "hardship_reason": "失业了",
    "hardship_duration": "暂时的",
    "monthly_income": "五千",
    "essential_expenses": "3千5",
    "other_debt_payments": "没有",
}
EN = {
    "hardship_reason": "I lost my job",
    "hardship_duration": "temporary",
    "monthly_income": "5000",
    "essential_expenses": "3500",
    "other_debt_payments": "none",
}


def quarterly_plan() -> dict:
    from datetime import date

    schedule = _schedule("3396.14", 3, date(2027, 2, 25))
    schedule[0]["amount"] = "3455.59"
    return {
        "plan_type": "quarterly",
        "eligible": True,
        "reasons": [],
        "offer": _offer(
            "off-q",
            "3455.59",
            "quarterly",
            "10247.87",
            schedule,
            comparison=_comparison(
                "3455.59", "quarterly", "3396.14", 3, "2027-02-25", "2027-08-25", "10247.87", "94.94", "282.80"
            ),
        ),
    }


def reduced_rate_plan() -> dict:
    from datetime import date

    return {
        "plan_type": "reduced_rate",
        "eligible": True,
        "reasons": [],
        "offer": _offer(
            "off-rr",
            "980.00",
            "monthly",
            "9800.00",
            _schedule("980.00", 10, date(2026, 12, 25)),
            comparison=_comparison(
                "980.00", "monthly", None, 10, "2026-12-25", "2027-09-21", "9800.00", "-120.40", "-165.07"
            ),
        ),
    }


EXTRA = {"quarterly": quarterly_plan, "reduced_rate": reduced_rate_plan}


async def offers_shown(
    borrower=D1, first=("我欠多少钱", "ask_overdue_status"), answers=ZH, extra=(), order=None
) -> Conversation:
    """Offers on screen after the hardship form; `order` lists the plan types offered (D1's own and
    EXTRA ones) in the order the ledger gives them."""
    conv = Conversation()
    key = "b-d1" if borrower == D1 else "b-d4"
    eligible = [p for p in conv.ledger.borrowers[key].plans if p["eligible"]] + [copy.deepcopy(p) for p in extra]
    if order is not None:
        by_type = {p["plan_type"]: p for p in eligible}
        eligible = [by_type.get(t) or EXTRA[t]() for t in order]
    conv.ledger.borrowers[key].plans = eligible
    conv.user(*first)
    await conv.run(ActionShowOverdueStatus)
    await conv.verify(*borrower)
    if first[1] != "report_hardship":
        conv.user("I can't pay" if answers is EN else "我还不上", "report_hardship")
        await conv.run(ActionStartHardship)
    for slot in ("hardship_reason", "hardship_duration", "monthly_income", "essential_expenses", "other_debt_payments"):
        if conv.slots.get(slot) is None:
            await conv.answer("hardship_form", slot, answers[slot])
    await conv.run(ActionSubmitHardship)
    assert conv.slots["awaiting"] == "plan_choice", conv.all_text()
    return conv


# ---------------------------------------------------------------- shown on one basis


async def test_plans_are_shown_on_one_basis_in_chinese():
    conv = await offers_shown()
    text = conv.all_text()
    assert (
        "您目前的还款计划：每月 1,100.40 元，现在应还 1,161.87 元，共 9 期，到 2027年7月10日 还清，共还 9,965.07 元。"
        in text
    )
    assert (
        "1. 减免罚息和违约金：先一次性还 1,100.50 元，之后每月 1,100.40 元照常；"
        "共 9 期，2026年12月2日 至 2027年7月10日；共还 9,903.70 元（比现在总共少 61.37 元）" in text
    )
    assert (
        "2. 延期还款：前 2 个月不用还，之后每月 905.20 元；共 11 期，2027年1月25日 至 2027年11月21日；"
        "共还 9,957.20 元（比现在每月少 195.20 元，总共少 7.87 元）" in text
    )
    assert (
        "3. 延长还款期限：每月 512.80 元；共 21 期，2026年12月25日 至 2028年8月16日；"
        "共还 10,769.00 元（比现在每月少 587.60 元，总共多 803.93 元）" in text
    )


async def test_plans_are_shown_on_one_basis_in_english():
    conv = await offers_shown(D4, ("how much do I owe", "ask_overdue_status"), EN)
    text = conv.all_text()
    assert (
        "Your current schedule: CNY 710.80 a month, CNY 753.55 due now, 4 payments until 5 Feb 2027, "
        "CNY 2,975.95 in all." in text
    )
    assert (
        "1. term extension: CNY 300.10 a month; 11 payments, 25 Dec 2026 to 21 Oct 2027; CNY 3,301.10 in all "
        "(vs today: CNY 410.70 less a month, CNY 325.15 more in total)" in text
    )


async def test_the_quarterly_headline_is_its_first_payment_and_the_later_ones_are_said():
    conv = await offers_shown(extra=[quarterly_plan()])
    assert (
        "4. 按季还款：每季度还，首次 3,455.59 元，之后每次 3,396.14 元；共 3 期，2027年2月25日 至 2027年8月25日；"
        "共还 10,247.87 元（比现在每季度多 94.94 元，总共多 282.80 元）" in conv.all_text()
    )


async def test_web_chat_gets_cards_with_buttons_and_every_channel_the_numbered_text():
    conv = await offers_shown()
    (custom,) = [c for c in conv.customs() if "plans" in c]
    cards = custom["plans"]
    plan_message = next(m for m in conv.messages if m.get("custom") == custom)
    assert plan_message["text"].startswith("1. 减免罚息和违约金")  # the text always goes too
    assert [b["payload"] for b in plan_message["buttons"]] == [c["payload"] for c in cards]
    assert [c["title"] for c in cards] == ["1. 减免罚息和违约金", "2. 延期还款", "3. 延长还款期限"]
    ext = cards[2]
    assert ext["plan_type"] == "term_extension" and ext["choose"] == "选这个"
    rows = {r["label"]: r["value"] for r in ext["rows"]}
    assert rows == {
        "每期还款": "每月 512.80 元",
        "期数": "21 期",
        "时间": "2026年12月25日 至 2028年8月16日",
        "共还": "10,769.00 元",
        "比现在": "每月少 587.60 元，总共多 803.93 元",
    }
    assert ext["figures"]["total_change"] == "803.93"  # the ledger's strings for richer clients
    assert all(isinstance(v, str) for c in cards for r in c["rows"] for v in r.values())


async def test_english_cards():
    conv = await offers_shown(D4, ("how much do I owe", "ask_overdue_status"), EN)
    (card,) = next(c for c in conv.customs() if "plans" in c)["plans"]
    assert card["title"] == "1. term extension" and card["choose"] == "Choose this"
    rows = {r["label"]: r["value"] for r in card["rows"]}
    assert rows["Compared with today"] == "CNY 410.70 less a month, CNY 325.15 more in total"
    assert rows["Payments"] == "11" and rows["Dates"] == "25 Dec 2026 to 21 Oct 2027"


async def test_an_offer_without_comparison_figures_is_still_shown():
    conv = Conversation()
    for plan in conv.ledger.borrowers["b-d1"].plans:
        if plan["offer"]:
            plan["offer"].pop("comparison")
    conv.ledger.borrowers["b-d1"].current_schedule = None
    conv.user("我还不上", "report_hardship")
    await conv.run(ActionStartHardship)
    await conv.verify(*D1)
    for slot in ("hardship_reason", "hardship_duration", "monthly_income", "essential_expenses", "other_debt_payments"):
        if conv.slots.get(slot) is None:
            await conv.answer("hardship_form", slot, ZH[slot])
    await conv.run(ActionSubmitHardship)
    assert "延期还款：每月还 905.20 元，共还 9,957.20 元" in conv.all_text()


# ---------------------------------------------------------------- chosen by name or number


CHOICES = [
    ("the 2nd one", "inform", "off-def"),
    ("第二个", "complain", "off-def"),
    ("第二個", "dispute_debt", "off-def"),
    ("the third", "stop_contact", "off-ext"),
    ("the last one", "request_human", "off-ext"),
    ("分期那个", "report_hardship", "off-ext"),
    ("the one-off one", "out_of_scope", "off-fw"),
    ("月供最低的那个", "nlu_fallback", "off-ext"),
    ("the cheapest", "promise_to_pay", "off-fw"),
    ("不要延期，要延长期限", "deny", "off-ext"),
]
ACTION_OF = {
    "inform": ActionHandleInform,
    "complain": ActionFileComplaint,
    "dispute_debt": ActionOpenDispute,
    "stop_contact": ActionStopContact,
    "request_human": ActionRequestHuman,
    "report_hardship": ActionStartHardship,
    "out_of_scope": ActionHandleOutOfScope,
    "nlu_fallback": ActionClarify,
    "promise_to_pay": ActionPromiseToPay,
    "deny": ActionHandleDeny,
    "affirm": ActionHandleAffirm,
}


def nothing_recorded(conv: Conversation) -> None:
    ledger = conv.ledger
    assert ledger.complaints == [] and ledger.disputes == [] and ledger.escalations == []
    assert ledger.promises == [] and ledger.accepted == []
    assert ledger.borrowers["b-d1"].contact_preferences == {"stop_all": False, "opted_out_channels": []}


@pytest.mark.parametrize("text, intent, offer_id", CHOICES)
async def test_naming_or_numbering_a_plan_chooses_it_whatever_the_nlu_read(text, intent, offer_id):
    conv = await offers_shown()
    started = len(conv.followups)
    conv.user(text, intent, confidence=0.9)
    await conv.run(ACTION_OF[intent])
    assert conv.slots["chosen_offer_id"] == offer_id, conv.all_text()
    assert conv.slots["awaiting"] == "plan_confirmation"
    assert len(conv.followups) == started  # no form started
    nothing_recorded(conv)


@pytest.mark.parametrize(
    "text, intent, order, offer_id",
    [
        ("the rate cut one, the third", "complain", ("fee_waiver", "deferral", "reduced_rate"), "off-rr"),
        ("减息那个，第四个", "dispute_debt", ("fee_waiver", "deferral", "term_extension", "reduced_rate"), "off-rr"),
        ("按季度那个", "request_payment_plan", ("fee_waiver", "term_extension", "quarterly"), "off-q"),
        ("按季度那個", "inform", ("fee_waiver", "term_extension", "quarterly"), "off-q"),
        ("quarterly one pls", "stop_contact", ("fee_waiver", "term_extension", "quarterly"), "off-q"),
    ],
)
async def test_named_plans(text, intent, order, offer_id):
    conv = await offers_shown(order=order)
    conv.user(text, intent)
    await conv.run(ACTION_OF.get(intent, ActionStartHardship))
    assert conv.slots["chosen_offer_id"] == offer_id, conv.all_text()
    nothing_recorded(conv)


async def test_a_name_and_a_number_that_disagree_are_asked_again():
    conv = await offers_shown(order=("fee_waiver", "deferral", "reduced_rate"))
    conv.user("the rate cut one, the second", "complain")
    await conv.run(ActionFileComplaint)
    assert conv.slots["chosen_offer_id"] is None and conv.slots["awaiting"] == "plan_choice"
    assert "which option" in conv.all_text() or "哪个方案" in conv.all_text()
    nothing_recorded(conv)


async def test_a_plan_not_on_offer_is_explained_not_recorded():
    conv = await offers_shown()
    conv.user("按季度那个", "complain")
    await conv.run(ActionFileComplaint)
    assert "按季还款" in conv.all_text() and conv.slots["chosen_offer_id"] is None
    nothing_recorded(conv)


async def test_a_plan_turned_down_is_not_chosen():
    conv = await offers_shown()
    conv.user("不要延期", "deny")
    await conv.run(ActionHandleDeny)
    assert conv.slots["chosen_offer_id"] is None
    nothing_recorded(conv)


@pytest.mark.parametrize("text", ["能找人工帮我看看第二个吗", "can a person explain the 2nd one to me?"])
async def test_a_person_asked_for_about_a_plan_is_a_person(text):
    conv = await offers_shown()
    conv.user(text, "request_human")
    await conv.run(ActionRequestHuman)
    assert conv.slots["chosen_offer_id"] is None
    # with plans on screen the hand-off asks for a review of them
    assert [e["reason"] for e in conv.ledger.escalations] in (["request_human"], ["hardship_review"])


async def test_numbers_that_are_no_plan_are_left_to_their_intent():
    conv = await offers_shown()
    conv.user("我想投诉，你们第2期扣款扣错了", "complain")
    await conv.run(ActionFileComplaint)
    assert conv.slots["chosen_offer_id"] is None


# ---------------------------------------------------------------- the rule before the yes


async def test_the_broken_arrangement_rule_is_said_before_the_explicit_yes_in_chinese():
    conv = await offers_shown()
    conv.user("第三个", "inform")
    await conv.run(ActionHandleInform)
    texts = conv.texts()
    summary = next(i for i, t in enumerate(texts) if "您选择了「延长还款期限」" in t)
    rule = next(i for i, t in enumerate(texts) if "累计还款少于该计划累计应还金额" in t)
    question = next(i for i, t in enumerate(texts) if "确认接受这个方案吗" in t)
    assert summary < rule < question
    assert "每月 512.80 元；共 21 期，2026年12月25日 至 2028年8月16日；共还 10,769.00 元" in texts[summary]
    assert [b["payload"] for b in conv.messages[question].get("buttons")] == ["/affirm", "/deny"]
    assert conv.ledger.accepted == []
    conv.user("好的", "affirm")
    await conv.run(ActionHandleAffirm)
    assert conv.ledger.accepted == ["off-ext"]


async def test_the_broken_arrangement_rule_in_english():
    conv = await offers_shown(D4, ("how much do I owe", "ask_overdue_status"), EN)
    conv.user("the first one", "inform")
    await conv.run(ActionHandleInform)
    text = conv.all_text()
    assert text.index("the plan ends and the loan goes back to the original contract") < text.index(
        "Do you want to accept this plan?"
    )


async def test_the_policy_text_folded_by_yaml_reads_as_one_sentence():
    conv = await offers_shown()
    original = conv.ledger.get_policy_texts

    async def folded():
        document = await original()
        for t in document["texts"]:
            if t["key"] == "arrangement_terms":
                t["zh"] = "请按新的还款计划按时还款。如果某一期到期后累计还款少于该计划累计应还金额， 该计划即失效。"
        return document

    conv.ledger.get_policy_texts = folded
    conv.user("第一个", "inform")
    await conv.run(ActionHandleInform)
    assert "累计应还金额，该计划即失效" in conv.all_text()


async def test_without_the_policy_text_the_rule_is_still_said():
    conv = await offers_shown()
    original = conv.ledger.get_policy_texts

    async def without_terms():
        document = await original()
        document["texts"] = [t for t in document["texts"] if t["key"] != "arrangement_terms"]
        return document

    conv.ledger.get_policy_texts = without_terms
    conv.user("第一个", "inform")
    await conv.run(ActionHandleInform)
    assert "恢复按原合同计算" in conv.all_text() and "确认接受这个方案吗" in conv.all_text()


async def test_yes_naming_another_plan_chooses_it_and_accepts_nothing():
    conv = await offers_shown()
    conv.user("第一个", "inform")
    await conv.run(ActionHandleInform)
    assert conv.slots["chosen_offer_id"] == "off-fw"
    conv.user("yes, the second one", "affirm")
    await conv.run(ActionHandleAffirm)
    assert conv.slots["chosen_offer_id"] == "off-def" and conv.ledger.accepted == []
    conv.user("yes the second one", "affirm")
    await conv.run(ActionHandleAffirm)
    assert conv.ledger.accepted == ["off-def"]


# ---------------------------------------------------------------- a borrower who forgot


@pytest.mark.parametrize(
    "text, intent, first",
    [
        ("我忘了还了，怎么还", "report_hardship", ("我欠多少钱", "ask_overdue_status")),
        ("不好意思忘记还款了", "request_payment_plan", ("我欠多少钱", "ask_overdue_status")),
        ("I forgot, how do I pay", "report_hardship", ("how much do I owe", "ask_overdue_status")),
        (
            "sorry it slipped my mind, can I pay now?",
            "request_payment_plan",
            ("how much do I owe", "ask_overdue_status"),
        ),
    ],
)
async def test_a_borrower_who_forgot_gets_the_quick_way_to_pay_not_the_questionnaire(text, intent, first):
    conv = Conversation()
    conv.user(*first)
    await conv.run(ActionShowOverdueStatus)
    await conv.verify(*D1)
    conv.user(text, intent)
    await conv.run(ActionStartHardship)
    reply = conv.all_text()
    assert "hardship_form" not in conv.followups
    assert "1,161.87" in reply  # the amount to bring the account current
    assert "app" in reply.lower()  # how to pay (in the language the borrower writes)
    assert conv.ledger.hardship_cases == []


@pytest.mark.parametrize("text", ["我忘了还了，怎么还", "忘记还款了"])
async def test_forgot_read_as_already_paid_gets_the_quick_way_to_pay(text):
    conv = Conversation()
    conv.user(text, "already_paid")
    await conv.run(ActionCheckPayment)
    await conv.verify(*D1)
    reply = conv.all_text()
    assert "忘记还款的情况很常见" in reply and "1,161.87" in reply and "App" in reply
    assert "get_payments" not in conv.ledger.calls and conv.ledger.escalations == []


async def test_forgot_before_verification_gets_the_quick_way_after_it():
    conv = Conversation()
    conv.user("I forgot to pay, what do I do", "report_hardship")
    await conv.run(ActionStartHardship)
    await conv.verify(*D4)
    assert "hardship_form" not in conv.followups
    assert "CNY 753.55" in conv.all_text()


async def test_forgot_said_inside_the_questionnaire_ends_it_with_the_quick_way():
    conv = Conversation()
    conv.user("我还不上", "report_hardship")
    await conv.run(ActionStartHardship)
    await conv.verify(*D1)
    await conv.answer("hardship_form", "hardship_reason", "其实就是忘了还")
    assert conv.slots["hardship_reason"] is None and conv.slots.get("requested_slot") is None
    assert "1,161.87" in conv.all_text()
    await conv.run(ActionSubmitHardship)
    assert conv.ledger.hardship_cases == []
    assert "先不继续评估" not in conv.all_text()


async def test_real_hardship_still_gets_the_questionnaire():
    conv = Conversation()
    conv.user("我忘不了被裁员那天，现在真的还不上", "report_hardship")
    await conv.run(ActionStartHardship)
    await conv.verify(*D1)
    assert conv.followups[-1] == "hardship_form"


@pytest.mark.parametrize(
    "text, who, ack, amount",
    [
        ("我忘了还款，现在怎么还？", D1, "忘记还款的情况很常见", "1,161.87"),
        ("I forgot to pay, how do I pay now?", D4, "forgetting a due date happens", "753.55"),
    ],
)
async def test_forgot_read_as_pay_now_is_acknowledged_then_how_to_pay(text, who, ack, amount):
    conv = Conversation()
    conv.user(text, "pay_now")
    await conv.run(ActionPayNow)
    await conv.verify(*who)
    reply = conv.all_text()
    assert ack in reply and reply.index(ack) < reply.index(amount)
