"""The conversation suite: dialogues typed the way real borrowers and their relatives type
(tests/e2e/conversations/*.yml, both languages), each over the real stack with a fresh copy of
a demo borrower (`ledger copy-demo`), so that no dialogue sees another's records. Outcomes are
checked in the ledger (disputes, complaints, escalations, arrangements, promises, payment
traces, hardship answers, contact preferences, verification); what a third party may never
hear is checked in the replies. tests/e2e/conversations/README.md describes the format.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml
from stack_helpers.e2e_stack import DEMO, MONEY_PATTERN, Demo, Reply, ledger_rows, status_figures

HERE = Path(__file__).parent / "conversations"
PERSON = "/request_human"
EXPECTATIONS = {
    "verified",
    "told_nothing",
    "shows_status",
    "person_offered",
    "language",
    "disputes",
    "complaints",
    "escalations",
    "arrangements",
    "promises",
    "payment_traces",
    "hardship",
    "contact",
}
WEEKDAYS_EN = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


@dataclass(frozen=True)
class Dialogue:
    id: str
    borrower: str
    says: tuple[Any, ...]
    expect: dict[str, Any]
    note: str = ""
    source: str = ""


def load_dialogues() -> list[Dialogue]:
    dialogues: list[Dialogue] = []
    for path in sorted(HERE.glob("*.yml")):
        for raw in yaml.safe_load(path.read_text(encoding="utf-8")) or []:
            unknown = set(raw.get("expect", {})) - EXPECTATIONS
            assert not unknown, f"{path.name}: {raw.get('id')}: unknown expectations {sorted(unknown)}"
            assert raw["borrower"] in DEMO, f"{path.name}: {raw['id']}: no demo borrower {raw['borrower']}"
            odd = [s for s in raw["says"] if isinstance(s, bool) or not isinstance(s, (str, int, dict))]
            assert not odd, f"{path.name}: {raw['id']}: quote {odd} (YAML reads yes/no/on as booleans)"
            dialogues.append(
                Dialogue(
                    raw["id"],
                    raw["borrower"],
                    tuple(raw["says"]),
                    raw.get("expect", {}),
                    raw.get("note", ""),
                    path.name,
                )
            )
    ids = [d.id for d in dialogues]
    assert len(ids) == len(set(ids)), "dialogue ids must be unique"
    return dialogues


DIALOGUES = load_dialogues()


@dataclass
class Copy:
    """The fresh copy of a demo borrower a dialogue talks about."""

    who: Demo
    borrower_id: str
    loan_ids: dict[str, str] = field(default_factory=dict)  # loan number -> id


@pytest.fixture(scope="session")
def copies(database_url) -> dict[str, Copy]:
    """One copy per dialogue, made in one call of the ledger's CLI before the first dialogue."""
    result = subprocess.run(
        [sys.executable, "-m", "ledger.cli", "copy-demo", *(d.borrower for d in DIALOGUES)],
        env=os.environ,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    made = json.loads(result.stdout)
    out: dict[str, Copy] = {}
    for dialogue, c in zip(DIALOGUES, made, strict=True):
        demo = DEMO[c["key"]]
        who = Demo(demo.key, demo.name, demo.language, c["phone"], demo.dob, demo.id_last4, tuple(c["loan_numbers"]))
        rows = [
            ledger_rows(database_url, "SELECT id, borrower_id FROM loans WHERE loan_number = :n", n=number)[0]
            for number in who.loans
        ]
        out[dialogue.id] = Copy(who, rows[0]["borrower_id"], {n: r["id"] for n, r in zip(who.loans, rows, strict=True)})
    return out


@pytest.fixture(scope="session")
def today(ledger) -> date:
    """The ledger's today (Asia/Shanghai), read off a status."""
    session = ledger.verify(DEMO["D5"])
    return date.fromisoformat(session.status(DEMO["D5"].loan_number)["as_of"])


# ---------------------------------------------------------------- what a borrower types


def _date_words(day: date, lang: str) -> str:
    return f"{day.month}月{day.day}日" if lang == "zh" else f"{day.day} {day.strftime('%B')}"


def fill(template: str, who: Demo, today: date) -> str:
    """Placeholders: {phone} {phone_spaced} {dob} {dob_zh} {dob_en} {id_last4} {loan1} {loan2}
    {loan1_tail} (last four digits) and {day+N:zh} / {day+N:en} / {day-N:...} (a date N days
    from the ledger's today)."""
    dob = date.fromisoformat(who.dob)
    values = {
        "phone": who.phone,
        "phone_spaced": f"{who.phone[:3]} {who.phone[3:7]} {who.phone[7:]}",
        "dob": who.dob,
        "dob_zh": f"{dob.year}年{dob.month}月{dob.day}日",
        "dob_en": f"{dob.day} {dob.strftime('%B')} {dob.year}",
        "id_last4": who.id_last4,
        "loan1": who.loans[0],
        "loan1_tail": who.loans[0][-4:],
    }
    if len(who.loans) > 1:
        values["loan2"] = who.loans[1]
        values["loan2_tail"] = who.loans[1][-4:]
    out = template
    while "{day" in out:
        start = out.index("{day")
        end = out.index("}", start)
        offset, lang = out[start + 4 : end].split(":")
        out = out[:start] + _date_words(today + timedelta(days=int(offset)), lang) + out[end + 1 :]
    return out.format(**values)


def say_all(chat, dialogue: Dialogue, who: Demo, today: date) -> list[Reply]:
    """Each step is a message, {tap: <part of a button title>} (its payload is sent), or
    {verify: <first message>} (the message, then phone, date of birth and ID digits)."""
    replies: list[Reply] = []
    for step in dialogue.says:
        if isinstance(step, dict) and "tap" in step:
            assert replies, f"{dialogue.id}: a tap needs a reply before it"
            replies.append(chat.say(replies[-1].button(str(step["tap"]))["payload"]))
        elif isinstance(step, dict) and "verify" in step:
            replies.append(chat.say(fill(step["verify"], who, today)))
            for answer in (who.phone, who.dob, who.id_last4):
                replies.append(chat.say(answer))
        else:
            replies.append(chat.say(fill(str(step), who, today)))
    return replies


# ---------------------------------------------------------------- what the ledger must show


def _rows(database_url: str, sql: str, **params: Any) -> list[dict]:
    return ledger_rows(database_url, sql, **params)


def _loan_index(copy: Copy, loan_id: str) -> int:
    return list(copy.loan_ids.values()).index(loan_id) + 1


def _day(value: Any) -> date:
    """A date column as either driver gives it (a date, or ISO text on SQLite)."""
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def observed(key: str, copy: Copy, conversation: str, database_url: str, today: date) -> Any:
    if key == "verified":
        rows = _rows(database_url, "SELECT id FROM verification_sessions WHERE conversation_id = :c", c=conversation)
        return bool(rows)
    if key == "disputes":
        rows = _rows(database_url, "SELECT status FROM disputes WHERE conversation_id = :c", c=conversation)
        return sorted(r["status"] for r in rows)
    if key == "complaints":
        rows = _rows(database_url, "SELECT status FROM complaints WHERE conversation_id = :c", c=conversation)
        return sorted(r["status"] for r in rows)
    if key == "escalations":
        rows = _rows(database_url, "SELECT reason FROM escalations WHERE conversation_id = :c", c=conversation)
        return sorted(r["reason"] for r in rows)
    if key == "arrangements":
        found = []
        for loan_id in copy.loan_ids.values():
            rows = _rows(
                database_url,
                "SELECT plan_type FROM arrangements WHERE loan_id = :l AND offer_id IS NOT NULL",
                l=loan_id,
            )
            found += [{"plan": r["plan_type"], "loan": _loan_index(copy, loan_id)} for r in rows]
        return found
    if key == "promises":
        found = []
        for loan_id in copy.loan_ids.values():
            rows = _rows(
                database_url,
                "SELECT amount, promised_date, replaced_on FROM promises WHERE loan_id = :l ORDER BY created_at",
                l=loan_id,
            )
            for r in rows:
                promised = _day(r["promised_date"])
                found.append(
                    {
                        "loan": _loan_index(copy, loan_id),
                        "amount": f"{Decimal(str(r['amount'])):.2f}",
                        "days": (promised - today).days,
                        "replaced": r["replaced_on"] is not None,
                    }
                )
        return found
    if key == "payment_traces":
        rows = _rows(
            database_url,
            "SELECT amount, paid_on, reference, loan_id FROM payment_traces WHERE conversation_id = :c",
            c=conversation,
        )
        return [
            {
                "loan": _loan_index(copy, r["loan_id"]),
                "amount": None if r["amount"] is None else f"{Decimal(str(r['amount'])):.2f}",
                "reference": r["reference"],
                "paid_days_ago": None if r["paid_on"] is None else (today - _day(r["paid_on"])).days,
            }
            for r in rows
        ]
    if key == "hardship":
        rows = _rows(
            database_url,
            "SELECT reason, duration, monthly_income, essential_expenses, other_debt_payments FROM hardship_cases "
            "WHERE borrower_id = :b ORDER BY created_at",
            b=copy.borrower_id,
        )
        return [
            {
                "reason": r["reason"],
                "duration": r["duration"],
                "income": f"{Decimal(str(r['monthly_income'])):.2f}",
                "expenses": f"{Decimal(str(r['essential_expenses'])):.2f}",
                "other_debts": f"{Decimal(str(r['other_debt_payments'])):.2f}",
            }
            for r in rows
        ]
    if key == "contact":
        rows = _rows(
            database_url,
            "SELECT stop_all, opted_out_channels FROM contact_preferences WHERE borrower_id = :b",
            b=copy.borrower_id,
        )
        opted = rows[0]["opted_out_channels"]
        opted = json.loads(opted) if isinstance(opted, str) else opted
        return {"stop_all": bool(rows[0]["stop_all"]), "opted_out": sorted(opted)}
    raise AssertionError(f"unknown expectation {key}")


def named_day(name: str, today: date) -> int:
    """Days from today of a day the dialogue names the way the date rule does (bot/README.md):
    weeks run Monday to Sunday; "next Friday" is the Friday of next week; "month_end" the last
    day of this month."""
    if name == "next_friday":
        return (today + timedelta(days=7 - today.weekday() + 4) - today).days
    if name == "month_end":
        following = (today.replace(day=28) + timedelta(days=4)).replace(day=1)
        return (following - timedelta(days=1) - today).days
    raise AssertionError(f"no named day {name!r}")


def resolved(expected: Any, today: date) -> Any:
    if isinstance(expected, dict):
        return {
            k: named_day(v, today) if k == "days" and isinstance(v, str) else resolved(v, today)
            for k, v in expected.items()
        }
    if isinstance(expected, list):
        return [resolved(e, today) for e in expected]
    return expected


def _matches(expected: Any, got: Any) -> bool:
    """Dicts in the expectation name only the fields they check; lists match item by item."""
    if isinstance(expected, dict) and isinstance(got, dict):
        return all(k in got and _matches(v, got[k]) for k, v in expected.items())
    if isinstance(expected, list) and isinstance(got, list):
        return len(expected) == len(got) and all(_matches(e, g) for e, g in zip(expected, got, strict=True))
    return expected == got


def _has_cjk(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


@pytest.mark.parametrize("dialogue", DIALOGUES, ids=[d.id for d in DIALOGUES])
def test_conversation(dialogue: Dialogue, chat, copies, ledger, database_url, today):
    copy = copies[dialogue.id]
    who = copy.who
    c = chat(dialogue.id[:40])
    replies = say_all(c, dialogue, who, today)
    failures = []
    for key, expected in dialogue.expect.items():
        if key == "told_nothing" and expected:
            forbidden = [*who.loans, who.name]
            session = ledger.verify(who)
            for number in who.loans:
                forbidden += [f for f in status_figures(session.status(number), "zh") if len(f) > 3]
                forbidden += [f for f in status_figures(session.status(number), "en") if len(f) > 3]
            for reply in replies:
                leaked = [f for f in forbidden if f in reply.text]
                if leaked or MONEY_PATTERN.search(reply.text):
                    failures.append(f"told a third party {leaked or MONEY_PATTERN.search(reply.text).group()}")
        elif key == "shows_status" and expected:
            session = ledger.verify(who)
            said = "\n".join(r.text for r in replies)
            for number in who.loans:
                status = session.status(number)
                lang = expected if expected in ("zh", "en") else who.language
                missing = [f for f in status_figures(status, lang) if f not in said]
                if missing:
                    failures.append(f"the status of {number} was not shown: missing {missing}")
        elif key == "person_offered":
            offered = any(b.get("payload", "").startswith(PERSON) for r in replies for b in r.buttons)
            if offered != expected:
                failures.append(f"person offered: {offered}, expected {expected}")
        elif key == "language":
            # {last: en} checks the last reply; {from: k, is: zh} every reply from the k-th message on
            spec = expected if isinstance(expected, dict) else {"last": expected}
            checked = replies[-1:] if "last" in spec else replies[int(spec["from"]) - 1 :]
            lang = spec.get("last") or spec["is"]
            for reply in checked:
                if reply.text and _has_cjk(reply.text) != (lang == "zh"):
                    failures.append(f"a reply is not in {lang}: {reply.text[:80]!r}")
        elif key not in ("told_nothing", "shows_status"):
            got = observed(key, copy, c.sender, database_url, today)
            expected = resolved(expected, today)
            if not _matches(expected, got):
                failures.append(f"{key}: expected {expected!r}, the ledger has {got!r}")
    assert not failures, f"{dialogue.source}: {dialogue.id}\n" + "\n".join(failures) + "\n" + c.dump()


def test_the_suite_holds_at_least_80_dialogues_in_both_languages():
    """The bar the suite was built to: >= 80 dialogues, each language well represented."""

    def language(d: Dialogue) -> str:
        first = d.says[0]
        text = first.get("verify", "") if isinstance(first, dict) else str(first)
        return "zh" if _has_cjk(text) else "en"

    counts = {lang: sum(1 for d in DIALOGUES if language(d) == lang) for lang in ("zh", "en")}
    assert len(DIALOGUES) >= 80 and min(counts.values()) >= 30, counts
