"""The overview figures of the insights page, from conversations' facts (pure: no I/O).

Each figure has one definition, written once here (`DEFINITIONS`), shown next to the number on
the page and in docs/insights.md. Rates are fractions of the conversations of the group (or
of borrower messages, for the fallback rate); a rate with nothing to divide by is None.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
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
}


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


def _figures(rows: list[Mapping[str, Any]]) -> dict[str, Any]:
    """The figures of a group of rows; a row stands for `conversations` conversations (1 when
    absent) and its `fallbacks` are all of theirs."""
    n = sum(_weight(r) for r in rows)
    escalated = [r for r in rows if r.get("escalated")]
    needed_person = sum(_weight(r) for r in rows if r.get("escalated") or r.get("handled_by_agent"))
    asked = [r for r in rows if r.get("verification") != "not_asked"]
    n_asked = sum(_weight(r) for r in asked)
    messages = sum(int(r.get("turns") or 0) * _weight(r) for r in rows)
    fallbacks = sum(int(r.get("fallbacks") or 0) for r in rows)
    abandoned = sum(
        _weight(r)
        for r in rows
        if (r.get("outcome") or "none") == "none"
        and not r.get("escalated")
        and not r.get("handled_by_agent")
        and not r.get("said_goodbye")
    )
    reasons: Counter[str] = Counter()
    for r in escalated:
        reasons[str(r.get("escalation_reason") or "unknown")] += _weight(r)
    return {
        "conversations": n,
        "containment": rate(n - needed_person, n),
        "verification_success": rate(sum(_weight(r) for r in asked if r.get("verified")), n_asked),
        "verification_asked": n_asked,
        "escalation_rate": rate(sum(_weight(r) for r in escalated), n),
        "escalation_by_reason": {reason: rate(count, n) for reason, count in sorted(reasons.items())},
        "fallback_rate": rate(fallbacks, messages),
        "borrower_messages": messages,
        "abandonment": rate(abandoned, n),
        "median_turns": weighted_median([(int(r.get("turns") or 0), _weight(r)) for r in rows]),
    }


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


def overview_of_selection(rows: Iterable[Mapping[str, Any]], filters: Filters) -> dict[str, Any]:
    """The figures of rows already selected, each with its `day` (business time zone): for the
    whole selection (`total`), per period (`periods`, what the charts show) and per period,
    language and channel (`rows`)."""
    chosen = list(rows)
    groups: dict[tuple[str, str, str], list[Mapping[str, Any]]] = defaultdict(list)
    periods: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
    for row in chosen:
        period = period_of(row["day"], filters.group)
        groups[(period, language_of(row) or "-", str(row.get("channel") or "-"))].append(row)
        periods[period].append(row)
    return {
        "filters": filters_view(filters),
        "total": _figures(chosen),
        "rows": [
            {"period": period, "language": language, "channel": channel, **_figures(group)}
            for (period, language, channel), group in sorted(groups.items())
        ],
        "periods": [{"period": period, **_figures(group)} for period, group in sorted(periods.items())],
        "definitions": DEFINITIONS,
    }


def overview(facts: Iterable[Mapping[str, Any]], filters: Filters) -> dict[str, Any]:
    """The figures of the conversations the filters select (see overview_of_selection)."""
    return overview_of_selection(({**r, "day": r["started_at"].date()} for r in selected(facts, filters)), filters)


def _csat(cells: list[Mapping[str, Any]]) -> dict[str, Any]:
    count = sum(int(c.get("csat_count") or 0) for c in cells)
    total = sum(int(c.get("csat_sum") or 0) for c in cells)
    return {"csat_average": round(total / count, 2) if count else None, "csat_count": count}


def with_csat(overview: dict[str, Any], cells: Iterable[Mapping[str, Any]], filters: Filters) -> dict[str, Any]:
    """The overview with CSAT (`csat_average`, `csat_count`) in its total, periods and rows, from
    rating cells (`day`, `languages`, `channel`, `csat_count`, `csat_sum`); a group nobody rated
    has average None and count 0. Kept apart from `_figures` so that the ratings come from their
    own query (ledger/db/analytics.py csat_cells)."""
    chosen = list(cells)
    rows: dict[tuple[str, str, str], list[Mapping[str, Any]]] = defaultdict(list)
    periods: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
    for cell in chosen:
        period = period_of(cell["day"], filters.group)
        rows[(period, language_of(cell) or "-", str(cell.get("channel") or "-"))].append(cell)
        periods[period].append(cell)
    overview["total"].update(_csat(chosen))
    for row in overview["rows"]:
        row.update(_csat(rows.get((row["period"], row["language"], row["channel"]), [])))
    for period in overview["periods"]:
        period.update(_csat(periods.get(period["period"], [])))
    return overview
