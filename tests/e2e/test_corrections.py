"""Records the borrower can correct, over the real stack, checked in the ledger: a dispute and a
complaint filed by mistake are withdrawn in the chat (kept on record as withdrawn), an open
promise is moved to another day, and a payment the ledger does not show opens a payment trace.

Each test leaves its borrower as other tests expect it: the dispute is withdrawn (collection
resumes), a promise is only made on D6 (no other test counts D6's promises), a trace pauses nothing.
"""

from __future__ import annotations

from stack_helpers.e2e_stack import DEMO, date_text, ledger_rows

WITHDRAW = '/deny{"choice":"withdraw"}'


def test_d4_withdraws_a_dispute_and_a_complaint_filed_by_mistake(chat, ledger, database_url):
    who = DEMO["D4"]
    api = ledger.verify(who)
    assert api.status(who.loan_number)["open_dispute"] is None

    c = chat()
    opened = c.verify(who, "this amount is wrong, I never borrowed that much")
    dispute = api.status(who.loan_number)["open_dispute"]
    assert dispute is not None and dispute["case_number"] in opened, opened
    assert WITHDRAW in [b["payload"] for b in opened.buttons], opened

    withdrawn = c.say(WITHDRAW)
    assert "withdrawn" in withdrawn.text and "resumes" in withdrawn.text, withdrawn
    assert api.status(who.loan_number)["open_dispute"] is None
    rows = ledger_rows(
        database_url, "SELECT status, withdrawn_at FROM disputes WHERE case_number = :n", n=dispute["case_number"]
    )
    assert rows and rows[0]["status"] == "withdrawn" and rows[0]["withdrawn_at"] is not None

    filed = c.say("I want to file a complaint, your collector was rude")
    complaints = ledger_rows(database_url, "SELECT id, status FROM complaints WHERE conversation_id = :c", c=c.sender)
    assert [r["status"] for r in complaints] == ["open"], filed
    cancelled = c.say("sorry, cancel that complaint, I pressed it by mistake")
    complaints = ledger_rows(database_url, "SELECT id, status FROM complaints WHERE conversation_id = :c", c=c.sender)
    assert [r["status"] for r in complaints] == ["withdrawn"], cancelled
    assert "withdrawn" in cancelled.text, cancelled


def test_d6_moves_an_open_promise_to_another_day_in_chinese(chat, ledger):
    who = DEMO["D6"]
    api = ledger.verify(who)
    c = chat()
    made = c.verify(who, "我明天还1000")
    promises = api.get(f"/loans/{who.loan_number}/promises")["promises"]
    open_before = [p for p in promises if p["state"] == "open"]
    assert len(open_before) == 1 and open_before[0]["amount"] == "1000.00", made

    moved = c.say("不对，改到后天")
    promises = api.get(f"/loans/{who.loan_number}/promises")["promises"]
    (now_open,) = [p for p in promises if p["state"] == "open"]
    assert now_open["replaces"] == open_before[0]["promise_id"], moved
    assert [p["state"] for p in promises if p["promise_id"] == open_before[0]["promise_id"]] == ["replaced"]
    assert now_open["promised_date"] > open_before[0]["promised_date"] and now_open["amount"] == "1000.00"
    assert (
        date_text(open_before[0]["promised_date"], "zh") in moved
        and date_text(now_open["promised_date"], "zh") in moved
    )


def test_d1_says_they_paid_and_a_payment_trace_is_opened(chat, ledger, database_url):
    who = DEMO["D1"]
    api = ledger.verify(who)
    payments_before = api.get(f"/loans/{who.loan_number}/payments")["payments"]
    c = chat()
    checked = c.verify(who, "我上周三已经转了1000块，有转账凭证")
    assert "没有这笔还款" in checked and "流水号" in checked, checked
    assert "罚息按" not in checked.text  # a payment claim never gets the fee rules

    opened = c.say("流水号 HB20261118000123")
    rows = ledger_rows(
        database_url,
        "SELECT case_number, amount, reference, status, reply_due_by FROM payment_traces WHERE conversation_id = :c",
        c=c.sender,
    )
    assert len(rows) == 1 and rows[0]["reference"] == "HB20261118000123" and rows[0]["status"] == "open", opened
    assert rows[0]["case_number"] in opened and "不会暂停" in opened, opened
    assert api.get(f"/loans/{who.loan_number}/payments")["payments"] == payments_before  # nothing recorded
