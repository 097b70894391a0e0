"""No record nobody asked for, no dead end (issue 9, kinds 2 to 4), over the fake ledger in both
languages. Assertions are on what the ledger recorded and on the buttons offered, not on wording.

- A dispute, a complaint, a change of contact or a hand-off is recorded only when the borrower's
  meaning is clear in context; otherwise a one-tap confirmation comes first (actions/confirm.py).
- The consequences text answers only questions about consequences.
- Every refusal, every "I cannot help with that" and every second misunderstanding in a row
  offers a person (a hardship review when the plans do not fit).
"""

from __future__ import annotations

import pytest

from actions.account import ActionExplainConsequences
from actions.contact import ActionStopContact
from actions.dialogue import ActionHandleAffirm, ActionHandleDeny, ActionHandleInform
from actions.disputes import ActionOpenDispute
from actions.escalation import ActionFileComplaint, ActionRequestHuman
from actions.fallback import ActionClarify, ActionHandleOutOfScope
from actions.hardship import ActionStartHardship, ActionSubmitHardship
from actions.parsing import CHANNELS
from actions.promises import ActionPromiseToPay
from actions.verification import ActionSubmitVerification
from harness import Conversation

D1 = ("13800000001", "1990-03-15", "4321")
D4 = ("13800000004", "1992-06-21", "3456")
D7 = ("13800000007", "05/12/1980", "1357")
BORROWER = {"zh": D1, "en": D4}
FIRST = {"zh": ("我欠多少钱", "ask_overdue_status"), "en": ("how much do I owe", "ask_overdue_status")}
YES_NO = ["/affirm", "/deny"]
CONSEQUENCES_TEXT = ("征信系统", "credit reference system")


async def verified(lang: str = "zh", borrower: tuple | None = None) -> Conversation:
    conv = Conversation()
    conv.user(*FIRST[lang])
    from actions.account import ActionShowOverdueStatus

    await conv.run(ActionShowOverdueStatus)
    await conv.verify(*(borrower or BORROWER[lang]))
    assert conv.slots["verified"] is True
    return conv


async def with_offers(lang: str) -> Conversation:
    """A verified borrower (D1 in Chinese, D4 in English) with evaluated plans on screen."""
    conv = await verified(lang)
    conv.user(*(("我失业了还不上", "report_hardship") if lang == "zh" else ("I lost my job", "report_hardship")))
    await conv.run(ActionStartHardship)
    answers = {
        "hardship_duration": '/inform{"choice":"temporary"}',
        "monthly_income": "5000",
        "essential_expenses": "3000",
        "other_debt_payments": "0",
    }
    for slot, text in answers.items():
        await conv.answer("hardship_form", slot, text)
    await conv.run(ActionSubmitHardship)
    assert conv.slots["offered_plans"] and conv.slots["awaiting"] == "plan_choice"
    return conv


def payloads(conv: Conversation) -> list[str]:
    return [b["payload"] for b in conv.buttons()]


def handed_off(conv: Conversation) -> bool:
    return any("handoff" in c for c in conv.customs())


def nothing_recorded(conv: Conversation) -> None:
    ledger = conv.ledger
    assert ledger.disputes == [] and ledger.complaints == [] and ledger.escalations == []
    assert "open_dispute" not in ledger.calls and "create_complaint" not in ledger.calls
    assert "set_contact_preferences" not in ledger.calls and "create_escalation" not in ledger.calls


# ---------------------------------------------------------------- kind 2: plans on screen


@pytest.mark.parametrize(
    "lang, text, intent, offer_id",
    [
        ("zh", "延期那个吧，第二个", "dispute_debt", "off-def"),
        ("zh", "第三个，延长期限的那个", "complain", "off-ext"),
        ("zh", "就要减免罚息那个", "dispute_debt", "off-fw"),
        ("en", "the term extension one, the first", "complain", "off-d4"),
        ("en", "I'll go with the longer term", "dispute_debt", "off-d4"),
    ],
)
async def test_naming_a_plan_on_screen_chooses_it_and_records_nothing_else(lang, text, intent, offer_id):
    conv = await with_offers(lang)
    conv.user(text, intent, confidence=0.8)
    await conv.run(ActionOpenDispute if intent == "dispute_debt" else ActionFileComplaint)
    nothing_recorded(conv)
    assert conv.slots["chosen_offer_id"] == offer_id
    assert conv.slots["awaiting"] == "plan_confirmation"
    assert payloads(conv) == YES_NO


# ---------------------------------------------------------------- kind 2: acknowledgements, refusals


@pytest.mark.parametrize(
    "text, intent, confidence",
    [
        ("好的，那我等你们的消息", "complain", 0.81),
        ("行吧，我等通知", "dispute_debt", 0.75),
        ("OK, I'll wait to hear from you", "complain", 0.6),
        ("fine, I will wait for your reply", "dispute_debt", 0.9),
    ],
)
async def test_waiting_for_news_is_neither_a_complaint_nor_a_dispute(text, intent, confidence):
    conv = await verified("zh" if any("\u4e00" <= c <= "\u9fff" for c in text) else "en")
    conv.user(text, intent, confidence=confidence)
    await conv.run(ActionOpenDispute if intent == "dispute_debt" else ActionFileComplaint)
    nothing_recorded(conv)
    assert not handed_off(conv)
    assert "/affirm" not in payloads(conv)  # not even a question: it is an acknowledgement


@pytest.mark.parametrize(
    "text, confidence",
    [
        ("不要转人工", 0.9),
        ("不用找客服了，我自己看", 0.7),
        ("no, I don't want a person", 0.8),
        ("no need for an agent, thanks", 0.51),
    ],
)
async def test_refusing_a_person_never_hands_over(text, confidence):
    conv = Conversation(slots={"language": "en" if text.isascii() else "zh"})
    conv.user("blorp", "nlu_fallback")
    await conv.run(ActionClarify)
    conv.user("zzz", "nlu_fallback")
    await conv.run(ActionClarify)
    assert conv.slots["awaiting"] == "human_offer_fallback"
    conv.user(text, "request_human", confidence=confidence)
    await conv.run(ActionRequestHuman)
    nothing_recorded(conv)
    assert not handed_off(conv) and not conv.slots.get("escalated")
    assert not (conv.slots["awaiting"] or "").startswith("human_offer")


# ---------------------------------------------------------------- kind 2: unclear acts are confirmed


@pytest.mark.parametrize(
    "lang, text, confidence",
    [
        ("zh", "这个好像有点奇怪", 0.55),
        ("zh", "金额不对的话怎么申诉？", 0.92),
        ("en", "hmm, that looks odd", 0.5),
        ("en", "can I dispute the fee if it's wrong?", 0.9),
    ],
)
async def test_unclear_dispute_is_confirmed_first_and_opened_on_yes(lang, text, confidence):
    conv = await verified(lang)
    conv.user(text, "dispute_debt", confidence=confidence)
    await conv.run(ActionOpenDispute)
    nothing_recorded(conv)
    assert payloads(conv) == YES_NO
    assert "HX0000000001" in conv.all_text() or "HX0000000004" in conv.all_text()  # which loan it is about
    conv.user("/affirm", "affirm")
    await conv.run(ActionHandleAffirm)
    assert len(conv.ledger.disputes) == 1 and conv.ledger.disputes[0]["reason"] == text
    assert conv.slots["awaiting"] is None and conv.slots["pending_act"] is None


@pytest.mark.parametrize("lang, no", [("zh", "不用了"), ("en", "no")])
async def test_unclear_dispute_declined_records_nothing_and_a_later_yes_accepts_nothing(lang, no):
    conv = await verified(lang)
    conv.user("这个有点问题吧" if lang == "zh" else "something is off here", "dispute_debt", confidence=0.5)
    await conv.run(ActionOpenDispute)
    conv.user(no, "deny")
    await conv.run(ActionHandleDeny)
    conv.user("好的" if lang == "zh" else "ok", "affirm")
    await conv.run(ActionHandleAffirm)
    nothing_recorded(conv)
    assert conv.slots["pending_act"] is None


@pytest.mark.parametrize(
    "lang, text", [("zh", "这笔钱根本不是我借的"), ("en", "this loan isn't mine, I never borrowed it")]
)
async def test_clear_dispute_before_verification_is_opened_right_after_it(lang, text):
    conv = Conversation()
    conv.user(text, "dispute_debt", confidence=0.93)
    await conv.run(ActionOpenDispute)
    assert conv.followups == ["verification_form"] and conv.ledger.disputes == []
    await conv.verify(*BORROWER[lang])
    assert [d["reason"] for d in conv.ledger.disputes] == [text]


async def test_unclear_dispute_before_verification_is_confirmed_after_it():
    conv = Conversation()
    conv.user("这个账不太对劲吧", "dispute_debt", confidence=0.45)
    await conv.run(ActionOpenDispute)
    await conv.verify(*D1)
    assert conv.ledger.disputes == [] and payloads(conv) == YES_NO
    conv.user("是的", "affirm")
    await conv.run(ActionHandleAffirm)
    assert [d["reason"] for d in conv.ledger.disputes] == ["这个账不太对劲吧"]


@pytest.mark.parametrize(
    "lang, text, confidence",
    [
        ("zh", "你们这样搞不太好吧", 0.55),
        ("en", "well that's not great is it", 0.62),
        ("en", "how do I complain?", 0.9),
    ],
)
async def test_unclear_complaint_is_confirmed_first_and_filed_on_yes(lang, text, confidence):
    conv = Conversation(slots={"language": lang})
    conv.user(text, "complain", confidence=confidence)
    await conv.run(ActionFileComplaint)
    nothing_recorded(conv)
    assert payloads(conv) == YES_NO
    conv.user("/affirm", "affirm")
    await conv.run(ActionHandleAffirm)
    assert [c["text"] for c in conv.ledger.complaints] == [text]


@pytest.mark.parametrize(
    "lang, text",
    [("zh", "你们催收员天天骚扰我，我要投诉"), ("en", "your collector was rude to me, I want to complain")],
)
async def test_clear_complaint_is_filed_at_once(lang, text):
    conv = Conversation(slots={"language": lang})
    conv.user(text, "complain", confidence=0.92)
    await conv.run(ActionFileComplaint)
    assert [c["text"] for c in conv.ledger.complaints] == [text]


@pytest.mark.parametrize("lang, text", [("zh", "能不能帮我看看这个"), ("en", "can someone look at this")])
async def test_unclear_request_for_a_person_is_offered_not_done(lang, text):
    conv = Conversation(slots={"language": lang})
    conv.user(text, "request_human", confidence=0.42)
    await conv.run(ActionRequestHuman)
    nothing_recorded(conv)
    assert not handed_off(conv)
    assert "/request_human" in payloads(conv)
    conv.user("/request_human", "request_human", confidence=1.0)
    await conv.run(ActionRequestHuman)
    assert len(conv.ledger.escalations) == 1 and handed_off(conv)


# ---------------------------------------------------------------- kind 2: contact


@pytest.mark.parametrize(
    "lang, text, stop_all, channels",
    [
        ("en", "no calls, no texts, nothing", True, []),
        ("zh", "电话短信都不要，什么都别发了", True, []),
        ("en", "don't call, text me instead", False, ["phone"]),
        ("zh", "别打电话了，发短信就行", False, ["phone"]),
        ("en", "text me instead of calling", False, ["phone"]),
        ("zh", "用微信联系我，不要打电话", False, ["phone"]),
        ("zh", "除了邮件，别的方式都不要联系我", False, sorted(set(CHANNELS) - {"email"})),
        ("en", "stop the texts and the calls", False, ["phone", "sms"]),
    ],
)
async def test_contact_requests_store_exactly_what_was_asked(lang, text, stop_all, channels):
    conv = await verified(lang)
    conv.user(text, "stop_contact", confidence=0.93)
    await conv.run(ActionStopContact)
    assert conv.ledger.borrowers[conv.slots["borrower_id"]].contact_preferences == {
        "stop_all": stop_all,
        "opted_out_channels": channels,
    }


@pytest.mark.parametrize(
    "lang, text, kept", [("en", "don't call, text me instead", "SMS"), ("zh", "别打电话，发短信", "短信")]
)
async def test_contact_change_says_which_channels_are_stopped_and_which_kept(lang, text, kept):
    conv = await verified(lang)
    conv.user(text, "stop_contact", confidence=0.95)
    await conv.run(ActionStopContact)
    said = conv.all_text()
    stopped = "phone calls" if lang == "en" else "电话"
    assert said.index(stopped) < said.index(kept)  # stopped first, then what is kept


@pytest.mark.parametrize(
    "lang, text, kept, stopped",
    [
        ("en", "only contact me by email", "email", ["SMS", "phone calls", "WeChat"]),
        ("en", "just email me", "email", ["SMS", "phone calls", "WeChat"]),
        ("zh", "只用邮件联系我", "邮件", ["短信", "电话", "微信"]),
    ],
)
async def test_only_one_channel_opts_out_of_every_other_and_says_so(lang, text, kept, stopped):
    """ "Only email": email is one of the channels the ledger knows (and the default policy uses),
    so every other channel is opted out (not stop-all, which would stop email too), and the reply
    names the channels stopped and the one kept."""
    conv = await verified(lang)
    conv.user(text, "stop_contact", confidence=0.93)
    await conv.run(ActionStopContact)
    assert conv.ledger.borrowers[conv.slots["borrower_id"]].contact_preferences == {
        "stop_all": False,
        "opted_out_channels": sorted(set(CHANNELS) - {"email"}),
    }
    said = conv.all_text()
    assert all(name in said for name in stopped)
    assert all(said.index(name) < said.rindex(kept) for name in stopped)  # stopped first, then the one kept
    assert conv.slots.get("awaiting") != "contact_channel"  # not asked which channel


@pytest.mark.parametrize(
    "lang, text, unused, used",
    [
        ("en", "only contact me by email", "email", ["SMS", "phone calls", "WeChat"]),
        ("zh", "只用邮件联系我", "邮件", ["短信", "电话", "微信"]),
    ],
)
async def test_only_a_channel_the_lender_does_not_use_stores_nothing_and_says_so(lang, text, unused, used):
    """When the policy's channels (GET /policy/terms) leave email out, "only email" cannot be
    honoured as asked: nothing is stored, the reply says plainly that email is not used, names
    the channels that are, and asks which to stop (or all)."""
    conv = await verified(lang)
    conv.ledger.contact_channels = ["sms", "phone", "wechat"]
    before = dict(conv.ledger.borrowers[conv.slots["borrower_id"]].contact_preferences)
    conv.user(text, "stop_contact", confidence=0.93)
    await conv.run(ActionStopContact)
    assert conv.ledger.borrowers[conv.slots["borrower_id"]].contact_preferences == before
    said = conv.all_text()
    assert unused in said and all(name in said for name in used)
    assert conv.slots["awaiting"] == "contact_channel"
    assert {'/inform{"choice":"sms"}', '/inform{"choice":"all"}'} <= set(payloads(conv))
    assert '/inform{"choice":"email"}' not in payloads(conv)


async def test_kept_channels_named_are_the_ones_the_lender_uses():
    conv = await verified("en")
    conv.ledger.contact_channels = ["sms", "phone", "wechat"]
    conv.user("don't call, text me instead", "stop_contact", confidence=0.93)
    await conv.run(ActionStopContact)
    assert conv.ledger.borrowers["b-d4"].contact_preferences == {"stop_all": False, "opted_out_channels": ["phone"]}
    said = conv.texts()[-1]
    assert "SMS" in said and "WeChat" in said and "email" not in said and "app" not in said


async def test_only_email_after_a_stop_all_keeps_email_only():
    conv = await verified("en")
    conv.ledger.borrowers["b-d4"].contact_preferences = {"stop_all": True, "opted_out_channels": []}
    conv.user("only contact me by email", "stop_contact", confidence=0.93)
    await conv.run(ActionStopContact)
    assert conv.ledger.borrowers["b-d4"].contact_preferences == {
        "stop_all": False,
        "opted_out_channels": sorted(set(CHANNELS) - {"email"}),
    }


async def test_text_me_instead_takes_sms_off_an_earlier_opt_out():
    conv = await verified("en")
    conv.ledger.borrowers["b-d4"].contact_preferences = {"stop_all": False, "opted_out_channels": ["sms"]}
    conv.user("please don't call me, text me instead", "stop_contact", confidence=0.95)
    await conv.run(ActionStopContact)
    assert conv.ledger.borrowers["b-d4"].contact_preferences == {"stop_all": False, "opted_out_channels": ["phone"]}


@pytest.mark.parametrize(
    "text, intent",
    [
        ("never mind, none of them", "deny"),
        ("never mind, none of them", "inform"),
        ("never mind, none of them", "stop_contact"),
        ("算了，都不用", "inform"),
        ("算了算了，哪个都不用停", "stop_contact"),
    ],
)
async def test_none_of_them_leaves_the_contact_question_and_stores_nothing(text, intent):
    conv = await verified("en" if text.isascii() else "zh")
    conv.user("you people are so annoying" if text.isascii() else "你们烦死了", "stop_contact")
    await conv.run(ActionStopContact)
    assert conv.slots["awaiting"] == "contact_channel"
    conv.user(text, intent, confidence=0.8)
    action = {"deny": ActionHandleDeny, "inform": ActionHandleInform, "stop_contact": ActionStopContact}[intent]
    await conv.run(action)
    nothing_recorded(conv)
    assert conv.slots["awaiting"] is None
    assert not any("choice" in p for p in payloads(conv))  # the channel question is not asked again


@pytest.mark.parametrize("lang, text", [("zh", "短信有点多"), ("en", "bit too many texts lately")])
async def test_unclear_contact_change_is_confirmed_first(lang, text):
    conv = await verified(lang)
    conv.user(text, "stop_contact", confidence=0.5)
    await conv.run(ActionStopContact)
    nothing_recorded(conv)
    assert payloads(conv) == YES_NO
    conv.user("/affirm", "affirm")
    await conv.run(ActionHandleAffirm)
    assert conv.ledger.borrowers[conv.slots["borrower_id"]].contact_preferences == {
        "stop_all": False,
        "opted_out_channels": ["sms"],
    }


# ---------------------------------------------------------------- kind 3: consequences


@pytest.mark.parametrize(
    "lang, text",
    [
        ("en", "why is it overdue, I have auto-debit"),
        ("zh", "我开了自动扣款，怎么还算逾期"),
        ("en", "so who will call me now?"),
        ("zh", "那之后谁会给我打电话"),
        ("en", "I can't afford the only plan you gave me"),
        ("zh", "你们给的方案我付不起"),
    ],
)
async def test_consequences_text_is_not_a_catch_all(lang, text):
    conv = await verified(lang)
    conv.user(text, "ask_consequences", confidence=0.7)
    await conv.run(ActionExplainConsequences)
    said = conv.all_text()
    assert not any(part in said for part in CONSEQUENCES_TEXT), said
    assert said.strip()  # never silence


@pytest.mark.parametrize("text", ["what happens with my dispute now?", "我的异议现在怎么样了"])
async def test_open_dispute_hears_its_case_not_the_consequences(text):
    conv = await verified("en", D7)
    conv.user(text, "ask_consequences", confidence=0.87)
    await conv.run(ActionExplainConsequences)
    said = conv.all_text()
    assert "DSP-2026-0007" in said
    assert not any(part in said for part in CONSEQUENCES_TEXT), said


async def test_open_dispute_asking_about_credit_hears_the_consequences():
    conv = await verified("en", D7)
    conv.user("will this hurt my credit score?", "ask_consequences")
    await conv.run(ActionExplainConsequences)
    assert "credit reference system" in conv.all_text()


# ---------------------------------------------------------------- kind 4: refusals offer a person


@pytest.mark.parametrize(
    "lang, text, intent, action",
    [
        ("zh", "我一次拿不出那么多", "nlu_fallback", ActionClarify),
        ("en", "I don't have that much in one go", "nlu_fallback", ActionClarify),
        ("zh", "两个方案都太多了", "report_hardship", ActionStartHardship),
        ("en", "both options are too much for me", "request_payment_plan", ActionStartHardship),
        ("zh", "都不行", "deny", ActionHandleDeny),
        ("en", "none of these", "deny", ActionHandleDeny),
        ("en", "I can't afford any of those", "ask_consequences", ActionExplainConsequences),
    ],
)
async def test_plans_that_do_not_fit_lead_to_a_hardship_review(lang, text, intent, action):
    conv = await with_offers(lang)
    started = len(conv.followups)
    conv.user(text, intent, confidence=0.6)
    await conv.run(action)
    assert "hardship_form" not in conv.followups[started:]  # the questionnaire does not start again
    assert "/request_human" in payloads(conv)
    assert conv.ledger.escalations == []  # offered, not done
    conv.user("/request_human", "request_human", confidence=1.0)
    await conv.run(ActionRequestHuman)
    assert [e["reason"] for e in conv.ledger.escalations] == ["hardship_review"]


@pytest.mark.parametrize("text", ["按季还款那个", '/inform{"choice":"quarterly"}'])
async def test_choosing_a_plan_that_is_not_available_offers_a_person(text):
    conv = await with_offers("zh")
    conv.user(text, "inform")
    await conv.run(ActionHandleInform)
    assert "/request_human" in payloads(conv)


@pytest.mark.parametrize(
    "lang, text, intent",
    [("en", "can I get a payment plan", "request_payment_plan"), ("en", "I'll pay 500 on Friday", "promise_to_pay")],
)
async def test_open_dispute_refusal_offers_a_person(lang, text, intent):
    conv = await verified(lang, D7)
    conv.user(text, intent)
    await conv.run(ActionStartHardship if intent == "request_payment_plan" else ActionPromiseToPay)
    assert "DSP-2026-0007" in conv.all_text()
    assert payloads(conv) == ["/request_human", "/deny"]


@pytest.mark.parametrize(
    "lang, text",
    [
        ("zh", "你们公司地址在哪"),
        ("en", "what's your office address?"),
        ("zh", "能给我开个结清证明吗"),
        ("en", "can I get a settlement certificate"),
        ("en", "tell me a joke"),
    ],
)
async def test_questions_without_an_answer_say_where_and_offer_a_person(lang, text):
    conv = Conversation(slots={"language": lang})
    conv.user(text, "out_of_scope", confidence=0.7)
    await conv.run(ActionHandleOutOfScope)
    assert "/request_human" in payloads(conv)
    assert conv.followups == [] and conv.ledger.calls == []


@pytest.mark.parametrize(
    "lang, text",
    [("zh", "你们公司地址在哪"), ("en", "what's your office address?"), ("en", "can I get a settlement certificate")],
)
async def test_verification_lets_a_question_without_an_answer_out_and_goes_on(lang, text):
    conv = Conversation(slots={"language": lang})
    conv.user(*FIRST[lang])
    from actions.account import ActionShowOverdueStatus

    await conv.run(ActionShowOverdueStatus)
    result = await conv.answer("verification_form", "identity_phone", text, intent="out_of_scope")
    assert result.get("requested_slot", "identity_phone") is not None  # the form goes on
    said = conv.all_text()
    assert "11" not in said and "HX" not in said  # not "I couldn't read a phone number"
    assert "/request_human" in payloads(conv)
    await conv.verify(*BORROWER[lang])
    assert conv.slots["verified"] is True


async def test_two_unreadable_identity_answers_in_a_row_offer_a_person():
    conv = Conversation(slots={"language": "zh"})
    conv.user(*FIRST["zh"])
    from actions.account import ActionShowOverdueStatus

    await conv.run(ActionShowOverdueStatus)
    await conv.answer("verification_form", "identity_phone", "呃我想想", intent="nlu_fallback")
    assert "/request_human" not in payloads(conv)
    await conv.answer("verification_form", "identity_phone", "就是那个", intent="nlu_fallback")
    assert "/request_human" in payloads(conv)
    conv.user("/request_human", "request_human", confidence=1.0)
    result = await conv.validate("verification_form", "identity_phone", "/request_human")
    assert result["requested_slot"] is None
    await conv.run(ActionSubmitVerification)
    assert [e["reason"] for e in conv.ledger.escalations] == ["fallback"]


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_two_misunderstandings_of_different_kinds_offer_a_person(lang):
    conv = Conversation(slots={"language": lang})
    conv.user("blorp", "nlu_fallback")
    await conv.run(ActionClarify)
    assert "/request_human" not in payloads(conv)
    conv.user("purple seven", "inform")
    await conv.run(ActionHandleInform)
    assert "/request_human" in payloads(conv)


async def test_stopping_verification_offers_a_person():
    conv = Conversation(slots={"language": "en"})
    conv.user(*FIRST["en"])
    from actions.account import ActionShowOverdueStatus

    await conv.run(ActionShowOverdueStatus)
    result = await conv.answer("verification_form", "identity_phone", "no, forget it", intent="deny")
    assert result["requested_slot"] is None
    await conv.run(ActionSubmitVerification)
    assert "/request_human" in payloads(conv)


@pytest.mark.parametrize(
    "lang, text", [("zh", "能找个真人帮我看看这些方案吗"), ("en", "can a real person review this")]
)
async def test_a_person_asked_for_with_plans_on_screen_reviews_the_case(lang, text):
    conv = await with_offers(lang)
    conv.user(text, "request_human", confidence=0.61)
    await conv.run(ActionRequestHuman)
    assert [e["reason"] for e in conv.ledger.escalations] == ["hardship_review"]


@pytest.mark.parametrize("lang, text", [("zh", "会影响征信吗"), ("en", "will this hurt my credit?")])
async def test_rules_that_cannot_be_fetched_offer_a_person(lang, text):
    conv = Conversation(slots={"language": lang})

    async def no_texts():
        return {"texts": []}

    conv.ledger.get_policy_texts = no_texts
    conv.user(text, "ask_consequences")
    await conv.run(ActionExplainConsequences)
    assert "/request_human" in payloads(conv)
