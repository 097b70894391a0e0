"""NLU health from facts rows (pure: ledger/domain/nlu_health.py): the intent distribution,
low-confidence and fallback messages, and the intents most often followed by a sign that the
assistant misunderstood (the borrower said no, asked again, fell to a fallback or asked for a
person right after), per language."""

from __future__ import annotations

from datetime import UTC, date, datetime

from ledger.domain.insights import Filters
from ledger.domain.nlu_health import DEFINITIONS, nlu_health


def msg(intent, confidence=0.9, guess=None):
    entry = {"intent": intent, "confidence": confidence}
    if intent == "nlu_fallback":
        entry |= {"guess": guess, "guess_confidence": 0.2 if guess else None}
    return entry


def row(conversation, intents, language="zh", day=2):
    return {
        "conversation_id": conversation,
        "started_at": datetime(2026, 11, day, 9, tzinfo=UTC),
        "languages": [language],
        "channel": "web",
        "intents": intents,
    }


ROWS = [
    row("c1", [msg("ask_fees", 0.4), msg("deny"), msg("ask_overdue_status")]),
    row("c2", [msg("ask_fees", 0.95), msg("ask_fees", 0.9), msg("nlu_fallback", 0.2, "pay_now")]),
    row("c3", [msg("request_payment_plan", 0.45), msg("request_human")], language="en"),
    row("c4", [msg("nlu_fallback", 0.1, "pay_now")], language="en"),
    row("c5", [msg("greet")], day=20),  # outside the period
]
NOV = Filters(date(2026, 11, 1), date(2026, 11, 10), group="all")


def test_distribution_and_rates():
    total = nlu_health(ROWS, NOV, below=0.5)["total"]
    assert total["messages"] == 9
    assert total["fallbacks"] == 2 and total["fallback_rate"] == round(2 / 9, 4)
    assert total["low_confidence"] == 2  # 0.4 and 0.45; fallbacks are counted apart
    intents = {i["intent"]: i for i in total["intents"]}
    assert intents["ask_fees"]["messages"] == 3 and intents["ask_fees"]["share"] == round(3 / 9, 4)
    assert intents["ask_fees"]["low_confidence"] == 1
    assert total["intents"][0]["intent"] == "ask_fees"  # most frequent first
    assert total["fallback_guesses"] == [{"intent": "pay_now", "messages": 2}]


def test_confused_intents_are_those_followed_by_a_sign_of_misunderstanding():
    confused = {c["intent"]: c for c in nlu_health(ROWS, NOV, below=0.5)["total"]["confused"]}
    assert confused["ask_fees"] == {
        "intent": "ask_fees",
        "messages": 3,
        "then_denied": 1,
        "then_asked_again": 1,
        "then_fallback": 1,
        "then_asked_for_person": 0,
        "confused": 3,
        "confused_share": 1.0,
    }
    assert confused["request_payment_plan"]["then_asked_for_person"] == 1
    assert "deny" not in confused and "ask_overdue_status" not in confused  # never followed by a sign
    first = nlu_health(ROWS, NOV, below=0.5)["total"]["confused"][0]
    assert first["intent"] == "ask_fees"


def test_low_confidence_messages_point_to_their_conversation_lowest_first():
    messages = nlu_health(ROWS, NOV, below=0.5)["low_confidence_messages"]
    assert [(m["conversation_id"], m["turn"], m["intent"], m["confidence"]) for m in messages] == [
        ("c4", 1, "nlu_fallback", 0.1),
        ("c2", 3, "nlu_fallback", 0.2),
        ("c1", 1, "ask_fees", 0.4),
        ("c3", 1, "request_payment_plan", 0.45),
    ]
    assert messages[0]["guess"] == "pay_now" and messages[0]["language"] == "en"


def test_per_language_and_threshold():
    result = nlu_health(ROWS, NOV, below=0.3)
    assert {lang["language"]: lang["messages"] for lang in result["languages"]} == {"en": 3, "zh": 6}
    assert result["total"]["low_confidence"] == 0
    assert result["filters"]["below"] == 0.3


def test_definitions():
    for name in ("fallback_rate", "low_confidence", "confused", "fallback_guesses"):
        assert DEFINITIONS[name]["en"] and DEFINITIONS[name]["zh"]


def test_answers_to_a_form_repeat_by_design():
    """Three identity answers in a row are `inform` each time: not the borrower asking again."""
    rows = [row("c9", [msg("inform"), msg("inform"), msg("affirm"), msg("affirm")])]
    assert nlu_health(rows, NOV, below=0.5)["total"]["confused"] == []
