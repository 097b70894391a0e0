"""The review list's filters in the database (ledger/db/analytics.py review_page), on SQLite
and PostgreSQL: each filter, the review state from annotations (the latest conversation-level
one decides "reviewed"), pages, newest first."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from ledger.db import analytics as store
from ledger.db.models import ConversationFactsRow
from ledger.domain.review import ReviewFilters

T0 = datetime(2026, 11, 2, 9, tzinfo=UTC)
START, END = datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 11, 30, tzinfo=UTC)


def facts(conversation, minutes, **extra):
    base = {
        "conversation_id": conversation,
        "started_at": T0 + timedelta(minutes=minutes),
        "languages": ["zh"],
        "channel": "web",
        "turns": 3,
        "outcome": "none",
        "outcomes": [],
        "escalated": False,
        "fallbacks": 0,
        "low_confidence": 0.9,
        "intents": [{"intent": "greet", "confidence": 0.9}],
        "furthest_step": "started",
        "updated_at": T0,
    }
    return {**base, **extra}


ROWS = [
    facts("c1", 3, outcome="promise", outcomes=["promise"], furthest_step="committed"),
    facts(
        "c2",
        2,
        escalated=True,
        fallbacks=1,
        low_confidence=0.2,
        intents=[{"intent": "nlu_fallback", "confidence": 0.2}],
    ),  # fmt: skip
    facts("c3", 1, languages=["en"], intents=[{"intent": "ask_fees", "confidence": 0.4}], low_confidence=0.4),
    facts("c4", 60 * 24 * 40),  # outside the period
]


async def stored(sessions):
    async with sessions() as s, s.begin():
        await s.execute(ConversationFactsRow.__table__.insert(), ROWS)
        note = {"event_id": None, "intent": None, "note": None, "annotator": "ana"}
        await store.add_annotation(s, conversation_id="c3", tag="wrong_intent", reviewed=True,
                                   created_at=T0, **note)  # fmt: skip
        # c1 was marked reviewed, then unmarked: the latest counts
        await store.add_annotation(s, conversation_id="c1", tag=None, reviewed=True, created_at=T0, **note)
        await store.add_annotation(s, conversation_id="c1", tag=None, reviewed=False,
                                   created_at=T0 + timedelta(hours=1), **note)  # fmt: skip


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        (ReviewFilters(), ["c1", "c2", "c3"]),
        (ReviewFilters(outcome="none"), ["c2", "c3"]),
        (ReviewFilters(escalated=True), ["c2"]),
        (ReviewFilters(escalated=False), ["c1", "c3"]),
        (ReviewFilters(fallback=True), ["c2"]),
        (ReviewFilters(fallback=False), ["c1", "c3"]),
        (ReviewFilters(intent="ask_fees"), ["c3"]),
        (ReviewFilters(intent="nlu_fallback"), ["c2"]),
        (ReviewFilters(below=0.5), ["c2", "c3"]),
        (ReviewFilters(step="committed"), ["c1"]),
        (ReviewFilters(reviewed=True), ["c3"]),
        (ReviewFilters(reviewed=False), ["c1", "c2"]),
        (ReviewFilters(tag="wrong_intent"), ["c3"]),
        (ReviewFilters(language="en"), ["c3"]),
        (ReviewFilters(channel="wechat"), []),
        (ReviewFilters(outcome="none", below=0.3), ["c2"]),
    ],
)
async def test_each_filter(sessions, filters, expected):
    await stored(sessions)
    async with sessions() as s:
        total, rows = await store.review_page(s, START, END, filters)
    assert [r["conversation_id"] for r in rows] == expected  # newest first
    assert total == len(expected)


async def test_pages_and_review_state(sessions):
    await stored(sessions)
    async with sessions() as s:
        total, rows = await store.review_page(s, START, END, ReviewFilters(limit=1, offset=1))
        marks = await store.review_marks(s, [r["conversation_id"] for r in rows])
        all_marks = await store.review_marks(s, ["c1", "c3"])
    assert total == 3 and [r["conversation_id"] for r in rows] == ["c2"]
    assert marks == {}
    assert all_marks["c1"]["reviewed"] is False and all_marks["c3"] == {
        "reviewed": True,
        "tags": ["wrong_intent"],
        "annotations": 1,
    }


async def test_keyset_pages_walk_the_list_without_gaps(sessions):
    """Page after page with `after` (the door's `next`): every match once, newest first."""
    from ledger.domain.review import page_cursor

    async with sessions() as s, s.begin():
        await s.execute(ConversationFactsRow.__table__.insert(), ROWS)
        more = [facts(f"k{i}", 10 + i // 2) for i in range(9)]  # pairs share a start
        await s.execute(ConversationFactsRow.__table__.insert(), more)
    async with sessions() as s:
        _, everything = await store.review_page(s, START, END, ReviewFilters(limit=200))
    seen, after = [], None
    while True:
        async with sessions() as s:
            _, rows = await store.review_page(s, START, END, ReviewFilters(limit=4, after=after))
        seen += [r["conversation_id"] for r in rows]
        if len(rows) < 4:
            break
        when, _, conversation = page_cursor(rows[-1]).partition("~")
        after = (datetime.fromisoformat(when), conversation)
    assert seen == [r["conversation_id"] for r in everything] and len(seen) == 12


async def test_the_count_stops_at_its_cap(sessions, monkeypatch):
    await stored(sessions)
    monkeypatch.setattr(store, "COUNT_CAP", 1)
    async with sessions() as s:
        total, rows = await store.review_page(s, START, END, ReviewFilters())
    assert total == 2 and len(rows) == 3  # "more than 1"; the page is not cut


async def test_the_csv_rows_stream_in_pages_as_the_whole_table(sessions):
    from datetime import date

    from ledger.desk_door import DeskDoor

    async with sessions() as s, s.begin():
        await s.execute(ConversationFactsRow.__table__.insert(), ROWS)
        await s.execute(ConversationFactsRow.__table__.insert(), [facts(f"k{i}", 10 + i // 2) for i in range(9)])
    door = DeskDoor(sessions)
    since, until = date(2026, 11, 1), date(2026, 11, 29)
    whole = await door.insights_facts_table(since, until, None, None, limit=1000)
    streamed = [row async for chunk in door.insights_facts_rows(since, until, None, None, chunk=4) for row in chunk]
    assert streamed == whole["rows"] and len(streamed) == 12
    assert await door.insights_facts_count(since, until, None, None, cap=5) == 6
    assert await door.insights_facts_count(since, until, "en", None, cap=5) == 1
