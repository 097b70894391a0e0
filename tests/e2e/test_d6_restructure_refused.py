"""D6 asks to extend the term: refused, told why (the broken arrangement of the last 12 months,
with its date from the ledger), offered what is still possible; nothing new in the ledger."""

from __future__ import annotations

from datetime import date

from stack_helpers.e2e_stack import DEMO


def test_d6_asks_for_a_term_extension_and_is_told_why_it_is_refused(chat, ledger):
    who = DEMO["D6"]
    api = ledger.verify(who)
    before = api.get(f"/loans/{who.loan_number}/arrangements")["arrangements"]
    assert [a["state"] for a in before] == ["broken"]
    agreed_on = before[0]["accepted_on"]

    c = chat()
    verified = c.verify(who, "我想延长还款期限，每个月压力太大了")
    assert who.name in verified and "原因" in verified, verified  # the hardship form starts after verification
    assert "暂时" in c.say("生意不好做")
    c.say("暂时的")
    c.say("6000")
    c.say("3500")
    answer = c.say("没有")

    assert "延长还款期限" in answer and "不适用" in answer, answer
    # why: the earlier (broken) arrangement within 12 months, dated as the ledger has it
    assert agreed_on in answer.text or f"{date.fromisoformat(agreed_on).month}月" in answer.text, answer
    assert "12" in answer
    offered = [b["title"] for b in answer.buttons]
    assert offered and not any("延长" in t for t in offered), offered
    assert any("减免" in t for t in offered)  # the fee waiver is not a restructure: still offered
    after = api.get(f"/loans/{who.loan_number}/arrangements")["arrangements"]
    assert [a["arrangement_id"] for a in after] == [a["arrangement_id"] for a in before]
