"""actions/readings.py: what a message says besides its intent (pure), both languages."""

from __future__ import annotations

import pytest

from actions import readings


@pytest.mark.parametrize(
    "act, text",
    [
        ("handoff", "不要转人工"),
        ("handoff", "不用給我轉人工"),
        ("handoff", "no, I don't want a person"),
        ("handoff", "no need for an agent"),
        ("handoff", "I don't need to talk to a human"),
        ("complaint", "我不是要投诉，就问问"),
        ("complaint", "I'm not going to complain, just asking"),
        ("dispute", "我没有异议，就是想分期"),
        ("dispute", "I'm not disputing it"),
    ],
)
def test_the_act_refused_in_the_same_breath(act, text):
    assert readings.negates_act(act, text)


@pytest.mark.parametrize(
    "act, text",
    [
        ("handoff", "转人工"),
        ("handoff", "我不想跟机器人说，给我找个人"),
        ("handoff", "I don't want a bot, get me a person"),
        ("complaint", "我要投诉"),
        ("dispute", "这笔钱不是我借的"),
        ("dispute", "别人冒用我的身份借的"),
    ],
)
def test_the_act_asked_for_is_not_read_as_refused(act, text):
    assert not readings.negates_act(act, text)
    assert readings.names_act(act, text)


@pytest.mark.parametrize(
    "text", ["好的，我等你们消息", "行，那我等通知", "OK, I'll wait for your news", "I'll wait to hear back"]
)
def test_waiting_for_news(text):
    assert readings.says_waiting(text)


@pytest.mark.parametrize(
    "text", ["never mind, none of them", "算了，都不用", "Nevermind", "哪个都不用", "forget it", "none of the above"]
)
def test_none_of_them(text):
    assert readings.says_none(text)


@pytest.mark.parametrize("text", ["别再发短信了", "stop calling me", "不用了，发短信吧", "not now"])
def test_a_request_is_not_none_of_them(text):
    assert not readings.says_none(text)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("会影响征信吗", True),
        ("will this hurt my credit score?", True),
        ("不还会怎么样", True),
        ("what happens if I don't pay", True),
        ("will my dispute stop the credit report?", True),
        ("what happens with my dispute", False),
        ("我的异议怎么样了", False),
        ("why is it overdue, I have auto-debit", False),
        ("who will call me", False),
        ("那之后谁会给我打电话", False),
        ("你们公司地址在哪", False),
    ],
)
def test_a_question_about_consequences(text, expected):
    assert readings.asks_about_consequences(text) is expected


@pytest.mark.parametrize(
    "text",
    [
        "我一次拿不出那么多",
        "兩個方案都太多了",
        "I don't have that much in one go",
        "both options are too much",
        "I can't afford it",
    ],
)
def test_plans_that_do_not_fit(text):
    assert readings.says_cannot_afford(text)


@pytest.mark.parametrize(
    "text",
    [
        "你们公司地址在哪",
        "能开结清证明吗",
        "what's your office address?",
        "can I get a settlement certificate",
        "who will call me",
    ],
)
def test_questions_with_no_answer_here(text):
    assert readings.asks_what_has_no_answer(text) and readings.is_question(text)


@pytest.mark.parametrize("text", [None, "", "   ", "/affirm", "\u3000", "x" * 5000])
def test_readings_never_raise(text):
    for act in ("dispute", "complaint", "stop_contact", "handoff", "unknown"):
        readings.names_act(act, text)
        readings.negates_act(act, text)
    readings.says_waiting(text)
    readings.says_none(text)
    readings.is_question(text)
    readings.asks_about_consequences(text)
    readings.mentions_dispute(text)
    readings.says_cannot_afford(text)
    readings.asks_what_has_no_answer(text)
