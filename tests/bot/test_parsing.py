"""Table-driven tests of the pure parsers (expected values worked out by hand from the text)."""

from datetime import date, timedelta
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
        ("next Friday", date(2026, 12, 4)),  # the Friday of next week, as 下周五
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


@pytest.mark.parametrize(
    "text", ["", "随便", "whenever", "31st of February", "2026-02-30", "32号", None, "下个月", "下周", "next week"]
)
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
        # one channel kept as the only one: every other channel stops
        ("only contact me by email", ContactChoice(False, ALL_BUT["email"], ("email",))),
        ("just email me", ContactChoice(False, ALL_BUT["email"], ("email",))),
        ("email only please", ContactChoice(False, ALL_BUT["email"], ("email",))),
        ("只用邮件联系我", ContactChoice(False, ALL_BUT["email"], ("email",))),
        ("以后只发微信就行", ContactChoice(False, ALL_BUT["wechat"], ("wechat",))),
        ("don't call, just text me", ContactChoice(False, ("phone",), ("sms",))),
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


# --------------------------------------------------------------------------- the date rule
# One rule for both languages (bot/README.md, "Dates"): weeks run Monday to Sunday;
# "下周五" / "next Friday" is the Friday of next week; "周五" / "Friday" / "this Friday" the coming
# one (today included); a day without a month, or a month and day without a year, is read
# forward (the next such day from today on) unless the message says it is in the past.


@pytest.mark.parametrize(
    "text, expected",
    [
        # next <weekday>: the weekday of next week (Mon-Sun), in both languages
        ("下周五", date(2026, 12, 4)),
        ("下週五還", date(2026, 12, 4)),
        ("下个礼拜五", date(2026, 12, 4)),
        ("next Friday", date(2026, 12, 4)),
        ("I'll pay next fri", date(2026, 12, 4)),
        ("下周一", date(2026, 11, 30)),
        ("next Monday", date(2026, 11, 30)),
        ("下周三", date(2026, 12, 2)),
        ("next Wednesday", date(2026, 12, 2)),
        ("下下周五", date(2026, 12, 11)),
        ("the Friday after next", date(2026, 12, 11)),
        # <weekday> / this <weekday>: the coming one, today included
        ("周五", date(2026, 11, 27)),
        ("Friday", date(2026, 11, 27)),
        ("this Friday", date(2026, 11, 27)),
        ("本週五", date(2026, 11, 27)),
        ("周三", TODAY),
        ("on Wednesday", TODAY),
        ("星期天", date(2026, 11, 29)),
        ("Sunday", date(2026, 11, 29)),
        ("周末", date(2026, 11, 28)),
        ("this weekend", date(2026, 11, 28)),
        ("下周末", date(2026, 12, 5)),
        ("next weekend", date(2026, 12, 5)),
        # relative days and weeks
        ("后天", date(2026, 11, 27)),
        ("後天", date(2026, 11, 27)),
        ("the day after tomorrow", date(2026, 11, 27)),
        ("大后天", date(2026, 11, 28)),
        ("三天之后", date(2026, 11, 28)),
        ("3 days from now", date(2026, 11, 28)),
        ("in two days", date(2026, 11, 27)),
        ("一周后", date(2026, 12, 2)),
        ("in a week", date(2026, 12, 2)),
        ("两个星期后", date(2026, 12, 9)),
        ("in 2 weeks", date(2026, 12, 9)),
        ("十天内", date(2026, 12, 5)),
        ("within 10 days", date(2026, 12, 5)),
        ("今晚", TODAY),
        ("tonight", TODAY),
        ("明天下午3点", date(2026, 11, 26)),
        ("现在没钱，下周五还", date(2026, 12, 4)),
        ("I can't right now but next Friday is fine", date(2026, 12, 4)),
        ("现在就还", TODAY),
        # month ends and beginnings
        ("这个月底", date(2026, 11, 30)),
        ("by the end of this month", date(2026, 11, 30)),
        ("月末", date(2026, 11, 30)),
        ("end of next month", date(2026, 12, 31)),
        ("下個月底", date(2026, 12, 31)),
        ("下个月初", date(2026, 12, 1)),
        ("early next month", date(2026, 12, 1)),
        ("月中", date(2026, 12, 15)),
        ("mid-month", date(2026, 12, 15)),
        ("年底", date(2026, 12, 31)),
        ("end of the year", date(2026, 12, 31)),
        # explicit dates, with and without a year
        ("12月3日", date(2026, 12, 3)),
        ("十二月三號", date(2026, 12, 3)),
        ("Dec 3", date(2026, 12, 3)),
        ("December 3rd", date(2026, 12, 3)),
        ("3 December", date(2026, 12, 3)),
        ("the 3rd of December", date(2026, 12, 3)),
        ("1月5号", date(2027, 1, 5)),
        ("Jan 5", date(2027, 1, 5)),
        ("5th of January", date(2027, 1, 5)),
        ("2027年1月5日", date(2027, 1, 5)),
        ("2027/1/5", date(2027, 1, 5)),
        ("January 5, 2027", date(2027, 1, 5)),
        ("5 Jan 2027", date(2027, 1, 5)),
        ("25号", TODAY),
        ("the 25th", TODAY),
        ("20号", date(2026, 12, 20)),
        ("on the 20th", date(2026, 12, 20)),
        ("11月25日", TODAY),
        ("Nov 25", TODAY),
        # said to be in the past
        ("昨天", date(2026, 11, 24)),
        ("yesterday", date(2026, 11, 24)),
        ("前天", date(2026, 11, 23)),
        ("上周五", date(2026, 11, 20)),
        ("上週五", date(2026, 11, 20)),
        ("last Friday", date(2026, 11, 20)),
        ("3天前", date(2026, 11, 22)),
        ("3 days ago", date(2026, 11, 22)),
    ],
)
def test_the_date_rule_in_both_languages(text, expected):
    assert parsing.parse_date(text, today=TODAY) == expected


@pytest.mark.parametrize(
    "zh, en",
    [
        ("下周五", "next Friday"),
        ("周五", "Friday"),
        ("下周一", "next Monday"),
        ("下下周二", "the Tuesday after next"),
        ("月底", "end of the month"),
        ("下个月底", "end of next month"),
        ("后天", "the day after tomorrow"),
        ("5天后", "in 5 days"),
        ("15号", "the 15th"),
        ("12月3日", "December 3"),
        ("上周五", "last Friday"),
        ("周末", "the weekend"),
    ],
)
@pytest.mark.parametrize("today", [date(2026, 11, 23) + timedelta(days=n) for n in range(7)] + [date(2026, 12, 31)])
def test_the_two_languages_name_the_same_day(zh, en, today):
    assert parsing.parse_date(zh, today=today) == parsing.parse_date(en, today=today) is not None


@pytest.mark.parametrize("text", ["月底", "end of the month", "這個月底", "by the end of this month"])
def test_month_end_said_on_the_last_day_is_today(text):
    last_day = date(2026, 11, 30)
    assert parsing.parse_date(text, today=last_day) == last_day
    assert parsing.parse_date("下个月底", today=last_day) == date(2026, 12, 31)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("20号", date(2026, 11, 20)),
        ("on the 20th", date(2026, 11, 20)),
        ("周一", date(2026, 11, 23)),
        ("on Monday", date(2026, 11, 23)),
        ("11月20日", date(2026, 11, 20)),
        ("Nov 20", date(2026, 11, 20)),
        ("12月3日", date(2025, 12, 3)),
        ("昨天", date(2026, 11, 24)),
        ("今天", TODAY),
    ],
)
def test_incomplete_dates_read_backwards_for_past_events(text, expected):
    # a payment the borrower says was made: "I paid on the 20th" is the last 20th
    assert parsing.parse_date(text, today=TODAY, past=True) == expected


# --------------------------------------------------------------------------- monthly figures
# The rule: a usual / average figure the borrower states wins; else, when the figures vary
# (ranges, busy and slow months), income is the lowest figure said and expenses and other debt
# payments the highest (a plan must stay affordable in a bad month); several parts of one kind
# ("房租2000吃饭1000") are added up.


@pytest.mark.parametrize(
    "text, expected",
    [
        ("三四千", "3000.00"),
        ("两三千块", "2000.00"),
        ("3-4k", "3000.00"),
        ("4到5千", "4000.00"),
        ("四到五千", "4000.00"),
        ("3000~4000", "3000.00"),
        ("about 6k", "6000.00"),
        ("6k-ish", "6000.00"),
        ("六千上下", "6000.00"),
        ("六千左右吧", "6000.00"),
        ("1.2万", "12000.00"),
        ("5 grand", "5000.00"),
        ("3 thousand", "3000.00"),
        ("一万出头", "10000.00"),
        ("I'll pay 300 on May 5", "300.00"),
        ("不是5000，是4000", "4000.00"),
        ("I'll pay 300 not 500", "300.00"),
    ],
)
def test_parse_amount_reads_ranges_and_approximations(text, expected):
    assert parsing.parse_amount(text) == Decimal(expected)


@pytest.mark.parametrize(
    "text, asked, expected",
    [
        ("旺季八千淡季三四千，一般六千上下", "income", "6000.00"),
        ("旺季八千淡季三四千", "income", "3000.00"),
        ("旺季八千，淡季三四千", "expenses", "8000.00"),
        ("busy months 8k, slow months 3-4k, usually about 6k", "income", "6000.00"),
        ("busy months 8k, slow months 3-4k", "income", "3000.00"),
        ("usually around 6k, 8k in a good month", "income", "6000.00"),
        ("6k on average", "income", "6000.00"),
        ("平均每月五千", "income", "5000.00"),
        ("三四千", "income", "3000.00"),
        ("三四千", "expenses", "4000.00"),
        ("3-4k", "expenses", "4000.00"),
        ("between 3 and 4 thousand", "income", "3000.00"),
        ("3000 to 4000", "debts", "4000.00"),
        ("一两万", "income", "10000.00"),
        ("有时候两千有时候三千", "expenses", "3000.00"),
        ("sometimes 2000, sometimes 3000", "income", "2000.00"),
        ("房租2000吃饭1000", "expenses", "3000.00"),
        ("rent 1500 plus food about 800", "expenses", "2300.00"),
        ("没有", "debts", "0.00"),
        ("none", "debts", "0.00"),
        ("0", "income", "0.00"),
        ("1.2万", "income", "12000.00"),
    ],
)
def test_a_monthly_figure_from_ranges_and_averages(text, asked, expected):
    assert parsing.parse_monthly_figures(text, asked=asked)[asked] == Decimal(expected)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("收入6000，房租2000吃饭1000，还有信用卡500", {"income": "6000", "expenses": "3000", "debts": "500"}),
        ("I make 5k, spend about 2k and pay 300 on a card", {"income": "5000", "expenses": "2000", "debts": "300"}),
        (
            "我每月到手五千，房贷两千，花呗还八百，吃饭一千五",
            {"income": "5000", "expenses": "1500", "debts": "2800"},
        ),
        ("收入六千，房租兩千，信用卡還五百", {"income": "6000", "expenses": "2000", "debts": "500"}),
        ("月收入5000，没有其他贷款", {"income": "5000", "debts": "0"}),
        ("no income right now, rent is 1500", {"income": "0", "expenses": "1500"}),
        ("工资五千，兼职一千", {"income": "6000"}),
        ("income 5000 expenses 3000 debts 1000", {"income": "5000", "expenses": "3000", "debts": "1000"}),
        ("my salary is 7,000 and my credit card payments are 1,200", {"income": "7000", "debts": "1200"}),
        ("旺季收入八千淡季三四千，房租一千五", {"income": "3000", "expenses": "1500"}),
        ("收入不稳定，好的时候一万，差的时候三千", {"income": "3000"}),
        ("收入3000，支出2000，其他贷款没有", {"income": "3000", "expenses": "2000", "debts": "0"}),
        ("收入没有以前多", {}),
        ("my income is actually 5500, not 6000", {"income": "5500"}),
        ("我没有钱还款", {}),
        ("2000", {}),
        ("我失业三个月了", {}),
        ("I lost my job 2 months ago", {}),
        ("下周五还500", {}),
    ],
)
def test_several_figures_in_one_message(text, expected):
    found = parsing.parse_monthly_figures(text)
    assert found == {k: Decimal(v).quantize(Decimal("0.01")) for k, v in expected.items()}


def test_a_labelled_figure_goes_to_its_kind_whatever_was_asked():
    assert parsing.parse_monthly_figures("房租2000", asked="income") == {"expenses": Decimal("2000.00")}
    assert parsing.parse_monthly_figures("rent is 2000 and I earn 5000", asked="debts") == {
        "expenses": Decimal("2000.00"),
        "income": Decimal("5000.00"),
    }


def test_monthly_figures_are_decimals():
    for value in parsing.parse_monthly_figures("收入1.2万，房租三四千", asked="income").values():
        assert isinstance(value, Decimal)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("不对，收入是5000", True),
        ("说错了，是4000", True),
        ("刚才打错了，应该是三千", True),
        ("不是5000，是4000", True),
        ("sorry, I meant 4000", True),
        ("I mean 4000 not 5000", True),
        ("my mistake, it's 3500", True),
        ("oops typo, 4000", True),
        ("correction: rent is 2500", True),
        ("5000", False),
        ("大概五千", False),
        ("actually about 3000", False),
        ("", False),
        (None, False),
    ],
)
def test_says_correction(text, expected):
    assert parsing.says_correction(text) is expected


@pytest.mark.parametrize(
    "text",
    [
        "算了",
        "算了吧",
        "那算了",
        "还是算了吧，谢谢",
        "不要了",
        "不用了",
        "我不想弄了",
        "先不了",
        "取消",
        "算了，不要了",
        "算了吧謝謝",
        "stop",
        "never mind",
        "nvm",
        "Forget it.",
        "no, forget about it",
        "cancel",
        "cancel that please",
        "let's stop here",
        "I don't want to do this anymore",
        "ok never mind, thanks",
    ],
)
def test_says_stop(text):
    assert parsing.says_stop(text) is True


@pytest.mark.parametrize(
    "text",
    [
        "stop calling me",
        "不要再打电话了",
        "停还几个月可以吗",
        "我算了一下大概五千",
        "I can't stop worrying",
        "不要延期",
        "no",
        "5000",
        "停一下",
        "",
        None,
    ],
)
def test_does_not_say_stop(text):
    assert parsing.says_stop(text) is False


@pytest.mark.parametrize(
    "text, expected",
    [
        ("说中文", "zh"),
        ("請說中文", "zh"),
        ("能用中文吗", "zh"),
        ("中文", "zh"),
        ("用普通话跟我说", "zh"),
        ("reply in Chinese please", "zh"),
        ("English please", "en"),
        ("can you speak English?", "en"),
        ("in English pls", "en"),
        ("英文", "en"),
        ("说英语吧", "en"),
        ("switch to English", "en"),
        ("English please, how much do I owe", "en"),
        ("我看不懂英文", "zh"),
        ("sorry I don't read Chinese", "en"),
        ("I'm Chinese", None),
        ("我英文不好", None),
        ("how much do I owe", None),
        ("我欠多少钱", None),
        ("", None),
        (None, None),
    ],
)
def test_asks_for_language(text, expected):
    assert parsing.asks_for_language(text) == expected


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=60), st.sampled_from([None, "income", "expenses", "debts"]), st.booleans())
def test_new_parsers_never_raise(text, asked, past):
    parsing.parse_monthly_figures(text, asked=asked)
    parsing.parse_date(text, today=TODAY, past=past)
    parsing.says_correction(text)
    parsing.says_stop(text)
    parsing.asks_for_language(text)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("不是失业，是生病了", "illness"),
        ("其实是生病了，不是失业", "illness"),
        ("不是因为失业，是因为生意亏了", "business_failure"),
        ("actually it's not job loss, I'm ill", "illness"),
        ("I'm sick, I wasn't laid off", "illness"),
        ("I still can't pay", None),  # "still" is no illness
        ("我失业了", "job_loss"),
        ("I lost my job", "job_loss"),
    ],
)
def test_parse_hardship_reason_skips_a_reason_said_not_to_be_it(text, expected):
    assert parsing.parse_hardship_reason(text) == expected


@pytest.mark.parametrize(
    "text, current, expected",
    [
        ("不是失业，是生病了", "job_loss", "illness"),
        ("actually it's not job loss, I'm ill", "job_loss", "illness"),
        ("说错了，是生意亏了", "job_loss", "business_failure"),
        ("actually I'm sick", "job_loss", "illness"),
        ("我失业了", "job_loss", None),  # the same reason: nothing to correct
        ("收入5000", "job_loss", None),
        ("my wife is sick", "job_loss", None),  # a new fact, not a correction
        ("不是失业，是生病了", None, None),  # no reason given before: nothing to correct
    ],
)
def test_parse_reason_correction(text, current, expected):
    assert parsing.parse_reason_correction(text, current) == expected
