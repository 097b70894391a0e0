"""Numbers, dates, forms that listen and the language rule over the real stack, outcomes checked
in the ledger: several figures in one message reach the hardship case as the rule reads them
(ranges, averages, parts added up); a plain "算了" leaves the form with nothing recorded and a
person offered; a refused promise date is answered with the latest allowed date; "下周五" is the
Friday of next week; the reply follows the language the borrower writes after verification."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from stack_helpers.e2e_stack import DEMO, date_text, ledger_rows

CASES = (
    "SELECT h.monthly_income, h.essential_expenses, h.other_debt_payments, h.reason, h.duration "
    "FROM hardship_cases h JOIN loans l ON l.id = h.loan_id WHERE l.loan_number = :n ORDER BY h.created_at"
)
PROMISES = (
    "SELECT p.amount, p.promised_date FROM promises p JOIN loans l ON l.id = p.loan_id "
    "WHERE l.loan_number = :n ORDER BY p.created_at"
)


def today() -> datetime:
    return datetime.now(ZoneInfo("Asia/Shanghai"))


def money(value) -> Decimal:
    return Decimal(str(value)).quantize(Decimal("0.01"))


def test_chinese_figures_in_one_message_reach_the_hardship_case(chat, database_url):
    who = DEMO["D6"]
    c = chat()
    c.verify(who, "我欠多少钱")
    before = len(ledger_rows(database_url, CASES, n=who.loan_number))
    assert "暂时" in c.say("生意不好做，还不上了")
    c.say("暂时的")
    answer = c.say("收入旺季八千淡季三四千，一般六千上下，房租两千吃饭一千，信用卡每月还五百")
    cases = ledger_rows(database_url, CASES, n=who.loan_number)
    assert len(cases) == before + 1, (answer, c.dump())  # nothing else was asked: the case is recorded
    case = cases[-1]
    assert case["reason"] == "business_failure" and case["duration"] == "temporary"
    figures = (case["monthly_income"], case["essential_expenses"], case["other_debt_payments"])
    assert tuple(money(v) for v in figures) == (money(6000), money(3000), money(500)), case
    corrected = c.say("说错了，收入一般是五千")  # after the assessment: assessed again with the new figure
    cases = ledger_rows(database_url, CASES, n=who.loan_number)
    assert len(cases) == before + 2, (corrected, c.dump())
    assert money(cases[-1]["monthly_income"]) == money(5000) and money(cases[-1]["essential_expenses"]) == money(3000)


def test_english_figures_in_the_opening_message_are_not_asked_again(chat, database_url):
    who = DEMO["D4"]
    c = chat()
    c.verify(who, "hi, what do I owe?")
    before = len(ledger_rows(database_url, CASES, n=who.loan_number))
    started = c.say("I lost my job, I only make about 2-3k now from odd jobs and rent is 1200")
    assert "temporary" in started.text.lower(), started  # the reason and two figures read: duration asked
    asked = c.say("temporary")
    assert "other loans" in asked.text.lower() or "credit card" in asked.text.lower(), asked
    c.say("none")
    case = ledger_rows(database_url, CASES, n=who.loan_number)[before]
    assert case["reason"] == "job_loss"
    figures = (case["monthly_income"], case["essential_expenses"], case["other_debt_payments"])
    assert tuple(money(v) for v in figures) == (money(2000), money(1200), money(0)), case


def test_never_mind_leaves_the_form_records_nothing_and_offers_a_person(chat, database_url):
    who = DEMO["D1"]
    c = chat()
    c.verify(who, "我欠多少钱")
    before = len(ledger_rows(database_url, CASES, n=who.loan_number))
    c.say("我想申请个还款计划")
    c.say("家里出了点事")
    left = c.say("算了，不弄了")
    assert any(b["payload"] == "/request_human" for b in left.buttons), left
    assert len(ledger_rows(database_url, CASES, n=who.loan_number)) == before
    assert "收入" not in left.text  # the questionnaire does not go on


def test_a_side_question_during_verification_is_answered_and_verification_goes_on(chat):
    who = DEMO["D5"]
    c = chat()
    assert "手机号" in c.say("我这个月要还多少")
    side = c.say("不还的话会影响征信吗")
    assert "征信" in side and who.name not in side and who.loan_number not in side, side
    assert "手机号" in side  # the form's question asked again
    c.say(who.phone)
    c.say(who.dob)
    answer = c.say(who.id_last4)
    assert who.name in answer and who.loan_number in answer, answer


def test_a_refused_promise_date_names_the_latest_date_and_next_friday_is_next_weeks(chat, ledger, database_url):
    who = DEMO["D5"]  # current: promises may be dated up to 14 days ahead
    c = chat()
    c.verify(who, "我这个月要还多少")
    now = today().date()
    far = now + timedelta(days=40)
    refused = c.say(f"我{far.month}月{far.day}号还500")
    assert date_text((now + timedelta(days=14)).isoformat(), "zh") in refused, refused
    assert ledger_rows(database_url, PROMISES, n=who.loan_number) == []
    recorded = c.say("那就下周五")  # the amount given is not asked again
    next_friday = now - timedelta(days=now.weekday()) + timedelta(days=11)
    rows = ledger_rows(database_url, PROMISES, n=who.loan_number)
    assert [(money(r["amount"]), str(r["promised_date"])[:10]) for r in rows] == [
        (money(500), next_friday.isoformat())
    ], (recorded, c.dump())
    assert date_text(next_friday.isoformat(), "zh") in recorded


def test_the_reply_follows_the_language_written_not_the_profile(chat, ledger):
    who = DEMO["D7"]  # profile language en
    c = chat()
    answer = c.verify(who, "我欠多少钱？")
    assert "元" in answer and "CNY" not in answer, answer
    later = c.say("我可以分期吗")
    assert "CNY" not in later and any("\u4e00" <= ch <= "\u9fff" for ch in later.text), later
    switched = c.say("English please")
    assert "English" in switched.text or "english" in switched.text.lower(), switched
    pinned = c.say("我欠多少钱")
    assert "CNY" in pinned and "元" not in pinned, pinned
