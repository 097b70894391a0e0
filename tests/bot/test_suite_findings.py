"""Kinds of failure the conversation suite (tests/e2e/conversations) found over the real stack,
pinned here over the fake ledger: a side question while a chosen plan waits for its yes keeps
the plan; a reason and its duration in one answer are both kept; a reference the borrower says
they do not have is no reference; "I paid ... yesterday" read as a promise is a payment claim;
"I can't pay" read as a payment claim or a promise is hardship; a status question read as a
dispute without a dispute word is answered; identity theft gets a person."""

from __future__ import annotations

import pytest

from actions.account import ActionExplainConsequences, ActionExplainFees, ActionShowOverdueStatus
from actions.dialogue import ActionHandleAffirm, ActionHandleInform
from actions.disputes import ActionOpenDispute
from actions.payments import ActionCheckPayment, parse_payment_reference
from actions.promises import ActionPromiseToPay
from harness import Conversation
from test_consequential_acts import D1, nothing_recorded, payloads, verified, with_offers

SIDE_QUESTIONS = {
    "zh": [
        ("这个方案会影响征信吗", "ask_consequences", ActionExplainConsequences),
        ("罚息怎么算", "ask_fees", ActionExplainFees),
    ],
    "en": [
        (
            "what happens to my credit record if I miss a payment on the plan?",
            "ask_consequences",
            ActionExplainConsequences,
        ),
        ("how much do I owe right now?", "ask_overdue_status", ActionShowOverdueStatus),
    ],
}


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("which", [0, 1])
async def test_a_side_question_before_the_yes_keeps_the_chosen_plan(lang, which):
    conv = await with_offers(lang)
    conv.user("选第1个" if lang == "zh" else "the 1st one", "inform")
    await conv.run(ActionHandleInform)
    chosen = conv.slots["chosen_offer_id"]
    assert chosen and conv.slots["awaiting"] == "plan_confirmation"
    text, intent, action = SIDE_QUESTIONS[lang][which]
    conv.user(text, intent)
    await conv.run(action)
    assert conv.slots["awaiting"] == "plan_confirmation" and conv.slots["chosen_offer_id"] == chosen
    assert payloads(conv)[-2:] == ["/affirm", "/deny"]  # the yes/no asked again after the answer
    conv.user("确认" if lang == "zh" else "yes, I accept", "affirm")
    await conv.run(ActionHandleAffirm)
    assert [a["offer_id"] for a in conv.ledger.arrangements] == [chosen]


@pytest.mark.parametrize(
    "text, reference",
    [
        ("no, I don't have a reference", None),
        ("no reference, sorry", None),
        ("I don't have the reference number", None),
        ("there's no ref on the slip", None),
        ("没有流水号", None),
        ("reference TX88812345", "TX88812345"),
        ("ref: ZZ12345678", "ZZ12345678"),
        ("the reference number is 20261118000123", "20261118000123"),
        ("流水号 HB20261118000123", "HB20261118000123"),
    ],
)
def test_a_reference_is_a_code_never_the_rest_of_a_word(text, reference):
    assert parse_payment_reference(text) == reference
    assert parse_payment_reference(text, asked=True) == reference


def hardship_started(conv: Conversation) -> bool:
    return any(e.get("event") == "followup" and e.get("name") == "hardship_form" for e in conv.events)


@pytest.mark.parametrize(
    "lang, text, intent",
    [
        ("zh", "我还不上了", "already_paid"),
        ("zh", "这个月实在还不起", "already_paid"),
        ("zh", "我还不上了", "promise_to_pay"),
        ("en", "I can't pay this month", "promise_to_pay"),
        ("en", "I won't be able to make the payment", "already_paid"),
    ],
)
async def test_cannot_pay_is_hardship_never_a_payment_claim_or_a_promise(lang, text, intent):
    conv = await verified(lang)
    conv.user(text, intent, confidence=0.45)
    await conv.run(ActionCheckPayment if intent == "already_paid" else ActionPromiseToPay)
    assert hardship_started(conv), conv.all_text()
    assert conv.ledger.promises == [] and conv.ledger.traces == []


@pytest.mark.parametrize(
    "lang, text",
    [
        ("en", "I paid 200 yesterday, ref ZZ12345678"),
        ("zh", "我昨天已经转了200块，流水号ZZ12345678"),
    ],
)
async def test_a_payment_made_read_as_a_promise_is_a_payment_claim(lang, text):
    conv = await verified(lang)
    conv.user(text, "promise_to_pay", confidence=0.76)
    await conv.run(ActionPromiseToPay)
    assert conv.ledger.promises == []
    traces = conv.ledger.traces
    assert [(t["amount"], t["reference"]) for t in traces] == [("200.00", "ZZ12345678")], conv.all_text()


async def test_a_promise_with_a_day_is_still_a_promise_even_after_saying_it_is_hard():
    conv = await verified("en")
    conv.user("I can't pay this month, but I'll pay 500 tomorrow", "promise_to_pay")
    await conv.run(ActionPromiseToPay)
    assert not hardship_started(conv)
    assert [p["amount"] for p in conv.ledger.promises] == ["500.00"], conv.all_text()


async def asked_for_a_reason(lang: str, text: str) -> Conversation:
    """A verified borrower whose opening message gave no reason: the form asks for one."""
    conv = await verified(lang)
    conv.user(text, "request_payment_plan")
    from actions.hardship import ActionStartHardship

    await conv.run(ActionStartHardship)
    assert conv.slots["hardship_reason"] is None
    return conv


@pytest.mark.parametrize(
    "lang, answer, reason, duration",
    [
        ("zh", "我失业了，是长期的", "job_loss", "long_term"),
        ("zh", "生病了，暂时的", "illness", "temporary"),
        ("en", "I got sick, it's temporary", "illness", "temporary"),
        ("en", "lost my job, probably long term", "job_loss", "long_term"),
    ],
)
async def test_a_reason_and_its_duration_in_one_answer_are_both_kept(lang, answer, reason, duration):
    conv = await asked_for_a_reason(lang, "我想一次性结清，能减免吗" if lang == "zh" else "can I get a plan?")
    await conv.form_turn("hardship_form", "hardship_reason", answer)
    assert (conv.slots["hardship_reason"], conv.slots["hardship_duration"]) == (reason, duration)


@pytest.mark.parametrize("lang, answer", [("en", "long term"), ("zh", "长期的")])
async def test_a_duration_given_for_the_reason_is_kept_and_the_reason_asked_again(lang, answer):
    conv = await asked_for_a_reason(lang, "我想申请还款计划" if lang == "zh" else "can I get a plan?")
    await conv.form_turn("hardship_form", "hardship_reason", answer)
    assert conv.slots["hardship_duration"] == "long_term"
    assert conv.slots["hardship_reason"] is None


@pytest.mark.parametrize(
    "text, reason",
    [
        ("my salary was cut and I can't keep up", "income_drop"),
        ("they cut my hours", "income_drop"),
        ("I took a pay cut", "income_drop"),
        ("工资降了", "income_drop"),
        ("公司降薪了", "income_drop"),
    ],
)
def test_a_cut_in_pay_is_an_income_drop(text, reason):
    from actions.parsing import parse_hardship_reason

    assert parse_hardship_reason(text) == reason


async def test_the_opening_message_gives_the_duration_too():
    conv = await verified("en")
    conv.user("I lost my job and it will be long term, I can't pay", "report_hardship")
    from actions.hardship import ActionStartHardship

    await conv.run(ActionStartHardship)
    assert (conv.slots["hardship_reason"], conv.slots["hardship_duration"]) == ("job_loss", "long_term")


@pytest.mark.parametrize(
    "text, duration",
    [
        ("我最近失业了，暂时还不上", None),
        ("I lost my job and can't pay for now", None),
        ("我失业了，估计是长期的", "long_term"),
        ("I got sick, it's temporary", "temporary"),
    ],
)
def test_an_opening_message_states_a_duration_only_in_so_many_words(text, duration):
    from actions.hardship import duration_stated

    assert duration_stated(text) == duration


@pytest.mark.parametrize(
    "lang, text, intent, action",
    [
        ("zh", "我老婆不知道我借了这笔钱，千万别打电话给她。我现在欠多少", "dispute_debt", ActionOpenDispute),
        ("en", "my family doesn't know about this loan. how much do I owe?", "dispute_debt", ActionOpenDispute),
    ],
)
async def test_a_status_question_read_as_a_dispute_without_a_dispute_word_is_answered(lang, text, intent, action):
    conv = await verified(lang)
    conv.user(text, intent, confidence=0.62)
    await conv.run(action)
    nothing_recorded(conv)
    assert "/affirm" not in payloads(conv)  # no confirmation of a dispute nobody asked for
    asked = await verified(lang)
    asked.user("我欠多少钱" if lang == "zh" else "how much do I owe?", "ask_overdue_status")
    await asked.run(ActionShowOverdueStatus)
    assert asked.texts() and asked.texts() == conv.texts()  # answered as the status question it is


@pytest.mark.parametrize(
    "lang, text, fraud",
    [
        ("zh", "这笔贷款不是我借的，有人盗用了我的身份", True),
        ("en", "someone used my identity to take out this loan, it wasn't me", True),
        ("zh", "这个金额算错了，我要申请异议", False),
        ("en", "this amount is wrong, I dispute it", False),
    ],
)
async def test_identity_theft_opens_a_dispute_and_offers_a_person(lang, text, fraud):
    conv = await verified(lang)
    conv.user(text, "dispute_debt", confidence=0.95)
    await conv.run(ActionOpenDispute)
    assert len(conv.ledger.disputes) == 1
    assert ("/request_human" in payloads(conv)) == fraud, payloads(conv)


@pytest.mark.parametrize(
    "lang, text, slot, value",
    [
        ("en", "sorry, I meant expenses are 3000", "essential_expenses", "3000.00"),
        ("zh", "说错了，开销其实是三千五", "essential_expenses", "3500.00"),
        ("en", "my mistake, income is 4,500", "monthly_income", "4500.00"),
    ],
)
async def test_a_correction_read_as_nothing_after_the_plans_is_still_a_correction(lang, text, slot, value):
    from actions.fallback import ActionClarify

    conv = await with_offers(lang)
    conv.user(text, "nlu_fallback", confidence=0.3)
    await conv.run(ActionClarify)
    assert conv.slots[slot] == value
    assert any(e.get("event") == "followup" and e.get("name") == "hardship_form" for e in conv.events)


@pytest.mark.parametrize(
    "text, amount",
    [
        ("three thousand", "3000.00"),
        ("about two thousand five hundred a month", "2500.00"),
        ("a thousand", "1000.00"),
        ("two and a half thousand", "2500.00"),
        ("five hundred a month", "500.00"),
        ("ok, 11 December then", None),  # a day of a month is no amount
        ("the 2nd one", None),
        ("pay 600 on 11 Dec", "600.00"),
    ],
)
def test_amounts_in_english_words_and_days_of_months(text, amount):
    from actions.parsing import parse_amount

    got = parse_amount(text)
    assert (None if got is None else f"{got:.2f}") == amount


async def test_a_new_day_for_a_refused_promise_keeps_the_amount():
    conv = await verified("en")
    conv.user("I can pay 600 on 30 January", "promise_to_pay")
    await conv.run(ActionPromiseToPay)
    assert conv.ledger.promises == [] and conv.slots["awaiting"] == "promise_details"
    conv.user("ok, 5 December then", "inform")
    await conv.run(ActionHandleInform)
    assert [p["amount"] for p in conv.ledger.promises] == ["600.00"], conv.all_text()


@pytest.mark.parametrize(
    "lang, text",
    [("zh", "我拿不出那么多钱一次性还"), ("en", "I don't have that much to pay in one go")],
)
async def test_cannot_pay_in_one_go_with_plans_on_screen_is_no_choice(lang, text):
    conv = await with_offers(lang)
    conv.user(text, "inform", confidence=0.6)
    await conv.run(ActionHandleInform)
    assert conv.slots["chosen_offer_id"] is None
    assert "/request_human" in payloads(conv)


@pytest.mark.parametrize(
    "lang, text", [("zh", "我想申请降息，我失业了"), ("en", "I lost my job, can I get the lower rate?")]
)
async def test_a_plan_asked_for_and_refused_at_the_assessment_offers_a_person(lang, text):
    from actions.hardship import ActionStartHardship, ActionSubmitHardship

    conv = await verified(lang, borrower=D1)  # D1's evaluation lists the reduced rate as not eligible
    conv.user(text, "request_payment_plan")
    await conv.run(ActionStartHardship)
    assert conv.slots["requested_plan"] == "reduced_rate"
    for slot, answer in (
        ("hardship_duration", '/inform{"choice":"temporary"}'),
        ("monthly_income", "5000"),
        ("essential_expenses", "3000"),
        ("other_debt_payments", "0"),
    ):
        await conv.answer("hardship_form", slot, answer)
    await conv.run(ActionSubmitHardship)
    assert conv.slots["offered_plans"]  # the plans that are open are shown
    assert "/request_human" in payloads(conv)  # and, the one asked for being refused, a person


@pytest.mark.parametrize(
    "text", ["我生病住院了，一直没法工作，还不上了", "I've been off work for a long time and can't pay"]
)
def test_what_has_been_is_no_duration(text):
    from actions.hardship import duration_stated

    assert duration_stated(text) is None
