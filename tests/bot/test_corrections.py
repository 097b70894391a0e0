"""Records the borrower can correct, over the fake ledger, in both languages: a dispute or a
complaint filed by mistake is withdrawn in the chat (one tap or in words), an open promise is
replaced (old -> new), and a payment claim is checked against the ledger and traced when no
payment matches. Outcomes are asserted on the calls the fake ledger recorded."""

from datetime import date

import pytest

from actions.account import ActionShowOverdueStatus
from actions.dialogue import ActionHandleDeny, ActionHandleInform
from actions.disputes import ActionOpenDispute
from actions.escalation import ActionFileComplaint
from actions.payments import ActionCheckPayment, parse_paid_on, parse_payment_reference
from actions.promises import ActionPromiseToPay
from actions.smalltalk import ActionGoodbye
from actions.withdrawal_words import WITHDRAW_PAYLOAD, says_withdraw
from fake_ledger import TODAY, FakeLedger
from harness import Conversation

D1 = ("13800000001", "1990-03-15", "4321")  # 王芳, zh, M1
D4 = ("13800000004", "1992-06-21", "3456")  # Emily Chen, en, M1
D6 = ("HX0000000006", "1988-09-18", "2468")  # 刘洋, zh, M2


async def verified(borrower=D1, sender="conv-1", ledger=None) -> Conversation:
    conv = Conversation(sender, ledger=ledger)
    conv.user("我欠多少钱" if borrower != D4 else "how much do I owe", "ask_overdue_status")
    await conv.run(ActionShowOverdueStatus)
    await conv.verify(*borrower)
    assert conv.slots["verified"] is True
    return conv


# ---------------------------------------------------------------- withdrawing a dispute or complaint


async def test_a_dispute_opened_by_mistake_is_withdrawn_with_one_tap_zh():
    conv = await verified(D1)
    conv.user("这笔钱不是我借的", "dispute_debt")
    await conv.run(ActionOpenDispute)
    case_number = conv.ledger.disputes[0]["case_number"]
    assert WITHDRAW_PAYLOAD in [b["payload"] for b in conv.buttons()]
    assert conv.slots["last_record"] == {"kind": "dispute", "case_number": case_number, "loan_number": "HX0000000001"}

    conv.user(WITHDRAW_PAYLOAD, "deny")
    await conv.run(ActionHandleDeny)
    assert conv.ledger.withdrawals == [
        {
            "kind": "dispute",
            "loan_number": "HX0000000001",
            "case_number": case_number,
            "reason": "withdrawn with the button in the chat",
        }
    ]
    text = conv.all_text()
    assert case_number in text and "撤回" in text and "恢复正常催收" in text
    assert conv.slots["last_record"] is None
    assert conv.ledger.borrowers["b-d1"].status["open_dispute"] is None

    conv.user("我下周五还500", "promise_to_pay")  # collection resumed: a promise is taken again
    await conv.run(ActionPromiseToPay)
    assert conv.ledger.promises and conv.ledger.promises[0]["amount"] == "500.00"


async def test_a_complaint_filed_by_mistake_is_withdrawn_in_words_not_filed_again_en():
    conv = await verified(D4)
    conv.user("your collector was rude to me, I want to complain", "complain")
    await conv.run(ActionFileComplaint)
    complaint_id = conv.ledger.complaints[0]["complaint_id"]
    assert WITHDRAW_PAYLOAD in [b["payload"] for b in conv.buttons()]

    conv.user("sorry, cancel that complaint, I pressed it by mistake", "complain")
    await conv.run(ActionFileComplaint)
    assert len(conv.ledger.complaints) == 1  # no second complaint
    assert [(w["kind"], w["complaint_id"], w["conversation_id"]) for w in conv.ledger.withdrawals] == [
        ("complaint", complaint_id, "conv-1")
    ]
    assert conv.ledger.complaints[0]["status"] == "withdrawn"
    assert "complaint " + complaint_id + " is withdrawn" in conv.all_text()


async def test_a_withdrawal_read_as_another_intent_still_withdraws_the_record_this_chat_filed():
    conv = await verified(D1)
    conv.user("金额不对，我要提异议", "dispute_debt")
    await conv.run(ActionOpenDispute)
    conv.user("点错了，撤回", "goodbye", confidence=0.59)  # what the model read it as
    await conv.run(ActionGoodbye)
    assert [w["kind"] for w in conv.ledger.withdrawals] == ["dispute"]
    assert "恢复正常催收" in conv.all_text()


@pytest.mark.parametrize(
    ("text", "intent", "action"),
    [
        ("I didn't mean to open a dispute", "dispute_debt", ActionOpenDispute),
        ("我不是要投诉，点错了", "complain", ActionFileComplaint),
        ("撤回", "deny", ActionHandleDeny),
    ],
)
async def test_taking_back_with_nothing_filed_here_files_nothing_and_offers_a_person(text, intent, action):
    conv = await verified(D1)
    conv.user(text, intent)
    await conv.run(action)
    assert "open_dispute" not in conv.ledger.calls and "create_complaint" not in conv.ledger.calls
    assert conv.ledger.withdrawals == []
    assert "/request_human" in [b["payload"] for b in conv.buttons()]


async def test_another_conversation_cannot_withdraw_and_a_closed_window_offers_a_person():
    ledger = FakeLedger()
    conv = await verified(D1, ledger=ledger)
    conv.user("这不是我的借款", "dispute_debt")
    await conv.run(ActionOpenDispute)
    other = await verified(D1, sender="conv-2", ledger=ledger)
    other.user("撤回刚才的异议", "deny")
    await other.run(ActionHandleDeny)
    assert ledger.withdrawals == []  # this conversation filed nothing

    ledger.withdraw_refusal = "withdrawal_window_closed"
    conv.user("撤回", "deny")
    await conv.run(ActionHandleDeny)
    assert "不能在对话里撤回" in conv.all_text()
    assert "/request_human" in [b["payload"] for b in conv.buttons()]
    assert ledger.borrowers["b-d1"].status["open_dispute"] is not None


def test_withdrawal_words_never_match_a_new_dispute_or_complaint():
    for text in (
        "撤回",
        "投诉不要了",
        "取消刚才的异议",
        "撤銷剛才的投訴",
        "cancel my complaint",
        "undo that",
        "withdraw it",
    ):
        assert says_withdraw(text), text
    for text in (
        "这笔钱不是我借的",
        "你们搞错了金额",
        "I was charged by mistake",
        "this withdrawal is not mine",
        "能撤销罚息吗",
        "取消短信提醒",
        WITHDRAW_PAYLOAD,
    ):
        assert not says_withdraw(text), text


# ---------------------------------------------------------------- promises


async def test_an_open_promise_is_moved_to_another_day_zh():
    conv = await verified(D1)
    conv.user("我下周五还500", "promise_to_pay")
    await conv.run(ActionPromiseToPay)
    first = conv.ledger.promises[0]
    assert conv.slots["awaiting"] == "promise_correction"

    conv.user("不对，改到下周三", "inform")
    await conv.run(ActionHandleInform)
    old, new = conv.ledger.promises
    assert old["state"] == "replaced"
    assert new == {
        "promise_id": new["promise_id"],
        "amount": "500.00",
        "promised_date": "2026-12-02",
        "state": "open",
        "replaces": first["promise_id"],
    }
    text = conv.all_text()
    assert "2026年12月4日" in text and "2026年12月2日" in text and "500.00 元" in text and "替换" in text


async def test_an_open_promise_gets_a_new_amount_en():
    conv = await verified(D4)
    conv.user("I'll pay 300 on Friday", "promise_to_pay")
    await conv.run(ActionPromiseToPay)
    conv.user("make it 500 instead", "inform")
    await conv.run(ActionHandleInform)
    old, new = conv.ledger.promises
    assert (old["state"], new["amount"], new["promised_date"], new["replaces"]) == (
        "replaced",
        "500.00",
        old["promised_date"],
        old["promise_id"],
    )
    assert "it was CNY 300.00 by 27 Nov 2026, it is now CNY 500.00 by 27 Nov 2026" in conv.all_text()


async def test_an_unrelated_figure_after_a_promise_changes_nothing():
    conv = await verified(D4)
    conv.user("I'll pay 300 on Friday", "promise_to_pay")
    await conv.run(ActionPromiseToPay)
    conv.user("my salary is 5000", "inform")
    await conv.run(ActionHandleInform)
    assert len(conv.ledger.promises) == 1 and conv.ledger.promises[0]["state"] == "open"
    assert conv.slots["awaiting"] is None


async def test_a_promise_found_open_in_the_ledger_is_replaced_not_refused():
    ledger = FakeLedger()
    ledger.promises.append({"promise_id": "p-old", "amount": "800.00", "promised_date": "2026-11-27", "state": "open"})
    ledger.borrowers["b-d1"].status["open_promise"] = dict(ledger.promises[0])
    conv = await verified(D1, ledger=ledger)
    conv.user("我这周五还不上，改到下周一吧", "promise_to_pay")
    await conv.run(ActionPromiseToPay)
    assert ledger.promises[-1]["replaces"] == "p-old" and ledger.promises[-1]["promised_date"] == "2026-11-30"
    assert ledger.promises[-1]["amount"] == "800.00"
    assert "已为您修改还款承诺" in conv.all_text()


async def test_a_refused_new_date_names_the_latest_allowed_and_the_next_answer_replaces():
    conv = await verified(D6)  # M2: 7 days
    conv.user("我明天还1000", "promise_to_pay")
    await conv.run(ActionPromiseToPay)
    conv.user("改到下下周五", "promise_to_pay")
    await conv.run(ActionPromiseToPay)
    assert len(conv.ledger.promises) == 1
    assert "2026年12月2日" in conv.all_text()
    assert conv.slots["awaiting"] == "promise_details"
    conv.user("那就12月2号", "inform")
    await conv.run(ActionHandleInform)
    assert conv.ledger.promises[-1]["promised_date"] == "2026-12-02"
    assert conv.ledger.promises[-1]["replaces"] == conv.ledger.promises[0]["promise_id"]


async def test_the_same_promise_again_is_said_to_be_unchanged():
    conv = await verified(D4)
    conv.user("I'll pay 300 on Friday", "promise_to_pay")
    await conv.run(ActionPromiseToPay)
    conv.user("I'll pay 300 on Friday", "promise_to_pay")
    await conv.run(ActionPromiseToPay)
    assert len(conv.ledger.promises) == 1
    assert "Nothing has changed" in conv.all_text()


# ---------------------------------------------------------------- payment claims


def payment(amount, received_on, ref="BANK-1", channel="bank_transfer"):
    return {"payment_id": ref, "external_ref": ref, "amount": amount, "received_on": received_on, "channel": channel}


async def test_a_claimed_payment_that_is_on_the_account_is_shown_with_what_it_covered_en():
    ledger = FakeLedger()
    ledger.borrowers["b-d4"].payments = [payment("500.00", "2026-11-24", ref="BANK-TX20261123A")]
    conv = await verified(D4, ledger=ledger)
    conv.user("I paid 500 on Monday, I have the transfer slip", "already_paid")
    await conv.run(ActionCheckPayment)
    text = conv.all_text()
    assert "Found it" in text and "CNY 500.00" in text and "24 Nov 2026" in text and "bank transfer" in text
    assert "oldest overdue instalment first" in text and "CNY 753.55 is still overdue" in text
    assert "create_payment_trace" not in ledger.calls and conv.slots["awaiting"] is None
    assert "Penalty interest" not in text  # never the fee rules


async def test_a_claim_with_nothing_on_the_account_asks_the_reference_and_opens_a_trace_zh():
    conv = await verified(D1)
    conv.user("我上周三转了1161.87，有转账凭证", "already_paid")
    await conv.run(ActionCheckPayment)
    text = conv.all_text()
    assert "没有这笔还款" in text and "2026年11月18日前后" in text and "1,161.87 元" in text
    assert "流水号" in text and conv.slots["awaiting"] == "payment_claim"
    assert "create_payment_trace" not in conv.ledger.calls

    conv.user("流水号是 HB20261118000123", "inform")
    await conv.run(ActionHandleInform)
    assert conv.ledger.traces == [
        {
            "trace_id": conv.ledger.traces[0]["trace_id"],
            "case_number": "TRC-2026-000001",
            "loan_number": "HX0000000001",
            "paid_on": "2026-11-18",
            "amount": "1161.87",
            "reference": "HB20261118000123",
            "channel": "bank_transfer",
            "opened_on": TODAY.isoformat(),
            "reply_due_by": "2026-11-30",
            "status": "open",
        }
    ]
    text = conv.all_text()
    assert "TRC-2026-000001" in text and "2026年11月30日" in text and "不会暂停" in text
    assert conv.slots["awaiting"] is None and conv.slots["payment_claim"] is None


async def test_what_is_missing_is_asked_one_question_at_a_time_and_no_is_an_answer_en():
    conv = await verified(D4)
    conv.user("I already paid", "already_paid")
    await conv.run(ActionCheckPayment)
    assert conv.all_text() == "Sure, I'll look for it. On which day did you pay?"
    conv.user("I don't remember", "deny")
    await conv.run(ActionHandleDeny)
    assert conv.all_text() == "How much did you pay?"
    conv.user("753.55", "inform")
    await conv.run(ActionHandleInform)
    assert "I can't find a payment of CNY 753.55" in conv.all_text()
    assert "There are no recent payments" in conv.all_text() and "reference number" in conv.all_text()
    conv.user("no", "deny")
    await conv.run(ActionHandleDeny)
    (trace,) = conv.ledger.traces
    assert (trace["paid_on"], trace["amount"], trace["reference"]) == (None, "753.55", None)
    assert "does not pause them" in conv.all_text()


async def test_a_claim_with_neither_day_nor_amount_opens_nothing_and_offers_a_person():
    conv = await verified(D4)
    conv.user("I paid already", "already_paid")
    await conv.run(ActionCheckPayment)
    for reply in ("no idea", "not sure"):
        conv.user(reply, "deny")
        await conv.run(ActionHandleDeny)
    assert conv.ledger.traces == [] and "get_payments" not in conv.ledger.calls
    assert "at least the day or the amount" in conv.all_text()
    assert "/request_human" in [b["payload"] for b in conv.buttons()]


async def test_a_claim_can_be_dropped_midway():
    conv = await verified(D1)
    conv.user("我已经还过了", "already_paid")
    await conv.run(ActionCheckPayment)
    conv.user("算了，不查了", "deny")
    await conv.run(ActionHandleDeny)
    assert conv.slots["awaiting"] is None and conv.slots["payment_claim"] is None
    assert conv.ledger.traces == []


def test_the_day_of_a_payment_is_read_in_the_past():
    wednesday = TODAY  # 2026-11-25
    cases = {
        "昨天转的": (date(2026, 11, 24),) * 2,
        "前天": (date(2026, 11, 23),) * 2,
        "上周三还的": (date(2026, 11, 18),) * 2,
        "周一": (date(2026, 11, 23),) * 2,
        "11月18号转了500": (date(2026, 11, 18),) * 2,
        "12月3号": (date(2025, 12, 3),) * 2,  # in the future this year: last year's
        "20号": (date(2026, 11, 20),) * 2,
        "28号": (date(2026, 10, 28),) * 2,
        "3天前": (date(2026, 11, 22),) * 2,
        "I paid last Monday": (date(2026, 11, 23),) * 2,
        "on friday": (date(2026, 11, 20),) * 2,
        "Nov 18": (date(2026, 11, 18),) * 2,
        "the 20th": (date(2026, 11, 20),) * 2,
        "2 days ago": (date(2026, 11, 23),) * 2,
        "上周": (date(2026, 11, 16), date(2026, 11, 22)),
        "I paid it last week": (date(2026, 11, 16), date(2026, 11, 22)),
        "today": (wednesday, wednesday),
    }
    for text, expected in cases.items():
        assert parse_paid_on(text, wednesday) == expected, text
    for text in ("明天", "2026-12-01", "I paid", ""):
        assert parse_paid_on(text, wednesday) is None, text


def test_a_reference_is_read_but_never_a_phone_or_an_id_number():
    assert parse_payment_reference("流水号：HB20261118000123") == "HB20261118000123"
    assert parse_payment_reference("ref no. TX-88123, paid Monday") == "TX-88123"
    assert parse_payment_reference("I paid 500 on Monday") is None
    assert parse_payment_reference("88123ABC", asked=True) == "88123ABC"
    assert parse_payment_reference("no", asked=True) is None
    assert parse_payment_reference("13800000001", asked=True) is None
    assert parse_payment_reference("流水号 110101199003151234") is None


# ---------------------------------------------------------------- context over intent


async def test_a_correction_misread_as_a_dispute_replaces_the_promise_and_opens_nothing():
    conv = await verified(D6)
    conv.user("我明天还1000", "promise_to_pay")
    await conv.run(ActionPromiseToPay)
    conv.user("不对，改到后天", "dispute_debt")  # what the model read it as
    await conv.run(ActionOpenDispute)
    assert "open_dispute" not in conv.ledger.calls and conv.ledger.disputes == []
    assert conv.ledger.promises[-1]["replaces"] == conv.ledger.promises[0]["promise_id"]
    assert conv.ledger.promises[-1]["promised_date"] == "2026-11-27"


async def test_a_real_dispute_after_a_promise_is_still_a_dispute():
    conv = await verified(D4)
    conv.user("I'll pay 300 on Friday", "promise_to_pay")
    await conv.run(ActionPromiseToPay)
    conv.user("wait, this loan isn't mine at all", "dispute_debt")
    await conv.run(ActionOpenDispute)
    assert len(conv.ledger.disputes) == 1 and len(conv.ledger.promises) == 1


async def test_the_day_of_a_payment_misread_as_a_promise_answers_the_claim():
    conv = await verified(D1)
    conv.user("我已经还了", "already_paid")
    await conv.run(ActionCheckPayment)
    conv.user("11月18号", "promise_to_pay")
    await conv.run(ActionPromiseToPay)
    assert conv.ledger.promises == [] and "create_promise" not in conv.ledger.calls
    assert "没有找到2026年11月18日前后的付款" in conv.all_text()  # the day is enough to look
    assert conv.all_text().endswith("付了多少钱？")  # then what is missing, one question
    assert conv.slots["payment_claim"]["paid_from"] == "2026-11-18"


async def test_a_question_of_its_own_is_answered_as_asked_during_a_pending_question():
    from actions.account import ActionExplainFees

    conv = await verified(D4)
    conv.user("I'll pay next week", "promise_to_pay")
    await conv.run(ActionPromiseToPay)
    assert conv.slots["awaiting"] == "promise_details"
    conv.user("if I pay 500 on Friday will the late fees stop?", "ask_fees")
    await conv.run(ActionExplainFees)
    assert conv.ledger.promises == []
