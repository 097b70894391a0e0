"""pay_now (how to pay, amount to bring the account current) and already_paid (a payment
claim: what the borrower says was paid, what the ledger shows, and a payment trace in the
ledger when no such payment is on the account).

A borrower who simply forgot ("我忘了还了，怎么还", "I forgot, how do I pay") gets the quick
way to pay, never the hardship questionnaire, whichever of pay_now, already_paid,
report_hardship or request_payment_plan the NLU read (the hardship feature hands such a
message to pay_now's action)."""

from __future__ import annotations

import logging
import re
from datetime import date, timedelta

from actions import readings, texts
from actions.base import LedgerAction, call
from actions.ledger_client import BorrowerAuth, LedgerError
from actions.loan_status import describe_open_items, is_overdue, load_status
from actions.loans import select_loan
from actions.parsing import money, normalize, parse_amount, says_forgot, to_money_string, to_simplified
from actions.turn import Turn
from huanxin_redaction import mask_identity_numbers

logger = logging.getLogger(__name__)


class ActionPayNow(LedgerAction):
    resets_awaiting = True
    side_question = True

    def name(self) -> str:
        return "action_pay_now"

    async def handle(self, turn: Turn) -> None:
        auth = turn.require_auth("pay_now")
        if auth is None or not await select_loan(turn, auth, "pay_now"):
            return
        status = await load_status(turn, auth)
        if status.get("closed"):
            turn.say("status_closed", loan_number=status.get("loan_number") or turn.loan_number())
            return
        # the message this answers: pay_now's own, or the one another intent's action handed over
        answered = turn.message_for(turn.resumed_intent or turn.latest_intent or "pay_now")
        forgot = is_overdue(status) and says_forgot(answered)
        if forgot:
            turn.say("pay_forgot")  # "I forgot, how do I pay": no questionnaire, just the way to pay
        turn.say("pay_how", loan_number=status.get("loan_number") or turn.loan_number())
        if is_overdue(status):
            turn.say(
                "pay_bring_current",
                amount=turn.money(status.get("amount_to_bring_current")),
                payoff=turn.money(status.get("payoff_amount")),
            )
            if forgot:
                turn.say("pay_forgot_more")
        else:
            turn.say("pay_nothing_overdue", payoff=turn.money(status.get("payoff_amount")))
            if status.get("next_due"):
                turn.say(
                    "status_next_due",
                    amount=turn.money(status["next_due"].get("amount")),
                    due_date=turn.date(status["next_due"].get("due_date")),
                )


def _received_on(payment: dict) -> date | None:
    try:
        return date.fromisoformat(str(payment.get("received_on"))[:10])
    except ValueError:
        return None


# ---------------------------------------------------------------- reading a payment claim
# Dates of a payment are in the past ("上周三", "last Monday", "the 18th"): read here, not with
# parsing.parse_date, which reads the future dates of a promise.

_WEEKDAYS_ZH = {"一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6}
_WEEKDAYS_EN = {
    "monday": 0, "mon": 0, "tuesday": 1, "tue": 1, "tues": 1, "wednesday": 2, "wed": 2, "thursday": 3,
    "thu": 3, "thur": 3, "thurs": 3, "friday": 4, "fri": 4, "saturday": 5, "sat": 5, "sunday": 6, "sun": 6,
}  # fmt: skip
_MONTHS_EN = {
    m: i + 1
    for i, names in enumerate(
        (("jan", "january"), ("feb", "february"), ("mar", "march"), ("apr", "april"), ("may",), ("jun", "june"),
         ("jul", "july"), ("aug", "august"), ("sep", "sept", "september"), ("oct", "october"), ("nov", "november"),
         ("dec", "december"))
    )
    for m in names
}  # fmt: skip
_SMALL = {"一": 1, "两": 2, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9, "十": 10}
_REFERENCE_CUE = re.compile(
    r"(?:流水号|交易号|交易单号|交易流水|参考号|凭证号|单号|订单号|回单号|业务编号|"
    r"reference(?:\s*(?:no|number|code))?|ref(?:\s*no)?|transaction\s*(?:id|no|number|code)?|txn(?:\s*id)?|"
    r"serial\s*(?:no|number))\.?\s*(?:is|是|为|:|：|#)?\s*([A-Za-z0-9][A-Za-z0-9-]{3,63})",
    re.I,
)
_BARE_REFERENCE = re.compile(r"(?<![A-Za-z0-9])([A-Za-z0-9][A-Za-z0-9-]{3,63})(?![A-Za-z0-9])")
_NO_ANSWER = re.compile(
    r"没有|没|不知道|不记得|忘了|记不清|不清楚|找不到|\bno\b|\bnone\b|\bnope\b|don'?t (?:know|have|remember)|not sure|"
    r"can'?t (?:remember|find)|no idea|n/?a\b|^/deny"
)
_STOP = re.compile(r"算了|不查了|不用查|不用了|取消|never ?mind|forget it|stop|cancel")
_CHANNELS = (
    (re.compile(r"微信|wechat|weixin", re.I), "wechat_pay"),
    (re.compile(r"支付宝|alipay", re.I), "alipay"),
    (re.compile(r"银行卡|刷卡|\bcard\b", re.I), "card"),
    (re.compile(r"转账|汇款|网银|银行|bank|transfer|wire", re.I), "bank_transfer"),
)
MATCH_DAYS_BEFORE, MATCH_DAYS_AFTER = 2, 5  # a transfer arrives a few working days after it is sent
AMOUNT_ONLY_DAYS = 30  # with no day said, a payment of that amount in the last 30 days matches


def _number(token: str) -> int | None:
    if token.isdigit():
        return int(token)
    if token in _SMALL:
        return _SMALL[token]
    if len(token) == 2 and token[0] == "十" and token[1] in _SMALL:
        return 10 + _SMALL[token[1]]
    if len(token) in (2, 3) and token[0] in _SMALL and token[1] == "十":
        return _SMALL[token[0]] * 10 + (_SMALL[token[2]] if len(token) == 3 and token[2] in _SMALL else 0)
    return None


def _past(year: int, month: int, day: int, today: date) -> date | None:
    """That month and day in ``year``, or in the year before when it would be after today."""
    for y in (year, year - 1):
        try:
            candidate = date(y, month, day)
        except ValueError:
            return None
        if candidate <= today:
            return candidate
    return None


def _weekday_before(today: date, weekday: int, weeks_back: int = 0) -> date:
    """The latest such weekday on or before today (``weeks_back`` = 1: in last calendar week)."""
    if weeks_back:
        monday = today - timedelta(days=today.weekday() + 7 * weeks_back)
        return monday + timedelta(days=weekday)
    return today - timedelta(days=(today.weekday() - weekday) % 7)


def parse_paid_on(text: str, today: date) -> tuple[date, date] | None:
    """The day (or days) a payment was made, as the first and last possible day: "昨天",
    "上周三", "11月18号", "last Monday", "3 days ago", "上周" (the whole week). None when no past
    day is said."""
    if not isinstance(text, str) or not text.strip():
        return None
    s = to_simplified(normalize(text))
    low = s.lower()
    m = re.search(r"(?<!\d)(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})(?!\d)", s)
    if m:
        try:
            day = date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
        except ValueError:
            return None
        return (day, day) if day <= today else None
    if re.search(r"大前天", s):
        return _one(today - timedelta(days=3))
    if re.search(r"前天|day before yesterday", low):
        return _one(today - timedelta(days=2))
    if re.search(r"昨天|昨日|昨晚|yesterday|last night", low):
        return _one(today - timedelta(days=1))
    if re.search(r"今天|今日|今早|今晚|刚才|刚刚|\btoday\b|this morning|just now|an hour ago", low):
        return _one(today)
    m = re.search(r"([\d一二两三四五六七八九十]{1,3})\s*天(?:以|之)?前", s) or re.search(
        r"\b(\d{1,3})\s*days?\s+ago", low
    )
    if m:
        n = _number(m.group(1))
        return _one(today - timedelta(days=n)) if n is not None and n <= 366 else None
    m = re.search(r"(上上|上个?|这个?|本)?\s*(?:周|星期|礼拜)([一二三四五六日天])", s)
    if m:
        prefix = m.group(1) or ""
        back = 2 if prefix.startswith("上上") else 1 if prefix.startswith("上") else 0
        day = _weekday_before(today, _WEEKDAYS_ZH[m.group(2)], back)
        return _one(day) if day <= today else _one(day - timedelta(days=7))
    m = re.search(r"\b(last|this|on|past)?\s*(" + "|".join(sorted(_WEEKDAYS_EN, key=len, reverse=True)) + r")\b", low)
    if m:  # English "last Monday" / "on Monday": the most recent one (before today for "last")
        ago = (today.weekday() - _WEEKDAYS_EN[m.group(2)]) % 7
        return _one(today - timedelta(days=ago or (7 if m.group(1) == "last" else 0)))
    m = re.search(
        r"(?<!\d)(\d{1,2}|[一二三四五六七八九十]{1,3})\s*月\s*(\d{1,2}|[一二三四五六七八九十]{1,3})\s*[号日]?", s
    )
    if m:
        month, day_of_month = _number(m.group(1)), _number(m.group(2))
        found = _past(today.year, month, day_of_month, today) if month and day_of_month else None
        return _one(found) if found else None
    months = "|".join(sorted(_MONTHS_EN, key=len, reverse=True))
    m = re.search(r"\b(" + months + r")\.?\s+(\d{1,2})(?:st|nd|rd|th)?\b", low) or re.search(
        r"\b(\d{1,2})(?:st|nd|rd|th)?\s+(?:of\s+)?(" + months + r")\b", low
    )
    if m:
        a, b = m.group(1), m.group(2)
        month, day_of_month = (_MONTHS_EN[a], int(b)) if a in _MONTHS_EN else (_MONTHS_EN[b], int(a))
        found = _past(today.year, month, day_of_month, today)
        return _one(found) if found else None
    m = re.search(r"(?<![\d月])(\d{1,2}|[一二三四五六七八九十]{1,3})\s*[号日](?!元)", s) or re.search(
        r"\bthe\s+(\d{1,2})(?:st|nd|rd|th)?\b|\bon\s+the\s+(\d{1,2})", low
    )
    if m:
        n = _number(next(g for g in m.groups() if g))
        if n and 1 <= n <= 31:
            this_month = _past(today.year, today.month, n, today) if n <= today.day else None
            if this_month:
                return _one(this_month)
            previous = (today.replace(day=1) - timedelta(days=1)).replace(day=1)
            try:
                return _one(previous.replace(day=n))
            except ValueError:
                return None
    if re.search(r"上上(?:周|星期|礼拜)", s):
        monday = today - timedelta(days=today.weekday() + 14)
        return monday, monday + timedelta(days=6)
    if re.search(r"上(?:个)?(?:周|星期|礼拜)|\blast week\b", low):
        monday = today - timedelta(days=today.weekday() + 7)
        return monday, monday + timedelta(days=6)
    if re.search(r"(?:这|本)(?:个)?(?:周|星期|礼拜)|\bthis week\b|\bearlier this week\b", low):
        return today - timedelta(days=today.weekday()), today
    if re.search(r"前几天|几天前|前两天|这几天|最近|\ba few days ago\b|\bthe other day\b|\brecently\b", low):
        return today - timedelta(days=7), today
    if re.search(r"上(?:个)?月|\blast month\b", low):
        end = today.replace(day=1) - timedelta(days=1)
        return end.replace(day=1), end
    return None


def _one(day: date) -> tuple[date, date]:
    return day, day


def parse_payment_reference(text: str, asked: bool = False) -> str | None:
    """A transfer's reference ("流水号 TX20261119AB", "ref 88123"); when the assistant has just
    asked for it, a lone code of letters and digits counts too. A phone or ID-card number is
    never taken as one."""
    if not isinstance(text, str):
        return None
    s = normalize(text)
    # a reference has a digit: "no, I don't have a reference" names none
    candidates = [m.group(1) for m in _REFERENCE_CUE.finditer(s) if any(c.isdigit() for c in m.group(1))]
    if not candidates and asked:
        candidates = [t for t in _BARE_REFERENCE.findall(s) if any(c.isdigit() for c in t)]
    for token in candidates:
        if mask_identity_numbers(token) == token:  # the one identity rule: never a phone or ID number
            return token
    return None


def parse_channel_paid(text: str) -> str | None:
    for pattern, channel in _CHANNELS:
        if pattern.search(text or ""):
            return channel
    return None


def read_claim(text: str, today: date, asking: str | None = None) -> dict:
    """What a message says of a payment: paid_from/paid_to (ISO), amount (money string),
    reference, channel; ``asking`` is the field the assistant just asked for."""
    facts: dict = {}
    reference = parse_payment_reference(text, asked=asking == "reference")
    rest = text.replace(reference, " ") if reference else text
    if reference:
        facts["reference"] = reference
    span = parse_paid_on(rest, today)
    if span:
        facts["paid_from"], facts["paid_to"] = span[0].isoformat(), span[1].isoformat()
    amount = parse_amount(rest)
    if amount is not None and amount > 0 and not (asking == "reference" and reference is None):
        facts["amount"] = to_money_string(amount)
    channel = parse_channel_paid(rest)
    if channel:
        facts["channel"] = channel
    return facts


def _span(claim: dict) -> tuple[date, date] | None:
    try:
        return date.fromisoformat(claim["paid_from"]), date.fromisoformat(claim["paid_to"])
    except (KeyError, TypeError, ValueError):
        return None


def exact_day(claim: dict) -> date | None:
    span = _span(claim)
    return span[0] if span and span[0] == span[1] else None


def matching_payment(payments: list, claim: dict, today: date) -> dict | None:
    """The most recent payment on the account that fits the claim: the same reference, or the
    same amount (when said) received within a few days of the day said (or in the last 30 days)."""
    reference = (claim.get("reference") or "").lower()
    amount = money(claim.get("amount"))
    span = _span(claim)
    if amount is None and span is None and not reference:
        return None
    for payment in sorted(payments or [], key=lambda p: _received_on(p) or date.min, reverse=True):
        external = str(payment.get("external_ref") or "").lower()
        if reference and external and (reference in external or external in reference):
            return payment
        if amount is None and span is None:
            continue
        received = _received_on(payment)
        if received is None:
            continue
        if amount is not None and money(payment.get("amount")) != amount:
            continue
        if span is not None:
            if (
                not span[0] - timedelta(days=MATCH_DAYS_BEFORE)
                <= received
                <= span[1] + timedelta(days=MATCH_DAYS_AFTER)
            ):
                continue
        elif received < today - timedelta(days=AMOUNT_ONLY_DAYS):
            continue
        return payment
    return None


CLAIM = "payment_claim"
ASK_ORDER = ("date", "amount", "reference")


class ActionCheckPayment(LedgerAction):
    """already_paid: the day, amount and reference the borrower gives (what is missing asked once
    each, one question at a time; a day or an amount is needed), what the ledger shows, and a
    payment trace in the ledger when no payment matches. Never the fee rules."""

    def name(self) -> str:
        return "action_check_payment"

    @classmethod
    def claims_reply(cls, turn: Turn) -> bool:
        """Read as another intent, a message still answers the question about the payment when
        it gives a day, an amount or a reference, or says it does not know."""
        claim = turn.slot(CLAIM) or {}
        asking = claim.get("asking") if isinstance(claim, dict) else None
        text = turn.latest_text
        return bool(read_claim(text, turn.today, asking)) or bool(_NO_ANSWER.search(normalize(text).lower()))

    async def handle(self, turn: Turn) -> None:
        auth = turn.require_auth("already_paid")
        continuing = turn.slot("awaiting") == CLAIM  # the claim's details: its loan stays
        if auth is None or not await select_loan(turn, auth, "already_paid", continuing=continuing):
            return
        claimed = turn.message_for("already_paid")
        if not continuing and readings.says_cannot_pay(claimed) and not readings.says_paid(claimed):
            await turn.answer_as("report_hardship", "already_paid")  # "我还不上了" is no payment made
            return
        if not continuing and says_forgot(claimed):  # "我忘了还了": the quick way to pay
            await ActionPayNow(self._ledger, self._vault, self._today).handle(turn)
            return
        if not continuing and turn.slot("awaiting"):
            turn.set("awaiting", None)  # a new question: whatever was asked before is dropped
        claim: dict = dict(turn.slot(CLAIM) or {}) if continuing else {}
        claim.setdefault("asked", [])
        text = turn.latest_text if continuing else turn.message_for("already_paid")
        asking = claim.pop("asking", None)
        if continuing and _STOP.search(normalize(text).lower()) and not read_claim(text, turn.today, asking):
            self._done(turn)
            turn.say("ok_noted")
            return
        claim.update(read_claim(text, turn.today, asking))
        if not (claim.get("amount") or _span(claim)):
            for field in ("date", "amount"):
                if field not in claim["asked"]:
                    self._ask(turn, claim, field)
                    return
            self._done(turn)
            turn.offer_human("claim_need_day_or_amount")
            return
        payments = await call(turn.ledger.get_payments(auth, turn.current_loan()))
        found = matching_payment(payments, claim, turn.today)
        if found is not None:
            self._done(turn)
            await self._found(turn, auth, found)
            return
        if not claim.get("checked"):
            claim["checked"] = True
            self._not_found(turn, claim, payments)
        for field in ASK_ORDER:
            if field not in claim["asked"] and not self._known(claim, field):
                self._ask(turn, claim, field)
                return
        await self._open_trace(turn, auth, claim)

    @staticmethod
    def _known(claim: dict, field: str) -> bool:
        if field == "date":
            return exact_day(claim) is not None
        return bool(claim.get(field))

    @staticmethod
    def _ask(turn: Turn, claim: dict, field: str) -> None:
        claim["asked"] = [*claim["asked"], field]
        claim["asking"] = field
        turn.set(CLAIM, claim)
        turn.set("awaiting", CLAIM)
        turn.say(f"claim_ask_{field}")

    @staticmethod
    def _done(turn: Turn) -> None:
        turn.set(CLAIM, None)
        turn.set("awaiting", None)

    async def _found(self, turn: Turn, auth: BorrowerAuth, payment: dict) -> None:
        channel = payment.get("channel") or ""
        turn.say(
            "claim_found",
            loan_number=turn.loan_number(),
            amount=turn.money(payment.get("amount")),
            date=turn.date(payment.get("received_on")),
            channel=texts.name_of(texts.CHANNEL_NAMES, channel, turn.lang) if channel else "-",
        )
        status = await load_status(turn, auth)
        if status.get("closed"):
            turn.say("status_closed", loan_number=status.get("loan_number") or turn.loan_number())
            return
        turn.say("claim_applied")
        if is_overdue(status):
            turn.say("paid_still_overdue", amount=turn.money(status.get("amount_to_bring_current")))
        else:
            turn.say("paid_now_current")
        describe_open_items(turn, status)

    @staticmethod
    def _not_found(turn: Turn, claim: dict, payments: list) -> None:
        parts = []
        span = _span(claim)
        if span and span[0] == span[1]:
            parts.append(texts.text("claim_what_date", turn.lang, date=turn.date(span[0])))
        elif span:
            parts.append(texts.text("claim_what_range", turn.lang, start=turn.date(span[0]), end=turn.date(span[1])))
        if claim.get("amount"):
            parts.append(texts.text("claim_what_amount", turn.lang, amount=turn.money(claim["amount"])))
        if claim.get("reference"):
            parts.append(texts.text("claim_what_reference", turn.lang, reference=claim["reference"]))
        turn.say("claim_not_found", what=("、" if turn.lang == "zh" else " ").join(parts))
        latest = max(payments or [], key=lambda p: _received_on(p) or date.min, default=None)
        if latest is not None and _received_on(latest) is not None:
            turn.say(
                "claim_latest_payment",
                amount=turn.money(latest.get("amount")),
                date=turn.date(latest.get("received_on")),
            )
        else:
            turn.say("claim_no_payments")

    async def _open_trace(self, turn: Turn, auth: BorrowerAuth, claim: dict) -> None:
        self._done(turn)
        paid_on = exact_day(claim)
        amount = money(claim.get("amount"))
        if paid_on is None and amount is None:
            turn.offer_human("claim_need_day_or_amount")
            return
        try:
            trace = await call(
                turn.ledger.create_payment_trace(
                    auth,
                    turn.current_loan(),
                    paid_on=paid_on,
                    amount=amount,
                    reference=claim.get("reference"),
                    channel=claim.get("channel"),
                )
            )
        except LedgerError as exc:
            logger.warning("payment trace of %s not opened: %s", turn.conversation_id, exc.code)
            turn.offer_human("trace_not_opened")
            return
        turn.say(
            "trace_opened", case_number=trace.get("case_number"), reply_due_by=turn.date(trace.get("reply_due_by"))
        )
        turn.say("trace_meanwhile")
