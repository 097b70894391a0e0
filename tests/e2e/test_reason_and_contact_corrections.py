"""Over the real stack, outcomes checked in the ledger: a hardship reason corrected inside the
form ("不是失业，是生病了") or after the plans ("actually it's not job loss, I'm ill") is the reason
of the case recorded; "only contact me by email" / "只用邮件联系我" opts out of every other channel
and keeps email (stop-all stays off), at once or after the one-tap confirmation when the
message is read with less confidence. Each test leaves its borrower's contact preferences as it
found them."""

from __future__ import annotations

from stack_helpers.e2e_stack import DEMO, ledger_rows

CASES = (
    "SELECT h.reason, h.monthly_income FROM hardship_cases h JOIN loans l ON l.id = h.loan_id "
    "WHERE l.loan_number = :n ORDER BY h.created_at"
)
ALL_BUT_EMAIL = ["app", "phone", "sms", "web", "wechat"]


def set_preferences(api, preferences: dict) -> None:
    status, body = api.ledger.call(
        "PUT",
        f"/borrowers/{api.borrower_id}/contact-preferences",
        preferences,
        headers={"X-Verification-Token": api.token, "X-Conversation-Id": api.conversation_id},
    )
    assert status == 200, body


def test_d1_corrects_the_hardship_reason_inside_the_form_in_chinese(chat, database_url):
    who = DEMO["D1"]
    c = chat()
    c.verify(who, "我欠多少钱")
    before = len(ledger_rows(database_url, CASES, n=who.loan_number))
    c.say("我失业了还不上")
    corrected = c.say("不是失业，是生病了")
    assert "生病" in corrected.text, (corrected, c.dump())
    c.say("暂时的")
    c.say("收入五千，房租两千，没有其他贷款")
    cases = ledger_rows(database_url, CASES, n=who.loan_number)
    assert len(cases) == before + 1, c.dump()
    assert cases[-1]["reason"] == "illness", (cases[-1], c.dump())


def test_d4_corrects_the_hardship_reason_after_the_plans_in_english(chat, database_url):
    who = DEMO["D4"]
    c = chat()
    c.verify(who, "hi, what do I owe?")
    before = len(ledger_rows(database_url, CASES, n=who.loan_number))
    c.say("I lost my job and can't pay")
    c.say("temporary")
    c.say("I earn 5000, rent and food are 2000, no other loans")
    cases = ledger_rows(database_url, CASES, n=who.loan_number)
    assert len(cases) == before + 1 and cases[-1]["reason"] == "job_loss", c.dump()
    corrected = c.say("actually it's not job loss, I'm ill")
    assert "illness" in corrected.text, (corrected, c.dump())
    cases = ledger_rows(database_url, CASES, n=who.loan_number)
    assert len(cases) == before + 2, c.dump()
    assert cases[-1]["reason"] == "illness" and cases[-1]["monthly_income"] == cases[-2]["monthly_income"]


def test_d2_only_email_in_english_and_chinese_opts_out_of_every_other_channel(chat, ledger):
    who = DEMO["D2"]
    api = ledger.verify(who)
    before = api.get(f"/borrowers/{api.borrower_id}")["contact_preferences"]
    try:
        for first, opening in (("only contact me by email", "how much do I owe"), ("只用邮件联系我", "我欠多少钱")):
            set_preferences(api, {"stop_all": False, "opted_out_channels": []})
            c = chat()
            c.verify(who, opening)
            answer = c.say(first)
            if "/affirm" in [b["payload"] for b in answer.buttons]:
                # read with less confidence: the one-tap confirmation says the same, nothing stored yet
                assert api.get(f"/borrowers/{api.borrower_id}")["contact_preferences"]["opted_out_channels"] == []
                answer = c.say("/affirm")
            after = api.get(f"/borrowers/{api.borrower_id}")["contact_preferences"]
            assert after == {"stop_all": False, "opted_out_channels": ALL_BUT_EMAIL}, (after, c.dump())
            assert ("email" if first.isascii() else "邮件") in answer.text, answer
    finally:
        set_preferences(api, {"stop_all": before["stop_all"], "opted_out_channels": before["opted_out_channels"]})
