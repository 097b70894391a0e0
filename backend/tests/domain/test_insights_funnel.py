"""The funnel from facts rows (pure: ledger/domain/funnel.py): how many conversations reach each
step, how many stop there, and what the bot said last to those who stopped."""

from __future__ import annotations

from datetime import UTC, date, datetime

from ledger.domain.funnel import DEFINITIONS, STEPS, funnel, funnel_of_selection
from ledger.domain.insights import Filters


def row(step: str, *, day: int = 2, language: str = "zh", channel: str = "web", **facts):
    base = {
        "started_at": datetime(2026, 11, day, 9, tzinfo=UTC),
        "languages": [language],
        "channel": channel,
        "furthest_step": step,
        "outcomes": [],
        "escalated": False,
        "last_bot_text_key": None,
    }
    return {**base, **facts}


ROWS = [
    row("started", last_bot_text_key="ask_identity"),
    row("started", last_bot_text_key="ask_identity"),
    row("started", last_bot_text_key="greet", escalated=True),
    row("verified", last_bot_text_key="verify_ok"),
    row("status_explained", last_bot_text_key="status_overdue", language="en"),
    row("offers_shown", last_bot_text_key="offers", channel="wechat"),
    row("committed", outcomes=["arrangement"], last_bot_text_key="plan_accepted"),
    row("committed", outcomes=["promise"], last_bot_text_key="promise_ok", language="en"),
    row("committed", day=25),  # outside the period
]
NOV = Filters(date(2026, 11, 1), date(2026, 11, 10), group="all")


def by_step(steps):
    return {s["step"]: s for s in steps}


def test_each_step_counts_the_conversations_that_reached_it():
    total = by_step(funnel(ROWS, NOV)["total"]["steps"])
    assert [s for s in STEPS] == list(total)
    assert [total[s]["reached"] for s in STEPS] == [8, 5, 4, 3, 3, 2]
    assert total["verified"]["share_of_started"] == round(5 / 8, 4)
    assert total["committed"]["share_of_started"] == 0.25


def test_drop_off_is_who_stopped_at_a_step_with_what_the_bot_said_last():
    total = by_step(funnel(ROWS, NOV)["total"]["steps"])
    started = total["started"]
    assert started["stopped"] == 3 and started["drop_off"] == round(3 / 8, 4)
    assert started["stopped_escalated"] == 1
    assert started["last_bot_before_stop"] == [
        {"text_key": "ask_identity", "language": "zh", "text": None, "conversations": 2},
        {"text_key": "greet", "language": "zh", "text": None, "conversations": 1},
    ]
    assert total["hardship_collected"]["stopped"] == 0 and total["hardship_collected"]["drop_off"] == 0.0
    # the last step is where the funnel ends: nobody drops off it
    assert total["committed"]["stopped"] is None and total["committed"]["drop_off"] is None


def test_the_last_step_is_split_into_plan_accepted_and_promise():
    result = funnel(ROWS, NOV)["total"]
    assert result["committed_as"] == {"plan_accepted": 1, "promise": 1}


def test_groups_by_language_and_channel():
    groups = funnel(ROWS, NOV)["groups"]
    keys = [(g["language"], g["channel"], g["steps"][0]["reached"]) for g in groups]
    assert keys == [("en", "web", 2), ("zh", "web", 5), ("zh", "wechat", 1)]
    en = by_step(groups[0]["steps"])
    assert en["status_explained"]["reached"] == 2 and en["committed"]["reached"] == 1


def test_filters_apply():
    only_en = funnel(ROWS, Filters(date(2026, 11, 1), date(2026, 11, 30), language="en"))
    assert only_en["total"]["steps"][0]["reached"] == 2
    wechat = funnel(ROWS, Filters(date(2026, 11, 1), date(2026, 11, 30), channel="wechat"))
    assert wechat["total"]["steps"][0]["reached"] == 1


def test_an_empty_selection_has_no_rates():
    steps = funnel([], NOV)["total"]["steps"]
    assert all(s["reached"] == 0 and s["share_of_started"] is None for s in steps)
    assert steps[0]["drop_off"] is None


def test_every_step_is_defined_in_both_languages():
    for step in STEPS:
        assert DEFINITIONS[step]["en"] and DEFINITIONS[step]["zh"]
    assert DEFINITIONS["drop_off"]["en"]


def test_rows_that_stand_for_several_conversations_count_as_many():
    """The database may group identical conversations (`conversations`: how many): the funnel
    comes out as from the rows one by one."""
    grouped = [
        {**row("started", last_bot_text_key="ask_identity"), "conversations": 2},
        {**row("committed", outcomes=["arrangement"]), "conversations": 3},
        row("verified"),
    ]
    one_by_one = [grouped[0]] * 2 + [grouped[1]] * 3 + [grouped[2]]
    one_by_one = [{k: v for k, v in r.items() if k != "conversations"} for r in one_by_one]
    assert funnel_of_selection(grouped) == funnel_of_selection(one_by_one)
    total = by_step(funnel_of_selection(grouped)["total"]["steps"])
    assert total["started"]["reached"] == 6 and total["started"]["last_bot_before_stop"][0]["conversations"] == 2
    assert funnel_of_selection(grouped)["total"]["committed_as"]["plan_accepted"] == 3


def test_the_last_bot_text_is_shown_in_the_borrowers_language():
    """Given the bot's texts, each last text before a stop is counted per key and language and
    shown as the bot said it; an unknown key or no text at all stays without a text."""
    texts = {"status_overdue": {"zh": "您的借款 {loan_number} 目前逾期", "en": "Your loan {loan_number} is past due"},
             "utter_greet": {"zh": "您好", "en": "Hello"}}  # fmt: skip
    rows = [
        row("verified", last_bot_text_key="status_overdue", language="en"),
        row("verified", last_bot_text_key="status_overdue", language="en"),
        row("verified", last_bot_text_key="status_overdue"),
        row("verified", last_bot_text_key="gone_key"),
        row("verified"),
        {**row("verified", last_bot_text_key="utter_greet"), "languages": []},
    ]
    total = by_step(funnel(rows, NOV, texts)["total"]["steps"])
    assert total["verified"]["last_bot_before_stop"] == [
        {"text_key": "status_overdue", "language": "en", "text": "Your loan {loan_number} is past due",
         "conversations": 2},
        {"text_key": "-", "language": "zh", "text": None, "conversations": 1},
        {"text_key": "gone_key", "language": "zh", "text": None, "conversations": 1},
        {"text_key": "status_overdue", "language": "zh", "text": "您的借款 {loan_number} 目前逾期", "conversations": 1},
        {"text_key": "utter_greet", "language": "-", "text": "您好", "conversations": 1},  # no language: the default
    ]  # fmt: skip
    en = [g for g in funnel(rows, NOV, texts)["groups"] if g["language"] == "en"][0]
    assert by_step(en["steps"])["verified"]["last_bot_before_stop"][0]["text"] == "Your loan {loan_number} is past due"


def test_the_ledgers_copy_of_the_bot_texts_has_both_languages():
    from ledger.bot_texts import bot_texts

    texts = bot_texts()
    for key in ("status_overdue", "verify_intro", "escalated", "utter_greet", "utter_goodbye"):
        assert set(texts[key]) == {"zh", "en"} and all(texts[key].values()), key
