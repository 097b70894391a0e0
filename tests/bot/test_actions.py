"""Action behaviour over a fake ledger: every flow, both languages, the protections."""

from decimal import Decimal

import pytest

from actions.account import ActionExplainConsequences, ActionExplainFees, ActionShowOverdueStatus
from actions.contact import ActionStopContact
from actions.dialogue import ActionHandleAffirm, ActionHandleDeny, ActionHandleInform
from actions.disputes import ActionOpenDispute
from actions.escalation import ActionFileComplaint, ActionRequestHuman
from actions.fallback import ActionClarify, ActionHandleOutOfScope
from actions.hardship import ActionStartHardship, ActionSubmitHardship
from actions.language import ActionChangeLanguage
from actions.payments import ActionCheckPayment, ActionPayNow
from actions.promises import ActionPromiseToPay
from actions.tips import ActionFinancialTips
from actions.vault import MASK
from actions.verification import ActionSubmitVerification
from harness import Conversation

D1 = ("13800000001", "1990-03-15", "4321")
D5 = ("13800000005", "1995年1月9日", "7890")
D6 = ("HX0000000006", "88年9月18号", "2468")
D7 = ("13800000007", "05/12/1980", "1357")


async def verified(borrower=D1, first=("我欠多少钱", "ask_overdue_status"), sender="conv-1") -> Conversation:
    conv = Conversation(sender)
    conv.user(*first)
    await conv.run(ActionShowOverdueStatus)
    await conv.verify(*borrower)
    assert conv.slots["verified"] is True
    return conv


# ---------------------------------------------------------------- verification


async def test_unverified_question_starts_verification_and_reveals_nothing():
    conv = Conversation()
    conv.user("我欠多少钱", "ask_overdue_status")
    await conv.run(ActionShowOverdueStatus)
    assert conv.followups == ["verification_form"]
    assert conv.slots["pending_intent"] == "ask_overdue_status"
    assert "get_loan_status" not in conv.ledger.calls
    assert "核实" in conv.all_text()


async def test_original_question_is_answered_after_verification():
    conv = Conversation()
    conv.user("我欠多少钱", "ask_overdue_status")
    await conv.run(ActionShowOverdueStatus)
    await conv.verify(*D1)
    text = conv.all_text()
    assert "王芳" in text
    assert "1,161.87 元" in text and "逾期 15 天" in text and "2026年11月10日" in text
    assert conv.slots["pending_intent"] is None
    assert conv.slots["loan_number"] == "HX0000000001"
    assert conv.slots["language"] == "zh"


async def test_identity_answers_never_stay_in_slots():
    conv = Conversation()
    conv.user("我欠多少钱", "ask_overdue_status")
    await conv.run(ActionShowOverdueStatus)
    for slot, answer in zip(("identity_phone", "identity_dob", "identity_id_last4"), D1, strict=True):
        result = await conv.answer("verification_form", slot, answer)
        assert result == {slot: MASK}
    await conv.run(ActionSubmitVerification)
    values = " ".join(str(v) for v in conv.slots.values())
    for secret in ("13800000001", "1990-03-15", "4321", "tok-"):
        assert secret not in values
    assert conv.slots["identity_phone"] is None
    assert conv.vault.token("conv-1") is not None


async def test_unreadable_identity_answer_is_asked_again():
    conv = Conversation()
    conv.user("我欠多少钱", "ask_overdue_status")
    await conv.run(ActionShowOverdueStatus)
    result = await conv.answer("verification_form", "identity_dob", "不记得了")
    assert result == {"identity_dob": None}
    assert "出生日期" in conv.all_text()


async def test_wrong_answers_are_reasked_with_attempts_left():
    conv = Conversation()
    conv.user("how much do I owe", "ask_overdue_status")
    await conv.run(ActionShowOverdueStatus)
    await conv.verify("13800000004", "1992-06-21", "9999")
    assert "2 more attempt" in conv.all_text()
    assert conv.followups[-1] == "verification_form"
    assert conv.slots["verified"] is False
    assert conv.slots["pending_intent"] == "ask_overdue_status"
    assert conv.vault.identity("conv-1") == {}


async def test_third_failure_explains_the_lockout_and_hands_off_to_a_person():
    conv = Conversation()
    conv.user("我欠多少钱", "ask_overdue_status")
    await conv.run(ActionShowOverdueStatus)
    for _ in range(3):
        await conv.verify("13800000001", "1990-03-15", "0000")
    text = conv.all_text()
    assert "锁定" in text and "10:30" in text and "转接人工" in text
    assert conv.customs()[0]["handoff"]["reason"] == "verification_locked"
    assert conv.slots["pending_intent"] is None
    # even the right answers are refused while locked
    await conv.verify(*D1)
    assert conv.slots["verified"] is False


async def test_verification_by_loan_number_and_two_digit_year():
    conv = await verified(D6)
    assert conv.slots["borrower_name"] == "刘洋"
    assert "1,923.00 元" in conv.all_text()


async def test_english_borrower_gets_english_from_profile():
    conv = await verified(("13800000004", "June 21 1992", "3456"), first=("how much do I owe?", "ask_overdue_status"))
    assert conv.slots["language"] == "en"
    text = conv.all_text()
    assert "Emily Chen" in text and "CNY 753.55" in text and "20 days past due" in text


async def test_expired_session_asks_for_verification_again():
    conv = Conversation(slots={"verified": True, "loan_number": "HX0000000001", "language": "zh"})
    conv.user("我欠多少钱", "ask_overdue_status")
    await conv.run(ActionShowOverdueStatus)
    assert conv.followups == ["verification_form"]
    assert conv.slots["verified"] is False
    assert "过期" in conv.all_text()


async def test_request_for_a_human_during_verification_stops_the_form_and_escalates():
    conv = Conversation()
    conv.user("我欠多少钱", "ask_overdue_status")
    await conv.run(ActionShowOverdueStatus)
    result = await conv.answer("verification_form", "identity_phone", "转人工", intent="request_human")
    assert result["requested_slot"] is None
    await conv.run(ActionSubmitVerification)
    assert conv.ledger.escalations and conv.ledger.escalations[0]["reason"] == "request_human"
    assert "verify" not in conv.ledger.calls


# ---------------------------------------------------------------- third party


@pytest.mark.parametrize(
    "text, intent, expected",
    [
        ("我是他妈妈，他欠了多少钱", "ask_overdue_status", "隐私"),
        ("I'm his wife, how much does he owe?", "ask_overdue_status", "account holder"),
        ("我是她老公，能帮她申请延期吗", "request_payment_plan", "隐私"),
    ],
)
async def test_third_party_is_told_nothing(text, intent, expected):
    conv = Conversation()
    conv.user(text, intent)
    action = ActionShowOverdueStatus if intent == "ask_overdue_status" else ActionStartHardship
    await conv.run(action)
    assert expected in conv.all_text()
    assert conv.ledger.calls == []
    assert conv.followups == []
    assert conv.slots["third_party"] is True


async def test_third_party_stays_refused_for_the_conversation():
    conv = Conversation()
    conv.user("我是他妈妈", "inform")
    await conv.run(ActionHandleInform)
    conv.user("他欠多少钱", "ask_overdue_status")
    await conv.run(ActionShowOverdueStatus)
    assert conv.ledger.calls == []
    assert "隐私" in conv.all_text()


async def test_third_party_during_verification_stops_it():
    conv = Conversation()
    conv.user("what does he owe", "ask_overdue_status")
    await conv.run(ActionShowOverdueStatus)
    await conv.form_turn("verification_form", "identity_phone", "I'm his mother, I don't know his number")
    assert conv.slots["requested_slot"] is None and conv.slots["third_party"] is True
    await conv.run(ActionSubmitVerification)
    assert "verify" not in conv.ledger.calls


# ---------------------------------------------------------------- backend trouble


@pytest.mark.parametrize(
    "lang, first, expected", [("zh", "我欠多少钱", "暂时无法查询"), ("en", "how much do I owe", "can't be reached")]
)
async def test_backend_down_gives_a_polite_message_and_offers_a_human(lang, first, expected):
    conv = await verified(
        D1 if lang == "zh" else ("13800000004", "1992-06-21", "3456"), first=(first, "ask_overdue_status")
    )
    conv.ledger.down = True
    conv.user(first, "ask_overdue_status")
    await conv.run(ActionShowOverdueStatus)
    assert expected in conv.all_text()
    assert [b["payload"] for b in conv.buttons()] == ["/request_human", "/deny"]
    assert conv.slots["awaiting"] == "human_offer_backend"
    conv.ledger.down = False
    conv.user("/request_human", "request_human")
    await conv.run(ActionRequestHuman)
    assert conv.ledger.escalations[0]["reason"] == "backend_unavailable"


async def test_backend_down_during_verification_is_polite():
    conv = Conversation()
    conv.user("我欠多少钱", "ask_overdue_status")
    await conv.run(ActionShowOverdueStatus)
    conv.ledger.down = True
    await conv.verify(*D1)
    assert "暂时无法查询" in conv.all_text()


async def test_escalation_failing_too_still_hands_off_instead_of_silence():
    conv = Conversation(slots={"language": "en"})
    conv.ledger.down = True
    conv.user("let me talk to a person", "request_human")
    await conv.run(ActionRequestHuman)
    assert "a colleague will reply" in conv.all_text()
    assert conv.customs() == [{"handoff": {"reason": "request_human", "escalation_id": None}}]


# ---------------------------------------------------------------- status, fees, consequences


async def test_nothing_overdue_for_a_current_account():
    conv = await verified(D5)
    text = conv.all_text()
    assert "没有逾期" in text and "1,053.15 元" in text and "2026年12月5日" in text


async def test_fees_explained_from_policy_with_account_figures():
    conv = await verified(D1)
    conv.user("罚息怎么算的", "ask_fees")
    await conv.run(ActionExplainFees)
    text = conv.all_text()
    assert "违约金在逾期第 3 天" in text and "11.37 元" in text and "50.00 元" in text


async def test_consequences_from_policy_text_without_threats():
    conv = Conversation(slots={"language": "en"})
    conv.user("will this hurt my credit score?", "ask_consequences")
    await conv.run(ActionExplainConsequences)
    text = conv.all_text()
    assert "credit reference system" in text
    assert "get_loan_status" not in conv.ledger.calls
    for word in ("sue you", "police", "jail", "shame"):
        assert word not in text.lower()


# ---------------------------------------------------------------- hardship and plans


async def fill_hardship(conv: Conversation, answers: dict) -> None:
    for slot in ("hardship_reason", "hardship_duration", "monthly_income", "essential_expenses", "other_debt_payments"):
        if conv.slots.get(slot) is None:
            await conv.answer("hardship_form", slot, answers[slot])
            assert conv.slots[slot] is not None, (slot, conv.all_text())


async def test_hardship_flow_shows_plans_and_accepts_after_confirmation():
    conv = await verified(D1)
    conv.user("我失业了还不上", "report_hardship")
    await conv.run(ActionStartHardship)
    assert conv.followups[-1] == "hardship_form"
    assert conv.slots["hardship_reason"] == "job_loss"
    await fill_hardship(
        conv,
        {
            "hardship_duration": '/inform{"choice":"temporary"}',
            "monthly_income": "五千",
            "essential_expenses": "3千5",
            "other_debt_payments": "没有",
        },
    )
    assert conv.slots["monthly_income"] == "5000.00" and conv.slots["essential_expenses"] == "3500.00"
    await conv.run(ActionSubmitHardship)
    case = conv.ledger.hardship_cases[0]
    assert case["monthly_income"] == Decimal("5000.00") and case["other_debt_payments"] == Decimal("0.00")
    assert case["reason"] == "job_loss" and case["duration"] == "temporary"
    text = conv.all_text()
    assert "2. 延期还款：前 2 个月不用还，之后每月 905.20 元；共 11 期" in text and "共还 9,957.20 元" in text
    assert "一次性还 1,100.50 元" in text
    payloads = [b["payload"] for b in conv.buttons()]
    assert payloads == [
        '/inform{"choice":"fee_waiver"}',
        '/inform{"choice":"deferral"}',
        '/inform{"choice":"term_extension"}',
    ]

    conv.user("选第二个", "inform")
    await conv.run(ActionHandleInform)
    assert "延期还款" in conv.all_text() and "共 11 期" in conv.all_text()
    assert [b["payload"] for b in conv.buttons()] == ["/affirm", "/deny"]
    assert conv.ledger.accepted == []

    conv.user("/affirm", "affirm")
    await conv.run(ActionHandleAffirm)
    assert conv.ledger.accepted == ["off-def"]
    assert "方案已生效" in conv.all_text() and "905.20 元" in conv.all_text()


async def test_declining_a_plan_accepts_nothing():
    conv = await verified(("13800000004", "1992-06-21", "3456"), first=("how much do I owe", "ask_overdue_status"))
    conv.user("I need a payment plan", "request_payment_plan")
    await conv.run(ActionStartHardship)
    await fill_hardship(
        conv,
        {
            "hardship_reason": "my hours were cut at work",
            "hardship_duration": "long term",
            "monthly_income": "about 3000 a month",
            "essential_expenses": "2,000",
            "other_debt_payments": "none",
        },
    )
    await conv.run(ActionSubmitHardship)
    assert "CNY 300.10 a month" in conv.all_text()
    conv.user('/inform{"choice":"term_extension"}', "inform")
    await conv.run(ActionHandleInform)
    conv.user("no", "deny")
    await conv.run(ActionHandleDeny)
    assert conv.ledger.accepted == []
    assert "nothing has been accepted" in conv.all_text()


async def test_plan_asked_for_but_not_eligible_is_explained():
    conv = await verified(D1)
    conv.user("能改成按季还吗", "request_payment_plan")
    await conv.run(ActionStartHardship)
    assert conv.slots["requested_plan"] == "quarterly"
    await fill_hardship(
        conv,
        {
            "hardship_reason": "生意不好",
            "hardship_duration": "暂时的",
            "monthly_income": "8000",
            "essential_expenses": "4000",
            "other_debt_payments": "1000",
        },
    )
    await conv.run(ActionSubmitHardship)
    assert "「按季还款」目前不适用：按季还款适用于收入不固定或季节性的情况" in conv.all_text()


async def test_no_eligible_plan_goes_to_human_review():
    conv = await verified(D6)
    conv.user("能延期还款吗", "request_payment_plan")
    await conv.run(ActionStartHardship)
    await fill_hardship(
        conv,
        {
            "hardship_reason": "住院了",
            "hardship_duration": "长期",
            "monthly_income": "3000",
            "essential_expenses": "2500",
            "other_debt_payments": "0",
        },
    )
    await conv.run(ActionSubmitHardship)
    text = conv.all_text()
    assert "「延期还款」目前不适用：过去 12 个月内已有过一次重组安排。" in text
    assert "未超过60天的上限" not in text
    assert conv.ledger.escalations[0]["reason"] == "hardship_review"
    assert "专人审核" in text
    assert conv.ledger.accepted == []


async def test_open_dispute_gets_no_plans():
    conv = await verified(D7, first=("how much do I owe", "ask_overdue_status"))
    conv.user("can I get a payment plan", "request_payment_plan")
    await conv.run(ActionStartHardship)
    assert "DSP-2026-0007" in conv.all_text() and "paused" in conv.all_text()
    assert "hardship_form" not in conv.followups
    assert "create_evaluation" not in conv.ledger.calls


@pytest.mark.parametrize(
    "slot, text, message",
    [
        ("monthly_income", "-500", "负数"),
        ("monthly_income", "不知道", "数字"),
        ("essential_expenses", "50000000", "不太对"),
        ("hardship_duration", "说不好", "暂时"),
    ],
)
async def test_hardship_answers_are_validated(slot, text, message):
    conv = await verified(D1)
    result = await conv.answer("hardship_form", slot, text)
    assert result[slot] is None
    assert message in conv.all_text()


# ---------------------------------------------------------------- promises


async def test_promise_with_amount_and_date_is_recorded():
    conv = await verified(D1)
    conv.user("我下周五还500", "promise_to_pay")
    await conv.run(ActionPromiseToPay)
    assert conv.ledger.promises == [
        {
            "promise_id": conv.ledger.promises[0]["promise_id"],
            "amount": "500.00",
            "promised_date": "2026-12-04",
            "state": "open",
        }
    ]
    assert "2026年12月4日" in conv.all_text() and "500.00 元" in conv.all_text()


async def test_promise_missing_date_is_asked_then_recorded():
    conv = await verified(("13800000004", "1992-06-21", "3456"), first=("how much do I owe", "ask_overdue_status"))
    conv.user("I'll pay 300", "promise_to_pay")
    await conv.run(ActionPromiseToPay)
    assert "which day" in conv.all_text()
    conv.user("end of the month", "inform")
    await conv.run(ActionHandleInform)
    assert conv.ledger.promises[0]["promised_date"] == "2026-11-30"
    assert conv.ledger.promises[0]["amount"] == "300.00"


async def test_promise_too_far_ahead_is_refused_politely():
    conv = await verified(D6)
    conv.user("下个月5号还两千", "promise_to_pay")
    await conv.run(ActionPromiseToPay)
    assert conv.ledger.promises == []
    assert "2026年12月2日" in conv.all_text()  # M2: the latest date is 7 days ahead


async def test_promise_refused_during_dispute():
    conv = await verified(D7, first=("how much do I owe", "ask_overdue_status"))
    conv.user("I'll pay 500 on Friday", "promise_to_pay")
    await conv.run(ActionPromiseToPay)
    assert "create_promise" not in conv.ledger.calls
    assert "DSP-2026-0007" in conv.all_text()


# ---------------------------------------------------------------- payments


async def test_pay_now_gives_how_to_pay_and_amount_to_bring_current():
    conv = Conversation()
    conv.user("how can I pay right now?", "pay_now")
    await conv.run(ActionPayNow)
    assert conv.followups == ["verification_form"]
    await conv.verify("13800000004", "1992-06-21", "3456")
    text = conv.all_text()
    assert "My loan - Repay" in text and "CNY 753.55" in text


async def test_already_paid_reports_the_payment_seen_and_what_remains():
    ledger_conv = Conversation()
    ledger_conv.ledger.borrowers["b-d1"].payments = [
        {"payment_id": "p1", "external_ref": "x", "amount": "500.00", "received_on": "2026-11-24", "channel": "wechat"}
    ]
    conv = Conversation(ledger=ledger_conv.ledger)
    conv.user("我昨天已经还了", "already_paid")
    await conv.run(ActionCheckPayment)
    await conv.verify(*D1)
    text = conv.all_text()
    assert "500.00 元" in text and "2026年11月24日" in text and "微信" in text
    assert "1,161.87 元" in text


async def test_already_paid_with_nothing_said_asks_the_day_first():
    conv = await verified(D1)
    conv.user("我已经还了", "already_paid")
    await conv.run(ActionCheckPayment)
    assert conv.all_text() == "好的，我来帮您查。请问是哪天付的款？"
    assert conv.slots["awaiting"] == "payment_claim"
    assert "get_payments" not in conv.ledger.calls


# ---------------------------------------------------------------- disputes, contact, complaints, humans


async def test_dispute_is_opened_with_case_number_and_pause():
    conv = await verified(D1)
    conv.user("这笔钱不是我借的", "dispute_debt")
    await conv.run(ActionOpenDispute)
    dispute = conv.ledger.disputes[0]
    assert dispute["reason"] == "这笔钱不是我借的"
    assert (
        dispute["case_number"] in conv.all_text() and "2026年12月10日" in conv.all_text() and "暂停" in conv.all_text()
    )


async def test_existing_dispute_is_reported_not_duplicated():
    conv = await verified(D7, first=("how much do I owe", "ask_overdue_status"))
    conv.user("this isn't my loan", "dispute_debt")
    await conv.run(ActionOpenDispute)
    assert "open_dispute" not in conv.ledger.calls
    assert "DSP-2026-0007" in conv.all_text()


@pytest.mark.parametrize(
    "text, stop_all, channels",
    [("别再发短信了", False, ["sms"]), ("stop contacting me", True, []), ("不要再打电话了", False, ["phone"])],
)
async def test_stop_contact_records_the_preference(text, stop_all, channels):
    conv = await verified(D1)
    conv.user(text, "stop_contact")
    await conv.run(ActionStopContact)
    prefs = conv.ledger.borrowers["b-d1"].contact_preferences
    assert prefs == {"stop_all": stop_all, "opted_out_channels": channels}
    assert "已记录" in conv.all_text() or "Done" in conv.all_text()


async def test_stop_contact_asks_for_the_channel_when_unclear():
    conv = await verified(D1)
    conv.user("你们烦死了", "stop_contact")
    await conv.run(ActionStopContact)
    assert '/inform{"choice":"all"}' in [b["payload"] for b in conv.buttons()]
    conv.user('/inform{"choice":"wechat"}', "inform")
    await conv.run(ActionHandleInform)
    assert conv.ledger.borrowers["b-d1"].contact_preferences["opted_out_channels"] == ["wechat"]


async def test_complaint_is_recorded_and_a_human_offered():
    conv = Conversation(slots={"language": "zh"})
    conv.user("你们催收骚扰我家人，我要投诉", "complain")
    await conv.run(ActionFileComplaint)
    assert conv.ledger.complaints[0]["text"] == "你们催收骚扰我家人，我要投诉"
    assert "投诉已登记" in conv.all_text() and "/request_human" in [b["payload"] for b in conv.buttons()]
    conv.user("/affirm", "affirm")
    await conv.run(ActionHandleAffirm)
    assert conv.ledger.escalations[0]["reason"] == "complaint"


async def test_request_human_summary_holds_no_identity_answers():
    conv = await verified(D1)
    conv.user("转人工", "request_human")
    await conv.run(ActionRequestHuman)
    escalation = conv.ledger.escalations[0]
    assert escalation["borrower_linked"] is True
    for secret in D1:
        assert secret not in escalation["summary"]
    assert "ask_overdue_status" in escalation["summary"]
    # the borrower is given the short case number, never the record's id
    assert escalation["case_number"] in conv.all_text() and escalation["escalation_id"] not in conv.all_text()


# ---------------------------------------------------------------- tips, fallback, language


async def test_tips_with_a_budget_from_the_borrowers_figures():
    conv = Conversation(slots={"language": "zh"})
    conv.user("怎么规划还款？我收入8000，开销5000，信用卡每月还1000", "ask_financial_tips")
    await conv.run(ActionFinancialTips)
    text = conv.all_text()
    assert "8,000.00 元" in text and "每月剩下 2,000.00 元" in text
    assert conv.ledger.calls == []


async def test_tips_ask_for_figures_then_budget():
    conv = Conversation(slots={"language": "en"})
    conv.user("any tips to manage my debts?", "ask_financial_tips")
    await conv.run(ActionFinancialTips)
    assert "simple budget" in conv.all_text()
    conv.user("income 3000, expenses 3500", "inform")
    await conv.run(ActionHandleInform)
    assert "shortfall of CNY 500.00" in conv.all_text()


async def test_two_misses_offer_a_human():
    conv = Conversation(slots={"language": "en"})
    conv.user("blorp", "nlu_fallback")
    await conv.run(ActionClarify)
    assert "didn't quite get" in conv.all_text()
    conv.user("zzz", "nlu_fallback")
    await conv.run(ActionClarify)
    assert "talk to a person" in conv.all_text()
    assert "/request_human" in [b["payload"] for b in conv.buttons()]
    conv.user("yes", "affirm")
    await conv.run(ActionHandleAffirm)
    assert conv.ledger.escalations[0]["reason"] == "fallback"


async def test_change_language_switches_and_confirms_in_the_new_language():
    conv = Conversation(slots={"language": "zh"})
    conv.user("can you speak English?", "change_language")
    await conv.run(ActionChangeLanguage)
    assert conv.slots["language"] == "en" and conv.slots["language_chosen"] is True
    assert "continue in English" in conv.all_text()
    conv.user("说中文", "change_language")
    await conv.run(ActionChangeLanguage)
    assert conv.slots["language"] == "zh"


async def test_out_of_scope_third_party_is_refused():
    conv = Conversation(slots={"language": "zh"})
    conv.user("讲个笑话", "out_of_scope")
    await conv.run(ActionHandleOutOfScope)
    assert "没有答案" in conv.all_text() and "/request_human" in [b["payload"] for b in conv.buttons()]
    conv.user("我是他妈妈", "out_of_scope")
    await conv.run(ActionHandleOutOfScope)
    assert conv.slots["third_party"] is True


async def test_affirm_without_context_does_not_accept_anything():
    conv = await verified(D1)
    conv.user("好的", "affirm")
    await conv.run(ActionHandleAffirm)
    assert conv.ledger.accepted == [] and conv.ledger.escalations == []


@pytest.mark.parametrize(
    "form, slot",
    [
        ("hardship_form", "monthly_income"),
        ("hardship_form", "hardship_duration"),
        ("verification_form", "identity_dob"),
    ],
)
async def test_empty_slots_reset_by_an_action_are_not_reported_as_bad_answers(form, slot):
    conv = Conversation(slots={"language": "zh"})
    conv.user("我失业了还不上", "report_hardship")
    result = await conv.validate(form, slot, None)
    assert result == {slot: None}
    assert conv.messages == []


async def test_figures_given_out_of_context_get_a_budget():
    conv = Conversation(slots={"language": "zh"})
    conv.user("我收入8000，开销5000", "inform")
    await conv.run(ActionHandleInform)
    assert "每月剩下 3,000.00 元" in conv.all_text()


async def test_token_expired_on_the_ledger_side_asks_to_verify_again():
    conv = await verified(D1)
    conv.ledger.tokens.clear()
    conv.user("我欠多少钱", "ask_overdue_status")
    await conv.run(ActionShowOverdueStatus)
    assert "过期" in conv.all_text()
    assert conv.followups[-1] == "verification_form"
    assert conv.slots["verified"] is False and conv.slots["pending_intent"] == "ask_overdue_status"


async def test_saying_no_during_the_hardship_form_stops_it_politely():
    conv = await verified(D1)
    conv.user("我失业了还不上", "report_hardship")
    await conv.run(ActionStartHardship)
    result = await conv.answer("hardship_form", "monthly_income", "不想说", intent="deny")
    assert result["requested_slot"] is None
    await conv.run(ActionSubmitHardship)
    assert "先不继续评估" in conv.all_text()
    assert conv.ledger.hardship_cases == []


async def test_naming_a_plan_while_offers_are_shown_chooses_it():
    conv = await verified(D1)
    conv.user("我失业了还不上", "report_hardship")
    await conv.run(ActionStartHardship)
    await fill_hardship(
        conv,
        {
            "hardship_duration": "暂时的",
            "monthly_income": "五千",
            "essential_expenses": "3千5",
            "other_debt_payments": "没有",
        },
    )
    await conv.run(ActionSubmitHardship)
    started = len(conv.followups)
    conv.user("我要延长期限", "request_payment_plan")
    await conv.run(ActionStartHardship)
    assert len(conv.followups) == started
    assert conv.slots["awaiting"] == "plan_confirmation" and conv.slots["chosen_offer_id"] == "off-ext"


@pytest.mark.parametrize(
    "current, text, expected",
    [
        (None, "hi", "en"),
        (None, "你好", "zh"),
        ("zh", "ok", "zh"),
        ("zh", "how much do I owe", "en"),
        ("en", "好", "en"),
        ("en", "我欠多少錢", "zh"),
        ("zh", "13800000001", "zh"),
        ("zh", "我想 pay now", "zh"),
    ],
)
async def test_language_follows_the_message_before_verification(current, text, expected):
    conv = Conversation(slots={"language": current})
    conv.user(text, "inform")
    await conv._extract()
    assert conv.slots["language"] == expected


async def test_language_stays_as_chosen_and_follows_the_message_after_verification():
    conv = Conversation(slots={"language": "en", "language_chosen": True})
    conv.user("我欠多少钱", "ask_overdue_status")
    await conv._extract()
    assert conv.slots["language"] == "en"
    conv = Conversation(slots={"language": "zh", "verified": True})
    conv.user("how much do I owe", "ask_overdue_status")
    await conv._extract()
    assert conv.slots["language"] == "en"


async def test_asking_for_english_during_verification_switches_and_keeps_the_form():
    conv = Conversation()
    conv.user("我想查一下我的欠款", "ask_overdue_status")
    await conv.run(ActionShowOverdueStatus)
    result = await conv.answer(
        "verification_form", "identity_phone", "can you speak English?", intent="change_language"
    )
    assert result == {"identity_phone": None, "language": "en", "language_chosen": True}
    assert "continue in English" in conv.all_text()
    await conv.answer("verification_form", "identity_phone", D1[0])
    await conv.answer("verification_form", "identity_dob", D1[1])
    await conv.answer("verification_form", "identity_id_last4", D1[2])
    await conv.run(ActionSubmitVerification)
    assert conv.slots["language"] == "en"
    assert "CNY 1,161.87" in conv.all_text() and "元" not in conv.all_text()


def test_third_party_detected_with_a_typographic_apostrophe():
    from actions.third_party import says_third_party

    assert says_third_party("Hi, I\u2019m her husband. How much does Emily Chen owe you?")
    assert says_third_party("我是王芳的妈妈，她欠了多少钱")
    assert not says_third_party("我是王芳，我欠了多少钱")
    assert not says_third_party("I'm worried about my loan")


async def test_a_new_question_drops_what_the_bot_was_waiting_for():
    conv = await verified(D1)
    conv.user("I'll pay 300", "promise_to_pay")
    await conv.run(ActionPromiseToPay)
    assert conv.slots["awaiting"] == "promise_details"
    conv.user("我欠多少钱", "ask_overdue_status")
    await conv.run(ActionShowOverdueStatus)
    assert conv.slots["awaiting"] is None
    conv.user("15号", "inform")
    await conv.run(ActionHandleInform)
    assert conv.ledger.promises == []


async def test_a_new_account_question_during_verification_becomes_the_one_answered():
    conv = Conversation()
    conv.user("罚息怎么算的", "ask_fees")
    await conv.run(ActionExplainFees)
    result = await conv.answer("verification_form", "identity_phone", "我昨天已经转账了", intent="already_paid")
    assert result == {"identity_phone": None, "pending_intent": "already_paid"}
    assert "核实身份之后" in conv.all_text() and "没能识别" not in conv.all_text()
    await conv.answer("verification_form", "identity_phone", D1[0])
    await conv.answer("verification_form", "identity_dob", D1[1])
    await conv.answer("verification_form", "identity_id_last4", D1[2])
    await conv.run(ActionSubmitVerification)
    assert "get_payments" in conv.ledger.calls
    assert "没有这笔还款" in conv.all_text() and "2026年11月24日" in conv.all_text()


async def test_a_status_question_during_the_hardship_form_is_answered_and_the_form_goes_on():
    conv = await verified(D1)
    conv.user("我失业了还不上", "report_hardship")
    await conv.run(ActionStartHardship)
    result = await conv.answer(
        "hardship_form", "monthly_income", "等等，我现在到底欠多少钱", intent="ask_overdue_status"
    )
    assert result["monthly_income"] is None and "requested_slot" not in result
    assert "1,161.87 元" in conv.all_text() and "没能看懂" not in conv.all_text()
    result = await conv.answer("hardship_form", "hardship_reason", "我欠多少钱", intent="ask_overdue_status")
    assert result["hardship_reason"] is None


async def test_promise_to_clear_by_month_end_uses_the_ledger_amount():
    conv = await verified(D1)
    conv.user("月底前还清", "promise_to_pay")
    await conv.run(ActionPromiseToPay)
    assert conv.ledger.promises[0]["amount"] == "1161.87"
    assert conv.ledger.promises[0]["promised_date"] == "2026-11-30"
    assert "1,161.87 元" in conv.all_text()
