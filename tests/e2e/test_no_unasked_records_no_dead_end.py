"""No record nobody asked for, no dead end (issue 9, kinds 2 to 4), over the real stack and the
real NLU model, in both languages. Outcomes are checked in the ledger (disputes, complaints,
escalations, contact preferences), and a person offered is checked by the buttons.

D1 and D4 are used before test_verify_status_hardship_plan_accept accepts their plans: nothing
here opens a dispute for them or accepts a plan. D2's and D4's contact preferences are reset
first (test_stop_contact resets them again).
"""

from __future__ import annotations

from stack_helpers.e2e_stack import DEMO, ledger_rows

ESCALATIONS = "SELECT reason FROM escalations WHERE conversation_id = :c"
COMPLAINTS = "SELECT id FROM complaints WHERE conversation_id = :c"
PERSON = "/request_human"


def payloads(reply) -> list[str]:
    return [b["payload"] for b in reply.buttons]


def reset_preferences(api) -> None:
    status, body = api.ledger.call(
        "PUT",
        f"/borrowers/{api.borrower_id}/contact-preferences",
        {"stop_all": False, "opted_out_channels": []},
        headers={"X-Verification-Token": api.token, "X-Conversation-Id": api.conversation_id},
    )
    assert status == 200, body


def preferences(api) -> dict:
    return api.get(f"/borrowers/{api.borrower_id}")["contact_preferences"]


def plans_on_screen(c, who) -> object:
    """Verifies `who` and answers the hardship questions until the plans are shown."""
    if who.language == "zh":
        c.verify(who, "我欠多少钱")
        c.say("我最近失业了，暂时还不上")
        for answer in ("暂时的", "每月八千左右", "3千"):
            c.say(answer)
        plans = c.say("没有")
    else:
        c.verify(who, "how much do I owe?")
        c.say("I lost my job last month and can't pay")
        for answer in ("temporary, a few months", "about 5k", "2,000"):
            c.say(answer)
        plans = c.say("none")
    assert plans.buttons, c.dump()
    return plans


def test_naming_a_plan_on_screen_chooses_it_and_records_nothing_else_zh(chat, ledger, database_url):
    who = DEMO["D1"]
    api = ledger.verify(who)
    c = chat()
    plans = plans_on_screen(c, who)
    name = plans.buttons[-1]["title"].split(".", 1)[1].strip()
    summary = c.say(f"就要{name}那个吧")
    assert payloads(summary) == ["/affirm", "/deny"], c.dump()  # the chosen plan waits for its yes
    assert api.status(who.loan_number)["open_dispute"] is None
    assert ledger_rows(database_url, COMPLAINTS, c=c.sender) == []
    assert api.get(f"/loans/{who.loan_number}/arrangements")["arrangements"] == []

    declined = c.say("不要")  # no to the plan: the other plans and a person, never a dead end
    assert PERSON in payloads(declined), c.dump()
    review = c.say("两个方案都太多了，我还不起")
    assert PERSON in payloads(review), c.dump()
    c.say(PERSON)
    assert [r["reason"] for r in ledger_rows(database_url, ESCALATIONS, c=c.sender)] == ["hardship_review"]
    assert api.get(f"/loans/{who.loan_number}/arrangements")["arrangements"] == []


def test_plans_too_much_lead_to_a_hardship_review_en(chat, ledger, database_url):
    who = DEMO["D4"]
    ledger.verify(who)
    c = chat()
    plans_on_screen(c, who)
    review = c.say("I don't have that much, it's all too expensive for me")
    assert PERSON in payloads(review), c.dump()
    assert ledger_rows(database_url, ESCALATIONS, c=c.sender) == []  # offered, not done
    c.say(PERSON)
    assert [r["reason"] for r in ledger_rows(database_url, ESCALATIONS, c=c.sender)] == ["hardship_review"]


def test_waiting_and_refusing_a_person_record_nothing(chat, ledger, database_url):
    for who, first, lines in (
        (DEMO["D1"], "我欠多少钱", ("好的，那我等你们的消息", "不用转人工，谢谢", "不要转人工")),
        (DEMO["D4"], "how much do I owe?", ("OK, I'll wait to hear from you", "no, I don't want a person")),
    ):
        c = chat()
        c.verify(who, first)
        for line in lines:
            reply = c.say(line)
            assert not any("handoff" in (m.get("custom") or {}) for m in reply.messages), c.dump()
        assert ledger_rows(database_url, ESCALATIONS, c=c.sender) == [], c.dump()
        assert ledger_rows(database_url, COMPLAINTS, c=c.sender) == [], c.dump()
        assert ledger.verify(who).status(who.loan_number)["open_dispute"] is None


def test_a_question_about_disputing_is_confirmed_and_a_no_opens_nothing(chat, ledger):
    for who, first, question, no in (
        (DEMO["D1"], "我欠多少钱", "如果金额不对，我要怎么申诉？", "不用了"),
        (DEMO["D4"], "how much do I owe?", "can I dispute the fee if it's wrong?", "no"),
    ):
        api = ledger.verify(who)
        c = chat()
        c.verify(who, first)
        asked = c.say(question)
        assert api.status(who.loan_number)["open_dispute"] is None, c.dump()
        if "/affirm" in payloads(asked):  # confirmed first: the loan is named, nothing recorded yet
            assert who.loan_number in asked, c.dump()
            c.say(no)
        assert api.status(who.loan_number)["open_dispute"] is None, c.dump()


def test_contact_changes_store_exactly_what_was_asked(chat, ledger):
    cases = (
        (DEMO["D2"], "我逾期多久了", "别打电话了，发短信就行", {"stop_all": False, "opted_out_channels": ["phone"]}),
        (
            DEMO["D4"],
            "how much do I owe?",
            "don't call me, text me instead",
            {"stop_all": False, "opted_out_channels": ["phone"]},
        ),
        (DEMO["D4"], "how much do I owe?", "no calls, no texts, nothing", {"stop_all": True, "opted_out_channels": []}),
    )
    for who, first, request, stored in cases:
        api = ledger.verify(who)
        reset_preferences(api)
        c = chat()
        c.verify(who, first)
        answer = c.say(request)
        if "/affirm" in payloads(answer):  # not clear enough: confirmed first, nothing stored yet
            assert preferences(api) == {"stop_all": False, "opted_out_channels": []}
            answer = c.say("/affirm")
        assert preferences(api) == stored, c.dump()
        kept = {"zh": "短信", "en": "SMS"}[who.language]
        if not stored["stop_all"]:
            assert kept in answer, c.dump()  # says what is kept, not only what stopped
        reset_preferences(api)


def test_none_of_them_leaves_the_contact_question(chat, ledger):
    who = DEMO["D4"]
    api = ledger.verify(who)
    reset_preferences(api)
    c = chat()
    asked = c.verify(who, "please stop bothering me")
    assert any("choice" in p for p in payloads(asked)), c.dump()
    left = c.say("never mind, none of them")
    assert not any("choice" in p for p in payloads(left)), c.dump()  # not asked again
    assert preferences(api) == {"stop_all": False, "opted_out_channels": []}


def test_questions_without_an_answer_before_and_during_verification(chat, ledger, database_url):
    for who, where, first, certificate in (
        (DEMO["D5"], "你们公司地址在哪", "我欠多少钱", "能开结清证明吗"),
        (DEMO["D5"], "what's your office address?", "how much do I owe?", "can I get a settlement certificate"),
    ):
        c = chat()
        answer = c.say(where)
        assert PERSON in payloads(answer), c.dump()  # where the answer can be had, and a person
        assert who.loan_number not in answer
        c.say(first)
        during = c.say(certificate)  # inside the verification form: answered, then the form goes on
        assert PERSON in payloads(during), c.dump()
        c.say(who.phone)
        c.say(who.dob)
        verified = c.say(who.id_last4)
        assert who.name in verified, c.dump()
        assert ledger_rows(database_url, ESCALATIONS, c=c.sender) == []
