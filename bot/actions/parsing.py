"""Pure parsers that turn a borrower's words into exact values.

No entities are annotated in the NLU data: the actions read amounts, dates, phones, dates of
birth, ID digits, plan choices, channels and languages from the message text with the
functions below. Every function is pure (``today`` is passed in), never raises on bad input
and returns ``None`` when it cannot read a value with confidence.

Choices:
- Amounts: Arabic digits are read with ``Decimal`` (never ``float``); pure Chinese numerals
  ("五千", "一万二", "两千五") go through ``cn2an`` in its strict mode, whose integer result is
  exact; mixed forms ("3千5", "1.5万", "5k") are read by a small rule of our own, because
  cn2an's "smart" mode returns floats for them.
- Dates: Chinese relative dates ("下周五", "月底", "15号", "后天") and the English ones the
  borrowers use ("the 15th", "next Friday", "end of the month") are read by own rules,
  which are deterministic for a given ``today``: dateparser does not know "下周五" or "月底",
  and reads "the 15th" as a past date. dateparser is used only for explicit English month
  names ("Dec 1", "March 15 1990").
- Traditional characters are converted to Simplified (zhconv) and full-width forms folded
  (NFKC) before any rule runs.
"""

from __future__ import annotations

import calendar
import re
import unicodedata
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

import cn2an
import zhconv

CENT = Decimal("0.01")
MAX_AMOUNT = Decimal("999999999.99")

# --------------------------------------------------------------------------- text


def normalize(text: str) -> str:
    """Full-width -> half-width (NFKC), Traditional -> Simplified, trimmed."""
    if not isinstance(text, str):
        return ""
    folded = unicodedata.normalize("NFKC", text).replace("\u2019", "'").replace("\u2018", "'")
    return zhconv.convert(folded, "zh-cn").strip()


def to_simplified(text: str) -> str:
    """Traditional Chinese characters to Simplified; other text unchanged."""
    if not isinstance(text, str):
        return ""
    return zhconv.convert(text, "zh-cn")


_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_LATIN_WORD = re.compile(r"(?<![A-Za-z0-9])[A-Za-z]{2,}(?![A-Za-z0-9])")  # "HX0000000006" is no word


def detect_language(text: str) -> str | None:
    """'zh' when CJK characters dominate, 'en' when Latin words do, None for neither.

    Each CJK character counts as one unit and each Latin word as one, so a mixed
    "我想 pay now" (2 vs 2) counts as Chinese: a writer who uses Chinese characters reads them.
    Payloads of buttons ("/affirm") say nothing about the language.
    """
    if not isinstance(text, str) or text.startswith("/"):
        return None
    cjk = len(_CJK.findall(text))
    latin = len(_LATIN_WORD.findall(text))
    if cjk == 0 and latin == 0:
        return None
    return "zh" if cjk >= latin else "en"


def language_units(text: str) -> int:
    """How much language a message carries: CJK characters plus Latin words."""
    if not isinstance(text, str):
        return 0
    return len(_CJK.findall(text)) + len(_LATIN_WORD.findall(text))


# --------------------------------------------------------------------------- amounts

_CN_DIGITS = "零〇一二两三四五六七八九"
_CN_NUM_CHARS = _CN_DIGITS + "十百千万亿"
_CN_DIGIT_VALUE = {c: i for i, c in enumerate("零一二三四五六七八九")}
_CN_DIGIT_VALUE.update({"〇": 0, "两": 2})

_NUMBER_TOKEN = re.compile(
    r"(?P<neg>-)?"
    r"(?P<num>"
    r"\d[\d,]*(?:\.\d+)?(?:\s?(?:[kKwW](?![a-zA-Z])|千|万|百)\d?)*"  # 5,000 / 3千5 / 1.5万 / 5k
    r"|[" + _CN_NUM_CHARS + r"]+(?:点[" + _CN_DIGITS + r"]+)?"  # 一万二 / 三千五百 / 十二点五
    r")"
)
_AFTER_NOT_AMOUNT = re.compile(
    r"^\s*(?:号|日|月|年|个月|个|天|周|期|点|次|岁|位|st\b|nd\b|rd\b|th\b|days?\b|months?\b|"
    r"weeks?\b|years?\b|%)"
)
_BEFORE_NOT_AMOUNT = re.compile(r"(?:第|周|星期|礼拜|the\s|option\s|plan\s|no\.?\s?|#)$", re.I)
_CURRENCY_AFTER = re.compile(r"^\s*(?:元|块|圆|rmb\b|yuan\b|cny\b|kuai\b)", re.I)
_CURRENCY_BEFORE = re.compile(r"(?:¥|￥|rmb|cny|\$)\s*$", re.I)
_DATE_LIKE = re.compile(
    r"\d{4}[-/.年]\d{1,2}[-/.月]\d{1,2}[日号]?|\d{1,2}[/.]\d{1,2}[/.]\d{2,4}|\d{1,2}:\d{2}|"
    r"\d{1,2}月\d{1,2}[日号]?"
)
_PHONE_LIKE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)|HX\s*-?\s*\d{10}", re.I)


def _quantize(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def _arabic_amount(token: str) -> Decimal | None:
    """'5,000' / '3千5' / '1.5万' / '5k' / '1250.50' -> Decimal (mixed units by our own rule)."""
    token = token.replace(" ", "")
    if re.fullmatch(r"\d{1,3}(,\d{3})+(\.\d+)?|\d+(\.\d+)?", token):
        return Decimal(token.replace(",", ""))
    unit_values = {"k": 1000, "千": 1000, "w": 10000, "万": 10000, "百": 100}
    m = re.fullmatch(r"(\d+(?:\.\d+)?)([kKwW千万百])(\d)?", token)
    if m:
        unit = Decimal(unit_values[m.group(2).lower()])
        value = Decimal(m.group(1)) * unit
        if m.group(3):  # "3千5" = 3500: the trailing digit counts in the next lower unit
            value += Decimal(m.group(3)) * unit / 10
        return value
    # "1万2千" and other chains: sum of number*unit pairs
    parts = re.findall(r"(\d+(?:\.\d+)?)([kKwW千万百]?)", token)
    if parts and "".join(n + u for n, u in parts) == token:
        total = Decimal(0)
        for number, unit_char in parts:
            total += Decimal(number) * Decimal(unit_values.get(unit_char.lower(), 1))
        return total
    return None


def _chinese_amount(token: str) -> Decimal | None:
    """'五千' / '一万二' / '十二点五' -> Decimal via cn2an (strict mode, integers only)."""
    integer_part, _, fraction = token.partition("点")
    try:
        whole = cn2an.cn2an(integer_part, "normal")
    except (ValueError, KeyError, IndexError, TypeError):
        return None
    if not isinstance(whole, int):
        return None
    value = Decimal(whole)
    if fraction:
        digits = "".join(str(_CN_DIGIT_VALUE[c]) for c in fraction if c in _CN_DIGIT_VALUE)
        if len(digits) != len(fraction):
            return None
        value += Decimal("0." + digits)
    return value


def _token_value(token: str) -> Decimal | None:
    if token[0].isdigit():
        return _arabic_amount(token)
    return _chinese_amount(token)


def parse_amount(text: str) -> Decimal | None:
    """The money amount in a message, as a Decimal with 2 places, or None.

    "五千" -> 5000.00, "5k" -> 5000.00, "5,000元" -> 5000.00, "3千5" -> 3500.00,
    "一万二" -> 12000.00, "¥1,250.50" -> 1250.50, "about 3000 a month" -> 3000.00.
    Numbers that are days, months, ordinals, dates or phone numbers are skipped; among
    the rest a number marked as money (元, 块, ¥, k, 千, 万) wins over a bare one. A leading
    minus gives a negative value (the caller rejects it).
    """
    if not isinstance(text, str) or not text.strip():
        return None
    s = normalize(text)
    s = _DATE_LIKE.sub(" ", s)
    s = _PHONE_LIKE.sub(" ", s)
    candidates: list[tuple[int, int, Decimal]] = []
    for m in _NUMBER_TOKEN.finditer(s):
        token = m.group("num").rstrip(",")
        before, after = s[: m.start()], s[m.end() :]
        if _AFTER_NOT_AMOUNT.match(after) or _BEFORE_NOT_AMOUNT.search(before):
            continue
        if not token[0].isdigit() and len(token) == 1 and token in "一两二十百千万亿":
            continue  # "一下", "一次", "两个": a lone small numeral is a word, not money
        value = _token_value(token)
        if value is None:
            continue
        if m.group("neg") and not re.search(r"\d$", before):
            value = -value
        marked = bool(
            _CURRENCY_AFTER.match(after) or _CURRENCY_BEFORE.search(before) or re.search(r"[kKwW千万百]", token)
        )
        score = 2 if marked else 1
        candidates.append((score, -m.start(), value))
    if not candidates:
        return None
    value = max(candidates)[2]
    if abs(value) > MAX_AMOUNT:
        return None
    return _quantize(value)


_NOTHING = re.compile(
    r"^(?:没有|没|无|木有|没了|零|0|none|no|nothing|zero|nil|n/?a|no debts?|没有其他|没有别的)"
    r"(?:[。.!！,，\s]|$)|没有(?:其他|别的)?(?:贷款|负债|债务|欠款|债)|no (?:other )?(?:debts?|loans?)",
    re.I,
)


def parse_amount_or_nothing(text: str) -> Decimal | None:
    """Like parse_amount, but "没有" / "none" / "no other debts" read as 0.00."""
    value = parse_amount(text)
    if value is not None:
        return value
    if isinstance(text, str) and _NOTHING.search(normalize(text)):
        return Decimal("0.00")
    return None


# --------------------------------------------------------------------------- dates

_WEEKDAY_ZH = {"一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6, "末": 5}
_WEEKDAY_EN = {
    "monday": 0,
    "mon": 0,
    "tuesday": 1,
    "tue": 1,
    "tues": 1,
    "wednesday": 2,
    "wed": 2,
    "thursday": 3,
    "thu": 3,
    "thur": 3,
    "thurs": 3,
    "friday": 4,
    "fri": 4,
    "saturday": 5,
    "sat": 5,
    "sunday": 6,
    "sun": 6,
}
_MONTHS_EN = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|"
    r"sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"
)


def _small_number(token: str) -> int | None:
    if token.isdigit():
        return int(token)
    try:
        value = cn2an.cn2an(token, "normal")
    except (ValueError, KeyError, IndexError, TypeError):
        return None
    return value if isinstance(value, int) else None


def _safe_date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except (ValueError, OverflowError):
        return None


def _add_months(d: date, months: int) -> tuple[int, int]:
    index = d.year * 12 + (d.month - 1) + months
    return index // 12, index % 12 + 1


def _day_of_month_ahead(today: date, day: int) -> date | None:
    """The next date on or after today whose day of month is `day`."""
    if not 1 <= day <= 31:
        return None
    for step in range(0, 3):
        year, month = _add_months(today, step)
        candidate = _safe_date(year, month, day)
        if candidate and candidate >= today:
            return candidate
    return None


def _end_of_month(d: date) -> date:
    return date(d.year, d.month, calendar.monthrange(d.year, d.month)[1])


def parse_date(text: str, today: date) -> date | None:
    """A calendar date in a message, relative to `today`, or None.

    Chinese weeks start on Monday: "下周五" is the Friday of next calendar week, "周五" /
    "这周五" the Friday of this week (next week's if it has passed). English "Friday" and
    "next Friday" both mean the first Friday after today (today excluded). "15号" / "the 15th"
    is the next 15th on or after today. "月底" / "end of the month" is the last day of this month.
    """
    if not isinstance(text, str) or not text.strip() or not isinstance(today, date):
        return None
    s = normalize(text)
    low = s.lower()

    m = re.search(r"(?<!\d)(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})(?!\d)", s)
    if m:
        return _safe_date(int(m.group(1)), int(m.group(2)), int(m.group(3)))

    if re.search(r"大后天", s):
        return today + timedelta(days=3)
    if re.search(r"后天|day after tomorrow", low):
        return today + timedelta(days=2)
    if re.search(r"明天|明日|tomorrow|tmr\b|tmrw\b", low):
        return today + timedelta(days=1)
    if re.search(r"今天|今日|今晚|\btoday\b|\btonight\b|right now|现在", low):
        return today

    m = re.search(r"([\d一二两三四五六七八九十]+)\s*(?:天|日)(?:之?后|以后|内)", s) or re.search(
        r"in\s+(\d+|a|one|two|three|four|five|six|seven)\s+days?", low
    )
    if m:
        words = {"a": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7}
        n = words.get(m.group(1)) if m.group(1) in words else _small_number(m.group(1))
        return today + timedelta(days=n) if n is not None and n <= 366 else None

    m = re.search(r"(下下|下个?|这个?|本|上)?\s*(?:周|星期|礼拜)([一二三四五六日天末])", s)
    if m:
        prefix, wd = m.group(1) or "", _WEEKDAY_ZH[m.group(2)]
        monday = today - timedelta(days=today.weekday())
        if prefix.startswith("下下"):
            return monday + timedelta(days=14 + wd)
        if prefix.startswith("下"):
            return monday + timedelta(days=7 + wd)
        if prefix.startswith("上"):
            return None
        candidate = monday + timedelta(days=wd)
        return candidate if candidate >= today else candidate + timedelta(days=7)

    if re.search(r"下个?月底|下个?月末|end of next month", low):
        y, mo = _add_months(today, 1)
        return _end_of_month(date(y, mo, 1))
    if re.search(r"月底|月末|end of (?:the |this )?month|month[- ]end", low):
        return _end_of_month(today)

    m = re.search(r"下个?月\s*([\d一二两三四五六七八九十]+)\s*[号日]", s) or re.search(
        r"(\d{1,2})(?:st|nd|rd|th)? (?:of )?next month", low
    )
    if m:
        day = _small_number(m.group(1))
        y, mo = _add_months(today, 1)
        return _safe_date(y, mo, day) if day else None
    if re.search(r"下个?月初|beginning of next month|start of next month|early next month", low):
        y, mo = _add_months(today, 1)
        return date(y, mo, 1)

    m = re.search(r"(?<!\d)([\d一二两三四五六七八九十]{1,3})\s*月\s*([\d一二两三四五六七八九十]{1,3})\s*[号日]?", s)
    if m:
        month, day = _small_number(m.group(1)), _small_number(m.group(2))
        if month and day:
            on_day = _safe_date(today.year, month, day)
            if on_day and on_day < today:
                on_day = _safe_date(today.year + 1, month, day)
            return on_day

    m = re.search(r"(?<![\d月])([\d一二两三四五六七八九十]{1,3})\s*[号日](?!元)", s)
    if m:
        day = _small_number(m.group(1))
        return _day_of_month_ahead(today, day) if day else None

    m = re.search(r"\b(?:next|this|on|by|coming)?\s*(" + "|".join(_WEEKDAY_EN) + r")\b", low)
    if m:
        wd = _WEEKDAY_EN[m.group(1)]
        ahead = (wd - today.weekday()) % 7 or 7
        return today + timedelta(days=ahead)
    if re.search(r"\bnext week\b", low):
        return today + timedelta(days=7 - today.weekday())

    m = re.search(r"\b" + _MONTHS_EN + r"\.?\s+\d{1,2}(?:st|nd|rd|th)?(?:,?\s*\d{4})?\b", low) or re.search(
        r"\b\d{1,2}(?:st|nd|rd|th)?\s+(?:of\s+)?" + _MONTHS_EN + r"\b(?:,?\s*\d{4})?", low
    )
    if m:
        return _english_month_date(m.group(0), today)

    m = re.search(r"\bthe\s+(\d{1,2})(?:st|nd|rd|th)?\b|\b(\d{1,2})(?:st|nd|rd|th)\b", low)
    if m:
        day = int(m.group(1) or m.group(2))
        return _day_of_month_ahead(today, day)
    return None


def _english_month_date(fragment: str, today: date) -> date | None:
    import dateparser  # imported late: only explicit English month names need it

    base = today.isoformat()
    parsed = dateparser.parse(
        fragment,
        languages=["en"],
        settings={
            "PREFER_DATES_FROM": "future",
            "RELATIVE_BASE": __import__("datetime").datetime.fromisoformat(base),
            "STRICT_PARSING": False,
        },
    )
    return parsed.date() if parsed else None


# --------------------------------------------------------------------------- identity


def parse_phone(text: str) -> str | None:
    """An 11-digit mainland mobile number (spaces, dashes and +86 allowed), or None."""
    if not isinstance(text, str):
        return None
    s = normalize(text)
    compact = re.sub(r"(?<=\d)[\s-]+(?=\d)", "", s)
    m = re.search(r"(?<!\d)(?:\+?86)?(1[3-9]\d{9})(?!\d)", compact)
    return m.group(1) if m else None


def parse_loan_number(text: str) -> str | None:
    """'HX' + 10 digits ('hx-0000000001', 'HX 0000000001' accepted) -> 'HX0000000001'."""
    if not isinstance(text, str):
        return None
    m = re.search(r"(?<![A-Za-z])HX[\s-]*(\d{10})(?!\d)", normalize(text), re.I)
    return f"HX{m.group(1)}" if m else None


def parse_dob(text: str, today: date | None = None) -> date | None:
    """A date of birth: "1990-03-15", "1990年3月15日", "90年3月15号", "15/03/1990",
    "March 15 1990", "19900315". Slashed dates are day/month/year, except when only the first
    number can be a month ("03/15/1990"). Only dates between 1900 and today are accepted."""
    if not isinstance(text, str) or not text.strip():
        return None
    today = today or date.today()
    s = normalize(text)
    low = s.lower()
    result: date | None = None
    m = re.search(r"(?<!\d)(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})(?!\d)", s)
    if m:
        result = _safe_date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    if result is None:
        m = re.search(r"(?<!\d)(\d{2})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*[日号]?", s)
        if m:
            yy = int(m.group(1))
            year = 2000 + yy if 2000 + yy <= today.year else 1900 + yy
            result = _safe_date(year, int(m.group(2)), int(m.group(3)))
    if result is None:
        m = re.search(r"(?<!\d)(\d{1,2})\s*[/.-]\s*(\d{1,2})\s*[/.-]\s*(\d{4})(?!\d)", s)
        if m:
            a, b, y = int(m.group(1)), int(m.group(2)), int(m.group(3))
            if a <= 12 < b:
                result = _safe_date(y, a, b)
            else:
                result = _safe_date(y, b, a)
    if result is None:
        m = re.search(r"(?<!\d)(19\d{2}|20\d{2})(\d{2})(\d{2})(?!\d)", s)
        if m:
            result = _safe_date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    if result is None and re.search(_MONTHS_EN, low) and re.search(r"\d{4}", low):
        m = re.search(r"\b" + _MONTHS_EN + r"\.?\s+\d{1,2}(?:st|nd|rd|th)?,?\s+\d{4}\b", low) or re.search(
            r"\b\d{1,2}(?:st|nd|rd|th)?\s+(?:of\s+)?" + _MONTHS_EN + r",?\s+\d{4}\b", low
        )
        if m:
            result = _english_month_date(m.group(0), today)
    if result is None or not (date(1900, 1, 1) <= result <= today):
        return None
    return result


def parse_id_last4(text: str) -> str | None:
    """The last 4 characters of a national ID: 4 digits, or 3 digits and X ('432x' -> '432X')."""
    if not isinstance(text, str):
        return None
    s = normalize(text)
    matches = re.findall(r"(?<![0-9A-Za-z])(\d{3}[\dXx])(?![0-9A-Za-z])", s)
    if len(matches) != 1:
        return None
    return matches[0].upper()


# --------------------------------------------------------------------------- choices

PLAN_TYPES = ("fee_waiver", "deferral", "term_extension", "reduced_rate", "quarterly", "settlement")

_PLAN_WORDS: tuple[tuple[str, str], ...] = (
    (
        "term_extension",
        (
            r"term[_ ]?extension|extend(?:ed|ing)? (?:the )?(?:term|loan)|longer term|延长(?:还款)?(?:期限|期数|"
            r"时间|还款期)?|延期限|拉长|加期"
        ),
    ),
    (
        "reduced_rate",
        (
            r"reduced[_ ]?rate|lower(?:ed)? (?:the )?(?:interest )?rate|rate reduction|rate cut|cut (?:the )?"
            r"(?:interest )?rate|reduce (?:the )?interest|lower interest|less interest|cheaper rate|减息|降息|"
            r"降低利率|降低利息|利率低|利息低|低利率|少点利息"
        ),
    ),
    ("quarterly", r"quarterl?y|every (?:three|3) months|按季|季度|每季"),
    ("fee_waiver", r"fee[_ ]?waiver|waive|减免|免(?:除)?(?:罚息|违约金|滞纳金)|免掉"),
    ("settlement", r"settle(?:ment)?|pay (?:it )?(?:all )?off|结清|还清"),
    ("deferral", r"deferr?al|defer|payment holiday|postpone|延期|缓(?:一|几)?(?:个月|缴|还)|暂停还款|停还|推迟"),
)
# Ways of pointing at a plan by how it is paid or by its figures; which offered plan they mean
# is decided against the offers (actions/plans.py).
PLAN_KINDS: tuple[tuple[str, str], ...] = (
    (
        "lowest_payment",
        (
            r"月供最(?:低|少)|每(?:月|期)(?:还)?(?:得)?最(?:低|少)|最(?:低|少)的月供|"
            r"(?:lowest|smallest|least|cheapest) (?:monthly |regular )?(?:payment|instalment|installment)|"
            r"lowest monthly|pay the least (?:each|every|a|per) month"
        ),
    ),
    (
        "lowest_total",
        (
            r"总(?:共|额|计)?(?:还)?(?:得)?最(?:少|低)|最便宜|最省钱|最划算|cheapest|lowest total|"
            r"least (?:in total|overall)|costs? (?:me )?the least|smallest total"
        ),
    ),
    (
        "instalments",
        (
            r"分期|分几期|分多期|分(?:几|多|成几)个月|分月|分开还|慢慢还|in (?:monthly )?instal?lments|"
            r"instal?lment plan|spread (?:it |them |the payments? )?out"
        ),
    ),
    (
        "monthly",
        r"按月(?:还|付)?的?|月付|the monthly (?:one|plan|option)|paid (?:every month|monthly)|pay monthly one",
    ),
    (
        "once",
        r"一次性|一次(?:还|付|结)|one[- ]off|lump[- ]?sum|in one go|one (?:single )?payment|single payment|all at once",
    ),
)
_ORDINALS_ZH = {"一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6}
_ORDINALS_EN = {
    "first": 1,
    "second": 2,
    "third": 3,
    "fourth": 4,
    "fifth": 5,
    "sixth": 6,
    "1st": 1,
    "2nd": 2,
    "3rd": 3,
    "4th": 4,
    "5th": 5,
    "6th": 6,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "last": -1,
}
_NUM = r"[1-6一二两三四五六]"
_NOT_A_PLAN_AFTER_ZH = r"(?!\s*(?:期|天|次|月|年|周|笔|遍|回|轮|号(?!方案)|日))"
_NOT_A_PLAN_AFTER_EN = (
    r"(?!\s+(?:payment|instal?lment|month|time|week|day|year|of|half|quarter|bill|due|notice|reminder|call|message))"
)
_POSITIONS = (
    re.compile(r"第\s*(" + _NUM + r")\s*(?:个|种|项|条|套|份|号)?" + _NOT_A_PLAN_AFTER_ZH),
    re.compile(r"最后\s*(?:一)?\s*(?:个|种|项|条|套|份)?" + _NOT_A_PLAN_AFTER_ZH),
    re.compile(r"(?:方案|选项|选择|选)\s*(" + _NUM + r")(?!\d)"),
    re.compile(r"(?<!\d)(" + _NUM + r")\s*号\s*方案"),
    re.compile(r"(?:\boption|\bplan|\bnumber|\bchoice|\bno\.?|#)\s*([1-6]|one|two|three|four|five|six)\b"),
    re.compile(r"\b(first|second|third|fourth|fifth|sixth|1st|2nd|3rd|4th|5th|6th|last)\b" + _NOT_A_PLAN_AFTER_EN),
)
_ONLY_A_NUMBER = re.compile(r"\s*#?\s*([1-6])\s*(?:号|个)?\s*[.。!！]?\s*")
_CLAUSES = re.compile(r"[，,。;；!！?？、\n]+|\bbut\b|\binstead\b|而是|但是|不过|还是")
_NEGATION = re.compile(
    r"不要|不想|不选|不用|不是|不考虑|别|除了|没法|没办法|无法|不能|不可能|\bnot\b|\bdon'?t\b|\bdo not\b|"
    r"\bnever\b|\bexcept\b|\brather not\b|\bcan'?t\b|\bcannot\b|\bunable\b|\bno\b(?!\.?\s*\d)"
)
# A plan named with a refusal anywhere in its clause is turned down ("第一个太贵了").
_REFUSAL = re.compile(
    r"太(?:多|高|贵|大|难)|不行|不了|不起|负担不|受不了|\btoo (?:much|high|expensive|big|hard)\b|"
    r"\bcan'?t afford\b|\bnot affordable\b|\bno good\b|\bwon'?t work\b"
)


@dataclass(frozen=True)
class PlanReference:
    """What a message says about the offered plans: plans named, positions (1-based; -1 = the
    last), kinds (how a plan is paid or a figure: see PLAN_KINDS), and whether a plan was
    turned down ("不要延期", "not the first one"). Turned-down references are left out."""

    plan_types: tuple[str, ...] = ()
    positions: tuple[int, ...] = ()
    kinds: tuple[str, ...] = ()
    negated: bool = False

    def is_empty(self) -> bool:
        return not (self.plan_types or self.positions or self.kinds)


def _position(token: str) -> int:
    token = token.lower()
    if token.isdigit():
        return int(token)
    return _ORDINALS_ZH.get(token) or _ORDINALS_EN[token]


def _clause_references(clause: str) -> tuple[list[str], list[int], list[str], int | None]:
    """Names, positions and kinds in one clause, and where the first of them starts."""
    names: list[str] = []
    positions: list[int] = []
    kinds: list[str] = []
    starts: list[int] = []
    rest = clause
    for plan_type, pattern in _PLAN_WORDS:  # earlier patterns own their words ("延期限" is no "延期")
        for m in re.finditer(pattern, rest):
            names.append(plan_type)
            starts.append(m.start())
            rest = rest[: m.start()] + " " * (m.end() - m.start()) + rest[m.end() :]
    for kind, pattern in PLAN_KINDS:
        for m in re.finditer(pattern, rest):
            kinds.append(kind)
            starts.append(m.start())
    for regex in _POSITIONS:
        for m in regex.finditer(rest):
            token = m.group(1) if m.groups() else "last"
            positions.append(_position(token) if token != "最后" else -1)
            starts.append(m.start())
            rest = rest[: m.start()] + " " * (m.end() - m.start()) + rest[m.end() :]
    return names, positions, kinds, (min(starts) if starts else None)


def _unique(items: list) -> tuple:
    return tuple(dict.fromkeys(items))


def parse_plan_reference(text: str) -> PlanReference | None:
    """The plans a message names or numbers (see PlanReference), or None when it names none."""
    if not isinstance(text, str) or not text.strip():
        return None
    s = normalize(text).lower()
    whole = _ONLY_A_NUMBER.fullmatch(s)
    if whole:
        return PlanReference(positions=(int(whole.group(1)),))
    names: list[str] = []
    positions: list[int] = []
    kinds: list[str] = []
    negated = found = False
    for clause in _CLAUSES.split(s):
        n, p, k, first = _clause_references(clause)
        if first is None:
            continue
        found = True
        if _NEGATION.search(clause[:first]) or _REFUSAL.search(clause):
            negated = True
            continue
        names += n
        positions += p
        kinds += k
    if not found:
        return None
    return PlanReference(_unique(names), _unique(positions), _unique(kinds), negated)


_PERSON = re.compile(
    r"人工|真人|客服|专人|工作人员|\bperson\b|\bhuman\b|\bagent\b|\bsomeone\b|\bstaff\b|\brepresentative\b|"
    r"\breal people\b|\bcolleague\b"
)


def asks_for_person(text: str) -> bool:
    """The message asks for a person ("找人工帮我看看第二个", "can a person explain the 2nd one")."""
    return isinstance(text, str) and bool(_PERSON.search(normalize(text).lower()))


def parse_plan_choice(text: str) -> int | str | None:
    """The plan a borrower picks: a plan type ("延期" -> "deferral") or a 1-based position
    ("选第二个" / "option 2" -> 2; "the last one" -> -1), or None (also for a plan turned down:
    "不要延期"). A name wins over a position; kinds ("分期那个") need the offers to resolve
    (parse_plan_reference)."""
    ref = parse_plan_reference(text)
    if ref is None:
        return None
    if ref.plan_types:
        return ref.plan_types[0]
    if ref.positions:
        return ref.positions[0]
    return None


_FORGOT = re.compile(
    r"忘(?:了|记|掉)(?:了)?|没记(?:住|得)|记错(?:了)?(?:日子|时间|还款日|日期)|没注意(?:到)?(?:日子|时间|还款日|日期)|"
    r"\bforg[eo]t(?:ten)?\b|\bforgetting\b|slipped my mind|lost track of (?:the )?(?:date|time)|"
    r"missed the (?:date|due date|reminder)|didn'?t (?:notice|realise|realize) (?:it was due|the (?:date|due date))"
)
_PAID_CLAIM = re.compile(
    r"已经(?:还|付|转)|还过了|已还|付过了|转账了|转过了|\balready paid\b|\bi(?: have|'ve)? paid\b|"
    r"\bpaid (?:it|already|last|yesterday|on)\b|\btransferred\b|\bsent (?:the )?(?:money|payment)\b"
)
_NOT_FORGOT = re.compile(
    r"忘不了|不会忘|没忘|没有忘|别忘|不要忘|never forget|can'?t forget|won'?t forget|didn'?t forget|don'?t forget"
)


def says_forgot(text: str) -> bool:
    """The borrower simply forgot the due date ("忘了还了", "I forgot, how do I pay"), with no
    hardship reason ("我忘了说，我失业了" is hardship) and no claim of a payment ("I forgot to
    send the slip, I paid yesterday") in the same message."""
    if not isinstance(text, str) or not text.strip():
        return False
    low = normalize(text).lower()
    if _NOT_FORGOT.search(low) or _PAID_CLAIM.search(low) or not _FORGOT.search(low):
        return False
    return parse_hardship_reason(text) in (None, "other")


CHANNELS = ("sms", "phone", "wechat", "email", "app", "web")
_CHANNEL_WORDS = {
    "sms": r"短信|\bsms\b|\btext(?:s|ing)?\b|text messages?|messages? to my phone",
    "phone": r"电话|打给我|来电|\bcalls?\b|\bcalling\b|\bphone calls?\b|\bring(?:ing)?\b",
    "wechat": r"微信|wechat|weixin|\bwx\b",
    "email": r"邮件|邮箱|e-?mails?",
    "app": r"\bapp\b|推送|push notifications?|notifications?",
    "web": r"网页|网站|\bweb\b|\bwebsite\b",
}
_ALL_CHANNELS = re.compile(
    r"所有|全部|任何|都不要|都别|别再联系|不要再联系|不要联系我|别联系我|一切|\ball\b|\bany\b|\bat all\b|"
    r"\beverything\b|\bleave me alone\b|stop contacting|don'?t contact",
    re.I,
)


@dataclass(frozen=True)
class ContactChoice:
    """What a borrower asked to stop: every channel, or some channels."""

    stop_all: bool
    channels: tuple[str, ...] = ()


def parse_channel(text: str) -> ContactChoice | None:
    """Channels named in a stop-contact request; named channels win over "all"-like words
    ("别再打电话了" -> phone); "不要再联系我" / "stop contacting me" -> all; else None."""
    if not isinstance(text, str) or not text.strip():
        return None
    low = normalize(text).lower()
    named = tuple(ch for ch in CHANNELS if re.search(_CHANNEL_WORDS[ch], low))
    if named and not re.search(r"所有|全部|任何|一切|\ball\b|\bany\b|everything", low):
        return ContactChoice(stop_all=False, channels=named)
    if _ALL_CHANNELS.search(low):
        return ContactChoice(stop_all=True, channels=())
    if named:
        return ContactChoice(stop_all=False, channels=named)
    return None


def parse_language(text: str) -> str | None:
    """The language a borrower asks for: "说中文" -> 'zh', "English please" -> 'en'."""
    if not isinstance(text, str):
        return None
    low = normalize(text).lower()
    wants_en = re.search(r"英文|英语|english|\ben\b", low)
    wants_zh = re.search(r"中文|汉语|普通话|国语|chinese|mandarin|\bzh\b", low)
    if wants_en and not wants_zh:
        return "en"
    if wants_zh and not wants_en:
        return "zh"
    return None


HARDSHIP_REASONS = (
    "job_loss",
    "illness",
    "income_drop",
    "business_failure",
    "family_emergency",
    "irregular_income",
    "other",
)
_REASON_WORDS: tuple[tuple[str, str], ...] = (
    (
        "job_loss",
        (
            r"失业|下岗|被裁|裁员|辞退|开除|没(?:有)?工作|丢了工作|找不到工作|lost (?:my )?job|laid off|"
            r"unemployed|fired|jobless|"
            r"out of work|redundan"
        ),
    ),
    (
        "illness",
        r"生病|病了|住院|手术|看病|医药|治疗|受伤|癌|sick|ill(?:ness)?\b|hospital|surgery|medical|injur|disease|cancer",
    ),
    (
        "business_failure",
        r"生意|倒闭|破产|亏本|亏损|店.*关|公司.*(?:倒|关)|business|bankrupt|company (?:closed|failed)|shop closed",
    ),
    (
        "irregular_income",
        (
            r"收入不稳定|不固定|季节|淡季|旺季|零工|打零工|跑单|按季|irregular|seasonal|gig|freelanc|commission|"
            r"unstable income|varies"
        ),
    ),
    (
        "family_emergency",
        (
            r"家里|家人|父亲|母亲|爸|妈|孩子|老婆|老公|丈夫|妻子|离婚|去世|急事|意外|family|divorce|"
            r"passed away|died|emergency|accident|"
            r"child|baby|parent"
        ),
    ),
    (
        "income_drop",
        (
            r"降薪|减薪|工资(?:少|低|降|减|发不出|拖欠)|收入(?:少|低|降|减|下降|减少)|欠薪|拖欠工资|pay cut|"
            r"salary (?:cut|reduced|delayed)|"
            r"income (?:dropped|fell|went down|is lower)|less income|hours cut|reduced hours|wages? (?:cut|"
            r"late)"
        ),
    ),
)


def parse_hardship_reason(text: str) -> str | None:
    """The hardship category the borrower describes, or None when no known reason is named."""
    if not isinstance(text, str) or not text.strip():
        return None
    low = normalize(text).lower()
    for reason, pattern in _REASON_WORDS:
        if re.search(pattern, low):
            return reason
    return None


def parse_duration(text: str) -> str | None:
    """'temporary' or 'long_term' from an answer such as "暂时的" / "long term", or None."""
    if not isinstance(text, str) or not text.strip():
        return None
    low = normalize(text).lower()
    if re.search(r"不是暂时|不是临时|不是短期|not (?:just )?temporar|not short", low):
        return "long_term"
    if re.search(r"不是长期|not long", low):
        return "temporary"
    if re.search(
        (
            r"长期|很久|一直|永久|不知道什么时候|好不了|long[- ]?term|permanent|for a long time|indefinite|"
            r"no idea when|won'?t get better"
        ),
        low,
    ):
        return "long_term"
    if re.search(
        (
            r"暂时|临时|短期|几个月|很快|过段时间|一阵|下个月就|马上就|temporar|short[- ]?term|for now|"
            r"a few months|few weeks|soon|"
            r"next month|couple of months"
        ),
        low,
    ):
        return "temporary"
    return None


_IN_FULL = re.compile(
    r"还清|结清|全部还|全还|都还上|还完|一次性还|补齐|补上|pay (?:it |everything |all |them )?(?:off|in full|"
    r"back in full)|"
    r"clear (?:it|the balance|everything|the arrears)|full amount|whole amount|everything i owe|all of it|all i owe|"
    r"the (?:overdue|whole) (?:amount|balance)"
)


def says_in_full(text: str) -> bool:
    """True when a promise names no figure but "all of it" ("月底前还清", "I'll pay it off")."""
    return isinstance(text, str) and bool(_IN_FULL.search(normalize(text).lower()))


def parse_yes_no(text: str) -> bool | None:
    """True for a clear yes, False for a clear no, None otherwise."""
    if not isinstance(text, str) or not text.strip():
        return None
    low = normalize(text).lower().strip()
    if re.search(r"^/deny|不是|不要|不行|不对|不好|不用|不同意|算了|取消|^no\b|^nope|^nah|don'?t|not now|cancel", low):
        return False
    if re.search(
        (
            r"^/affirm|是的|是|好的|好|可以|行|没问题|确认|同意|对|嗯|^yes|^yeah|^yep|^sure|^ok|confirm|agree|"
            r"that works|"
            r"sounds good|go ahead"
        ),
        low,
    ):
        return True
    return None


def to_money_string(value: Decimal) -> str:
    """Decimal -> the contract's money string with exactly two decimals ("1250.00")."""
    return format(_quantize(value), "f")


def money(value: str | Decimal | None) -> Decimal | None:
    """A contract money string -> Decimal (None for missing or malformed values)."""
    if value is None:
        return None
    try:
        return _quantize(Decimal(str(value)))
    except (InvalidOperation, ValueError):
        return None
