"""Conversations' facts as a table of text, for the CSV export (pure: no I/O).

One row per conversation, columns in a fixed order, every value a string (dates ISO 8601 with
their offset, booleans true/false, lists space-separated, empty for none). A value that a
spreadsheet would run as a formula (starting with = + - @) is prefixed with '. No message
text and no identity data: the facts hold none, and the per-message intents stay in the review.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from .insights import Filters, language_of, selected

COLUMNS = (
    "conversation_id",
    "gateway_conversation_id",
    "channel",
    "language",
    "languages",
    "started_at",
    "ended_at",
    "duration_seconds",
    "turns",
    "verified",
    "verification",
    "fallbacks",
    "low_confidence",
    "furthest_step",
    "escalated",
    "escalation_reason",
    "handled_by_agent",
    "agents",
    "outcome",
    "outcomes",
    "plan_type",
    "agent_outcome",
    "csat",
    "last_bot_action",
    "last_bot_text_key",
    "last_intent",
    "said_goodbye",
)


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def cell(value: Any) -> str:
    text = _text(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, float):
        return f"{value:.4f}"
    if isinstance(value, list | tuple):
        return " ".join(_text(v) for v in value)
    return str(value)


def _duration(row: Mapping[str, Any]) -> int | None:
    started, ended = row.get("started_at"), row.get("ended_at")
    if isinstance(started, datetime) and isinstance(ended, datetime):
        return int((ended - started).total_seconds())
    return None


def facts_table(facts: Iterable[Mapping[str, Any]], filters: Filters) -> tuple[list[str], list[list[str]]]:
    """The header and the rows of the selected conversations, oldest first."""
    rows = sorted(selected(facts, filters), key=lambda r: (r["started_at"], str(r.get("conversation_id"))))
    derived = {"language": language_of, "duration_seconds": _duration}
    table = [[cell(derived[c](r) if c in derived else r.get(c)) for c in COLUMNS] for r in rows]
    return list(COLUMNS), table
