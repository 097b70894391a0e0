"""A speaker who is not the borrower is told nothing about the loan, for the rest of the
conversation, whatever details they give: checked on what the fake ledger was asked and on the
absence of figures, loan numbers and names in the replies (not on wording)."""

from __future__ import annotations

import re

import pytest

from actions.account import ActionShowOverdueStatus
from actions.contact import ActionStopContact
from actions.dialogue import ActionHandleInform
from actions.disputes import ActionOpenDispute
from actions.escalation import ActionRequestHuman
from actions.fallback import ActionClarify, ActionHandleOutOfScope
from actions.hardship import ActionStartHardship, ActionSubmitHardship
from actions.language import ActionChangeLanguage
from actions.payments import ActionCheckPayment, ActionPayNow
from actions.promises import ActionPromiseToPay
from actions.smalltalk import ActionGreet, ActionThank
from actions.tips import ActionFinancialTips
from actions.verification import ActionSubmitVerification
from harness import Conversation

D1 = ("13800000001", "1990-03-15", "4321")
D4 = ("13800000004", "1992-06-21", "3456")
# what nobody but the verified borrower may hear: amounts, loan numbers, the borrowers' names
MONEY = re.compile(r"\d[\d,]*\.\d{2}|¥|元|CNY|RMB")
SECRETS = ("HX0000000001", "HX0000000004", "王芳", "Emily", "Chen")
# the ledger calls that would reveal or act on an account
ACCOUNT_CALLS = {
    "verify",
    "get_borrower",
    "get_loan_status",
    "get_payments",
    "create_hardship_case",
    "create_evaluation",
    "accept_offer",
    "get_arrangements",
    "create_promise",
    "get_promises",
    "open_dispute",
    "set_contact_preferences",
}


def assert_told_nothing(conv: Conversation) -> None:
    text = conv.all_text()
    assert not MONEY.search(text), text
    for secret in SECRETS:
        assert secret not in text, text


def stops_the_form(events: list[dict]) -> bool:
    return any(e.get("event") == "active_loop" and e.get("name") is None for e in events)


def account_calls(conv: Conversation, since: int = 0) -> list[str]:
    return [call for call in conv.ledger.calls[since:] if call in ACCOUNT_CALLS]


async def say(conv: Conversation, text: str, intent: str, action) -> None:
    conv.user(text, intent)
    await conv.run(action)
    assert_told_nothing(conv)


# ---------------------------------------------------------------- before any verification


@pytest.mark.parametrize(
    "opening, intent, details, lang",
    [
        ("我是她老公，帮她问问", "inform", ("她手机13800000001", "她生日1990-03-15", "身份证后四位4321"), "zh"),
        ("我是她老公，幫她問問還欠多少", "ask_overdue_status", ("13800000001", "1990年3月15日", "4321"), "zh"),
        (
            "替我妈查一下她的贷款，她不会用手机",
            "ask_overdue_status",
            ("她的手机号13800000001", "1990-03-15", "4321"),
            "zh",
        ),
        (
            "ringing for my dad, he can't manage his account now",
            "out_of_scope",
            ("his number is 13800000001", "born 1990-03-15", "ID ends 4321"),
            "en",
        ),
        (
            "my mum asked me to sort out her loan",
            "request_payment_plan",
            ("13800000001", "15 March 1990", "4321"),
            "en",
        ),
        ("hi, I'm his wife", "greet", ("his phone is 13800000001", "1990-03-15", "4321"), "en"),
    ],
)
async def test_a_relative_who_gives_the_borrowers_details_is_told_nothing(opening, intent, details, lang):
    conv = Conversation()
    conv.user(opening, intent)
    opening_action = {
        "inform": ActionHandleInform,
        "ask_overdue_status": ActionShowOverdueStatus,
        "out_of_scope": ActionHandleOutOfScope,
        "request_payment_plan": ActionStartHardship,
        "greet": ActionGreet,
    }[intent]
    await conv.run(opening_action)
    assert conv.slots["third_party"] is True
    assert conv.followups == []  # no verification started
    assert ("本人" if lang == "zh" else "account holder") in conv.all_text()  # told why, kindly
    assert_told_nothing(conv)
    for detail in details:
        await say(conv, detail, "inform", ActionHandleInform)
    question = "她欠多少钱" if lang == "zh" else "so how much is overdue?"
    await say(conv, question, "ask_overdue_status", ActionShowOverdueStatus)
    # even the borrower's own words do not reopen the account in this conversation
    await say(
        conv, "我欠多少钱" if lang == "zh" else "how much do I owe", "ask_overdue_status", ActionShowOverdueStatus
    )
    await say(
        conv, "我想分期" if lang == "zh" else "I want a payment plan", "request_payment_plan", ActionStartHardship
    )
    assert conv.followups == []
    assert account_calls(conv) == []
    assert conv.vault.identity(conv.sender) == {} and conv.vault.token(conv.sender) is None


async def test_a_relative_who_speaks_up_in_the_middle_of_verification_stops_it_and_nothing_is_kept():
    conv = Conversation(slots={"language": "zh"})
    conv.user("帮忙查下欠款", "ask_overdue_status")
    await conv.run(ActionShowOverdueStatus)
    assert conv.followups == ["verification_form"]
    await conv.form_turn("verification_form", "identity_phone", "13800000001")
    assert conv.vault.identity(conv.sender) == {"phone": "13800000001"}
    events = await conv.form_turn("verification_form", "identity_dob", "我是他老婆，他生日是1990年3月15号")
    assert stops_the_form(events)
    assert conv.slots["requested_slot"] is None and conv.slots["identity_dob"] is None
    assert conv.slots["third_party"] is True and conv.slots["pending_intent"] is None
    assert "本人" in conv.all_text()
    assert conv.vault.identity(conv.sender) == {}  # the phone already given is dropped too
    await conv.run(ActionSubmitVerification)  # the form's submit rule still runs
    assert conv.all_text() == ""  # the refusal was said once, by the validator
    assert account_calls(conv) == []


async def test_a_verification_form_never_continues_once_the_speaker_is_a_third_party():
    conv = Conversation(slots={"language": "en", "third_party": True, "requested_slot": "identity_phone"})
    events = await conv.form_turn("verification_form", "identity_phone", "13800000001")
    assert stops_the_form(events)
    assert conv.slots["identity_phone"] is None
    assert conv.vault.identity(conv.sender) == {}
    await conv.run(ActionSubmitVerification)
    assert account_calls(conv) == []


# ---------------------------------------------------------------- after a real verification


@pytest.mark.parametrize(
    "borrower, question, confession, lang",
    [
        (D1, "我欠多少钱", "其实我是他老婆，是我在帮他问", "zh"),
        (D1, "我欠多少钱", "不好意思，我是她妈妈，刚才的信息是我女儿的", "zh"),
        (D4, "how much do I owe", "actually I'm his wife, he gave me his details", "en"),
        (D4, "how much do I owe", "to be honest this is her mum, she asked me to check", "en"),
    ],
)
async def test_a_relative_who_passed_verification_loses_it_when_they_say_who_they_are(
    borrower, question, confession, lang
):
    conv = Conversation()
    conv.user(question, "ask_overdue_status")
    await conv.run(ActionShowOverdueStatus)
    await conv.verify(*borrower)
    assert MONEY.search(conv.all_text())  # the account was shown after the verification
    assert conv.vault.token(conv.sender) is not None
    before = len(conv.ledger.calls)

    await say(conv, confession, "inform", ActionHandleInform)
    assert conv.slots["third_party"] is True and conv.slots["verified"] is False
    assert conv.vault.token(conv.sender) is None  # the verification token is dropped
    assert conv.slots["loan_number"] is None and conv.slots["borrower_name"] is None
    assert ("本人" if lang == "zh" else "account holder") in conv.all_text()

    for text, intent, action in (
        ("还欠多少" if lang == "zh" else "so what's the balance", "ask_overdue_status", ActionShowOverdueStatus),
        ("我下周五还500" if lang == "zh" else "I'll pay 500 on Friday", "promise_to_pay", ActionPromiseToPay),
        ("怎么还款" if lang == "zh" else "how do I pay", "pay_now", ActionPayNow),
        ("我已经还了" if lang == "zh" else "I already paid", "already_paid", ActionCheckPayment),
        ("能分期吗" if lang == "zh" else "can I get a payment plan", "request_payment_plan", ActionStartHardship),
    ):
        await say(conv, text, intent, action)
    assert conv.followups.count("verification_form") == 1  # only the first, real one
    assert account_calls(conv, since=before) == []


async def test_a_relative_in_the_middle_of_the_hardship_questions_stops_them():
    conv = Conversation()
    conv.user("我欠多少钱", "ask_overdue_status")
    await conv.run(ActionShowOverdueStatus)
    await conv.verify(*D1)
    conv.user("我失业了还不上", "report_hardship")
    await conv.run(ActionStartHardship)
    assert conv.followups[-1] == "hardship_form"
    before = len(conv.ledger.calls)
    events = await conv.form_turn("hardship_form", "hardship_reason", "我是他妈妈，他失业了，你们能不能宽限")
    assert stops_the_form(events)
    assert conv.slots["third_party"] is True and conv.vault.token(conv.sender) is None
    assert conv.slots["hardship_reason"] is None
    await conv.run(ActionSubmitHardship)  # the form's submit rule still runs
    assert conv.all_text() == ""
    assert account_calls(conv, since=before) == []


# ---------------------------------------------------------------- every action, the same refusal


@pytest.mark.parametrize(
    "action, intent",
    [
        (ActionGreet, "greet"),
        (ActionThank, "thank"),
        (ActionShowOverdueStatus, "ask_overdue_status"),
        (ActionPromiseToPay, "promise_to_pay"),
        (ActionPayNow, "pay_now"),
        (ActionCheckPayment, "already_paid"),
        (ActionOpenDispute, "dispute_debt"),
        (ActionStopContact, "stop_contact"),
        (ActionFinancialTips, "ask_financial_tips"),
        (ActionChangeLanguage, "change_language"),
        (ActionClarify, "nlu_fallback"),
        (ActionHandleOutOfScope, "out_of_scope"),
        (ActionHandleInform, "inform"),
    ],
)
async def test_whatever_the_intent_a_message_from_a_relative_gets_the_refusal(action, intent):
    conv = Conversation()
    conv.user("我是他老婆，他让我跟你们说一下", intent)
    await conv.run(action)
    assert conv.slots["third_party"] is True
    assert "本人" in conv.all_text()
    assert account_calls(conv) == [] and conv.followups == []


# ---------------------------------------------------------------- what stays answerable


async def test_small_talk_and_how_to_reach_the_lender_stay_answerable_to_a_third_party():
    conv = Conversation()
    await say(conv, "I'm calling for my brother", "out_of_scope", ActionHandleOutOfScope)
    conv.user("ok thanks", "thank")
    await conv.run(ActionThank)
    assert conv.all_text() and "account holder" not in conv.all_text()  # the ordinary answer
    conv.user("how can he get in touch with you then?", "out_of_scope")
    await conv.run(ActionHandleOutOfScope)
    assert "chat" in conv.all_text() and "WeChat" in conv.all_text()  # the ways the borrower can reach us
    conv.user("怎么联系你们", "nlu_fallback", confidence=0.3)
    await conv.run(ActionClarify)
    assert "微信" in conv.all_text()  # not "I did not understand"
    assert_told_nothing(conv)
    assert account_calls(conv) == []


@pytest.mark.parametrize("lang, opening", [("zh", "我是他妈妈"), ("en", "I'm his mum")])
async def test_a_person_is_offered_and_can_be_reached_but_is_told_nothing_either(lang, opening):
    """A borrower refused by mistake is not stuck, and a relative with a real need (a death, a
    power of attorney) can reach a person, who checks who they are."""
    conv = Conversation()
    await say(conv, opening, "inform", ActionHandleInform)
    assert "/request_human" in [b["payload"] for b in conv.buttons()]
    await say(conv, "/request_human", "request_human", ActionRequestHuman)
    assert len(conv.ledger.escalations) == 1
    assert "verified=no" in conv.ledger.escalations[0]["summary"]
    assert account_calls(conv) == []


@pytest.mark.parametrize(
    "text, intent, action",
    [
        ("帮忙查一下欠款", "ask_overdue_status", ActionShowOverdueStatus),
        ("帮帮我，我还不上了", "report_hardship", ActionStartHardship),
        ("我老婆生病了所以还不上", "report_hardship", ActionStartHardship),
        ("my wife lost her job so I can't pay", "report_hardship", ActionStartHardship),
        ("can my husband pay for me?", "pay_now", ActionPayNow),
        ("我爸借了我一点钱，我想现在还", "pay_now", ActionPayNow),
        ("I'm a mother of two and I want to know what I owe", "ask_overdue_status", ActionShowOverdueStatus),
    ],
)
async def test_a_borrower_who_mentions_relatives_is_verified_as_usual(text, intent, action):
    conv = Conversation()
    conv.user(text, intent)
    await conv.run(action)
    assert conv.slots["third_party"] is False
    assert conv.followups == ["verification_form"]
