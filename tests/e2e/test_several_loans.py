"""A borrower with two loans (D8: 分付 HX0000000008 overdue, cash loan HX0000000009 current)
over the real stack: the status covers both loans with the ledger's figures, a plan asks which
loan with one button each, and a promise for "the 分付 one" is recorded on that loan only."""

from __future__ import annotations

from datetime import date, timedelta

from stack_helpers.e2e_stack import DEMO, status_figures


def test_status_covers_both_loans_and_requests_go_to_the_loan_named_or_chosen(chat, ledger):
    who = DEMO["D8"]
    fenfu, cash = who.loans
    c = chat()
    answer = c.verify(who, "我欠多少钱")
    session = ledger.verify(who)
    profile = session.get(f"/borrowers/{session.borrower_id}")
    assert [loan["loan_number"] for loan in profile["loans"]] == [fenfu, cash]
    statuses = {number: session.status(number) for number in who.loans}
    assert statuses[fenfu]["days_past_due"] == 10 and statuses[cash]["days_past_due"] == 0
    for number, status in statuses.items():
        assert number in answer, answer
        for figure in status_figures(status, "zh"):
            assert figure in answer, (number, figure, answer)

    # a plan for no loan in particular: which one? one button per loan; the choice goes on
    asked = c.say("我想申请延期还款")
    payloads = [b["payload"] for b in asked.buttons]
    assert any(fenfu in p for p in payloads) and any(cash in p for p in payloads), asked
    form = c.say(next(p for p in payloads if cash in p))
    assert cash in form and "原因" in form, form
    c.say("/deny")  # leaves the form: nothing is recorded

    # a promise for the 分付 one: recorded on that loan, none on the other
    today = date.fromisoformat(statuses[fenfu]["as_of"])
    day = today + timedelta(days=3)
    amount = statuses[fenfu]["overdue"]["total"]
    promised = c.say(f"分付那笔我{day.month}月{day.day}号还{amount}")
    assert fenfu in promised, promised
    on_fenfu = session.get(f"/loans/{fenfu}/promises")["promises"]
    assert [(p["amount"], p["promised_date"]) for p in on_fenfu] == [(amount, day.isoformat())]
    assert session.get(f"/loans/{cash}/promises")["promises"] == []
