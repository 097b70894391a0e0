"""A borrower with several loans (D8 of the demo portfolio: (a) 分付 HX0000000008, 10 days past
due; (b) cash loan HX0000000009, current): status covers each loan, and every plan, promise,
payment question and dispute is about the loan the borrower named, the overdue one when the
request is about arrears and only one is overdue, or the one they chose when asked. The
assertions read which loan the fake ledger was called for, not the wording."""

from __future__ import annotations

import pytest

from actions import HANDLERS
from actions.dialogue import ActionHandleDeny, ActionHandleInform
from actions.fallback import ActionClarify
from actions.hardship import ActionSubmitHardship
from actions.loans import LOAN_CHOICE, parse_loan_reference
from harness import Conversation

D1 = ("13800000001", "1990-03-15", "4321")
D8 = ("13800000008", "1993-04-12", "6802")
FENFU, CASH = "HX0000000008", "HX0000000009"
LOANS = [
    {"loan_number": FENFU, "product": "fenfu", "overdue": True},
    {"loan_number": CASH, "product": "cash_loan", "overdue": False},
]
CHOICE = '/inform{"choice":"%s"}'


async def say(conv: Conversation, text: str, intent: str) -> Conversation:
    """The borrower's message, answered by the action the rules map its intent to."""
    conv.user(text, intent)
    await conv.run(HANDLERS[intent])
    return conv


async def d8(lang: str = "zh", first: tuple[str, str] | None = None, who=D8) -> Conversation:
    """D8 verified after a first question (a status question unless given). English: the
    borrower asked for English (the profile says zh)."""
    slots = {"language": "en", "language_chosen": True} if lang == "en" else {}
    conv = Conversation(slots=slots)
    question = first or (
        ("我欠多少钱", "ask_overdue_status") if lang == "zh" else ("what do I owe", "ask_overdue_status")
    )
    await say(conv, *question)
    await conv.verify(*who)
    assert conv.slots["verified"] is True
    return conv


def asked_which_loan(conv: Conversation) -> bool:
    payloads = [b["payload"] for b in conv.buttons()]
    return conv.slots.get("awaiting") == LOAN_CHOICE and CHOICE % FENFU in payloads and CHOICE % CASH in payloads


# ---------------------------------------------------------------- status


@pytest.mark.parametrize(
    ("lang", "figures"),
    [
        ("zh", ["667.38 元", "逾期 10 天", "2026年11月15日", "1,356.71 元", "2026年11月30日"]),
        ("en", ["CNY 667.38", "10 days past due", "15 Nov 2026", "CNY 1,356.71", "30 Nov 2026"]),
    ],
)
async def test_status_covers_each_loan_with_the_ledgers_figures(lang, figures):
    conv = await d8(lang)
    assert conv.ledger.loans_used("get_loan_status") == [FENFU, CASH]  # one GET status per loan
    text = conv.all_text()
    assert FENFU in text and CASH in text
    for figure in figures:
        assert figure in text, (figure, text)
    # the conversation knows the loans (numbers, products, overdue or not), nothing about the person
    assert conv.slots["borrower_loans"] == LOANS
    assert conv.slots["loan_number"] is None  # no loan is chosen for the borrower
    assert not asked_which_loan(conv)


async def test_a_status_question_naming_one_loan_answers_for_that_loan():
    conv = await d8()
    await say(conv, "现金贷那笔还欠多少", "ask_overdue_status")
    assert conv.ledger.loans_used("get_loan_status")[2:] == [CASH]
    assert CASH in conv.all_text() and FENFU not in conv.all_text()


async def test_a_status_question_about_arrears_still_covers_every_loan():
    conv = await d8()
    await say(conv, "我逾期多少天了", "ask_overdue_status")
    assert conv.ledger.loans_used("get_loan_status")[2:] == [FENFU, CASH]


async def test_a_single_loan_borrower_sees_no_change():
    conv = await d8(who=D1)
    assert conv.ledger.loans_used("get_loan_status") == ["HX0000000001"]
    assert conv.slots["loan_number"] == "HX0000000001"
    await say(conv, "我下周五还500", "promise_to_pay")
    assert conv.ledger.loans_used("create_promise") == ["HX0000000001"]
    assert not asked_which_loan(conv)


# ---------------------------------------------------------------- promises


@pytest.mark.parametrize(
    ("lang", "message"),
    [("zh", "分付那笔我12月4号还667.38"), ("en", "I'll pay 667.38 on the Fenfu one by Dec 4")],
)
async def test_a_promise_for_the_fenfu_loan_goes_to_loan_a(lang, message):
    conv = await d8(lang)
    await say(conv, message, "promise_to_pay")
    assert conv.ledger.loans_used("create_promise") == [FENFU]
    assert conv.ledger.promises[0]["amount"] == "667.38" and conv.ledger.promises[0]["promised_date"] == "2026-12-04"
    assert FENFU in conv.all_text()  # the reply names the loan


@pytest.mark.parametrize(
    ("lang", "message"),
    [("zh", "现金贷那个我11月30号还1356.71"), ("en", "I'll pay 1356.71 on the cash loan by Nov 30")],
)
async def test_a_promise_for_the_cash_loan_goes_to_loan_b(lang, message):
    conv = await d8(lang)
    await say(conv, message, "promise_to_pay")
    assert conv.ledger.loans_used("create_promise") == [CASH]
    assert CASH in conv.all_text()


@pytest.mark.parametrize(("lang", "message"), [("zh", "我12月4号还667.38"), ("en", "I'll pay 667.38 on Dec 4")])
async def test_a_promise_naming_no_loan_is_for_the_only_overdue_one_and_says_so(lang, message):
    conv = await d8(lang)
    await say(conv, message, "promise_to_pay")
    assert conv.ledger.loans_used("create_promise") == [FENFU]
    assert FENFU in conv.all_text() and not asked_which_loan(conv)


async def test_a_promise_asked_before_verification_goes_to_the_loan_it_named():
    conv = await d8(first=("现金贷那笔我11月30号还1356.71", "promise_to_pay"))
    assert conv.ledger.loans_used("create_promise") == [CASH]


async def test_a_promise_whose_date_is_asked_keeps_its_loan_and_a_correction_moves_it():
    conv = await d8()
    await say(conv, "现金贷那笔我会还1356.71", "promise_to_pay")
    assert conv.slots["loan_number"] == CASH and conv.slots["awaiting"] == "promise_details"
    await say(conv, "11月30号", "inform")
    assert conv.ledger.loans_used("create_promise") == [CASH]
    await say(conv, "我还要为分付那笔承诺还款667.38", "promise_to_pay")
    await say(conv, "不对，是12月4号还", "inform")
    assert conv.ledger.loans_used("create_promise") == [CASH, FENFU]


# ---------------------------------------------------------------- plans


@pytest.mark.parametrize(
    ("lang", "message", "intent"),
    [
        ("zh", "我想申请延期还款", "request_payment_plan"),
        ("en", "I lost my job and need a payment plan", "report_hardship"),
    ],
)
async def test_a_plan_for_an_unclear_loan_asks_which_then_goes_on_with_the_chosen_one(lang, message, intent):
    conv = await d8(lang)
    await say(conv, message, intent)
    assert asked_which_loan(conv)
    assert "hardship_form" not in conv.followups and conv.ledger.loans_used("create_hardship_case") == []
    conv.user(CHOICE % CASH, "inform")
    await conv.run(ActionHandleInform)
    assert conv.followups[-1] == "hardship_form" and conv.slots["loan_number"] == CASH
    assert CASH in conv.all_text()
    for slot, answer in (
        ("hardship_reason", "失业" if lang == "zh" else "job loss"),
        ("hardship_duration", '/inform{"choice":"temporary"}'),
        ("monthly_income", "5000"),
        ("essential_expenses", "2000"),
        ("other_debt_payments", "0"),
    ):
        if conv.slots.get(slot) is None:
            await conv.answer("hardship_form", slot, answer)
    await conv.run(ActionSubmitHardship)
    assert conv.ledger.loans_used("create_hardship_case") == [CASH]
    assert conv.ledger.loans_used("create_evaluation") == [CASH]
    assert CASH in conv.all_text()  # the plans name the loan they are for
    assert '/inform{"choice":"term_extension"}' in [b["payload"] for b in conv.buttons()]


@pytest.mark.parametrize(
    ("lang", "reply", "intent", "expected"),
    [
        ("zh", "分付那笔", "nlu_fallback", FENFU),
        ("zh", "逾期的那笔", "inform", FENFU),
        ("zh", "第二个", "inform", CASH),
        ("zh", "尾号0009", "inform", CASH),
        ("zh", "就是现金貸那筆", "affirm", CASH),
        ("en", "the cash loan", "inform", CASH),
        ("en", "the overdue one", "out_of_scope", FENFU),
        ("en", "the one ending 0008", "inform", FENFU),
    ],
)
async def test_which_loan_can_be_answered_in_words(lang, reply, intent, expected):
    conv = await d8(lang)
    await say(conv, "我想申请延期还款" if lang == "zh" else "can I get a payment plan", "request_payment_plan")
    assert asked_which_loan(conv)
    await say(conv, reply, intent)
    assert conv.slots["loan_number"] == expected and conv.followups[-1] == "hardship_form"
    assert conv.slots["awaiting"] is None and conv.slots["pending_intent"] is None


async def test_an_unreadable_answer_asks_again_with_a_person_offered():
    conv = await d8()
    await say(conv, "我想申请延期还款", "request_payment_plan")
    await say(conv, "随便吧", "inform")
    assert asked_which_loan(conv) and "/request_human" in [b["payload"] for b in conv.buttons()]
    assert "hardship_form" not in conv.followups


async def test_saying_no_to_which_loan_drops_the_request():
    conv = await d8()
    await say(conv, "我想申请延期还款", "request_payment_plan")
    conv.user("/deny", "deny")
    await conv.run(ActionHandleDeny)
    assert conv.slots["awaiting"] is None and conv.slots["pending_intent"] is None
    conv.user(CHOICE % CASH, "inform")
    await conv.run(ActionHandleInform)
    assert "hardship_form" not in conv.followups


async def test_a_new_request_instead_of_an_answer_drops_the_question():
    conv = await d8()
    await say(conv, "我想申请延期还款", "request_payment_plan")
    await say(conv, "我12月4号还667.38", "promise_to_pay")
    assert conv.ledger.loans_used("create_promise") == [FENFU]
    # "which loan?" is dropped (a correction of the new promise may follow)
    assert conv.slots["awaiting"] != "loan_choice" and conv.slots["pending_intent"] is None


async def test_with_plans_on_the_table_naming_a_plan_chooses_it_without_asking_the_loan_again():
    conv = await d8()
    await say(conv, "现金贷那笔我想申请延期", "request_payment_plan")
    for slot, answer in (
        ("hardship_reason", "失业"),
        ("hardship_duration", '/inform{"choice":"temporary"}'),
        ("monthly_income", "5000"),
        ("essential_expenses", "2000"),
        ("other_debt_payments", "0"),
    ):
        if conv.slots.get(slot) is None:
            await conv.answer("hardship_form", slot, answer)
    await conv.run(ActionSubmitHardship)
    await say(conv, "我要延长期限那个方案", "request_payment_plan")
    assert not asked_which_loan(conv)
    assert conv.slots["awaiting"] == "plan_confirmation" and conv.slots["chosen_offer_id"] == "off-d8b-ext"


async def test_a_fee_waiver_is_for_the_only_overdue_loan_and_says_so():
    conv = await d8()
    await say(conv, "能不能把罚息免了", "request_fee_waiver")
    assert not asked_which_loan(conv)
    assert conv.slots["loan_number"] == FENFU and conv.followups[-1] == "hardship_form"
    assert FENFU in conv.all_text()


# ---------------------------------------------------------------- disputes


@pytest.mark.parametrize(
    ("lang", "message", "reply", "expected"),
    [
        ("zh", "这笔账不对，我要提出异议", CHOICE % FENFU, FENFU),
        ("en", "the amount is wrong, I dispute it", "the cash loan", CASH),
    ],
)
async def test_a_dispute_asks_which_loan_and_is_opened_for_that_one(lang, message, reply, expected):
    conv = await d8(lang)
    await say(conv, message, "dispute_debt")
    assert asked_which_loan(conv) and conv.ledger.loans_used("open_dispute") == []
    await say(conv, reply, "inform")
    assert conv.ledger.loans_used("open_dispute") == [expected]
    assert conv.ledger.disputes[0]["reason"] == message  # the borrower's own words, not the button
    assert expected in conv.all_text()


@pytest.mark.parametrize(
    ("lang", "message", "expected"),
    [("zh", "现金贷那笔金额不对，我有异议", CASH), ("en", "the Fenfu purchase amount is wrong, I dispute it", FENFU)],
)
async def test_a_dispute_naming_its_loan_is_opened_for_it_at_once(lang, message, expected):
    conv = await d8(lang)
    await say(conv, message, "dispute_debt")
    assert conv.ledger.loans_used("open_dispute") == [expected]
    assert expected in conv.all_text()


# ---------------------------------------------------------------- payment questions

PAID_DAY = {"zh": "上周五", "en": "last Friday"}  # the day a payment claim asks for first


@pytest.mark.parametrize(
    ("lang", "message", "intent", "call", "expected"),
    [
        ("zh", "我已经还了分付那笔", "already_paid", "get_payments", FENFU),
        ("en", "I already paid the cash loan", "already_paid", "get_payments", CASH),
        ("zh", "现金贷怎么还", "pay_now", "get_loan_status", CASH),
        ("en", "how do I pay the overdue one?", "pay_now", "get_loan_status", FENFU),
    ],
)
async def test_a_payment_question_naming_its_loan_is_answered_for_it(lang, message, intent, call, expected):
    conv = await d8(lang)
    before = len(conv.ledger.loans_used(call))
    await say(conv, message, intent)
    assert expected in conv.all_text() and not asked_which_loan(conv)
    if intent == "already_paid":  # a payment claim asks the day first, then reads the payments
        await say(conv, PAID_DAY[lang], "inform")
    assert conv.ledger.loans_used(call)[before:] == [expected]


@pytest.mark.parametrize(("lang", "message"), [("zh", "我已经还过了"), ("en", "I paid already")])
async def test_a_payment_question_naming_no_loan_asks_which(lang, message):
    conv = await d8(lang)
    await say(conv, message, "already_paid")
    assert asked_which_loan(conv) and conv.ledger.loans_used("get_payments") == []
    conv.user(CHOICE % CASH, "inform")
    await conv.run(ActionHandleInform)
    await say(conv, PAID_DAY[lang], "inform")
    assert conv.ledger.loans_used("get_payments") == [CASH]


async def test_a_payment_question_inside_the_plan_form_is_about_the_forms_loan():
    conv = await d8()
    await say(conv, "现金贷那笔我想申请延期", "request_payment_plan")
    assert conv.slots["loan_number"] == CASH and conv.followups[-1] == "hardship_form"
    before = len(conv.ledger.loans_used("get_loan_status"))
    await conv.answer("hardship_form", "hardship_reason", "等等，现在怎么还款", intent="pay_now")
    assert conv.ledger.loans_used("get_loan_status")[before:] == [CASH] and not asked_which_loan(conv)


# ---------------------------------------------------------------- fees, consequences, hand-off


async def test_fees_and_consequences_cover_each_loan():
    conv = await d8()
    before = len(conv.ledger.loans_used("get_loan_status"))
    await say(conv, "罚息怎么算", "ask_fees")
    assert conv.ledger.loans_used("get_loan_status")[before:] == [FENFU, CASH]
    assert "3.90 元" in conv.all_text() and "31.59 元" in conv.all_text()
    await say(conv, "不还会怎么样", "ask_consequences")
    assert conv.ledger.loans_used("get_loan_status")[before + 2 :] == [FENFU, CASH]


async def test_the_agents_summary_lists_the_loans():
    conv = await d8()
    await say(conv, "转人工", "request_human")
    assert f"loans={FENFU},{CASH}" in conv.ledger.escalations[-1]["summary"]


# ---------------------------------------------------------------- reading a loan named in words


@pytest.mark.parametrize(
    ("text", "answering", "expected"),
    [
        ("HX0000000009 那笔", False, CASH),
        ("hx-0000000008", False, FENFU),
        ("HX0000000001", False, None),  # not one of this borrower's loans
        ("尾号0008的那笔", False, FENFU),
        ("the one ending in 09", False, CASH),
        ("0009", True, CASH),
        ("0009", False, None),
        ("9", True, None),
        ("我8号还500", False, None),  # a date and an amount are no loan number
        ("分付的", False, FENFU),
        ("分付那筆", False, FENFU),  # Traditional
        ("现金贷", False, CASH),
        ("我现在没有现金", False, None),  # cash, not the cash loan
        ("I don't have the cash", False, None),
        ("the Fenfu purchase", False, FENFU),
        ("分付和现金贷都有", False, None),  # both named: ask
        ("逾期的那笔", False, FENFU),
        ("没逾期的那笔", False, CASH),
        ("the one that is not overdue", False, CASH),
        ("the overdue one", False, FENFU),
        ("第二个", True, CASH),
        ("第二个", False, None),
        ("the first one", True, FENFU),
        ("the last one", True, CASH),
        ("第三个", True, None),
        ("我想申请延期还款", False, None),
        ("", False, None),
    ],
)
def test_parse_loan_reference(text, answering, expected):
    assert parse_loan_reference(text, LOANS, answering=answering) == expected


def test_a_product_two_loans_share_names_neither():
    loans = [{"loan_number": FENFU, "product": "fenfu"}, {"loan_number": CASH, "product": "fenfu"}]
    assert parse_loan_reference("分付那笔", loans) is None
    assert parse_loan_reference("逾期的那笔", loans) is None  # overdue flags not known yet


async def test_clarify_without_a_pending_loan_question_is_unchanged():
    conv = await d8()
    await say(conv, "分付", "nlu_fallback")
    assert conv.slots["fallback_count"] == 1.0
    assert isinstance(ActionClarify().name(), str)
