"""Forms that listen: the hardship and verification forms take every figure a message gives
(and never ask for one again), replace a corrected value, answer a side question and ask their
question again, and let the borrower leave with a plain word ("算了", "never mind") - nothing
recorded, said plainly, a person offered to someone who was asking for help.

Asserted on slots, ledger calls and buttons, not on wording."""

from __future__ import annotations

from decimal import Decimal

import pytest

from actions.account import ActionShowOverdueStatus
from actions.hardship import ActionStartHardship, ActionSubmitHardship
from actions.slots import HARDSHIP_SLOTS
from actions.verification import ActionSubmitVerification
from harness import Conversation

D1 = ("13800000001", "1990-03-15", "4321")
D4 = ("13800000004", "1992-06-21", "3456")
FIGURES = ("monthly_income", "essential_expenses", "other_debt_payments")


async def verified(borrower=D1, first=("我欠多少钱", "ask_overdue_status")) -> Conversation:
    conv = Conversation()
    conv.user(*first)
    await conv.run(ActionShowOverdueStatus)
    await conv.verify(*borrower)
    assert conv.slots["verified"] is True
    return conv


def next_question(conv: Conversation) -> str | None:
    """The slot the form asks for next (Rasa asks the first empty required slot)."""
    return next((slot for slot in HARDSHIP_SLOTS if conv.slots.get(slot) is None), None)


async def say(conv: Conversation, text: str, intent: str = "inform", confidence: float = 0.95) -> dict:
    """The borrower answers the form's current question."""
    slot = next_question(conv)
    assert slot is not None, "the form has nothing left to ask"
    conv.user(text, intent, confidence=confidence)
    return await conv.validate("hardship_form", slot, text)


async def start(conv: Conversation, text: str, intent: str = "report_hardship") -> None:
    conv.user(text, intent)
    await conv.run(ActionStartHardship)
    assert conv.followups[-1] == "hardship_form"


def figures(conv: Conversation) -> tuple:
    return tuple(conv.slots.get(slot) for slot in FIGURES)


# ---------------------------------------------------------------- several figures, one turn


@pytest.mark.parametrize(
    "borrower, opening, duration, message, expected",
    [
        (D1, "我失业了还不上", "暂时的", "收入6000，房租2000吃饭1000，还有信用卡500", ("6000.00", "3000.00", "500.00")),
        (
            D4,
            "I lost my job and can't pay",
            "temporary",
            "I make 5k, spend about 2k and pay 300 on a card",
            ("5000.00", "2000.00", "300.00"),
        ),
        (
            D1,
            "我失业了还不上",
            "短期的",
            "到手五千，房貸兩千，吃飯一千五，花唄還八百",
            ("5000.00", "1500.00", "2800.00"),
        ),
    ],
)
async def test_several_figures_in_one_answer_fill_every_slot_and_the_case_is_recorded(
    borrower, opening, duration, message, expected
):
    first = ("how much do I owe", "ask_overdue_status") if borrower is D4 else ("我欠多少钱", "ask_overdue_status")
    conv = await verified(borrower, first)
    await start(conv, opening)
    await say(conv, duration)
    assert next_question(conv) == "monthly_income"
    await say(conv, message)
    assert figures(conv) == expected
    assert next_question(conv) is None  # nothing left to ask: the form submits
    await conv.run(ActionSubmitHardship)
    case = conv.ledger.hardship_cases[0]
    assert (case["monthly_income"], case["essential_expenses"], case["other_debt_payments"]) == tuple(
        Decimal(v) for v in expected
    )


async def test_figures_in_the_opening_message_are_not_asked_again():
    conv = await verified(D4, ("how much do I owe", "ask_overdue_status"))
    await start(conv, "I lost my job, now I make about 1500 from odd jobs and rent is 1200")
    assert conv.slots["hardship_reason"] == "job_loss"
    assert figures(conv) == ("1500.00", "1200.00", None)
    await say(conv, "temporary")
    assert next_question(conv) == "other_debt_payments"


async def test_figures_given_with_the_reason_fill_their_slots():
    conv = await verified(D1)
    await start(conv, "能分期吗", intent="request_payment_plan")
    assert next_question(conv) == "hardship_reason"
    await say(conv, "生意不好，每月收入三四千，房租一千五")
    assert conv.slots["hardship_reason"] == "business_failure"
    assert figures(conv) == ("3000.00", "1500.00", None)


async def test_figures_alone_are_no_reason():
    conv = await verified(D1)
    await start(conv, "能分期吗", intent="request_payment_plan")
    result = await say(conv, "收入3000，房租1000")
    assert result["hardship_reason"] is None and conv.slots["hardship_reason"] is None
    assert figures(conv)[:2] == ("3000.00", "1000.00")
    assert next_question(conv) == "hardship_reason"


@pytest.mark.parametrize(
    "answers, expected",
    [
        (["旺季八千淡季三四千，一般六千上下", "三四千", "没有"], ("6000.00", "4000.00", "0.00")),
        (["busy months 8k, slow months 3 to 4k", "between 2 and 3 thousand", "none"], ("3000.00", "3000.00", "0.00")),
        (["about 6k", "2-3k", "1.2k or so"], ("6000.00", "3000.00", "1200.00")),
    ],
)
async def test_ranges_and_averages_give_one_monthly_figure(answers, expected):
    conv = await verified(D1)
    await start(conv, "我失业了还不上")
    await say(conv, "暂时的")
    for answer in answers:
        await say(conv, answer)
    assert figures(conv) == expected


async def test_a_figure_of_another_kind_is_kept_and_the_question_asked_again_without_reproach():
    conv = await verified(D1)
    await start(conv, "我失业了还不上")
    await say(conv, "暂时的")
    result = await say(conv, "房租2000")
    assert result["monthly_income"] is None and conv.slots["essential_expenses"] == "2000.00"
    assert conv.messages == []  # no "I could not read that amount"
    assert next_question(conv) == "monthly_income"


# ---------------------------------------------------------------- corrections


@pytest.mark.parametrize(
    "correction, expected_income",
    [
        ("不对，收入是5000", "5000.00"),
        ("说错了，是四千", "4000.00"),
        ("sorry, I meant 4500", "4500.00"),
        ("my income is actually 5500, not 6000", "5500.00"),
    ],
)
async def test_a_correction_replaces_the_value_it_corrects(correction, expected_income):
    conv = await verified(D1)
    await start(conv, "我失业了还不上")
    await say(conv, "暂时的")
    await say(conv, "6000")
    assert next_question(conv) == "essential_expenses"
    result = await say(conv, correction)
    assert conv.slots["monthly_income"] == expected_income
    assert result["essential_expenses"] is None and next_question(conv) == "essential_expenses"
    await say(conv, "3000")
    await say(conv, "没有")
    await conv.run(ActionSubmitHardship)
    assert conv.ledger.hardship_cases[0]["monthly_income"] == Decimal(expected_income)


async def test_a_correction_naming_another_slot_replaces_that_one():
    conv = await verified(D1)
    await start(conv, "我失业了还不上")
    await say(conv, "暂时的")
    await say(conv, "收入6000，房租2000")
    assert next_question(conv) == "other_debt_payments"
    await say(conv, "不对，房租是2500")
    assert figures(conv) == ("6000.00", "2500.00", None)


async def test_figures_already_given_are_kept_when_the_assessment_starts_again():
    conv = await verified(D1)
    await start(conv, "我失业了还不上")
    await say(conv, "暂时的")
    await say(conv, "收入6000，房租2000，没有其他贷款")
    await conv.run(ActionSubmitHardship)
    assert len(conv.ledger.hardship_cases) == 1
    await start(conv, "我想换个还款计划", intent="request_payment_plan")
    assert figures(conv) == ("6000.00", "2000.00", "0.00")
    assert "6,000.00" in conv.all_text()  # the figures kept are said, so they can be corrected
    await say(conv, "收入下降了")
    await say(conv, "长期的")
    assert next_question(conv) is None


# ---------------------------------------------------------------- leaving the form


@pytest.mark.parametrize(
    "text, intent, confidence",
    [
        ("算了", "deny", 0.9),
        ("算了吧，不弄了", "inform", 0.4),
        ("never mind", "out_of_scope", 0.5),
        ("forget it", "inform", 0.7),
        ("stop", "stop_contact", 0.9),  # misread as stop_contact: no contact preference is changed
        ("不要了谢谢", "thank", 0.8),
    ],
)
@pytest.mark.parametrize("asked_after", [0, 2])
async def test_a_plain_stop_leaves_the_hardship_form_records_nothing_and_offers_a_person(
    text, intent, confidence, asked_after
):
    conv = await verified(D1)
    await start(conv, "我想申请分期", intent="request_payment_plan")
    if asked_after:
        await say(conv, "失业了")
        await say(conv, "暂时的")
    result = await say(conv, text, intent=intent, confidence=confidence)
    assert result["requested_slot"] is None
    assert conv.slots["hardship_reason"] != "other"
    await conv.run(ActionSubmitHardship)
    assert conv.ledger.hardship_cases == []
    for call in ("create_hardship_case", "create_evaluation", "set_contact_preferences", "create_complaint"):
        assert call not in conv.ledger.calls
    assert conv.ledger.escalations == []
    assert "/request_human" in [b["payload"] for b in conv.buttons()]
    assert conv.slots["awaiting"] == "human_offer"


async def test_a_side_question_in_the_hardship_form_is_answered_and_the_form_goes_on():
    conv = await verified(D1)
    await start(conv, "我失业了还不上")
    result = await say(conv, "你们是机器人吗", intent="bot_challenge")
    assert result == {"hardship_duration": None} or result.get("hardship_duration") is None
    assert "requested_slot" not in result and conv.messages
    result = await say(conv, "你们公司地址在哪", intent="out_of_scope")
    assert "requested_slot" not in result and conv.messages
    assert next_question(conv) == "hardship_duration"


# ---------------------------------------------------------------- the verification form


async def test_a_side_question_before_verification_is_answered_without_the_account():
    conv = Conversation()
    conv.user("我欠多少钱", "ask_overdue_status")
    await conv.run(ActionShowOverdueStatus)
    result = await conv.answer("verification_form", "identity_phone", "不还会影响征信吗", intent="ask_consequences")
    assert result.get("identity_phone") is None and "requested_slot" not in result
    assert "征信" in conv.all_text()
    assert "get_loan_status" not in conv.ledger.calls and "verify" not in conv.ledger.calls
    assert conv.slots["pending_intent"] == "ask_overdue_status"
    result = await conv.answer("verification_form", "identity_phone", "你是真人吗", intent="bot_challenge")
    assert "requested_slot" not in result and conv.messages
    await conv.answer("verification_form", "identity_phone", D1[0])
    await conv.answer("verification_form", "identity_dob", D1[1])
    await conv.answer("verification_form", "identity_id_last4", D1[2])
    await conv.run(ActionSubmitVerification)
    assert "1,161.87" in conv.all_text()  # the first question, answered once verified


@pytest.mark.parametrize(
    "opening, stop, intent",
    [
        (("我失业了还不上", "report_hardship"), "算了", "inform"),
        (("can I get a payment plan", "request_payment_plan"), "never mind", "out_of_scope"),
        (("我欠多少钱", "ask_overdue_status"), "不用了", "deny"),
        (("how much do I owe", "ask_overdue_status"), "forget it", "inform"),
    ],
)
async def test_a_plain_stop_leaves_verification_and_offers_a_person(opening, stop, intent):
    """Nothing is recorded and a person is always offered (never a dead end)."""
    conv = Conversation()
    conv.user(*opening)
    await conv.run(ActionStartHardship if opening[1] != "ask_overdue_status" else ActionShowOverdueStatus)
    await conv.answer("verification_form", "identity_phone", D1[0])
    result = await conv.answer("verification_form", "identity_dob", stop, intent=intent)
    assert result["requested_slot"] is None
    await conv.run(ActionSubmitVerification)
    assert "verify" not in conv.ledger.calls
    assert conv.vault.identity(conv.sender) == {}
    assert conv.slots["pending_intent"] is None
    assert "/request_human" in [b["payload"] for b in conv.buttons()]
    assert conv.ledger.escalations == []


async def test_a_side_question_with_a_number_is_no_figure():
    conv = await verified(D1)
    await start(conv, "我失业了还不上")
    await say(conv, "暂时的")
    result = await say(conv, "我昨天已经还了500了", intent="already_paid")
    assert result["monthly_income"] is None and "requested_slot" not in result
    assert "get_payments" in conv.ledger.calls
    result = await say(conv, "我现在欠多少钱 收入就3000", intent="ask_overdue_status")
    assert conv.slots["monthly_income"] == "3000.00"


async def test_a_reason_with_a_question_keeps_the_reason():
    conv = await verified(D1)
    await start(conv, "能分期吗", intent="request_payment_plan")
    await say(conv, "我被裁员了，我现在一共欠多少", intent="ask_overdue_status", confidence=0.7)
    assert conv.slots["hardship_reason"] == "job_loss"
    assert "1,161.87" in conv.all_text()  # the question is answered too


async def test_an_unusual_reason_read_as_out_of_scope_is_still_a_reason():
    conv = await verified(D1)
    await start(conv, "能分期吗", intent="request_payment_plan")
    await say(conv, "老板跑路了，工钱没拿到", intent="out_of_scope", confidence=0.8)
    assert conv.slots["hardship_reason"] in ("other", "income_drop")


# ---------------------------------------------------------------- a correction after the plans


@pytest.mark.parametrize(
    "correction, slot, value",
    [
        ("不对，我收入其实是4000", "monthly_income", "4000.00"),
        ("sorry, my rent is 2500 not 2000", "essential_expenses", "2500.00"),
    ],
)
@pytest.mark.parametrize("intent", ["inform", "report_hardship"])
async def test_a_correction_after_the_plans_reassesses_with_the_new_figure(correction, slot, value, intent):
    from actions.dialogue import ActionHandleInform

    action = ActionHandleInform if intent == "inform" else ActionStartHardship
    conv = await verified(D1)
    await start(conv, "我失业了还不上")
    await say(conv, "暂时的")
    await say(conv, "收入5000，房租2000，没有其他贷款")
    await conv.run(ActionSubmitHardship)
    assert conv.slots["offered_plans"]
    conv.user(correction, intent)
    await conv.run(action)
    assert conv.slots[slot] == value
    assert conv.followups[-1] == "hardship_form"  # every slot is filled: the form submits at once
    await conv.run(ActionSubmitHardship)
    assert len(conv.ledger.hardship_cases) == 2
    assert conv.ledger.hardship_cases[1][slot] == Decimal(value)
    assert conv.ledger.accepted == []


# ---------------------------------------------------------------- the hardship reason corrected


@pytest.mark.parametrize(
    "opening, correction, said",
    [
        ("我失业了还不上", "不是失业，是生病了", "生病"),
        ("I lost my job and can't pay", "actually it's not job loss, I'm ill", "illness"),
    ],
)
async def test_a_reason_correction_inside_the_form_replaces_the_reason_and_says_so(opening, correction, said):
    conv = await verified(D1 if opening.startswith("我") else D4)
    await start(conv, opening)
    assert conv.slots["hardship_reason"] == "job_loss"
    assert next_question(conv) == "hardship_duration"
    result = await say(conv, correction)
    assert conv.slots["hardship_reason"] == "illness"
    assert result["hardship_duration"] is None and next_question(conv) == "hardship_duration"  # asked again
    assert said in conv.all_text()  # the reply says what it changed to
    await say(conv, "暂时的" if opening.startswith("我") else "temporary")
    await say(conv, "收入5000，房租2000，没有其他贷款")
    await conv.run(ActionSubmitHardship)
    assert [case["reason"] for case in conv.ledger.hardship_cases] == ["illness"]


async def test_a_reason_correction_in_a_figure_question_keeps_the_figures():
    conv = await verified(D1)
    await start(conv, "我失业了还不上")
    await say(conv, "暂时的")
    await say(conv, "6000")
    assert next_question(conv) == "essential_expenses"
    await say(conv, "说错了，不是失业，是生意亏了")
    assert conv.slots["hardship_reason"] == "business_failure"
    assert figures(conv) == ("6000.00", None, None)


@pytest.mark.parametrize(
    "opening, duration, correction, said",
    [
        ("我失业了还不上", "暂时的", "不是失业，是生病了", "生病"),
        ("I lost my job and can't pay", "temporary", "actually it's not job loss, I'm ill", "illness"),
    ],
)
@pytest.mark.parametrize("intent", ["inform", "report_hardship"])
async def test_a_reason_correction_after_the_plans_replaces_the_stored_reason(
    opening, duration, correction, said, intent
):
    from actions.dialogue import ActionHandleInform

    action = ActionHandleInform if intent == "inform" else ActionStartHardship
    conv = await verified(D1 if opening.startswith("我") else D4)
    await start(conv, opening)
    await say(conv, duration)
    await say(conv, "收入5000，房租2000，没有其他贷款")
    await conv.run(ActionSubmitHardship)
    assert conv.slots["offered_plans"] and conv.ledger.hardship_cases[-1]["reason"] == "job_loss"
    conv.user(correction, intent)
    await conv.run(action)
    assert conv.slots["hardship_reason"] == "illness"
    assert said in conv.all_text()
    assert conv.followups[-1] == "hardship_form"  # every slot is filled: the form submits at once
    await conv.run(ActionSubmitHardship)
    assert len(conv.ledger.hardship_cases) == 2
    latest = conv.ledger.hardship_cases[-1]
    assert latest["reason"] == "illness"
    assert latest["monthly_income"] == Decimal("5000.00")  # the other answers kept
    assert conv.ledger.accepted == []
