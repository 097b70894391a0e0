"""Issue 9, offers: over the real stack, plans are shown on one basis (the ledger's comparison
with today's schedule), a plan is chosen by name or number whatever the NLU reads in the
message, the broken-arrangement rule is said before the explicit yes, and a borrower who
forgot gets the quick way to pay. Outcomes are checked in the ledger, not in the wording.

Borrowers: D3 (accepts a reduced rate; test_verification_lockout locks D3 later in the run),
D4 (chooses and declines only: test_verify_status_hardship_plan_accept accepts later), D6
(forgot: nothing changes)."""

from __future__ import annotations

import json

from stack_helpers.e2e_stack import DEMO, date_text, ledger_rows, money_text

LATEST_EVALUATION = (
    "SELECT e.payload FROM evaluations e JOIN loans l ON l.id = e.loan_id "
    "WHERE l.loan_number = :n ORDER BY e.created_at DESC LIMIT 1"
)
RECORDS_OF_CONVERSATION = {
    "complaints": "SELECT id FROM complaints WHERE conversation_id = :c",
    "escalations": "SELECT id FROM escalations WHERE conversation_id = :c",
}
HARDSHIP_CASES = "SELECT h.id FROM hardship_cases h JOIN loans l ON l.id = h.loan_id WHERE l.loan_number = :n"


def latest_evaluation(database_url: str, loan_number: str) -> dict:
    (row,) = ledger_rows(database_url, LATEST_EVALUATION, n=loan_number)
    payload = row["payload"]
    return json.loads(payload) if isinstance(payload, str) else payload


def nothing_recorded(database_url: str, sender: str) -> None:
    for table, sql in RECORDS_OF_CONVERSATION.items():
        assert ledger_rows(database_url, sql, c=sender) == [], f"a {table} row was recorded"


def test_d3_plans_on_one_basis_a_named_plan_the_rule_then_the_yes_in_chinese(chat, ledger, database_url):
    who = DEMO["D3"]
    api = ledger.verify(who)
    c = chat()
    c.verify(who, "我欠多少钱")
    started = c.say("我生病住院了，一直没法工作，还不上了")
    if "原因" in started:  # the reason was not read from the message: asked
        started = c.say("生病了")
    assert "长期" in started, started
    c.say("长期的")
    c.say("两万")
    c.say("五千")
    plans = c.say("没有")

    evaluation = latest_evaluation(database_url, who.loan_number)
    current = evaluation["current_schedule"]
    assert money_text(current["payment_amount"], "zh") in plans and money_text(current["total_to_repay"], "zh") in plans
    offered = [p for p in evaluation["plans"] if p["offer"]]
    assert {p["plan_type"] for p in offered} >= {"reduced_rate", "settlement"}, offered
    lines = plans.text.splitlines()
    for n, plan in enumerate(offered, start=1):
        comparison = plan["offer"]["comparison"]
        line = next(x for x in lines if x.startswith(f"{n}. "))
        for figure in (comparison["payment_amount"], comparison["total_to_repay"]):
            assert money_text(figure, "zh") in line, (figure, line)
        assert date_text(comparison["first_payment_date"], "zh") in line, line
        assert "比现在" in line, line
    assert [b["payload"] for b in plans.buttons] == [f'/inform{{"choice":"{p["plan_type"]}"}}' for p in offered]
    cards = next(m["custom"]["plans"] for m in plans.messages if (m.get("custom") or {}).get("plans"))
    assert [card["plan_type"] for card in cards] == [p["plan_type"] for p in offered]

    summary = c.say("降息那个")
    terms = next(t for t in api.get("/policy/texts")["texts"] if t["key"] == "arrangement_terms")["zh"]
    assert "该计划即失效" in terms
    assert summary.text.index("该计划即失效") < summary.text.index("确认接受"), summary
    assert not api.get(f"/loans/{who.loan_number}/arrangements")["arrangements"]  # nothing before the yes

    c.say("好的")
    (arrangement,) = api.get(f"/loans/{who.loan_number}/arrangements")["arrangements"]
    assert arrangement["plan_type"] == "reduced_rate"
    rr = next(p["offer"]["comparison"] for p in offered if p["plan_type"] == "reduced_rate")
    assert arrangement["schedule"][0]["amount"] == rr["payment_amount"]  # the headline is the first payment
    assert arrangement["total_to_repay"] == rr["total_to_repay"]
    assert money_text(rr["total_to_repay"], "zh") in summary
    nothing_recorded(database_url, c.sender)


def test_d4_plans_chosen_by_number_in_english_record_nothing(chat, ledger, database_url):
    who = DEMO["D4"]
    api = ledger.verify(who)
    c = chat()
    c.verify(who, "how much do I owe?")
    c.say("I lost my job and can't pay this month")
    c.say("temporary")
    c.say("5000")
    c.say("2000")
    plans = c.say("none")
    titles = [b["title"] for b in plans.buttons]
    assert len(titles) >= 2, plans
    assert "Your current schedule" in plans and "vs today" in plans, plans

    second = c.say("the 2nd one")
    assert titles[1].split(". ", 1)[1] in second and "Do you want to accept this plan?" in second, second
    assert "the plan ends and the loan goes back to the original contract" in second
    c.say("no")
    last = c.say("the last one")
    assert titles[-1].split(". ", 1)[1] in last and "Do you want to accept this plan?" in last, last
    c.say("no, thanks")

    assert api.get(f"/loans/{who.loan_number}/arrangements")["arrangements"] == []
    assert api.status(who.loan_number)["open_dispute"] is None
    nothing_recorded(database_url, c.sender)


def test_d6_who_forgot_gets_the_quick_way_to_pay_and_no_questionnaire(chat, ledger, database_url):
    who = DEMO["D6"]
    api = ledger.verify(who)
    c = chat()
    c.verify(who, "我欠多少钱")
    cases_before = ledger_rows(database_url, HARDSHIP_CASES, n=who.loan_number)  # test_d6_* made some
    answer = c.say("不好意思，我忘了还了，怎么还？")
    status = api.status(who.loan_number)
    assert money_text(status["amount_to_bring_current"], "zh") in answer, answer
    assert who.loan_number in answer  # how to pay: the reference to quote
    assert ledger_rows(database_url, HARDSHIP_CASES, n=who.loan_number) == cases_before  # no questionnaire
    nothing_recorded(database_url, c.sender)
