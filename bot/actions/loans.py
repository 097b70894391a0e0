"""The borrower's loans as the conversation knows them, and which one a request is about.

After verification the conversation keeps the list of the borrower's loans (slot
`borrower_loans`: loan number, product, and whether it is overdue once a status was read; no
identity data) and, in `loan_number`, the loan the current request is about. A borrower with
one loan never hears of this: that loan is the one. With several, a request is about:

1. the loan the message names: its number (HX...), its last digits after 尾号 / "ending", its
   product (分付, 现金贷, "cash loan"...) when only one of the loans is that product, or "the
   overdue one" / "the one that is not overdue" when exactly one loan is so;
2. inside a form (a question answered in passing), the loan of the form;
3. for a promise to pay or a fee waiver (money already overdue), when exactly one loan is
   overdue: that loan, and the reply says which it assumed and that another can be named;
4. otherwise the assistant asks, one button per loan (`awaiting` = loan_choice, the request
   kept in `pending_intent`); the reply (a button, a loan named, "第二个", "0009") continues
   the request with that loan: ``answer_loan_question``, called by the dialogue and fallback
   features, hands it to the action the dispatch maps the request to.

Every reply about one loan of several starts by naming it (product and loan number). A status
question covers every loan, one GET status each (``statuses``).
"""

from __future__ import annotations

import re

from actions import texts
from actions.base import call
from actions.ledger_client import BorrowerAuth
from actions.loan_status import is_overdue
from actions.parsing import normalize, parse_loan_number, parse_plan_choice
from actions.slots import BORROWER_LOANS
from actions.turn import Turn

LOAN_CHOICE = "loan_choice"  # the value of `awaiting` while "which loan?" waits for its answer
# Requests about money already overdue: with exactly one overdue loan, that loan is assumed.
ASSUME_OVERDUE = ("promise_to_pay", "request_fee_waiver")

_PRODUCT_WORDS = {
    "fenfu": re.compile(r"分付|\bfen ?fu\b|\binstal+ment purchase\b|\bpurchase\b|购物"),
    "cash_loan": re.compile(r"现金贷|现金借款|现金那|现金的那|借的现金|\bcash[- ]loan\b|\bcash one\b"),
    "consumer_instalment": re.compile(r"消费分期|消费贷|\binstal+ment loan\b|\bconsumer loan\b"),
}
_NOT_OVERDUE = re.compile(
    r"(?:没|没有|未|不是|还没|没在)逾期|没到期|没有?拖欠|正常的那|正常那|"
    r"\bnot (?:overdue|late|behind|past[- ]due)\b|\bup[- ]to[- ]date one\b|\bcurrent one\b|\bthe current loan\b"
)
_OVERDUE = re.compile(r"逾期|欠着的那|拖欠的|没还的那|\boverdue\b|\blate one\b|\bpast[- ]due\b|\bbehind\b")
_DIGITS_AFTER = re.compile(
    r"(?:尾号|尾数|末尾|末四位|后四位|后几位|结尾|\bending(?: in| with)?|\bends? (?:in|with)|"
    r"\blast (?:four |4 )?digits?(?: are| is)?)\s*[:：是为]?\s*(\d{1,10})(?!\d)",
    re.I,
)
_BARE_DIGITS = re.compile(r"\s*(?:HX)?\s*(\d{2,10})\s*[.。!！]?\s*", re.I)


# ---------------------------------------------------------------- pure


def parse_loan_reference(text: str, loans: list[dict], *, answering: bool = False, by_state: bool = True) -> str | None:
    """The loan number of the one loan among `loans` that `text` names, or None (none or
    several named). `answering`: the text answers "which loan?", so bare digits ("0009") and
    positions ("第二个", "the first") count too. `by_state`: "the overdue one" / "the one not
    overdue" count (not in a status question, where "逾期多少" asks about every loan)."""
    if not isinstance(text, str) or not text.strip() or not loans:
        return None
    s = normalize(text)
    low = s.lower()
    numbers = [str(loan.get("loan_number")) for loan in loans]

    def by_suffix(digits: str) -> str | None:
        found = [n for n in numbers if n.endswith(digits)]
        return found[0] if len(found) == 1 else None

    full = parse_loan_number(s)
    if full in numbers:
        return full
    m = _DIGITS_AFTER.search(s)
    if m and by_suffix(m.group(1)):
        return by_suffix(m.group(1))
    if answering:
        m = _BARE_DIGITS.fullmatch(s)
        if m and by_suffix(m.group(1)):
            return by_suffix(m.group(1))
    named = {
        str(loan.get("loan_number"))
        for product, pattern in _PRODUCT_WORDS.items()
        if pattern.search(low)
        for loan in loans
        if loan.get("product") == product
    }
    products = [loan.get("product") for loan in loans]
    named = {n for n in named if products.count(loans[numbers.index(n)].get("product")) == 1}
    if len(named) == 1:
        return named.pop()
    if by_state and _NOT_OVERDUE.search(low):
        return _only([loan for loan in loans if loan.get("overdue") is False])
    if by_state and _OVERDUE.search(low):
        return _only([loan for loan in loans if loan.get("overdue") is True])
    if answering:
        position = parse_plan_choice(s)
        if isinstance(position, int):
            index = len(numbers) if position == -1 else position
            return numbers[index - 1] if 1 <= index <= len(numbers) else None
    return None


def _only(loans: list[dict]) -> str | None:
    return str(loans[0]["loan_number"]) if len(loans) == 1 else None


# ---------------------------------------------------------------- the conversation's loans


def loan_records(turn: Turn) -> list[dict]:
    """The borrower's loans as kept in the conversation: [{loan_number, product, overdue}]."""
    records = turn.slot(BORROWER_LOANS)
    if not isinstance(records, list):
        return []
    return [r for r in records if isinstance(r, dict) and r.get("loan_number")]


def has_several_loans(turn: Turn) -> bool:
    return len(loan_records(turn)) > 1


def loan_label(turn: Turn, record: dict) -> str:
    """How a reply names a loan: its product and its number ("分付 HX0000000008")."""
    product = texts.name_of(texts.PRODUCT_NAMES, str(record.get("product") or ""), turn.lang)
    return f"{product} {record['loan_number']}".strip()


def _record(turn: Turn, loan_number: str | None) -> dict | None:
    return next((r for r in loan_records(turn) if r["loan_number"] == loan_number), None)


async def remember_loans(turn: Turn, auth: BorrowerAuth, borrower_id: str | None, given: str | None) -> None:
    """Right after verification: the borrower's loans from the profile (GET borrower); the only
    loan becomes the conversation's loan. With several, none is chosen until a request names
    one (the loan number given to verify is not taken as a choice)."""
    records: list[dict] = []
    if borrower_id:
        profile = await call(turn.ledger.get_borrower(auth, borrower_id))
        records = [
            {"loan_number": str(loan["loan_number"]), "product": loan.get("product"), "overdue": None}
            for loan in (profile or {}).get("loans") or []
            if isinstance(loan, dict) and loan.get("loan_number")
        ]
    turn.set(BORROWER_LOANS, records)
    if len(records) == 1:
        turn.set("loan_number", records[0]["loan_number"])
    else:
        turn.set("loan_number", given if not records else None)


async def statuses(turn: Turn, auth: BorrowerAuth) -> list[tuple[dict, dict]]:
    """(loan, LoanStatus) for each of the borrower's loans, one GET status each; the overdue
    flags kept in the conversation are refreshed."""
    pairs = []
    for record in loan_records(turn):
        status = await call(turn.ledger.get_loan_status(auth, record["loan_number"]))
        pairs.append(({**record, "overdue": is_overdue(status)}, status))
    turn.set(BORROWER_LOANS, [record for record, _ in pairs])
    return pairs


def say_overview(turn: Turn, pairs: list[tuple[dict, dict]]) -> None:
    """One line per loan: which are overdue (days and amount) and which are not."""
    lines = [texts.text("loans_overview", turn.lang, count=len(pairs))]
    for record, status in pairs:
        label = loan_label(turn, record)
        if status.get("closed"):
            lines.append(texts.text("loans_line_closed", turn.lang, label=label))
        elif record["overdue"]:
            total = turn.money((status.get("overdue") or {}).get("total"))
            lines.append(
                texts.text("loans_line_overdue", turn.lang, label=label, dpd=status.get("days_past_due"), total=total)
            )
        else:
            lines.append(texts.text("loans_line_current", turn.lang, label=label))
    turn.say_raw("\n".join(lines))


def name_the_loan(turn: Turn) -> None:
    """Starts a reply about the conversation's loan by naming it, when the borrower has several."""
    record = _record(turn, turn.loan_number())
    if has_several_loans(turn) and record is not None:
        turn.say("loan_about", label=loan_label(turn, record))


def referenced_loan(turn: Turn, intent: str | None = None) -> str | None:
    """The loan the latest message (or the message of `intent`) names, by button or by words."""
    records = loan_records(turn)
    chosen = turn.entity("choice")
    if chosen and _record(turn, chosen) is not None:
        return chosen
    for message in (turn.latest_text, turn.message_for(intent) if intent else ""):
        found = parse_loan_reference(message, records)
        if found:
            return found
    return None


def _choose(turn: Turn, loan_number: str) -> None:
    turn.set("loan_number", loan_number)
    turn.chosen_loan = loan_number


async def select_loan(turn: Turn, auth: BorrowerAuth, intent: str, *, continuing: bool = False) -> bool:
    """Settles which loan the request `intent` is about (the slot `loan_number`) and names it.
    True when the request can go on; False after asking the borrower which loan (the request
    then continues when they answer). `continuing`: the request was started before (its
    details are being given), so its loan stays unless the message names another."""
    records = loan_records(turn)
    if len(records) <= 1:
        return True  # one loan (or none: the ledger's not_found follows): nothing to choose
    if turn.slot("awaiting") == LOAN_CHOICE and not turn.chosen_loan:
        turn.set("awaiting", None)  # a new request instead of an answer: the question is dropped
        turn.set("pending_intent", None)
    if turn.chosen_loan and _record(turn, turn.chosen_loan) is not None:
        name_the_loan(turn)  # just chosen by the borrower's answer to "which loan?"
        return True
    named = referenced_loan(turn, None if continuing else intent)
    current = _record(turn, turn.loan_number())
    if named is not None:
        if not (continuing and current is not None and named == current["loan_number"]):
            _choose(turn, named)
            name_the_loan(turn)
        return True
    if current is not None and continuing:
        return True
    if current is not None and (turn.tracker.active_loop or {}).get("name"):
        name_the_loan(turn)  # a question answered in passing inside a form: the form's loan
        return True
    records = await _with_flags(turn, auth)
    overdue = [r for r in records if r.get("overdue")]
    if intent in ASSUME_OVERDUE and len(overdue) == 1:
        _choose(turn, overdue[0]["loan_number"])
        turn.say("loan_assumed", label=loan_label(turn, overdue[0]))
        return True
    ask_which_loan(turn, intent, records)
    return False


async def _with_flags(turn: Turn, auth: BorrowerAuth) -> list[dict]:
    records = loan_records(turn)
    if any(r.get("overdue") is None for r in records):
        records = [record for record, _ in await statuses(turn, auth)]
    return records


def ask_which_loan(turn: Turn, intent: str | None, records: list[dict], *, again: bool = False) -> None:
    """ "Which loan?" with one button per loan (its product, number, overdue or not)."""
    sep = ("（", "）") if turn.lang == "zh" else (" (", ")")
    buttons = []
    for record in records:
        title = loan_label(turn, record)
        if record.get("overdue") is not None:
            state = texts.name_of(
                texts.BUTTON_LABELS, "loan_overdue" if record["overdue"] else "loan_current", turn.lang
            )
            title = f"{title}{sep[0]}{state}{sep[1]}"
        buttons.append({"title": title, "payload": texts.choice_payload(record["loan_number"])})
    if again:
        buttons.append(texts.button("human", "/request_human", turn.lang))
    turn.set("pending_intent", intent)
    turn.set("awaiting", LOAN_CHOICE)
    turn.say("loan_which_again" if again else "loan_which", buttons=buttons, count=len(records))


async def answer_loan_question(turn: Turn, *, reask: bool) -> bool:
    """The borrower's reply while "which loan?" waits (awaiting loan_choice). When it names one
    of their loans, the request that waited (`pending_intent`) continues with that loan,
    answered by the action the dispatch maps it to. A reply that names none: asked again with
    the buttons (and a person offered) when `reask`; False otherwise (and when no such
    question waits), so that the caller answers the message its own way."""
    if turn.slot("awaiting") != LOAN_CHOICE:
        return False
    records = loan_records(turn)
    chosen = turn.entity("choice")
    if not chosen or _record(turn, chosen) is None:
        chosen = parse_loan_reference(turn.latest_text, records, answering=True)
    if chosen is None:
        if reask:
            ask_which_loan(turn, turn.slot("pending_intent"), records, again=True)
        return reask
    intent = turn.slot("pending_intent")
    turn.set("awaiting", None)
    turn.set("pending_intent", None)
    _choose(turn, chosen)
    handler = turn.dispatch.handler_for(intent)
    if handler is None:
        name_the_loan(turn)
        turn.say("ok_noted")
        return True
    turn.resumed_intent = intent
    await handler(turn.ledger, turn.vault, lambda: turn.today).handle_safely(turn)
    return True
