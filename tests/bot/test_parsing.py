"""Table-driven tests of the pure parsers (expected values worked out by hand from the text)."""

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from actions import parsing
from actions.parsing import ContactChoice

# 2026-11-25 is a Wednesday.
TODAY = date(2026, 11, 25)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("五千", "5000.00"),
        ("5k", "5000.00"),
        ("5K", "5000.00"),
        ("5,000元", "5000.00"),
        ("3千5", "3500.00"),
        ("一万二", "12000.00"),
        ("两千五", "2500.00"),
        ("三千五百块", "3500.00"),
        ("¥1,250.50", "1250.50"),
        ("￥1,250.50", "1250.50"),
        ("about 3000 a month", "3000.00"),
        ("I earn around 8,500 yuan", "8500.00"),
        ("月收入大概8000", "8000.00"),
        ("每个月房租加吃饭要三千", "3000.00"),
        ("1.5万", "15000.00"),
        ("1万2千", "12000.00"),
        ("3000元/月", "3000.00"),
        ("一千二百五十点五", "1250.50"),
        ("我下周五还500", "500.00"),
        ("15号还3000", "3000.00"),
        ("I'll pay 500 on the 15th", "500.00"),
        ("I'll pay 1,000 on Dec 1", "1000.00"),
        ("下个月3号还两千", "2000.00"),
        ("0", "0.00"),
        ("12.345", "12.35"),
        ("每月五千元", "5000.00"),
        ("還款兩萬塊", "20000.00"),
        ("-500", "-500.00"),
        ("3个月后能还5000", "5000.00"),
    ],
)
def test_parse_amount_reads_exact_decimal(text, expected):
    assert parsing.parse_amount(text) == Decimal(expected)


@pytest.mark.parametrize(
    "text",
    ["", "   ", "我没钱", "no idea", "下周五", "the 15th", "第二个", "一下", "13800000001", "我十分着急", None, 42],
)
def test_parse_amount_returns_none_without_an_amount(text):
    assert parsing.parse_amount(text) is None


@pytest.mark.parametrize("text", ["没有", "没有其他贷款", "none", "No other debts", "nothing", "无"])
def test_nothing_answers_read_as_zero(text):
    assert parsing.parse_amount_or_nothing(text) == Decimal("0.00")


def test_parse_amount_never_returns_float():
    assert isinstance(parsing.parse_amount("1.5万"), Decimal)
    assert isinstance(parsing.parse_amount("一千二百五十点五"), Decimal)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("下周五", date(2026, 12, 4)),
        ("下星期五还", date(2026, 12, 4)),
        ("这周五", date(2026, 11, 27)),
        ("周五", date(2026, 11, 27)),
        ("周一", date(2026, 11, 30)),  # this week's Monday has passed
        ("下下周一", date(2026, 12, 7)),
        ("月底", date(2026, 11, 30)),
        ("月底前还清", date(2026, 11, 30)),
        ("下个月底", date(2026, 12, 31)),
        ("15号", date(2026, 12, 15)),
        ("30号", date(2026, 11, 30)),
        ("二十八号", date(2026, 11, 28)),
        ("the 15th", date(2026, 12, 15)),
        ("on the 28th", date(2026, 11, 28)),
        ("next Friday", date(2026, 11, 27)),
        ("Friday", date(2026, 11, 27)),
        ("next wednesday", date(2026, 12, 2)),
        ("明天", date(2026, 11, 26)),
        ("明天還", date(2026, 11, 26)),
        ("后天", date(2026, 11, 27)),
        ("今天", TODAY),
        ("tomorrow", date(2026, 11, 26)),
        ("today", TODAY),
        ("2026-12-01", date(2026, 12, 1)),
        ("2026年12月1日", date(2026, 12, 1)),
        ("12月1号", date(2026, 12, 1)),
        ("1月5号", date(2027, 1, 5)),
        ("下个月5号", date(2026, 12, 5)),
        ("3天后", date(2026, 11, 28)),
        ("in 3 days", date(2026, 11, 28)),
        ("end of the month", date(2026, 11, 30)),
        ("Dec 1", date(2026, 12, 1)),
        ("I'll pay 500 on December 3rd", date(2026, 12, 3)),
        ("我下周五还500", date(2026, 12, 4)),
    ],
)
def test_parse_date_reads_relative_dates(text, expected):
    assert parsing.parse_date(text, today=TODAY) == expected


@pytest.mark.parametrize("text", ["", "随便", "whenever", "31st of February", "2026-02-30", "32号", None, "上周五"])
def test_parse_date_returns_none_for_unreadable_dates(text):
    assert parsing.parse_date(text, today=TODAY) is None


def test_month_end_rule_for_day_31_in_a_short_month():
    # 31号 asked on 2026-11-25: November has no 31st, so the next one is 2026-12-31.
    assert parsing.parse_date("31号", today=TODAY) == date(2026, 12, 31)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("13800000001", "13800000001"),
        ("我的手机是 138 0000 0001", "13800000001"),
        ("+86 138-0000-0001", "13800000001"),
        ("８６１３８０００００００１", "13800000001"),
        ("my number is 13800000004", "13800000004"),
    ],
)
def test_parse_phone(text, expected):
    assert parsing.parse_phone(text) == expected


@pytest.mark.parametrize("text", ["12345", "23800000001", "138000000011", "", "hello", None])
def test_parse_phone_rejects_non_mobiles(text):
    assert parsing.parse_phone(text) is None


@pytest.mark.parametrize(
    "text, expected",
    [("HX0000000001", "HX0000000001"), ("hx-0000000007", "HX0000000007"), ("合同号 HX 0000000003", "HX0000000003")],
)
def test_parse_loan_number(text, expected):
    assert parsing.parse_loan_number(text) == expected


@pytest.mark.parametrize("text", ["HX123", "XX0000000001", "HX00000000012", "", None])
def test_parse_loan_number_rejects_malformed(text):
    assert parsing.parse_loan_number(text) is None


@pytest.mark.parametrize(
    "text, expected",
    [
        ("1990-03-15", date(1990, 3, 15)),
        ("1990年3月15日", date(1990, 3, 15)),
        ("90年3月15号", date(1990, 3, 15)),
        ("15/03/1990", date(1990, 3, 15)),
        ("03/15/1990", date(1990, 3, 15)),
        ("March 15 1990", date(1990, 3, 15)),
        ("15 March 1990", date(1990, 3, 15)),
        ("19900315", date(1990, 3, 15)),
        ("1990.3.15", date(1990, 3, 15)),
        ("我是1992年6月21号出生的", date(1992, 6, 21)),
        ("05年1月9日", date(2005, 1, 9)),
    ],
)
def test_parse_dob(text, expected):
    assert parsing.parse_dob(text, today=TODAY) == expected


@pytest.mark.parametrize("text", ["1990-02-30", "2030-01-01", "1850-01-01", "yesterday", "", "4321", None])
def test_parse_dob_rejects_impossible_dates(text):
    assert parsing.parse_dob(text, today=TODAY) is None


@pytest.mark.parametrize(
    "text, expected",
    [
        ("4321", "4321"),
        ("432x", "432X"),
        ("后四位是 1357", "1357"),
        ("尾号４３２１", "4321"),
        ("last four: 246X", "246X"),
    ],
)
def test_parse_id_last4(text, expected):
    assert parsing.parse_id_last4(text) == expected


@pytest.mark.parametrize("text", ["432", "43210", "X432", "12 34", "", "abcd", None, "4321 and 5678"])
def test_parse_id_last4_rejects_other_shapes(text):
    assert parsing.parse_id_last4(text) is None


@pytest.mark.parametrize(
    "text, expected",
    [
        ("选第二个", 2),
        ("第一个", 1),
        ("第2种", 2),
        ("option 2", 2),
        ("plan 3", 3),
        ("the second one", 2),
        ("the last one", -1),
        ("2", 2),
        ("延期", "deferral"),
        ("我想延期还款", "deferral"),
        ("term extension", "term_extension"),
        ("延长期限吧", "term_extension"),
        ("按季还", "quarterly"),
        ("quarterly please", "quarterly"),
        ("减息", "reduced_rate"),
        ("减免罚息", "fee_waiver"),
        ("一次性结清", "settlement"),
        ('/inform{"plan_type":"deferral"}', "deferral"),
    ],
)
def test_parse_plan_choice(text, expected):
    assert parsing.parse_plan_choice(text) == expected


@pytest.mark.parametrize("text", ["", "不知道", "hmm", "7", None])
def test_parse_plan_choice_none(text):
    assert parsing.parse_plan_choice(text) is None


@pytest.mark.parametrize(
    "text, expected",
    [
        ("别再发短信了", ContactChoice(False, ("sms",))),
        ("不要再打电话给我", ContactChoice(False, ("phone",))),
        ("stop texting me", ContactChoice(False, ("sms",))),
        ("no more calls or emails", ContactChoice(False, ("phone", "email"))),
        ("微信别发了", ContactChoice(False, ("wechat",))),
        ("不要再联系我", ContactChoice(True, ())),
        ("stop contacting me", ContactChoice(True, ())),
        ("所有渠道都不要", ContactChoice(True, ())),
        ("all of them", ContactChoice(True, ())),
    ],
)
def test_parse_channel(text, expected):
    assert parsing.parse_channel(text) == expected


ALL_BUT = {ch: tuple(c for c in parsing.CHANNELS if c != ch) for ch in parsing.CHANNELS}


@pytest.mark.parametrize(
    "text, expected",
    [
        ("no calls, no texts, nothing", ContactChoice(True)),
        ("电话短信都不要，什么都别发了", ContactChoice(True)),
        ("don't contact me in any way", ContactChoice(True)),
        ("don't call, text me instead", ContactChoice(False, ("phone",), ("sms",))),
        ("別打電話了，發短信就行", ContactChoice(False, ("phone",), ("sms",))),
        ("text me instead of calling", ContactChoice(False, ("phone",), ("sms",))),
        ("call me instead of texting", ContactChoice(False, ("sms",), ("phone",))),
        ("用微信联系我，不要打电话", ContactChoice(False, ("phone",), ("wechat",))),
        ("no more phone calls, texts are fine", ContactChoice(False, ("phone",), ("sms",))),
        ("别打电话，发短信", ContactChoice(False, ("phone",), ("sms",))),
        ("除了邮件，别的方式都不要联系我", ContactChoice(False, ALL_BUT["email"], ("email",))),
        ("everything except WeChat", ContactChoice(False, ALL_BUT["wechat"], ("wechat",))),
        ("stop the texts and the calls", ContactChoice(False, ("sms", "phone"))),
        ("don't call me any more", ContactChoice(False, ("phone",))),
        ("短信和电话", ContactChoice(False, ("sms", "phone"))),
    ],
)
def test_parse_channel_reads_what_is_stopped_and_what_is_kept(text, expected):
    assert parsing.parse_channel(text) == expected


@pytest.mark.parametrize(
    "text", ["", "hello", "嗯", None, "never mind, none of them", "算了，都不用", "nothing", "别打扰我"]
)
def test_parse_channel_none(text):
    assert parsing.parse_channel(text) is None


@pytest.mark.parametrize(
    "text, expected",
    [
        ("你好", "zh"),
        ("我想 pay now", "zh"),
        ("how much do I owe", "en"),
        ("hi 你好 can you help me with my loan", "en"),
        ("我欠多少錢", "zh"),
        ("12345", None),
        ("HX0000000006", None),
        ("/affirm", None),
        ("", None),
    ],
)
def test_detect_language(text, expected):
    assert parsing.detect_language(text) == expected


@pytest.mark.parametrize(
    "text, expected",
    [
        ("说中文", "zh"),
        ("能讲英文吗", "en"),
        ("English please", "en"),
        ("can you speak Chinese", "zh"),
        ("换一下", None),
    ],
)
def test_parse_language(text, expected):
    assert parsing.parse_language(text) == expected


@pytest.mark.parametrize(
    "text, expected",
    [
        ("我失业了", "job_loss"),
        ("I lost my job", "job_loss"),
        ("住院了", "illness"),
        ("生意做不下去了 店关了", "business_failure"),
        ("工资降了一半", "income_drop"),
        ("my income is seasonal", "irregular_income"),
        ("家里出了急事", "family_emergency"),
        ("就是没钱", None),
    ],
)
def test_parse_hardship_reason(text, expected):
    assert parsing.parse_hardship_reason(text) == expected


@pytest.mark.parametrize(
    "text, expected",
    [
        ("暂时的", "temporary"),
        ("短期", "temporary"),
        ("长期的", "long_term"),
        ("long term", "long_term"),
        ("just temporary", "temporary"),
        ("不是暂时的", "long_term"),
        ("it's not temporary", "long_term"),
        ("不清楚", None),
    ],
)
def test_parse_duration(text, expected):
    assert parsing.parse_duration(text) == expected


def test_to_simplified_converts_traditional():
    assert parsing.to_simplified("我欠多少錢，還款") == "我欠多少钱，还款"


def test_money_string_has_two_places():
    assert parsing.to_money_string(Decimal("5")) == "5.00"
    assert parsing.to_money_string(Decimal("1.005")) == "1.01"


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=40))
def test_parsers_never_raise_on_arbitrary_text(text):
    parsing.parse_amount(text)
    parsing.parse_amount_or_nothing(text)
    parsing.parse_date(text, today=TODAY)
    parsing.parse_dob(text, today=TODAY)
    parsing.parse_phone(text)
    parsing.parse_loan_number(text)
    parsing.parse_id_last4(text)
    parsing.parse_plan_choice(text)
    parsing.parse_channel(text)
    parsing.detect_language(text)
    parsing.parse_language(text)
    parsing.parse_hardship_reason(text)
    parsing.parse_duration(text)


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=0, max_value=10**8))
def test_arabic_integers_round_trip(n):
    assert parsing.parse_amount(f"{n}元") == Decimal(n).quantize(Decimal("0.01"))
    assert parsing.parse_amount(f"{n:,}") == Decimal(n).quantize(Decimal("0.01"))


@pytest.mark.parametrize(
    "text, expected",
    [
        ("月底前还清", True),
        ("I'll pay it off on Friday", True),
        ("我下周五还500", False),
        ("all of it next week", True),
        ("", False),
    ],
)
def test_says_in_full(text, expected):
    assert parsing.says_in_full(text) is expected
