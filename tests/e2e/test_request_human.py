"""request_human creates an escalation in the ledger for this conversation, linked to the
verified borrower, with a summary that holds no identity answers; the bot gives its short case
number (ESC-<year>-<six digits>), never the record's id."""

from __future__ import annotations

from stack_helpers.e2e_stack import DEMO, ledger_rows

ESCALATIONS = (
    "SELECT id, case_number, conversation_id, borrower_id, reason, summary, language, status "
    "FROM escalations WHERE conversation_id = :c"
)


def test_verified_borrower_asking_for_a_person_gets_an_escalation_in_chinese(chat, ledger, database_url):
    who = DEMO["D2"]
    api = ledger.verify(who)
    c = chat()
    c.verify(who, "我逾期多久了")
    answer = c.say("我要转人工")
    rows = ledger_rows(database_url, ESCALATIONS, c=c.sender)
    assert len(rows) == 1, (rows, answer)
    escalation = rows[0]
    assert escalation["case_number"] in answer, answer  # the reference the borrower is given
    assert escalation["id"] not in answer and escalation["case_number"].startswith("ESC-"), answer
    assert escalation["reason"] == "request_human" and escalation["status"] == "open"
    assert escalation["borrower_id"] == api.borrower_id and escalation["language"] == "zh"
    assert who.loan_number in escalation["summary"]
    for secret in (who.phone, who.dob, who.id_last4):
        assert secret not in escalation["summary"], escalation["summary"]


def test_unverified_visitor_asking_for_a_person_in_english_gets_an_unlinked_escalation(chat, database_url):
    c = chat()
    answer = c.say("can I talk to a real person please")
    rows = ledger_rows(database_url, ESCALATIONS, c=c.sender)
    assert len(rows) == 1, (rows, answer)
    assert rows[0]["case_number"] in answer and rows[0]["id"] not in answer and "person" in answer.text, answer
    assert rows[0]["borrower_id"] is None and rows[0]["language"] == "en"
