"""What one conversation's facts add to the insights page's per-day rollups (pure: no I/O).

The overview, the funnel and NLU health read per-day counts instead of every facts row of the
period (docs/insights.md, "Speed of the page's queries"). A conversation adds to one row of
each rollup (NLU health: one row per borrower message), keyed by the day it started in the
business time zone, its first language, its channel and what the page groups by. When a
conversation's facts change, the consumer subtracts the old contribution and adds the new one
(`changes`); `ledger rebuild-insights` sums every conversation's contribution afresh.

A missing text key is stored as "" (a key column is never NULL: NULLs would never conflict).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from .conversation_facts import FALLBACK_INTENT
from .insights import DURATION_BOUNDS, duration_range

OVERVIEW = "overview"
FUNNEL = "funnel"
NLU = "nlu"

# Per rollup: the key columns (in the table's primary key order) and the counted columns.
KEYS: dict[str, tuple[str, ...]] = {
    OVERVIEW: (
        "day",
        "language",
        "channel",
        "escalated",
        "escalation_reason",
        "handled_by_agent",
        "verification",
        "verified",
        "no_outcome",
        "said_goodbye",
        "turns",
    ),  # fmt: skip
    FUNNEL: ("day", "language", "channel", "furthest_step", "last_bot_text_key", "escalated", "plan", "promise"),
    NLU: ("day", "language", "channel", "intent", "confidence_pct", "guess"),
}
# The overview's duration histogram: one count column per range (ledger/domain/insights.py).
DURATION_COLUMNS = tuple(f"duration_from_{bound}s" for bound in DURATION_BOUNDS)
COUNTS: dict[str, tuple[str, ...]] = {
    OVERVIEW: ("conversations", "fallbacks", "csat_sum", "csat_count", *DURATION_COLUMNS),
    FUNNEL: ("conversations",),
    NLU: ("messages", "then_denied", "then_asked_again", "then_fallback", "then_asked_for_person"),
}
# The facts columns a contribution reads.
FACTS_COLUMNS = (
    "conversation_id", "started_at", "ended_at", "languages", "channel", "turns", "fallbacks", "verified",
    "verification",
    "escalated", "escalation_reason", "handled_by_agent", "outcome", "outcomes", "said_goodbye", "csat",
    "furthest_step", "last_bot_text_key", "intents",
)  # fmt: skip
NO_CONFIDENCE = -1_000_000  # a message without a confidence
CONFIDENCE_PCT_BOUND = 999_999  # confidences beyond +-9999.99 (never given by Rasa) are clamped
DENY_INTENT = "deny"
PERSON_INTENT = "request_human"
# Said again and again by design (a form's answers, yes to each question): no sign of confusion.
REPEATED_BY_DESIGN = frozenset({"inform", "affirm"})
SIGNS = ("then_denied", "then_asked_again", "then_fallback", "then_asked_for_person")

Key = tuple[str, tuple[Any, ...]]  # (rollup, key values)
Tally = dict[Key, list[int]]


def confidence_of(message: Mapping[str, Any]) -> float | None:
    value = message.get("confidence")
    return float(value) if isinstance(value, int | float) else None


def confidence_pct(confidence: float | None) -> int:
    """The whole hundredth at or below the confidence: `confidence < k / 100` exactly when
    `confidence_pct(confidence) < k` (checked in floating point, not just on paper)."""
    if confidence is None or math.isnan(confidence):
        return NO_CONFIDENCE
    if abs(confidence) >= CONFIDENCE_PCT_BOUND / 100:
        return CONFIDENCE_PCT_BOUND if confidence > 0 else -CONFIDENCE_PCT_BOUND
    pct = math.floor(confidence * 100)
    while pct / 100 > confidence:
        pct -= 1
    while (pct + 1) / 100 <= confidence:
        pct += 1
    return pct


def sign_of(intent: Any, following: Any) -> str | None:
    """The sign of misunderstanding the borrower's next message gives, if any."""
    if following == DENY_INTENT:
        return "then_denied"
    if following == intent and intent not in REPEATED_BY_DESIGN:
        return "then_asked_again"
    if following == FALLBACK_INTENT:
        return "then_fallback"
    if following == PERSON_INTENT:
        return "then_asked_for_person"
    return None


def messages_of(facts: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [m for m in facts.get("intents") or [] if isinstance(m, dict)]


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def first_language(facts: Mapping[str, Any]) -> str:
    languages = facts.get("languages") or []
    return _text(languages[0]) if languages else ""


def contribution(facts: Mapping[str, Any], timezone: ZoneInfo) -> Tally:
    """What this conversation adds to each rollup; nothing when it has not started."""
    started = facts.get("started_at")
    if not isinstance(started, datetime):
        return {}
    day = started.astimezone(timezone).date()
    language, channel = first_language(facts), _text(facts.get("channel"))
    escalated = bool(facts.get("escalated"))
    given = facts.get("csat")
    csat = given if isinstance(given, int) and not isinstance(given, bool) else 0
    overview_key = (
        day, language, channel, escalated, _text(facts.get("escalation_reason")), bool(facts.get("handled_by_agent")),
        str(facts.get("verification") or "not_asked"), bool(facts.get("verified")),
        (facts.get("outcome") or "none") == "none", bool(facts.get("said_goodbye")), int(facts.get("turns") or 0),
    )  # fmt: skip
    outcomes = facts.get("outcomes") or []
    funnel_key = (
        day, language, channel, str(facts.get("furthest_step") or "started"), _text(facts.get("last_bot_text_key")),
        escalated, facts.get("outcome") == "arrangement", "promise" in outcomes,
    )  # fmt: skip
    duration = DURATION_BOUNDS.index(duration_range(started, facts.get("ended_at")))
    histogram = [1 if i == duration else 0 for i in range(len(DURATION_BOUNDS))]
    tally: Tally = {
        (OVERVIEW, overview_key): [1, int(facts.get("fallbacks") or 0), csat, 1 if csat else 0, *histogram],
        (FUNNEL, funnel_key): [1],
    }
    messages = messages_of(facts)
    for i, message in enumerate(messages):
        intent = str(message.get("intent") or "-")
        fallback = intent == FALLBACK_INTENT
        guess = str(message.get("guess") or "-") if fallback else ""
        key = (NLU, (day, language, channel, intent, confidence_pct(confidence_of(message)), guess))
        counts = tally.setdefault(key, [0] * len(COUNTS[NLU]))
        counts[0] += 1
        if not fallback and i + 1 < len(messages):
            sign = sign_of(intent, messages[i + 1].get("intent"))
            if sign:
                counts[1 + SIGNS.index(sign)] += 1
    return tally


def add(into: Tally, tally: Tally, factor: int = 1) -> None:
    for key, counts in tally.items():
        total = into.setdefault(key, [0] * len(counts))
        for i, n in enumerate(counts):
            total[i] += factor * n


def changes(before: Iterable[Mapping[str, Any]], after: Iterable[Mapping[str, Any]], timezone: ZoneInfo) -> Tally:
    """What the rollups gain (negative: lose) when these conversations' facts go from `before`
    to `after`; keys whose counts do not change are left out."""
    delta: Tally = {}
    for facts in before:
        add(delta, contribution(facts, timezone), -1)
    for facts in after:
        add(delta, contribution(facts, timezone))
    return {key: counts for key, counts in delta.items() if any(counts)}


def total(facts: Iterable[Mapping[str, Any]], timezone: ZoneInfo) -> Tally:
    """The rollups of these conversations from nothing (a rebuild)."""
    tally: Tally = {}
    for row in facts:
        add(tally, contribution(row, timezone))
    return tally
