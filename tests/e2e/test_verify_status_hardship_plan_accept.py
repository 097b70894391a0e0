"""D1 (zh) and D4 (en): the question asked before verification is answered after it with the
ledger's figures, then hardship -> plans -> a chosen plan's summary -> explicit yes -> the
arrangement exists in the ledger with the figures the bot showed."""

from __future__ import annotations

from stack_helpers.e2e_stack import DEMO, date_text, money_text


def assert_status_figures(reply, status: dict, lang: str) -> None:
    overdue = status["overdue"]
    for key in ("total", "principal", "interest", "penalty_interest", "late_fees"):
        assert money_text(overdue[key], lang) in reply, f"overdue {key} {overdue[key]} missing in: {reply}"
    assert money_text(status["amount_to_bring_current"], lang) in reply
    assert str(status["days_past_due"]) in reply and status["bucket"] in reply
    next_due = status["next_due"]
    assert money_text(next_due["amount"], lang) in reply
    assert date_text(next_due["due_date"], lang) in reply


def test_d1_verifies_sees_status_reports_hardship_and_accepts_a_plan_in_chinese(chat, ledger):
    who = DEMO["D1"]
    c = chat()
    first = c.say("我欠多少钱？")
    assert "核实" in first and "手机号" in first, first
    assert who.name not in first and who.loan_number not in first  # nothing before verification
    assert "出生日期" in c.say(who.phone)
    assert "身份证" in c.say(who.dob)
    answer = c.say(who.id_last4)

    api = ledger.verify(who)
    status = api.status(who.loan_number)
    assert status["days_past_due"] == 15 and status["bucket"] == "M1"
    assert who.name in answer  # verified, by name
    assert who.loan_number in answer
    assert_status_figures(answer, status, "zh")  # the original question answered with the ledger's figures

    started = c.say("我最近失业了，暂时还不上")
    assert "暂时" in started and "长期" in started, started  # reason read from the message; duration asked
    assert "收入" in c.say("暂时的")
    assert "开销" in c.say("每月八千左右")
    assert "其他贷款" in c.say("3千")
    plans = c.say("没有")
    assert "每月" in plans and plans.buttons, plans
    titles = [b["title"] for b in plans.buttons]
    extension = next(t for t in titles if "延长" in t)
    number = extension.split(".")[0]

    summary = c.say(f"选第{number}个")
    assert "延长还款期限" in summary and "确认" in summary, summary
    assert not api.get(f"/loans/{who.loan_number}/arrangements")["arrangements"]  # nothing before the yes

    accepted = c.say("确认")
    arrangements = api.get(f"/loans/{who.loan_number}/arrangements")["arrangements"]
    assert len(arrangements) == 1, arrangements
    arrangement = arrangements[0]
    assert arrangement["plan_type"] == "term_extension" and arrangement["state"] == "active"
    first_payment = arrangement["schedule"][0]
    assert money_text(first_payment["amount"], "zh") in accepted, accepted
    assert date_text(first_payment["due_date"], "zh") in accepted
    assert money_text(arrangement["total_to_repay"], "zh") in summary
    assert f"共 {len(arrangement['schedule'])} 期" in summary
    # the plan list showed the same total for the plan that was accepted
    line = next(line for line in plans.text.splitlines() if line.startswith(f"{number}."))
    assert money_text(arrangement["total_to_repay"], "zh") in line, line
    assert api.status(who.loan_number)["active_arrangement"]["plan_type"] == "term_extension"


def test_d4_verifies_sees_status_reports_hardship_and_accepts_a_plan_in_english(chat, ledger):
    who = DEMO["D4"]
    c = chat()
    first = c.say("hi, how much do I owe?")
    assert "mobile number" in first.text.lower() and who.loan_number not in first
    answer = c.verify(who)

    api = ledger.verify(who)
    status = api.status(who.loan_number)
    assert status["days_past_due"] == 20
    assert who.name in answer and who.loan_number in answer
    assert_status_figures(answer, status, "en")

    started = c.say("I lost my job last month and can't pay")
    assert "temporary" in started.text.lower(), started
    assert "income" in c.say("temporary, I should find work in a few months").text.lower()
    assert "essential" in c.say("about 5k").text.lower()
    assert "other loans" in c.say("2,000").text.lower()
    plans = c.say("none")
    assert "a month" in plans and plans.buttons, plans
    choice = plans.buttons[0]
    summary = c.say(choice["payload"])  # the button, as the widget sends it
    assert "accept this plan" in summary.text.lower(), summary
    accepted = c.say("yes")

    arrangements = api.get(f"/loans/{who.loan_number}/arrangements")["arrangements"]
    assert len(arrangements) == 1, arrangements
    arrangement = arrangements[0]
    assert arrangement["plan_type"] in choice["payload"]
    assert money_text(arrangement["total_to_repay"], "en") in summary
    first_payment = arrangement["schedule"][0]
    assert money_text(first_payment["amount"], "en") in accepted, accepted
    assert date_text(first_payment["due_date"], "en") in accepted
