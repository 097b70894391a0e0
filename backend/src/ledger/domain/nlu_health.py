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
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from . import insights_rollup as rollup
from .conversation_facts import FALLBACK_INTENT
from .insights import Filters, filters_view, language_of, rate, selected

LOW_CONFIDENCE_LISTED = 100
SIGNS = rollup.SIGNS

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


_messages = rollup.messages_of
_confidence = rollup.confidence_of


@dataclass
class Tally:
    counts: Counter[str] = field(default_factory=Counter)
    low: Counter[str] = field(default_factory=Counter)
    guesses: Counter[str] = field(default_factory=Counter)
    signs: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))


def _tally_rows(rows: list[Mapping[str, Any]], below: float) -> Tally:
    tally = Tally()
    for row in rows:
        messages = _messages(row)
        for i, message in enumerate(messages):
            intent = str(message.get("intent") or "-")
            tally.counts[intent] += 1
            confidence = _confidence(message)
            if intent == FALLBACK_INTENT:
                tally.guesses[str(message.get("guess") or "-")] += 1
                continue
            if confidence is not None and confidence < below:
                tally.low[intent] += 1
            if i + 1 < len(messages):
                sign = rollup.sign_of(intent, messages[i + 1].get("intent"))
                if sign:
                    tally.signs[intent][sign] += 1
    return tally


def _tally_cells(cells: list[Mapping[str, Any]]) -> Tally:
    """The same tally from the rollup's groups (insights_rollup: messages per intent, guess and
    below-or-not, with their signs)."""
    tally = Tally()
    for cell in cells:
        intent, n = str(cell["intent"]), int(cell["messages"])
        tally.counts[intent] += n
        if intent == FALLBACK_INTENT:
            tally.guesses[str(cell.get("guess") or "-")] += n
            continue
        if cell["low"]:
            tally.low[intent] += n
        for sign in SIGNS:
            if cell.get(sign):
                tally.signs[intent][sign] += int(cell[sign])
    return tally


def _health(tally: Tally) -> dict[str, Any]:
    counts, low, guesses, signs = tally.counts, tally.low, tally.guesses, tally.signs
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


def _low_messages(rows: list[Mapping[str, Any]], below: float) -> list[dict[str, Any]]:
    """Fallbacks and messages below the threshold, with the conversation and the message's
    place in it (turn 1 is the borrower's first message), in the rows' order."""
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
    return found


def _sorted_low(found: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The first LOW_CONFIDENCE_LISTED, lowest confidence first (stable: a conversation's
    messages in turn order)."""
    found = sorted(found, key=lambda m: (m["confidence"] if m["confidence"] is not None else 2.0,
                                         str(m["conversation_id"])))  # fmt: skip
    return found[:LOW_CONFIDENCE_LISTED]


def _low_confidence_messages(rows: list[Mapping[str, Any]], below: float) -> list[dict[str, Any]]:
    """Fallbacks and messages below the threshold, lowest confidence first."""
    return _sorted_low(_low_messages(rows, below))


def nlu_health(facts: Iterable[Mapping[str, Any]], filters: Filters, below: float) -> dict[str, Any]:
    """NLU health of the selection (`total`) and per language that has borrower messages
    (`languages`)."""
    rows = selected(facts, filters)
    by_language: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
    for row in rows:
        if _messages(row):  # a language only listed with borrower messages, as from the rollup
            by_language[language_of(row) or "-"].append(row)
    return {
        "filters": {**filters_view(filters), "below": below},
        "total": _health(_tally_rows(rows, below)),
        "languages": [{"language": lang, **_health(_tally_rows(r, below))} for lang, r in sorted(by_language.items())],
        "low_confidence_messages": _low_confidence_messages(rows, below),
        "definitions": DEFINITIONS,
    }


def below_pct(below: float) -> int:
    """The threshold in whole hundredths; the rollup counts confidences per hundredth, so
    NLU health from the rollup takes a threshold with at most two decimals."""
    pct = round(below * 100)
    if pct / 100 != below:
        raise ValueError(f"below must have at most two decimals, got {below!r}")
    return pct


def enough_low_confidence(below: float) -> Callable[[list[Mapping[str, Any]], tuple[float, str] | None], bool]:
    """Whether the conversations read so far hold the listed low-confidence messages whatever
    comes next. They are read by (lowest confidence, conversation id in code point order), each
    call given all of them and the (lowest confidence, id) of the next one (None: only
    conversations without any confidence are left). A later conversation's messages sort after
    that key, so once the last listed message sorts before it, the list is final. Keeps the
    list so far between calls, so each conversation is looked at once."""
    listed: list[dict[str, Any]] = []
    seen = 0

    def enough(rows: list[Mapping[str, Any]], following: tuple[float, str] | None) -> bool:
        nonlocal listed, seen
        # the list of (the list so far + the new rows' messages) is the list of all rows so far
        listed = _sorted_low(listed + _low_messages(rows[seen:], below))
        seen = len(rows)
        if len(listed) < LOW_CONFIDENCE_LISTED:
            return False
        last = listed[-1]
        if last["confidence"] is None:
            return False
        return following is None or following > (last["confidence"], str(last["conversation_id"]))

    return enough


def nlu_health_of_cells(
    cells: Iterable[Mapping[str, Any]], low_rows: Iterable[Mapping[str, Any]], filters: Filters, below: float
) -> dict[str, Any]:
    """NLU health from the rollup's groups of the selection (`nlu_cells`) and the conversations
    that hold its lowest-confidence messages (`low_confidence_rows`): the same as `nlu_health`
    of every row."""
    chosen = list(cells)
    by_language: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
    for cell in chosen:
        by_language[language_of(cell) or "-"].append(cell)
    return {
        "filters": {**filters_view(filters), "below": below},
        "total": _health(_tally_cells(chosen)),
        "languages": [{"language": lang, **_health(_tally_cells(c))} for lang, c in sorted(by_language.items())],
        "low_confidence_messages": _low_confidence_messages(list(low_rows), below),
        "definitions": DEFINITIONS,
    }
