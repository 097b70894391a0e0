"""The language follows the borrower: their profile after verification, and change_language
mid-chat, after which figures come in the new language's format."""

from __future__ import annotations

from stack_helpers.e2e_stack import DEMO, status_figures


def test_english_borrower_switches_to_chinese_mid_chat_and_gets_figures_in_chinese(chat, ledger):
    who = DEMO["D4"]
    c = chat()
    english = c.verify(who, "what do I owe?")
    assert "days past due" in english or "nothing overdue" in english, english
    switched = c.say("请说中文")
    assert "中文" in switched, switched
    status = ledger.verify(who).status(who.loan_number)
    answer = c.say("我现在欠多少钱")
    assert who.loan_number in answer and "CNY" not in answer, answer
    expected = status_figures(status, "zh")
    assert expected and all(figure in answer for figure in expected), (expected, answer)


def test_chinese_speaker_asks_for_english_during_verification_and_stays_in_english(chat, ledger):
    who = DEMO["D1"]  # a Chinese-speaking borrower (profile language zh)
    c = chat()
    assert "核实" in c.say("我想查一下我的欠款")
    switched = c.say("can you speak English?")
    assert "mobile number" in switched.text, switched  # the same question, now in English
    assert "date of birth" in c.say(who.phone).text
    c.say(who.dob)
    answer = c.say(who.id_last4)  # the question asked in Chinese, answered in the chosen English
    status = ledger.verify(who).status(who.loan_number)
    assert "元" not in answer and "您" not in answer, answer
    expected = status_figures(status, "en")
    assert expected and all(figure in answer for figure in expected), (expected, answer)
