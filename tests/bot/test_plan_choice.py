"""Naming or numbering an offered plan (parsing.parse_plan_reference / parse_plan_choice), in
both languages, Traditional characters and the ways borrowers refer to a plan on a phone:
by position ("the 2nd one", "第二个"), by name ("the rate cut one", "按季度那个"), by how it is
paid ("分期那个", "the one-off one") or by its figures ("月供最低的那个", "the cheapest")."""

from __future__ import annotations

import pytest

from actions import parsing
from actions.parsing import PlanReference


@pytest.mark.parametrize(
    "text, positions",
    [
        ("the 2nd one", (2,)),
        ("2nd", (2,)),
        ("the third", (3,)),
        ("the third one please", (3,)),
        ("I'll take the first option", (1,)),
        ("the last one", (-1,)),
        ("last one", (-1,)),
        ("number 2", (2,)),
        ("#3", (3,)),
        ("option two", (2,)),
        ("第二个", (2,)),
        ("第二個", (2,)),
        ("我选第三种", (3,)),
        ("就第1个吧", (1,)),
        ("最后一个", (-1,)),
        ("最後那個", (-1,)),
        ("2", (2,)),
        ("２", (2,)),
        ("3号方案", (3,)),
        ("方案二", (2,)),
    ],
)
def test_positions(text, positions):
    ref = parsing.parse_plan_reference(text)
    assert ref is not None and ref.positions == positions and not ref.negated


@pytest.mark.parametrize(
    "text, plan_type",
    [
        ("the rate cut one", "reduced_rate"),
        ("the lower interest one", "reduced_rate"),
        ("按季度那个", "quarterly"),
        ("按季度那個", "quarterly"),
        ("every three months", "quarterly"),
        ("the quarterly one", "quarterly"),
        ("延期那个", "deferral"),
        ("the payment holiday", "deferral"),
        ("延长期限", "term_extension"),
        ("the longer term one", "term_extension"),
        ("减免那个", "fee_waiver"),
        ("the fee waiver", "fee_waiver"),
        ("结清", "settlement"),
        ("settle it", "settlement"),
        ("降息的", "reduced_rate"),
    ],
)
def test_names(text, plan_type):
    ref = parsing.parse_plan_reference(text)
    assert ref is not None and ref.plan_types == (plan_type,)


@pytest.mark.parametrize(
    "text, kind",
    [
        ("分期那个", "instalments"),
        ("分期那個", "instalments"),
        ("the one in instalments", "instalments"),
        ("spread it out", "instalments"),
        ("按月还的那个", "monthly"),
        ("the monthly one", "monthly"),
        ("一次性那个", "once"),
        ("the one-off one", "once"),
        ("pay it in one go", "once"),
        ("月供最低的那个", "lowest_payment"),
        ("每月还得最少的", "lowest_payment"),
        ("the one with the lowest monthly payment", "lowest_payment"),
        ("最便宜的", "lowest_total"),
        ("总共还得最少的那个", "lowest_total"),
        ("the cheapest", "lowest_total"),
    ],
)
def test_kinds(text, kind):
    ref = parsing.parse_plan_reference(text)
    assert ref is not None and kind in ref.kinds


def test_a_name_and_a_position_together():
    ref = parsing.parse_plan_reference("the rate cut one, the third")
    assert ref == PlanReference(plan_types=("reduced_rate",), positions=(3,))


@pytest.mark.parametrize(
    "text",
    [
        "不要延期",
        "我不想要第一个",
        "not the deferral",
        "I don't want the quarterly one",
        "别选第二个",
        "第一个太贵了",
        "the second one is too much for me",
        "我没法一次性还清",
        "I can't do the quarterly one",
    ],
)
def test_a_plan_turned_down_is_no_choice(text):
    ref = parsing.parse_plan_reference(text)
    assert ref is not None and ref.negated and ref.is_empty()
    assert parsing.parse_plan_choice(text) is None


def test_turned_down_then_chosen():
    ref = parsing.parse_plan_reference("不要第一个，第二个吧")
    assert ref is not None and ref.positions == (2,) and not ref.is_empty()
    ref = parsing.parse_plan_reference("not the deferral, the term extension")
    assert ref is not None and ref.plan_types == ("term_extension",)


@pytest.mark.parametrize(
    "text",
    [
        "",
        None,
        "hmm",
        "我第2期还没还",
        "the second payment was late",
        "I paid 2000 last week",
        "都不要",
        "none of them",
        "7",
        "第一次逾期",
        "first time I've missed one",
        "我想找人工",
        "ok I'll wait for your news",
        "每月还不了那么多",
        "I can pay 500 a month",
        "both options are too much",
    ],
)
def test_no_reference(text):
    ref = parsing.parse_plan_reference(text)
    assert ref is None or ref.is_empty()


@pytest.mark.parametrize(
    "text, expected",
    [
        ("the 2nd one", 2),
        ("第二个", 2),
        ("按季度那个", "quarterly"),
        ("the rate cut one", "reduced_rate"),
        ("the third", 3),
        ("the last one", -1),
        ("the rate cut one, the third", "reduced_rate"),
    ],
)
def test_parse_plan_choice_keeps_its_shape(text, expected):
    assert parsing.parse_plan_choice(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "我忘了还了，怎么还",
        "不好意思忘记还款了",
        "忘記還了",
        "记错还款日了",
        "I forgot, how do I pay",
        "sorry it slipped my mind",
        "I totally forgot the due date",
    ],
)
def test_says_forgot(text):
    assert parsing.says_forgot(text)


@pytest.mark.parametrize(
    "text",
    [
        "",
        None,
        "我忘不了被裁员那天，现在真的还不上",
        "我忘了说，我失业了",
        "I forgot to mention I lost my job",
        "I didn't forget, I just can't pay",
        "我还不上",
        "别忘了提醒我",
        "I forgot to send the slip, I paid yesterday",
        "忘了说了，我已经转账了",
    ],
)
def test_does_not_say_forgot(text):
    assert not parsing.says_forgot(text)
