"""The overview figures of the insights page, from conversations' facts (pure: no I/O).

Each figure has one definition, written once here (`DEFINITIONS`), shown next to the number on
the page and in docs/insights.md. Rates are fractions of the conversations of the group (or
of borrower messages, for the fallback rate); a rate with nothing to divide by is None.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from statistics import median
from typing import Any

GROUPINGS = ("day", "week", "month", "all")
LANGUAGES = ("zh", "en")

DEFINITIONS: dict[str, dict[str, str]] = {
    "conversations": {
        "en": "Conversations that started in the period (one Rasa sender; a new one after an idle gap).",
        "zh": "该时段开始的会话数（同一 Rasa 会话；闲置后重新开始算新会话）。",
    },
    "containment": {
        "en": "Share of conversations that needed no person: not handed off and not handled by an agent.",
        "zh": "无需人工的会话占比：未转人工、也无坐席处理。",
    },
    "verification_success": {
        "en": "Of the conversations that asked who the borrower is, the share where verification succeeded.",
        "zh": "在需要核实身份的会话中，核实成功的占比。",
    },
    "escalation_rate": {
        "en": "Share of conversations handed to a person, in total and by reason.",
        "zh": "转人工的会话占比，合计及按原因。",
    },
    "fallback_rate": {
        "en": "Share of borrower messages the assistant did not understand (intent nlu_fallback).",
        "zh": "助手未能理解（nlu_fallback）的客户消息占比。",
    },
    "abandonment": {
        "en": "Share of conversations that ended with no outcome, no hand-off and no goodbye from the borrower.",
        "zh": "既无结果、未转人工、客户也未道别就结束的会话占比。",
    },
    "csat": {
        "en": "Average rating (1-5) borrowers gave when asked at the end of a web conversation, and how many rated.",
        "zh": "网页会话结束时客户给出的平均评分（1–5 分）及评分人数。",
    },
    "median_turns": {
        "en": "Median number of borrower messages per conversation.",
        "zh": "每个会话客户消息数的中位数。",
    },
    "median_duration": {
        "en": "Median time from a conversation's first event to its last, as the range it falls in "
        "(0-15 s, 15-30 s, 30 s-1 min, ... 2 h or more); for an even count, the shorter middle one.",
        "zh": "会话从第一个事件到最后一个事件的时长中位数，以所在区间表示"
        "（0–15 秒、15–30 秒、30 秒–1 分钟……2 小时以上）；"
        "会话数为偶数时取较短的中间值。",
    },
}

# The overview's duration ranges: each conversation is counted in the range holding its duration
# (lower bounds in seconds; the last range has no upper bound). The rollup keeps one count per range.
DURATION_BOUNDS = (0, 15, 30, 60, 90, 120, 180, 300, 450, 600, 900, 1200, 1800, 3600, 7200)


@dataclass(frozen=True)
class Filters:
    since: date
    until: date  # inclusive
    language: str | None = None  # zh | en | None (all)
    channel: str | None = None
    group: str = "day"


def period_of(day: date, group: str) -> str:
    if group == "day":
        return day.isoformat()
    if group == "week":
        monday = day - timedelta(days=day.weekday())
        return monday.isoformat()
    if group == "month":
        return day.strftime("%Y-%m")
    return "all"


def language_of(facts: Mapping[str, Any]) -> str | None:
    """The conversation's language: the first one it was held in."""
    languages = facts.get("languages") or []
    return languages[0] if languages and languages[0] in LANGUAGES else None


def duration_range(started: Any, ended: Any) -> int:
    """The lower bound (seconds) of the duration range of a conversation from `started` to
    `ended` (its last event); a conversation without both counts as 0 seconds."""
    if not isinstance(started, datetime) or not isinstance(ended, datetime):
        return 0
    seconds = (ended - started).total_seconds()
    return max((bound for bound in DURATION_BOUNDS if bound <= seconds), default=0)


def median_duration(durations: Counter[int]) -> tuple[int, int | None] | None:
    """The duration range (from, to seconds; to None for the last) of the middle conversation,
    the shorter one of the two middle ones for an even count; None without conversations."""
    total = sum(n for n in durations.values() if n > 0)
    if not total:
        return None
    wanted, seen = (total - 1) // 2, 0
    for bound in DURATION_BOUNDS:
        seen += max(durations.get(bound, 0), 0)
        if wanted < seen:
            i = DURATION_BOUNDS.index(bound)
            return bound, DURATION_BOUNDS[i + 1] if i + 1 < len(DURATION_BOUNDS) else None
    return None


def rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _weight(row: Mapping[str, Any]) -> int:
    n = row.get("conversations", 1)
    return n if isinstance(n, int) else 1


def weighted_median(values: list[tuple[int, int]]) -> float | int | None:
    """The median of values given as (value, how many times)."""
    total = sum(n for _, n in values)
    if not total:
        return None
    wanted = sorted({(total - 1) // 2, total // 2})
    found: list[int] = []
    seen = 0
    for value, n in sorted(values):
        while wanted and wanted[0] < seen + n:
            found.append(value)
            wanted.pop(0)
        seen += n
    return found[0] if len(found) == 1 else median(found)


@dataclass
class Tally:
    """What the overview's figures are computed from, for some conversations: counts that add
    up, the hand-offs by reason and how many conversations had each number of turns."""

    conversations: int = 0
    needed_person: int = 0  # handed off or handled by an agent
    asked: int = 0  # verification asked
    verified: int = 0  # of those asked
    escalated: int = 0
    messages: int = 0  # borrower messages (turns)
    fallbacks: int = 0
    abandoned: int = 0
    csat_sum: int = 0
    csat_count: int = 0
    reasons: Counter[str] = field(default_factory=Counter)
    turns: Counter[int] = field(default_factory=Counter)
    durations: Counter[int] = field(default_factory=Counter)  # conversations per duration range

    def add(self, other: Tally) -> Tally:
        for name in COUNTED:
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.reasons.update(other.reasons)
        self.turns.update(other.turns)
        self.durations.update(other.durations)
        return self


COUNTED = ("conversations", "needed_person", "asked", "verified", "escalated", "messages", "fallbacks",
           "abandoned", "csat_sum", "csat_count")  # fmt: skip


def tally_of(row: Mapping[str, Any]) -> Tally:
    """The tally of a row that stands for `conversations` identical conversations (1 when
    absent), its `fallbacks` being all of theirs."""
    n = _weight(row)
    escalated = bool(row.get("escalated"))
    needed_person = escalated or bool(row.get("handled_by_agent"))
    asked = row.get("verification") != "not_asked"
    turns = int(row.get("turns") or 0)
    abandoned = (row.get("outcome") or "none") == "none" and not needed_person and not row.get("said_goodbye")
    given = row.get("csat")  # a facts row's own rating; a group of rows carries csat_sum, csat_count
    csat = given if isinstance(given, int) and not isinstance(given, bool) else 0
    return Tally(
        conversations=n,
        needed_person=n if needed_person else 0,
        asked=n if asked else 0,
        verified=n if asked and row.get("verified") else 0,
        escalated=n if escalated else 0,
        messages=turns * n,
        fallbacks=int(row.get("fallbacks") or 0),
        abandoned=n if abandoned else 0,
        csat_sum=int(row.get("csat_sum") or 0) if "csat_sum" in row else (csat if csat else 0),
        csat_count=int(row.get("csat_count") or 0) if "csat_count" in row else (1 if csat else 0),
        reasons=Counter({str(row.get("escalation_reason") or "unknown"): n}) if escalated else Counter(),
        turns=Counter({turns: n}),
        durations=Counter({duration_range(row.get("started_at"), row.get("ended_at")): n}),
    )


def figures(t: Tally) -> dict[str, Any]:
    """The overview's figures of a tally (each defined in DEFINITIONS)."""
    n = t.conversations
    duration = median_duration(t.durations)
    return {
        "conversations": n,
        "containment": rate(n - t.needed_person, n),
        "verification_success": rate(t.verified, t.asked),
        "verification_asked": t.asked,
        "escalation_rate": rate(t.escalated, n),
        "escalation_by_reason": {reason: rate(count, n) for reason, count in sorted(t.reasons.items()) if count},
        "fallback_rate": rate(t.fallbacks, t.messages),
        "borrower_messages": t.messages,
        "abandonment": rate(t.abandoned, n),
        "median_turns": weighted_median([(turns, k) for turns, k in t.turns.items() if k]),
        "median_duration_from_seconds": duration[0] if duration else None,
        "median_duration_to_seconds": duration[1] if duration else None,
        "csat_average": round(t.csat_sum / t.csat_count, 2) if t.csat_count else None,
        "csat_count": t.csat_count,
    }


def _figures(rows: list[Mapping[str, Any]]) -> dict[str, Any]:
    """The figures of a group of rows (see tally_of)."""
    total = Tally()
    for row in rows:
        total.add(tally_of(row))
    return figures(total)


def selected(facts: Iterable[Mapping[str, Any]], filters: Filters) -> list[Mapping[str, Any]]:
    """The rows that started in the filters' days (their `started_at` in the business time
    zone), in their language and channel."""
    chosen: list[Mapping[str, Any]] = []
    for row in facts:
        started = row.get("started_at")
        if not isinstance(started, datetime):
            continue
        day = started.date()
        if not filters.since <= day <= filters.until:
            continue
        if filters.language and language_of(row) != filters.language:
            continue
        if filters.channel and row.get("channel") != filters.channel:
            continue
        chosen.append(row)
    return chosen


def filters_view(filters: Filters) -> dict[str, Any]:
    return {
        "since": filters.since.isoformat(),
        "until": filters.until.isoformat(),
        "language": filters.language,
        "channel": filters.channel,
        "group": filters.group,
    }


def overview_of_tallies(tallies: Iterable[tuple[date, Mapping[str, Any], Tally]], filters: Filters) -> dict[str, Any]:
    """The overview from tallies, each of the conversations of one day (business time zone) and
    place (a mapping with their `languages` and `channel`): for the whole selection (`total`),
    per period (`periods`, what the charts show) and per period, language and channel (`rows`)."""
    total = Tally()
    groups: dict[tuple[str, str, str], Tally] = defaultdict(Tally)
    periods: dict[str, Tally] = defaultdict(Tally)
    for day, place, tally in tallies:
        period = period_of(day, filters.group)
        total.add(tally)
        groups[(period, language_of(place) or "-", str(place.get("channel") or "-"))].add(tally)
        periods[period].add(tally)
    return {
        "filters": filters_view(filters),
        "total": figures(total),
        "rows": [
            {"period": period, "language": language, "channel": channel, **figures(tally)}
            for (period, language, channel), tally in sorted(groups.items())
        ],
        "periods": [{"period": period, **figures(tally)} for period, tally in sorted(periods.items())],
        "definitions": DEFINITIONS,
    }


def overview_of_selection(rows: Iterable[Mapping[str, Any]], filters: Filters) -> dict[str, Any]:
    """The figures of rows already selected, each with its `day` (business time zone)."""
    return overview_of_tallies(((row["day"], row, tally_of(row)) for row in rows), filters)


def overview(facts: Iterable[Mapping[str, Any]], filters: Filters) -> dict[str, Any]:
    """The figures of the conversations the filters select (see overview_of_selection)."""
    return overview_of_selection(({**r, "day": r["started_at"].date()} for r in selected(facts, filters)), filters)
