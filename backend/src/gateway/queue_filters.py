"""The desk queue's filters and search (GET /desk/api/queue), read from the query string and
checked here, without I/O. ``static/desk_queue.js`` (``DeskQueue.matches``) applies the same
rules to the lines a desk keeps up to date from its socket; keep the two alike.

- ``filter``: all | mine | unassigned | waiting (as before); ``label``: one label.
- ``reason``: the escalation reason (ESCALATION_REASONS); ``language``: the chat's (zh | en);
  ``waiting_min``: with the desk, nobody's, for at least this many whole minutes (1-1440; the
  desk offers WAITING_STEPS). These three are the gateway's columns: filtered in SQL.
- ``bucket``: the linked borrower's worst delinquency bucket (one of the ledger policy's);
  ``q``: a search over what a queue line shows: the short reference (the conversation id, from
  its start), the escalation reason, and from the ledger the borrower's name, the case number
  and the loan numbers (case-insensitive substrings). Never message text, the hand-off summary,
  a phone, a birth date or an ID number: those are not on a line, and a search that matched
  them would be a look-up by identity facts. These two need the ledger's batched summaries.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

QUEUE_FILTERS = ("all", "mine", "unassigned", "waiting")
LABEL = re.compile(r"[\w-]{1,32}")  # a label: letters (any script), digits, _ and -
# The ledger's escalation reasons (the bot files one of them) and the gateway's own pick-up.
ESCALATION_REASONS = (
    "request_human",
    "complaint",
    "fallback",
    "hardship_review",
    "verification_locked",
    "backend_unavailable",
    "other",
    "agent_pickup",
)
LANGUAGES = ("zh", "en")
# The desk's choices: past a normal pick-up (5), the default overdue mark (15,
# GATEWAY_DESK_OVERDUE_MINUTES), and an hour (a supervisor's look). The API takes any 1-1440.
WAITING_STEPS = (5, 15, 60)
MAX_WAITING_MIN = 1440
MAX_SEARCH = 64
BUCKET = re.compile(r"[A-Za-z0-9+_-]{1,16}")  # a bucket name when the policy's are not known


class BadFilter(ValueError):
    """A query parameter the queue does not take: a 400 naming it."""

    def __init__(self, parameter: str, detail: str) -> None:
        super().__init__(f"{parameter}: {detail}")
        self.parameter = parameter
        self.detail = f"{parameter} {detail}"


@dataclass(frozen=True)
class QueueQuery:
    which: str = "all"
    label: str | None = None
    reason: str | None = None
    bucket: str | None = None
    language: str | None = None
    waiting_min: int | None = None
    search: str | None = None  # trimmed, lower case

    @property
    def needs_summaries(self) -> bool:
        """Filters on the ledger's side of a line (its batched summary)."""
        return self.bucket is not None or self.search is not None

    @property
    def after_sql(self) -> bool:
        """Filters applied to the rows SQL selected, before the 200-line limit."""
        return self.label is not None or self.needs_summaries


class MultiQuery(Protocol):
    def getall(self, key: str, default: list[str]) -> list[str]: ...


def _one(query: MultiQuery, name: str) -> str | None:
    values = query.getall(name, [])
    if len(values) > 1:
        raise BadFilter(name, "must be given once")
    return values[0] if values else None


def parse_queue_query(query: MultiQuery, buckets: Collection[str] | None = None) -> QueueQuery:
    """The queue's filters from the query string; BadFilter names the first bad one. ``buckets``:
    the ledger policy's bucket names (None: not known here, any plain name is taken)."""
    which = _one(query, "filter")
    if which is None:
        which = "all"
    if which not in QUEUE_FILTERS:
        raise BadFilter("filter", f"must be one of {', '.join(QUEUE_FILTERS)}")
    label = _one(query, "label")
    if label is not None and not LABEL.fullmatch(label):
        raise BadFilter("label", "must be 1-32 letters, digits, _ or -")
    reason = _one(query, "reason")
    if reason is not None and reason not in ESCALATION_REASONS:
        raise BadFilter("reason", f"must be one of {', '.join(ESCALATION_REASONS)}")
    bucket = _one(query, "bucket")
    if bucket is not None:
        if buckets:
            if bucket not in buckets:
                raise BadFilter("bucket", f"must be one of {', '.join(buckets)}")
        elif not BUCKET.fullmatch(bucket):
            raise BadFilter("bucket", "must be a bucket name (1-16 letters, digits, +, _ or -)")
    language = _one(query, "language")
    if language is not None and language not in LANGUAGES:
        raise BadFilter("language", f"must be one of {', '.join(LANGUAGES)}")
    waiting = _one(query, "waiting_min")
    waiting_min = None
    if waiting is not None:
        if not (waiting.isascii() and waiting.isdigit()) or not 1 <= int(waiting) <= MAX_WAITING_MIN:
            raise BadFilter("waiting_min", f"must be a whole number of minutes from 1 to {MAX_WAITING_MIN}")
        waiting_min = int(waiting)
    search = _one(query, "q")
    if search is not None:
        search = search.strip()
        if not search or len(search) > MAX_SEARCH:
            raise BadFilter("q", f"must be 1-{MAX_SEARCH} characters (spaces at either end do not count)")
        if any(unicodedata.category(ch).startswith("C") for ch in search):
            raise BadFilter("q", "must not hold control or unassigned characters")
        search = search.lower()
    return QueueQuery(which, label, reason, bucket, language, waiting_min, search)


def search_fields(conversation_id: str, reason: str | None, summary: Mapping[str, Any] | None) -> Iterable[str]:
    """What ``q`` is looked for in (besides the reference, matched from its start)."""
    if reason:
        yield reason
    if summary:
        for key in ("borrower_name", "case_number"):
            if summary.get(key):
                yield str(summary[key])
        yield from (str(n) for n in summary.get("loan_numbers") or ())


def line_matches(
    query: QueueQuery,
    conversation_id: str,
    reason: str | None,
    labels: list[Any] | None,
    summary: Mapping[str, Any] | None,
) -> bool:
    """The filters SQL did not apply: label, bucket, search."""
    if query.label is not None and query.label not in (labels or []):
        return False
    if query.bucket is not None and (summary or {}).get("bucket") != query.bucket:
        return False
    if query.search is not None:
        needle = query.search
        if not conversation_id.lower().startswith(needle) and not any(
            needle in field.lower() for field in search_fields(conversation_id, reason, summary)
        ):
            return False
    return True
