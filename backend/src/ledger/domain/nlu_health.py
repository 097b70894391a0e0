"""NLU health of the insights page, from conversations' facts (pure: no I/O).

Each borrower message's intent and confidence are in the facts (`intents`, in order; a fallback
also carries the classifier's best guess). From them: the intent distribution, fallbacks,
low-confidence messages (below a threshold the analyst chooses), and the intents most often
followed by a sign that the assistant misunderstood: the borrower's very next message said no
(`deny`), repeated the same intent (other than `inform` and `affirm`, which a form's answers
repeat), was not understood (`nlu_fallback`) or asked for a person.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from typing import Any

from .conversation_facts import FALLBACK_INTENT
from .insights import Filters, filters_view, language_of, rate, selected

DENY_INTENT = "deny"
PERSON_INTENT = "request_human"
LOW_CONFIDENCE_LISTED = 100
# Said again and again by design (a form's answers, yes to each question): no sign of confusion.
REPEATED_BY_DESIGN = frozenset({"inform", "affirm"})
SIGNS = ("then_denied", "then_asked_again", "then_fallback", "then_asked_for_person")

DEFINITIONS: dict[str, dict[str, str]] = {
    "intents": {
        "en": "Borrower messages per intent the assistant recognised, with the share of all messages.",
        "zh": "按助手识别出的意图统计的客户消息数及占比。",
    },
    "fallback_rate": {
        "en": "Share of borrower messages the assistant did not understand (intent nlu_fallback).",
        "zh": "助手未能理解（nlu_fallback）的客户消息占比。",
    },
    "low_confidence": {
        "en": "Messages understood with a confidence below the chosen threshold (fallbacks counted apart).",
        "zh": "置信度低于所选阈值的消息数（未理解的另计）。",
    },
    "fallback_guesses": {
        "en": "For the messages not understood, the intent the classifier thought most likely.",
        "zh": "未理解的消息中，分类器认为最可能的意图。",
    },
    "confused": {
        "en": (
            "Intents most often followed by a sign of misunderstanding: the borrower's next message said no, "
            "repeated the same intent (except inform and affirm, which answers to a form repeat), "
            "was not understood, or asked for a person."
        ),
        "zh": (
            "之后最常出现误解迹象的意图：客户下一条消息表示否定、重复同一意图"
            "（inform、affirm 除外，表单回答本就重复）、未被理解或要求转人工。"
        ),
    },
}


def _messages(row: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [m for m in row.get("intents") or [] if isinstance(m, dict)]


def _confidence(message: Mapping[str, Any]) -> float | None:
    value = message.get("confidence")
    return float(value) if isinstance(value, int | float) else None


def _sign(intent: Any, following: Any) -> str | None:
    if following == DENY_INTENT:
        return "then_denied"
    if following == intent and intent not in REPEATED_BY_DESIGN:
        return "then_asked_again"
    if following == FALLBACK_INTENT:
        return "then_fallback"
    if following == PERSON_INTENT:
        return "then_asked_for_person"
    return None


def _health(rows: list[Mapping[str, Any]], below: float) -> dict[str, Any]:
    counts: Counter[str] = Counter()
    low: Counter[str] = Counter()
    guesses: Counter[str] = Counter()
    signs: dict[str, Counter[str]] = defaultdict(Counter)
    for row in rows:
        messages = _messages(row)
        for i, message in enumerate(messages):
            intent = str(message.get("intent") or "-")
            counts[intent] += 1
            confidence = _confidence(message)
            if intent == FALLBACK_INTENT:
                guesses[str(message.get("guess") or "-")] += 1
                continue
            if confidence is not None and confidence < below:
                low[intent] += 1
            if i + 1 < len(messages):
                sign = _sign(intent, messages[i + 1].get("intent"))
                if sign:
                    signs[intent][sign] += 1
    total = sum(counts.values())
    confused: list[dict[str, Any]] = []
    for intent, found in sorted(signs.items(), key=lambda kv: (-sum(kv[1].values()), kv[0])):
        n = sum(found.values())
        confused.append(
            {
                "intent": intent,
                "messages": counts[intent],
                **{s: found[s] for s in SIGNS},
                "confused": n,
                "confused_share": rate(n, counts[intent]),
            }
        )
    return {
        "messages": total,
        "fallbacks": counts[FALLBACK_INTENT],
        "fallback_rate": rate(counts[FALLBACK_INTENT], total),
        "low_confidence": sum(low.values()),
        "intents": [
            {"intent": intent, "messages": n, "share": rate(n, total), "low_confidence": low[intent]}
            for intent, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
        ],
        "fallback_guesses": [
            {"intent": intent, "messages": n} for intent, n in sorted(guesses.items(), key=lambda kv: (-kv[1], kv[0]))
        ],
        "confused": confused,
    }


def _low_confidence_messages(rows: list[Mapping[str, Any]], below: float) -> list[dict[str, Any]]:
    """Fallbacks and messages below the threshold, lowest confidence first, with the
    conversation and the message's place in it (turn 1 is the borrower's first message)."""
    found = []
    for row in rows:
        for turn, message in enumerate(_messages(row), start=1):
            confidence = _confidence(message)
            fallback = message.get("intent") == FALLBACK_INTENT
            if fallback or (confidence is not None and confidence < below):
                found.append(
                    {
                        "conversation_id": row.get("conversation_id"),
                        "language": language_of(row),
                        "turn": turn,
                        "intent": message.get("intent"),
                        "confidence": confidence,
                        "guess": message.get("guess") if fallback else None,
                    }
                )
    found.sort(key=lambda m: (m["confidence"] if m["confidence"] is not None else 2.0, str(m["conversation_id"])))
    return found[:LOW_CONFIDENCE_LISTED]


def nlu_health(facts: Iterable[Mapping[str, Any]], filters: Filters, below: float) -> dict[str, Any]:
    """NLU health of the selection (`total`) and per language (`languages`)."""
    rows = selected(facts, filters)
    by_language: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
    for row in rows:
        by_language[language_of(row) or "-"].append(row)
    return {
        "filters": {**filters_view(filters), "below": below},
        "total": _health(rows, below),
        "languages": [{"language": lang, **_health(r, below)} for lang, r in sorted(by_language.items())],
        "low_confidence_messages": _low_confidence_messages(rows, below),
        "definitions": DEFINITIONS,
    }
