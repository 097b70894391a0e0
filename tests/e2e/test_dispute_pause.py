"""Disputes pause collection: D7 (open dispute on file) gets no plan and no promise, only its
case number and the offer of a person; D2 opens a dispute in Chinese and is then refused a plan
the same way."""

from __future__ import annotations

from stack_helpers.e2e_stack import DEMO, MONEY_PATTERN, date_text

PERSON_ONLY = ["/request_human", "/deny"]  # a refusal offers a person (issue 9); never a plan


def test_d7_with_an_open_dispute_gets_its_case_number_and_no_plan_or_promise(chat, ledger):
    who = DEMO["D7"]
    api = ledger.verify(who)
    dispute = api.status(who.loan_number)["open_dispute"]
    assert dispute is not None

    c = chat()
    answer = c.verify(who, "Can I set up a payment plan?")
    assert who.name in answer
    assert dispute["case_number"] in answer, answer
    assert date_text(dispute["reply_due_by"], "en") in answer
    assert "paused" in answer.text.lower()
    assert not MONEY_PATTERN.search(answer.text)  # no offer, no figures of a plan
    assert PERSON_ONLY == [b["payload"] for b in answer.buttons], answer  # no plan to choose; a person offered

    promise = c.say("I'll pay 500 next Friday")
    assert dispute["case_number"] in promise and "paused" in promise.text.lower(), promise
    waiver = c.say("can you waive the late fee?")
    assert dispute["case_number"] in waiver and PERSON_ONLY == [b["payload"] for b in waiver.buttons], waiver

    assert api.get(f"/loans/{who.loan_number}/promises")["promises"] == []
    assert api.get(f"/loans/{who.loan_number}/arrangements")["arrangements"] == []
    assert api.status(who.loan_number)["open_dispute"]["case_number"] == dispute["case_number"]


def test_d2_opens_a_dispute_in_chinese_and_collection_pauses(chat, ledger):
    who = DEMO["D2"]
    api = ledger.verify(who)
    assert api.status(who.loan_number)["open_dispute"] is None

    c = chat()
    opened = c.verify(who, "这个金额不对，我没借过这么多")
    dispute = api.status(who.loan_number)["open_dispute"]
    assert dispute is not None, opened
    assert dispute["case_number"] in opened and date_text(dispute["reply_due_by"], "zh") in opened, opened
    assert "暂停" in opened

    plan = c.say("那我能分期还吗")
    assert dispute["case_number"] in plan and "暂停" in plan, plan
    assert PERSON_ONLY == [b["payload"] for b in plan.buttons], plan  # the refusal offers a person, no plan
    promise = c.say("我下周五还500")
    assert "暂停" in promise, promise
    assert api.get(f"/loans/{who.loan_number}/promises")["promises"] == []
    assert api.get(f"/loans/{who.loan_number}/arrangements")["arrangements"] == []
