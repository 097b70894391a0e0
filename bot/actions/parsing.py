"""Pure parsers that turn a borrower's words into exact values.

No entities are annotated in the NLU data: the actions read amounts, dates, phones, dates of
birth, ID digits, plan choices, channels and languages from the message text with the
functions below. Every function is pure (``today`` is passed in), never raises on bad input
and returns ``None`` when it cannot read a value with confidence.

Choices:
- Amounts: Arabic digits are read with ``Decimal`` (never ``float``); pure Chinese numerals
  ("五千", "一万二", "两千五") go through ``cn2an`` in its strict mode, whose integer result is
  exact; mixed forms ("3千5", "1.5万", "5k") are read by a small rule of our own, because
  cn2an's "smart" mode returns floats for them. Ranges ("三四千", "3-4k", "4到5千") are one
  amount with a low and a high end; ``parse_monthly_figures`` reads income, expenses and other
  debt payments from one message by the rule in its docstring.
- Dates: one rule for both languages, written above ``parse_date`` (and in bot/README.md):
  deterministic for a given ``today``, by own rules. dateparser does not know "下周五" or
  "月底", reads "the 15th" as a past date and "next Friday" as the coming one; it is used only
  for dates of birth with English month names ("March 15 1990").
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
_CN_UNIT_VALUE = {"十": 10, "百": 100, "千": 1000, "万": 10000, "亿": 100000000}
_UNIT_VALUES = {"k": 1000, "千": 1000, "w": 10000, "万": 10000, "百": 100}

_ARABIC = r"\d[\d,]*(?:\.\d+)?(?:\s?(?:[kKwW](?![a-zA-Z])|千|万|百)\d?)*"  # 5,000 / 3千5 / 1.5万 / 5k
_CHINESE = r"[" + _CN_NUM_CHARS + r"]+(?:点[" + _CN_DIGITS + r"]+)?"  # 一万二 / 三千五百 / 十二点五
_NUMBER_TOKEN = re.compile(r"(?P<neg>-)?(?P<num>" + _ARABIC + "|" + _CHINESE + ")")
# "3-4k", "4到5千", "三千到四千", "3000 or 4000", "between 3 and 4k": one amount from low to high
_RANGES = (
    re.compile(
        r"(?P<a>" + _ARABIC + "|" + _CHINESE + r")\s*(?:-|~|—|–|到|至|或者?|\bto\b|\bor\b)\s*"
        r"(?P<b>" + _ARABIC + "|" + _CHINESE + ")"
    ),
    re.compile(r"\bbetween\s+(?P<a>" + _ARABIC + "|" + _CHINESE + r")\s+and\s+(?P<b>" + _ARABIC + "|" + _CHINESE + ")"),
)
# "三四千" / "两三万" / "一两千": two neighbouring digits before a unit
_CN_PAIR = re.compile(r"([一两二三四五六七八九])([两二三四五六七八九])([十百千万]+)")
_AFTER_NOT_AMOUNT = re.compile(
    r"^\s*(?:号|日|月|年|个月|个|天|周|期|点|次|岁|位|st\b|nd\b|rd\b|th\b|days?\b|months?\b|"
    r"weeks?\b|years?\b|%|(?:of\s+)?(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\b)"
)
_BEFORE_NOT_AMOUNT = re.compile(
    r"(?:第|周|星期|礼拜|the\s|option\s|plan\s|no\.?\s?|#|"
    r"\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?\s?)$",
    re.I,
)
_CURRENCY_AFTER = re.compile(r"^\s*(?:元|块|圆|rmb\b|yuan\b|cny\b|kuai\b)", re.I)
_CURRENCY_BEFORE = re.compile(r"(?:¥|￥|rmb|cny|\$)\s*$", re.I)
_DATE_LIKE = re.compile(
    r"\d{4}[-/.年]\d{1,2}[-/.月]\d{1,2}[日号]?|\d{1,2}[/.]\d{1,2}[/.]\d{2,4}|\d{1,2}:\d{2}|"
    r"\d{1,2}月\d{1,2}[日号]?"
)
_PHONE_LIKE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)|HX\s*-?\s*\d{10}", re.I)
_THOUSAND_WORD = re.compile(r"(\d(?:[\d,]*\d)?(?:\.\d+)?)\s*(?:thousand|grand)\b", re.I)


_NEGATED = re.compile(r"(?:\bnot|不是|而不是|instead of|rather than)\s*$")  # "不是5000，是4000": the 5000 is wrong


def _quantize(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def _arabic_amount(token: str) -> Decimal | None:
    """'5,000' / '3千5' / '1.5万' / '5k' / '1250.50' -> Decimal (mixed units by our own rule)."""
    token = token.replace(" ", "")
    if re.fullmatch(r"\d{1,3}(,\d{3})+(\.\d+)?|\d+(\.\d+)?", token):
        return Decimal(token.replace(",", ""))
    m = re.fullmatch(r"(\d+(?:\.\d+)?)([kKwW千万百])(\d)?", token)
    if m:
        unit = Decimal(_UNIT_VALUES[m.group(2).lower()])
        value = Decimal(m.group(1)) * unit
        if m.group(3):  # "3千5" = 3500: the trailing digit counts in the next lower unit
            value += Decimal(m.group(3)) * unit / 10
        return value
    # "1万2千" and other chains: sum of number*unit pairs
    parts = re.findall(r"(\d+(?:\.\d+)?)([kKwW千万百]?)", token)
    if parts and "".join(n + u for n, u in parts) == token:
        total = Decimal(0)
        for number, unit_char in parts:
            total += Decimal(number) * Decimal(_UNIT_VALUES.get(unit_char.lower(), 1))
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


def _token_unit(token: str) -> Decimal | None:
    """The unit a number ends in ("5千" -> 1000, "4k" -> 1000, "五万" -> 10000), None for a bare number."""
    token = token.replace(" ", "")
    if token[0].isdigit():
        m = re.fullmatch(r"\d+(?:\.\d+)?([kKwW千万百])", token)
        return Decimal(_UNIT_VALUES[m.group(1).lower()]) if m else None
    m = re.fullmatch(r"[" + _CN_DIGITS + r"]([十百千万]+)", token)
    if not m:
        return None
    unit = Decimal(1)
    for char in m.group(1):
        unit *= _CN_UNIT_VALUE[char]
    return unit


def _is_bare(token: str) -> bool:
    return bool(re.fullmatch(r"\d+(?:\.\d+)?|[" + _CN_DIGITS + r"]", token.replace(" ", "")))


@dataclass(frozen=True)
class AmountMention:
    """One amount in a message: ``low == high`` for a figure, ``low < high`` for a range ("三四千");
    ``marked`` when it carries a unit or a currency (元, ¥, k, 千, 万); positions in the prepared text."""

    low: Decimal
    high: Decimal
    start: int
    end: int
    marked: bool


_NUMBER_WORDS = {
    **{
        w: n
        for n, w in enumerate(
            "zero one two three four five six seven eight nine ten eleven twelve thirteen "
            "fourteen fifteen sixteen seventeen eighteen nineteen".split()
        )
    },
    **{w: 10 * n for n, w in enumerate("twenty thirty forty fifty sixty seventy eighty ninety".split(), start=2)},
    "a": 1,
    "an": 1,
}
_NUMBER_WORD = r"(?:" + "|".join(sorted(_NUMBER_WORDS, key=len, reverse=True)) + r")"
_COUNT_WORD = (
    r"(?:" + "|".join(sorted((w for w in _NUMBER_WORDS if w not in ("a", "an")), key=len, reverse=True)) + r")"
)
_SCALE_WORD = r"(?:hundred|thousand|grand)"
# "three thousand", "two thousand five hundred", "a thousand", "two and a half thousand": a run
# of number words with a scale word in it (a lone "one" is a plan, not an amount)
_WORDS_AMOUNT = re.compile(
    r"\b" + _NUMBER_WORD + r"(?:[\s-]+(?:and[\s-]+)?(?:" + _NUMBER_WORD + r"|half|" + _SCALE_WORD + r"))*"
    r"[\s-]+(?:and[\s-]+a[\s-]+half[\s-]+)?"
    + _SCALE_WORD
    + r"(?:[\s-]+(?:and[\s-]+)?(?:"
    + _COUNT_WORD
    + r"|"
    + _SCALE_WORD
    + r"))*\b"
)


def _words_value(words: str) -> Decimal | None:
    """The value of a run of English number words ("two thousand five hundred" -> 2500)."""
    total, current = Decimal(0), Decimal(0)
    tokens = [t for t in re.split(r"[\s-]+", words) if t and t != "and"]
    for i, token in enumerate(tokens):
        if token in _NUMBER_WORDS:
            if token in ("a", "an") and i > 0 and tokens[i - 1] in _NUMBER_WORDS and tokens[i + 1 : i + 2] == ["half"]:
                continue  # "two and a half": the "a" of "a half"
            current += _NUMBER_WORDS[token]
        elif token == "half":
            current += Decimal("0.5")
        elif token == "hundred":
            current = (current or Decimal(1)) * 100
        elif token in ("thousand", "grand"):
            total += (current or Decimal(1)) * 1000
            current = Decimal(0)
    value = total + current
    return value if value > 0 else None


def _number_words_to_digits(s: str) -> str:
    def digits(m: re.Match[str]) -> str:
        value = _words_value(m.group(0))
        return m.group(0) if value is None else f"{value.normalize():f}"

    return _WORDS_AMOUNT.sub(digits, s)


def _prepare(text: str) -> str:
    """The text amounts are read from: normalized, lower case, English number words with a
    scale as digits ("three thousand" -> "3000"), dates and phone numbers blanked (same length,
    so positions hold), "5 thousand" / "5 grand" written "5k"."""
    s = _number_words_to_digits(normalize(text).lower())
    s = _THOUSAND_WORD.sub(lambda m: m.group(1) + "k" + " " * (len(m.group(0)) - len(m.group(1)) - 1), s)
    s = _DATE_LIKE.sub(lambda m: " " * len(m.group(0)), s)
    return _PHONE_LIKE.sub(lambda m: " " * len(m.group(0)), s)


def _marked(token: str, before: str, after: str) -> bool:
    return bool(_CURRENCY_AFTER.match(after) or _CURRENCY_BEFORE.search(before) or re.search(r"[kKwW千万百]", token))


def _mentions(s: str) -> list[AmountMention]:
    """Every money amount in the prepared text `s`, ranges as one mention, in order."""
    found: list[AmountMention] = []
    taken: list[tuple[int, int]] = []
    for m in (m for pattern in _RANGES for m in pattern.finditer(s)):
        if any(lo <= m.start("a") < hi for lo, hi in taken):
            continue
        a, b = m.group("a").rstrip(","), m.group("b").rstrip(",")
        before, after = s[: m.start("a")], s[m.start("b") + len(b) :]
        if _AFTER_NOT_AMOUNT.match(after) or _BEFORE_NOT_AMOUNT.search(before) or _NEGATED.search(before):
            continue
        low, high = _token_value(a), _token_value(b)
        if low is None or high is None:
            continue
        unit = _token_unit(b)
        if unit is not None and _is_bare(a) and low * unit <= high:
            low *= unit  # "4到5千": the 4 is thousands too
        low, high = min(low, high), max(low, high)
        end = m.start("b") + len(b)
        found.append(AmountMention(low, high, m.start("a"), end, _marked(a + b, before, after)))
        taken.append((m.start(), end))
    for m in _NUMBER_TOKEN.finditer(s):
        start = m.start("num")
        if any(lo <= start < hi for lo, hi in taken):
            continue
        token = m.group("num").rstrip(",")
        before, after = s[:start], s[start + len(token) :]
        if _AFTER_NOT_AMOUNT.match(after) or _BEFORE_NOT_AMOUNT.search(before) or _NEGATED.search(before):
            continue
        if not token[0].isdigit() and len(token) == 1 and token in "一两二十百千万亿":
            continue  # "一下", "一次", "两个": a lone small numeral is a word, not money
        pair = _CN_PAIR.fullmatch(token)
        if pair and _CN_DIGIT_VALUE[pair.group(2)] - _CN_DIGIT_VALUE[pair.group(1)] == 1:
            unit = _token_unit(pair.group(1) + pair.group(3)) or Decimal(1)
            low = _CN_DIGIT_VALUE[pair.group(1)] * unit
            found.append(AmountMention(low, low + unit, start, start + len(token), True))
            continue
        value = _token_value(token)
        if value is None:
            continue
        if m.group("neg") and not re.search(r"\d\s*$", before):
            value = -value
        found.append(AmountMention(value, value, start, start + len(token), _marked(token, before, after)))
    found.sort(key=lambda mention: mention.start)
    return found


def parse_amount(text: str) -> Decimal | None:
    """The money amount in a message, as a Decimal with 2 places, or None.

    "五千" -> 5000.00, "5k" -> 5000.00, "5,000元" -> 5000.00, "3千5" -> 3500.00,
    "一万二" -> 12000.00, "¥1,250.50" -> 1250.50, "about 3000 a month" -> 3000.00.
    Numbers that are days, months, ordinals, dates or phone numbers are skipped; among
    the rest a number marked as money (元, 块, ¥, k, 千, 万) wins over a bare one. A range
    ("三四千", "3-4k", "4到5千") gives its lower end: what the borrower is sure of. A leading
    minus gives a negative value (the caller rejects it).
    """
    if not isinstance(text, str) or not text.strip():
        return None
    mentions = _mentions(_prepare(text))
    if not mentions:
        return None
    best = max(mentions, key=lambda mention: (mention.marked, -mention.start))
    if abs(best.low) > MAX_AMOUNT:
        return None
    return _quantize(best.low)


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


# --------------------------------------------------------------------------- monthly figures

FIGURE_KINDS = ("income", "expenses", "debts")
_FIGURE_WORDS = {
    "income": (
        r"收入|工资|薪水|薪资|月薪|挣|赚|到手|进账|兼职|营业额|"
        r"\bincome\b|\bearn(?:s|ing)?\b|\bsalary\b|\bwages?\b|\bmake\b|\bmaking\b|\btake[- ]home\b|"
        r"\bpaycheck\b|\bmy pay\b|\bget paid\b|\bi get\b"
    ),
    "expenses": (
        r"开销|开支|花销|花费|花|支出|生活费|房租|租金|吃饭|伙食|饭钱|交通|水电|话费|医药费|学费|养家|日常|"
        r"\bexpenses?\b|\bspend(?:s|ing)?\b|\brent\b|\bfood\b|\bgroceries\b|\btransport\b|\bbills\b|"
        r"\butilities\b|\bcosts?\b|\bliving\b"
    ),
    "debts": (
        r"信用卡|花呗|借呗|白条|网贷|房贷|车贷|贷款|负债|债务|欠款|分期|还款|"
        r"\bdebts?\b|\bloans?\b|\bcredit ?cards?\b|\bcards?\b|\bmortgage\b|\bcar payments?\b|\brepay(?:ments?)?\b"
    ),
}
_FIGURE_PATTERNS = {kind: re.compile(pattern) for kind, pattern in _FIGURE_WORDS.items()}
_NONE_OF_KIND = {
    kind: re.compile(
        r"(?:没有|没|无|木有|\bno\b|\bzero\b|\bnothing\b|\bnone\b|don'?t have any|do not have any|haven'?t got any)"
        r"\s*(?:其他|别的|其它|任何|\bother\b|\bany\b|\bmore\b)?\s*(?:的)?\s*(?:" + pattern + r")"
        r"|(?:" + pattern + r")\s*(?:是|:|就是)?\s*(?:没有|无|零|\bnone\b|\bnothing\b|\bzero\b)\s*(?:了|的)?"
        r"\s*(?:$|[,，;；。!！?？])"
    )
    for kind, pattern in _FIGURE_WORDS.items()
}
_CLAUSE_BREAK = re.compile(r"[,，;；。!！?？\n、]|\band\b|\bbut\b|\bplus\b|还有|另外|然后|而且|但是|不过|加上")
_USUAL_BEFORE = re.compile(
    r"一般|平均|通常|正常|平时|平常|大部分|大多|多数|基本上?|"
    r"\busually\b|\bnormally\b|\btypically\b|\bon average\b|\baverage\b|\bgenerally\b|\bmostly\b|most months|"
    r"normal month|regular(?:ly)?\b"
)
_USUAL_AFTER = re.compile(r"^[^,，;；。]{0,12}?(?:on average|usually|normally|typically|most months|平均)")
_VARIES = re.compile(
    r"旺季|淡季|忙季|闲季|好的时候|差的时候|好的月份|不好的时候|多的时候|少的时候|有时|有的月|最多|最少|最低|最高|"
    r"高的时候|低的时候|不固定|不稳定|或者|或|"
    r"\bsometimes\b|some months|\bbusy\b|\bslow\b|\bpeak\b|off[- ]?season|good months?|bad months?|at best|"
    r"at worst|at most|at least|up to|as (?:little|low|much|high) as|\bor\b|\bvar(?:y|ies)\b|\bdepends\b"
)


def _labels(s: str) -> list[tuple[int, int, str]]:
    """(start, end, kind) of every word that names a kind of figure, in order; a word inside a
    longer one ("花" in "花呗", "card" in "credit card") does not count."""
    found = [(m.start(), m.end(), kind) for kind, pattern in _FIGURE_PATTERNS.items() for m in pattern.finditer(s)]
    inside = {a for a in found for b in found if a != b and b[0] <= a[0] and a[1] <= b[1]}
    return sorted(label for label in found if label not in inside)


def parse_monthly_figures(text: str, asked: str | None = None) -> dict[str, Decimal]:
    """The monthly figures a message gives, by kind: "income", "expenses", "debts" (other debt
    payments), each a Decimal with 2 places; only the kinds the message gives.

    An amount belongs to the kind named before it in its clause ("房租2000"), else after it
    ("300 on a card"), else to the kind of the amount before it in the clause, else of the
    clause before; an amount nothing names belongs to `asked` (the kind the question asked
    for), or is left out. "没有其他贷款" / "no income" give 0.00; so does a bare "没有" /
    "none" for `asked`.

    The rule for one kind: a usual or average figure the borrower states wins ("一般六千上下",
    "usually about 6k"); else, when the figures vary (a range, busy and slow months,
    "sometimes ... sometimes"), income is the lowest figure said and expenses and debts the
    highest (a plan must still be affordable in a bad month); else several parts of one kind
    ("房租2000吃饭1000", "工资五千，兼职一千") are added up.
    """
    if not isinstance(text, str) or not text.strip():
        return {}
    s = _prepare(text)
    mentions = _mentions(s)
    labels = _labels(s)
    breaks = [0] + [m.end() for m in _CLAUSE_BREAK.finditer(s)] + [len(s) + 1]

    def clause_of(position: int) -> int:
        return max(i for i, b in enumerate(breaks) if b <= position)

    kinds: list[str | None] = []
    usual: list[bool] = []
    for i, mention in enumerate(mentions):
        clause = clause_of(mention.start)
        previous_end = mentions[i - 1].end if i and clause_of(mentions[i - 1].start) == clause else breaks[clause]
        following = (
            mentions[i + 1].start
            if i + 1 < len(mentions) and clause_of(mentions[i + 1].start) == clause
            else breaks[clause + 1]
        )
        lead = [kind for start, end, kind in labels if previous_end <= start and end <= mention.start]
        tail = [kind for start, end, kind in labels if mention.end <= start and end <= following]
        kind = lead[-1] if lead else tail[0] if tail else None
        if kind is None and i and clause_of(mentions[i - 1].start) == clause:
            kind = kinds[-1]
        if kind is None:  # the kind the clauses before named or gave last ("收入不稳定，好的时候一万")
            earlier = [(start, k) for start, _, k in labels if start < breaks[clause]]
            earlier += [(mentions[j].start, k) for j, k in enumerate(kinds) if k and mentions[j].start < breaks[clause]]
            kind = max(earlier)[1] if earlier else None
        kind = kind or (asked if asked in FIGURE_KINDS else None)
        kinds.append(kind)
        usual.append(
            bool(_USUAL_BEFORE.search(s[previous_end : mention.start]) or _USUAL_AFTER.search(s[mention.end :]))
        )

    figures: dict[str, Decimal] = {}
    for kind in FIGURE_KINDS:
        mine = [(m, u) for m, k, u in zip(mentions, kinds, usual, strict=True) if k == kind]
        if not mine:
            continue
        chosen = [m for m, u in mine if u] or [m for m, _ in mine]
        clauses = {clause_of(m.start) for m, _ in mine}
        context = " ".join(s[breaks[c] : breaks[c + 1]] for c in sorted(clauses))
        varies = len(chosen) > 1 and (len(chosen) < len(mine) or bool(_VARIES.search(context)))
        if varies or len(chosen) == 1:
            value = min(m.low for m in chosen) if kind == "income" else max(m.high for m in chosen)
        else:
            value = sum((m.low if kind == "income" else m.high for m in chosen), Decimal(0))
        if abs(value) <= MAX_AMOUNT:
            figures[kind] = _quantize(value)
    for kind in FIGURE_KINDS:
        if kind not in figures and _NONE_OF_KIND[kind].search(s):
            figures[kind] = Decimal("0.00")
    if asked in FIGURE_KINDS and asked not in figures and not labels and _NOTHING.search(s.strip()):
        figures[asked] = Decimal("0.00")
    return figures


_CORRECTION = re.compile(
    r"不对|说错|写错|打错|搞错|弄错|错了|更正|纠正|改一下|改成|改为|应该是|我是说|我的意思是|刚才(?:说|写|打)的?不|"
    r"不是\s*[\d" + _CN_NUM_CHARS + r"]|"
    r"\bi meant\b|\bi mean\b|meant to (?:say|write|type)|\bcorrection\b|\btypo\b|my mistake|my bad|\bwrong\b|"
    r"should (?:be|have said)|\bnot\s+\d|make that"
)


def says_correction(text: str) -> bool:
    """True when the message corrects something said before ("不对，收入是5000", "sorry, I meant
    4000"); a polite "actually" or "sorry" alone is not a correction."""
    return isinstance(text, str) and bool(_CORRECTION.search(normalize(text).lower()))


_STOP_WORDS = (
    r"算了(?!一下|算)|不要了|不用了|不弄了|不办了|不做了|不填了|不问了|不聊了|不需要了|不麻烦了|没事了|"
    r"不想(?:弄|办|做|填|继续|聊|说|问)(?:了|下去了?)?|不继续了?|先不(?:弄|办|用|做)?了|取消(?:掉)?|退出|停止?|结束|"
    r"never ?mind|nvm|forget (?:it|about it|that|this)|cancel(?: (?:it|that|this))?|"
    r"stop(?: (?:it|this|that|here|now))?|"
    r"let'?s stop(?: here)?|quit|leave it|skip it|drop it|i'?m done|"
    r"i (?:don'?t|do not) want to (?:do this|continue|go on)(?: any ?more)?"
)
_STOP_FILLERS = (
    r"吧|啊|呀|啦|了|嗯|哎|唉|那|那就|还是|我|先|就|谢谢|谢了|好|好的|哈|呢|"
    r"ok|okay|oh|no|nah|just|please|pls|thanks|thank you|then|um|uh|sorry|actually|for now|anyway"
)
_STOP_MESSAGE = re.compile(
    r"(?:(?:" + _STOP_FILLERS + r")\s*)*(?:" + _STOP_WORDS + r")(?:\s*(?:" + _STOP_WORDS + "|" + _STOP_FILLERS + r"))*"
)


def says_stop(text: str) -> bool:
    """True when the whole message says to leave what is under way: "算了" / "不要了" / "never
    mind" / "forget it" / "stop" (with fillers such as "吧", "谢谢", "ok"). A stop with an
    object ("stop calling me", "停还几个月") is a request of its own, not this."""
    if not isinstance(text, str):
        return False
    core = re.sub(r"[^\w\s']+", " ", normalize(text).lower())
    core = re.sub(r"\s+", " ", core).strip()
    return bool(core) and bool(_STOP_MESSAGE.fullmatch(core))


# --------------------------------------------------------------------------- dates
# The date rule, the same in both languages (bot/README.md, "Dates"):
# - weeks run Monday to Sunday. "下周五" / "next Friday" is the Friday of next week; "下下周五" /
#   "the Friday after next" the one after; "上周五" / "last Friday" the Friday of last week;
#   "周五" / "Friday" / "this Friday" the coming Friday, today included (this week's if it has
#   not passed, else next week's); "周末" / "the weekend" is Saturday (today when said on a Sunday).
# - "月底" / "end of the month" is the last day of this month, which is today when said on the
#   last day (the borrower named this month; next month's end would be a date they did not say);
#   "下个月底" / "end of next month" the last day of next month; "月初" / "月中" the 1st / 15th.
# - a day without a month ("15号", "the 15th") or a day and month without a year ("12月3日",
#   "Dec 3") is the next such date from today on (today included); with ``past=True`` (a
#   payment said to be made) the latest such date up to today.
# - "明天", "后天", "N天后", "in N days", "一周后", "in 2 weeks", "昨天", "3 days ago" count from today.
# - "下周" / "next week" / "下个月" alone name no day: None (the caller asks which day).

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
    "weekend": 5,
}
_MONTH_NUMBER = {
    "jan": 1,
    "feb": 2,
    "mar": 3,
    "apr": 4,
    "may": 5,
    "jun": 6,
    "jul": 7,
    "aug": 8,
    "sep": 9,
    "oct": 10,
    "nov": 11,
    "dec": 12,
}
_MONTHS_EN = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|"
    r"sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"
)
_EN_COUNT = {
    "a": 1,
    "an": 1,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "a couple of": 2,
    "couple of": 2,
    "a few": 3,
}
_ZH_NUM = r"[\d一二两三四五六七八九十半]+"
_EN_NUM = r"\d+|a couple of|couple of|a few|an?|one|two|three|four|five|six|seven|eight|nine|ten"
_UNIT_DAYS = {"天": 1, "日": 1, "周": 7, "星期": 7, "礼拜": 7, "day": 1, "week": 7}


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


def _day_of_month(today: date, day: int | None, past: bool = False) -> date | None:
    """The next date from today on whose day of month is `day` (with `past`, the latest up to today)."""
    if day is None or not 1 <= day <= 31:
        return None
    for step in range(0, 3):
        year, month = _add_months(today, -step if past else step)
        candidate = _safe_date(year, month, day)
        if candidate and (candidate <= today if past else candidate >= today):
            return candidate
    return None


def _month_day(today: date, month: int | None, day: int | None, past: bool = False) -> date | None:
    """A day and month without a year: the next one from today on (with `past`, the latest up to today)."""
    if not month or not day or _safe_date(2024, month, day) is None:  # no such day in any year
        return None
    step = -1 if past else 1
    for offset in range(0, 9):  # 29 February waits for a leap year
        candidate = _safe_date(today.year + step * offset, month, day)
        if candidate and (candidate <= today if past else candidate >= today):
            return candidate
    return None


def _end_of_month(d: date) -> date:
    return date(d.year, d.month, calendar.monthrange(d.year, d.month)[1])


def _weekday(today: date, wd: int, weeks: int | None, past: bool) -> date:
    """Weekday `wd` (0 = Monday) of the week `weeks` from this one (Monday to Sunday weeks), or,
    when `weeks` is None, the coming one (today included; with `past`, the latest up to today)."""
    monday = today - timedelta(days=today.weekday())
    if weeks is not None:
        return monday + timedelta(days=7 * weeks + wd)
    if wd == 5 and today.weekday() == 6 and not past:
        return today  # "周末" said on a Sunday: the weekend is today
    candidate = monday + timedelta(days=wd)
    if past:
        return candidate if candidate <= today else candidate - timedelta(days=7)
    return candidate if candidate >= today else candidate + timedelta(days=7)


def _count(token: str) -> int | None:
    token = token.strip()
    if token in _EN_COUNT:
        return _EN_COUNT[token]
    if token == "半":
        return None
    return _small_number(token)


def _relative(s: str, low: str, today: date) -> date | None | bool:
    """ "3天后" / "in 3 days" / "一周后" / "in 2 weeks" / "一个月后" / "3 days ago"; False when none is said."""
    m = re.search(r"(" + _ZH_NUM + r")\s*个?\s*(天|日|周|星期|礼拜|月)\s*(之后|以后|过后|后|之内|以内|内|以前|前)", s)
    if m and not (m.group(2) == "月" and "个" not in m.group(0)):
        unit, where = m.group(2), m.group(3)
        sign = -1 if where in ("以前", "前") else 1
        if m.group(1) == "半" and unit == "月":
            return today + timedelta(days=15 * sign)
        n = _count(m.group(1))
        if n is None or n > 366:
            return None
        if unit == "月":
            year, month = _add_months(today, n * sign)
            return _safe_date(year, month, min(today.day, calendar.monthrange(year, month)[1]))
        return today + timedelta(days=n * _UNIT_DAYS[unit] * sign)
    m = re.search(r"(?:再过|过)\s*(" + _ZH_NUM + r")\s*个?\s*(天|周|星期|礼拜)", s)
    if m:
        n = _count(m.group(1))
        return today + timedelta(days=n * _UNIT_DAYS[m.group(2)]) if n is not None and n <= 366 else None
    m = (
        re.search(r"\b(?:in|within|after)\s+(" + _EN_NUM + r")\s+(day|week|month)s?\b", low)
        or re.search(r"\b(" + _EN_NUM + r")\s+(day|week|month)s?\s+(?:from now|from today|later|time)\b", low)
        or re.search(r"\b(" + _EN_NUM + r")\s+(day|week|month)s?\s+(ago)\b", low)
    )
    if m:
        n = _count(m.group(1))
        if n is None or n > 366:
            return None
        sign = -1 if m.group(0).endswith("ago") else 1
        if m.group(2) == "month":
            year, month = _add_months(today, n * sign)
            return _safe_date(year, month, min(today.day, calendar.monthrange(year, month)[1]))
        return today + timedelta(days=n * _UNIT_DAYS[m.group(2)] * sign)
    return False


def _english_month_day(low: str) -> tuple[int, int, int | None] | None:
    """(month, day, year or None) from "Dec 3", "December 3rd, 2026", "3 December", "the 3rd of Dec"."""
    m = re.search(r"\b(" + _MONTHS_EN + r")\.?\s+(\d{1,2})(?:st|nd|rd|th)?\b(?:,?\s*(\d{4})\b)?", low)
    if m:
        return _MONTH_NUMBER[m.group(1)[:3]], int(m.group(2)), int(m.group(3)) if m.group(3) else None
    m = re.search(r"\b(\d{1,2})(?:st|nd|rd|th)?\s+(?:of\s+)?(" + _MONTHS_EN + r")\b\.?(?:,?\s*(\d{4})\b)?", low)
    if m:
        return _MONTH_NUMBER[m.group(2)[:3]], int(m.group(1)), int(m.group(3)) if m.group(3) else None
    return None


def parse_date(text: str, today: date, past: bool = False) -> date | None:
    """A calendar date in a message, relative to `today`, or None (the rule above).

    `past` reads the incomplete dates ("20号", "Friday", "Nov 20") backwards, for an event
    the borrower says happened (a payment); words that say past or future ("上周五",
    "next Friday", "3 days ago") mean the same in both modes.
    """
    if not isinstance(text, str) or not text.strip() or not isinstance(today, date):
        return None
    s = normalize(text)
    low = s.lower()

    m = re.search(r"(?<!\d)(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})(?!\d)", s)
    if m:
        return _safe_date(int(m.group(1)), int(m.group(2)), int(m.group(3)))

    fixed = (
        (r"大前天", -3),
        (r"前天|day before yesterday", -2),
        (r"昨天|昨日|昨晚|yesterday", -1),
        (r"大后天", 3),
        (r"后天|day after tomorrow", 2),
        (r"明天|明日|明早|明晚|tomorrow|\btmr\b|\btmrw\b", 1),
    )
    for pattern, days in fixed:
        if re.search(pattern, low):
            return today + timedelta(days=days)

    relative = _relative(s, low, today)
    if relative is not False:
        return relative if isinstance(relative, date) else None

    m = re.search(r"(下下|下个?|这个?|本|上上|上个?)?\s*(?:周|星期|礼拜)([一二三四五六日天末])", s)
    if m:
        prefix = m.group(1) or ""
        weeks = next((n for p, n in (("下下", 2), ("上上", -2), ("下", 1), ("上", -1)) if prefix.startswith(p)), None)
        return _weekday(today, _WEEKDAY_ZH[m.group(2)], weeks, past)

    names = "|".join(_WEEKDAY_EN)
    m = re.search(r"\b(?:the\s+)?(" + names + r")\.?\s+after\s+next\b", low)
    if m:
        return _weekday(today, _WEEKDAY_EN[m.group(1)], 2, past)
    m = re.search(
        r"\b(?:(next|this|last|coming|the)\s+)?(" + names + r")\b\.?(?:\s+(?:of\s+)?(next|this|last)\s+week)?", low
    )
    if m and (m.group(2) != "sun" or m.group(1)) and (m.group(2) != "sat" or m.group(1)):
        which = m.group(1) or m.group(3)
        weeks = {"next": 1, "last": -1}.get(which or "")
        return _weekday(today, _WEEKDAY_EN[m.group(2)], weeks, past)

    if re.search(r"上个?月底|上个?月末|end of last month", low):
        year, month = _add_months(today, -1)
        return _end_of_month(date(year, month, 1))
    if re.search(r"下个?月底|下个?月末|end of next month", low):
        year, month = _add_months(today, 1)
        return _end_of_month(date(year, month, 1))
    if re.search(r"月底|月末|end of (?:the |this )?month|month[- ]end", low):
        return _end_of_month(today)
    if re.search(r"年底|年末|end of (?:the |this )?year|year[- ]end", low):
        return date(today.year, 12, 31)

    m = re.search(r"下个?月\s*(" + _ZH_NUM + r")\s*[号日]", s) or re.search(
        r"\b(?:the\s+)?(\d{1,2})(?:st|nd|rd|th)?\s+(?:of\s+)?next month", low
    )
    if m:
        year, month = _add_months(today, 1)
        day = _small_number(m.group(1))
        return _safe_date(year, month, day) if day else None
    if re.search(r"下个?月初|(?:beginning|start) of next month|early next month", low):
        year, month = _add_months(today, 1)
        return date(year, month, 1)
    if re.search(r"下个?月中|middle of next month|mid[- ]next month", low):
        year, month = _add_months(today, 1)
        return date(year, month, 15)
    if re.search(r"月初|(?:beginning|start) of the month", low):
        return _day_of_month(today, 1, past)
    if re.search(r"月中|mid[- ]?month|middle of the month", low):
        return _day_of_month(today, 15, past)

    m = re.search(r"(?<![\d个])(" + _ZH_NUM + r")\s*月\s*(" + _ZH_NUM + r")\s*[号日]?", s)
    if m and "半" not in m.group(0):
        return _month_day(today, _small_number(m.group(1)), _small_number(m.group(2)), past)

    m = re.search(r"(?<![\d月])(" + _ZH_NUM + r")\s*[号日](?!元)", s)
    if m and "半" not in m.group(1):
        return _day_of_month(today, _small_number(m.group(1)), past)

    found = _english_month_day(low)
    if found:
        named_month, named_day, named_year = found
        if named_year:
            return _safe_date(named_year, named_month, named_day)
        return _month_day(today, named_month, named_day, past)

    m = re.search(r"\bthe\s+(\d{1,2})(?:st|nd|rd|th)?\b|\b(\d{1,2})(?:st|nd|rd|th)\b", low)
    if m:
        return _day_of_month(today, int(m.group(1) or m.group(2)), past)
    if re.search(r"今天|今日|今晚|\btoday\b|\btonight\b|right now|现在|马上", low):
        return today  # last: "现在没钱，下周五还" names next Friday
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
    r"太(?:多|高|贵|大|难)|不行|不了|不起|负担不|受不了|拿不出|凑不|没(?:有)?那么多|不够|付不|还不|交不|"
    r"\btoo (?:much|high|expensive|big|hard)\b|\b(?:don'?t|do not) have (?:that|this|so) much\b|\bnot enough\b|"
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
    r"忘不了|不会忘|没忘|没有忘|别忘|不要忘|never forget|can'?t forget|won'?t forget|didn'?t forget|don'?t forget|"
    r"\bforget (?:it|about it|that)\b"  # "forget it": leaving a question, not a forgotten due date
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
    "sms": r"短信|\bsms\b|\btext(?:s|ing|ed)?\b|text messages?|messages? to my phone",
    "phone": (
        r"电话|打给我|来电|(?:别|不要|不用|别再|不要再)打(?!扰|算|款|钱|折)|\bcalls?\b|\bcalling\b|\bphone calls?\b|"
        r"\bring(?:ing)?\b|\bphon(?:e|ing) me\b"
    ),
    "wechat": r"微信|wechat|weixin|\bwx\b",
    "email": r"邮件|邮箱|e-?mails?",
    "app": r"\bapp\b|推送|push notifications?|notifications?",
    "web": r"网页|网站|\bweb\b|\bwebsite\b",
}
# Every channel, wherever it is said ("所有渠道都不要", "don't contact me in any way"), but not "any
# more"; "nothing" counts only after refused channels ("no calls, no texts, nothing").
_ALL_STRONG = re.compile(
    r"所有|全部|任何|一切|什么都|\ball\b|\bany(?!\s?more)(?:thing| way| kind| form| channel)?\b|\beverything\b|"
    r"\bat all\b"
)
_NO_CONTACT = re.compile(r"\bnothing\b|\bnone\b(?! of)")
# "Don't contact me" said with no channel in the same clause: every channel.
_ALL_WEAK = re.compile(
    r"都不要|都别|别再?联系|不要再?联系|不用再?联系|别再?找我|不要再?找我|\bleave me alone\b|stop contacting|"
    r"don'?t (?:contact|reach out to|bother) me|do not contact|no (?:more )?contact"
)
# A clause that refuses the channels it names, and one that keeps them ("text me instead").
_REFUSING_WORDS = re.compile(
    r"别|不要|不用|不想|不再|停|取消|勿|不许|不准|禁止|拒绝|退订|\bdon'?t\b|\bdo not\b|\bno\b|\bnot\b|\bstop\b|"
    r"\bnever\b|\bquit\b|\bcease\b|\bwithout\b|\benough\b|\bunsubscribe\b|\bopt out\b|\bremove\b"
)
_KEEP_WORDS = re.compile(
    r"就行|就好|就可以|可以|改用|改成|换成|只用|只能|只要|用.{0,6}联系|联系我就|倒是|没问题|"
    r"\binstead\b|\bonly\b|\bjust\b|\brather\b|\bprefer|\bfine\b|\bok(?:ay)?\b|\bbetter\b|\buse\b"
)
# A kept channel said to be the only one ("only contact me by email", "just email me", "只用邮件"):
# every other channel stops.
_ONLY_WORDS = re.compile(r"只|仅|\bonly\b|\bjust\b|\bnothing but\b|\bexclusively\b")
# The channels kept from "all": "除了邮件，别的都不要", "everything except WeChat".
_EXCEPT = re.compile(r"除了([^,，;；。.!！?？]*)|(?:except|other than|apart from|but not)(?: for)? ([^,;.!?]*)")
# "text me instead of calling": the left side is kept, the right side stopped.
_INSTEAD_OF = re.compile(r"\b(?:instead of|rather than)\b|而不是|代替")
_CLAUSES = re.compile(r"[,，;；。.!！?？\n]|\bbut\b|\bthen\b|但是|不过|而是")


@dataclass(frozen=True)
class ContactChoice:
    """What a borrower asked to stop: every channel, or some channels; and the channels they
    asked to be contacted by instead ("don't call, text me instead": phone stopped, sms kept)."""

    stop_all: bool
    channels: tuple[str, ...] = ()
    kept: tuple[str, ...] = ()


def _channels_in(text: str) -> set[str]:
    return {ch for ch in CHANNELS if re.search(_CHANNEL_WORDS[ch], text)}


def _in_order(channels: set[str]) -> tuple[str, ...]:
    return tuple(ch for ch in CHANNELS if ch in channels)


def parse_channel(text: str) -> ContactChoice | None:
    """What a stop-contact request asks, clause by clause.

    A clause with a refusal ("别", "don't", "no") stops the channels it names; one with a
    keeping word ("就行", "instead", "only", "fine") keeps them; a clause with neither stops its
    channels when nothing else in the message is refused ("短信" as the answer to "which one?")
    and keeps them otherwise ("别打电话，发短信"). "X instead of Y" keeps X and stops Y. A channel
    kept as the only one ("only contact me by email", "just email me", "只用邮件联系我") with nothing
    refused stops every other channel (not stop-all, which would stop the one kept too).
    "所有" / "everything" / "nothing" (next to a refusal) / "any way", or "don't contact me" in a
    clause naming no channel, stop every channel except those kept ("除了微信都不要": all but
    WeChat). None when nothing can be read (the assistant then asks which channel).
    """
    if not isinstance(text, str) or not text.strip():
        return None
    low = normalize(text).lower()
    stopped: set[str] = set()
    kept: set[str] = set()
    neutral: set[str] = set()
    only: set[str] = set()
    every = bool(_ALL_STRONG.search(low))
    for match in _EXCEPT.finditer(low):
        kept |= _channels_in(match.group(1) or match.group(2) or "")
    low_rest = _EXCEPT.sub(" ", low)
    for clause in _CLAUSES.split(low_rest):
        parts = _INSTEAD_OF.split(clause, maxsplit=1)
        if len(parts) == 2:
            kept |= _channels_in(parts[0])
            stopped |= _channels_in(parts[1])
            continue
        named = _channels_in(clause)
        if not named:
            every = every or bool(_ALL_WEAK.search(clause))
            continue
        if _REFUSING_WORDS.search(clause):
            stopped |= named
            every = every or bool(_NO_CONTACT.search(clause))
        elif _KEEP_WORDS.search(clause) or _ONLY_WORDS.search(clause):
            kept |= named
            if _ONLY_WORDS.search(clause):
                only |= named
        else:
            neutral |= named
    if _NO_CONTACT.search(low) and stopped:
        every = True
    if stopped:
        kept |= neutral - stopped
    else:
        stopped = neutral - kept
    if only and not stopped and not every:
        return ContactChoice(stop_all=False, channels=_in_order(set(CHANNELS) - kept), kept=_in_order(kept))
    if every:
        if kept:
            return ContactChoice(stop_all=False, channels=_in_order(set(CHANNELS) - kept), kept=_in_order(kept))
        return ContactChoice(stop_all=True)
    if not stopped:
        return None
    return ContactChoice(stop_all=False, channels=_in_order(stopped), kept=_in_order(kept - stopped))


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


_ZH_NAMES = r"中文|汉语|普通话|国语|华语|chinese|mandarin"
_EN_NAMES = r"英文|英语|english"
_ASK_VERB = (
    r"(?:说|讲|用|换成|换到|换回|改成|改用|改回|切换(?:到|成|回)?|回复|回答|\bspeak\b|\bspeaking\b|\btalk\b|\bwrite\b|"
    r"\breply\b|\brespond\b|\banswer\b|\bswitch\b|\bchange\b|\bcontinue\b|\bgo\b|\buse\b)"
    r"\s*(?:to\s+|back\s+to\s+|in\s+|into\s+|with\s+|me\s+in\s+|跟我|和我|给我)?\s*"
)
_CANNOT = (
    r"(?:不会|不懂|看不懂|听不懂|不太会|不太懂|不认识|don'?t|do not|can'?t|cannot|not good (?:at|with))"
    r"\s*(?:说|讲|看|读|\w+\s+)?\s*"
)


def asks_for_language(text: str) -> str | None:
    """The language a message explicitly asks for ("说中文", "English please", "能用英文吗",
    "reply in Chinese"), or None. Stricter than parse_language: naming a language is not
    asking for it ("I'm Chinese", "我英文不好"); not reading one asks for the other ("我看不懂英文")."""
    if not isinstance(text, str) or not text.strip():
        return None
    low = normalize(text).lower()
    asked = set()
    for lang, names, other in (("zh", _ZH_NAMES, "en"), ("en", _EN_NAMES, "zh")):
        if re.search(_CANNOT + r"(?:" + names + r")", low):
            asked.add(other)
        elif re.search(
            _ASK_VERB + r"(?:" + names + r")|\bin (?:" + names + r")\b|^\s*(?:" + names + r")\s*"
            r"(?:please|pls|plz|吧|好吗|可以吗|行吗|谢谢|thanks)?\s*(?:[,.!?，。！？].*)?$",
            low,
        ):
            asked.add(lang)
    return asked.pop() if len(asked) == 1 else None


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
            r"失业|下岗|被裁|裁员|辞退|开除|没(?:有)?工作|丢了工作|找不到工作|lost (?:my )?job|job loss|"
            r"losing my job|laid off|"
            r"unemployed|fired|jobless|"
            r"out of work|redundan"
        ),
    ),
    (
        "illness",
        r"生病|病了|住院|手术|看病|医药|治疗|受伤|癌|sick|\bill(?:ness)?\b|hospital|surgery|medical|injur|disease|cancer",
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
            r"(?:salary|pay|wages?|income|hours) (?:was |were |has been |have been |got )?(?:cut|reduced|delayed|late)|"
            r"cut (?:my|our) (?:hours|pay|salary|wages?)|"
            r"income (?:dropped|fell|went down|is lower)|less income|reduced hours|earn(?:ing)? less"
        ),
    ),
)


# A reason said not to be it: "不是失业", "not job loss", "I wasn't laid off" (a few words before
# the reason, in the same clause).
_REASON_NEGATION = re.compile(
    r"(?:不是|并不是|并非|不算|\bnot\b|\bisn'?t\b|\bwasn'?t\b|\baren'?t\b|\bweren'?t\b|\bnever\b|\bno longer\b)"
    r"[^,，;；。.!！?？]{0,12}$"
)
# A reason that replaces the one given before: "actually", "其实", "说错了", "I meant"...
_REASON_CORRECTION = re.compile(r"其实|实际上|\bactually\b|\bin fact\b|\brather\b")


def _reasons_named(low: str) -> tuple[list[str], list[str]]:
    """(the reasons named, the reasons said not to be it), in the order of _REASON_WORDS."""
    named, negated = [], []
    for reason, pattern in _REASON_WORDS:
        for match in re.finditer(pattern, low):
            if _REASON_NEGATION.search(low[max(0, match.start() - 16) : match.start()]):
                if reason not in negated:
                    negated.append(reason)
            elif reason not in named:
                named.append(reason)
    return named, negated


def parse_hardship_reason(text: str) -> str | None:
    """The hardship category the borrower describes, or None when no known reason is named; a
    reason said not to be it ("不是失业，是生病了") is not the reason."""
    if not isinstance(text, str) or not text.strip():
        return None
    named, _ = _reasons_named(normalize(text).lower())
    return named[0] if named else None


def parse_reason_correction(text: str, current: str | None) -> str | None:
    """The reason that replaces `current`, the reason given before: the message names another
    reason and corrects ("不是失业，是生病了", "actually it's not job loss, I'm ill", "说错了，是生意亏了",
    "actually I'm sick"). None when nothing was given before, the same reason is named again, or
    a reason is only added ("my wife is sick" is a new fact, not a correction)."""
    if not current or not isinstance(text, str) or not text.strip():
        return None
    low = normalize(text).lower()
    named, negated = _reasons_named(low)
    if not named or named[0] == current:
        return None
    corrects = bool(negated) or says_correction(text) or bool(_REASON_CORRECTION.search(low))
    return named[0] if corrects else None


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
