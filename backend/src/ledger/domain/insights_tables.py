"""The insights page's tables as rows of text for CSV files (pure: no I/O).

Each table the page shows (the overview's rows, the funnel's steps, NLU health's tables, the
ledger outcomes) comes from the figures the page's JSON carries, flattened the same way: a
nested figure becomes columns named with dots (`paid_within_7d.share`), a list of small records
one cell (`status_overdue=3; offers=1`), every cell through `facts_table.cell` (text, formulas
defused). Only aggregates cross here: the review list's lines are the facts the list shows.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from .facts_table import cell

ALL = "all"  # the row of the whole selection, beside the per-language (and channel) rows
NLU_TABLES = ("languages", "intents", "confused", "messages")
TABLES = ("overview", "funnel", *(f"nlu_{name}" for name in NLU_TABLES), "ledger")
# Each table's first columns, there even when it has no row; the figures' columns follow.
LEADING: dict[str, tuple[str, ...]] = {
    "overview": ("period", "language", "channel", "conversations"),
    "funnel": ("language", "channel", "step", "reached", "share_of_started", "stopped", "drop_off"),
    "nlu_languages": ("language", "messages", "fallbacks", "fallback_rate", "low_confidence"),
    "nlu_intents": ("language", "intent", "messages", "share", "low_confidence"),
    "nlu_confused": (
        "language",
        "intent",
        "messages",
        "then_denied",
        "then_asked_again",
        "then_fallback",
        "then_asked_for_person",
        "confused",
        "confused_share",
    ),  # fmt: skip
    "nlu_messages": ("conversation_id", "language", "turn", "intent", "confidence", "guess"),
    "ledger": ("by", "group", "selected", "linked", "conversations"),
}
# The review list's columns (ledger/domain/review.py review_entry), in the page's order.
REVIEW_COLUMNS = ("conversation_id", "started_at", "language", "channel", "turns", "furthest_step", "outcome",
                  "escalated", "fallbacks", "low_confidence", "csat", "reviewed", "tags")  # fmt: skip


def _item(record: Mapping[str, Any]) -> str:
    """A small record of a list in one cell: its name, then its other values (`offers=3`)."""
    values = [str(v) for v in record.values() if v is not None]
    return f"{values[0]}={' '.join(values[1:])}" if len(values) > 1 else "".join(values)


def flat(record: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """The record with nested mappings as dotted columns and lists of records as one cell."""
    out: dict[str, Any] = {}
    for key, value in record.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            out.update(flat(value, name + "."))
        elif isinstance(value, list | tuple) and any(isinstance(v, Mapping) for v in value):
            out[name] = "; ".join(_item(v) for v in value if isinstance(v, Mapping))
        else:
            out[name] = value
    return out


def table(records: Iterable[Mapping[str, Any]], leading: Iterable[str] = ()) -> tuple[list[str], list[list[str]]]:
    """Header (the leading columns, then every other column of any record in the order first
    seen) and rows of text."""
    flattened = [flat(r) for r in records]
    header = list(dict.fromkeys([*leading, *(name for r in flattened for name in r)]))
    return header, [[cell(r.get(name)) for name in header] for r in flattened]


def overview_records(data: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The whole selection, then one record per period, language and channel (as the page)."""
    total = {"period": ALL, "language": ALL, "channel": ALL, **data["total"]}
    return [total, *data["rows"]]


def funnel_records(data: Mapping[str, Any]) -> list[dict[str, Any]]:
    """One record per step, of the whole selection and then of each language and channel; the
    committed step carries how it was committed."""
    groups = [{"language": ALL, "channel": ALL, **data["total"]}, *data["groups"]]
    records = []
    for group in groups:
        for step in group["steps"]:
            extra = {"committed_as": group["committed_as"]} if step["step"] == data["steps"][-1] else {}
            records.append({"language": group["language"], "channel": group["channel"], **step, **extra})
    return records


def nlu_records(data: Mapping[str, Any], name: str) -> list[dict[str, Any]]:
    """One of NLU health's tables (NLU_TABLES): per language (the whole selection first) its
    figures, intents or confused intents; or the low-confidence messages."""
    if name == "messages":
        return list(data["low_confidence_messages"])
    groups = [{"language": ALL, **data["total"]}, *data["languages"]]
    if name == "languages":
        return [{k: v for k, v in g.items() if k not in ("intents", "confused")} for g in groups]
    return [{"language": g["language"], **entry} for g in groups for entry in g[name]]


def ledger_records(data: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The ledger outcomes of the whole selection (with how many conversations were selected
    and linked), then by bucket, then by plan type; `conversations` counts the linked ones."""
    selected = {"selected": data.get("conversations"), "linked": data.get("linked")}
    total = {"by": ALL, "group": ALL, **selected, **data["total"]}
    buckets = [{"by": "bucket", "group": g["bucket"], **{k: v for k, v in g.items() if k != "bucket"}}
               for g in data["by_bucket"]]  # fmt: skip
    plans = [{"by": "plan_type", "group": g["plan_type"], **{k: v for k, v in g.items() if k != "plan_type"}}
             for g in data["by_plan_type"]]  # fmt: skip
    return [total, *buckets, *plans]


def review_rows(entries: Iterable[Mapping[str, Any]]) -> list[list[str]]:
    """The review list's lines (review_entry) as rows of REVIEW_COLUMNS."""
    return [[cell(entry.get(name)) for name in REVIEW_COLUMNS] for entry in entries]
