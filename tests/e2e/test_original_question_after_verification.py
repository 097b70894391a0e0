"""The question asked before verification is answered right after it, once, with the
ledger's figures and the policy's own words (fees), in the borrower's language."""

from __future__ import annotations

from stack_helpers.e2e_stack import DEMO, MONEY_PATTERN, money_text


def policy_text(ledger, key: str, lang: str) -> str:
    status, body = ledger.call("GET", "/policy/texts")
    assert status == 200, body
    return next(t[lang] for t in body["texts"] if t["key"] == key)


def test_fee_question_before_verification_is_answered_after_it_in_chinese(chat, ledger):
    who = DEMO["D6"]
    c = chat()
    asked = c.say("为什么我被收了违约金？罚息怎么算的")
    assert "核实" in asked and not MONEY_PATTERN.search(asked.text), asked
    answer = c.verify(who)
    status = ledger.verify(who).status(who.loan_number)
    overdue = status["overdue"]
    assert who.name in answer
    assert policy_text(ledger, "fee_rules", "zh").strip()[:40] in answer, answer
    assert money_text(overdue["penalty_interest"], "zh") in answer and money_text(overdue["late_fees"], "zh") in answer
    assert answer.text.count(policy_text(ledger, "fee_rules", "zh").strip()[:40]) == 1  # answered once

    # the next message is a new question, not the old one again
    thanks = c.say("谢谢")
    assert policy_text(ledger, "fee_rules", "zh").strip()[:40] not in thanks


def test_fee_question_before_verification_is_answered_after_it_in_english(chat, ledger):
    who = DEMO["D7"]
    c = chat()
    assert "mobile number" in c.say("why was I charged a late fee?").text
    answer = c.verify(who)
    status = ledger.verify(who).status(who.loan_number)
    overdue = status["overdue"]
    assert who.name in answer
    assert policy_text(ledger, "fee_rules", "en").strip()[:40] in answer, answer
    assert money_text(overdue["penalty_interest"], "en") in answer and money_text(overdue["late_fees"], "en") in answer
