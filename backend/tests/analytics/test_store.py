"""Storing the stream: each event once, facts from all of a conversation's events whatever the
delivery order, copies or concurrent writers; the SQL stream read from its stored position."""

from __future__ import annotations

import asyncio
import random
from datetime import UTC, datetime

from huanxin_testkit.stream_events import full_conversation
from ledger.db import analytics as store
from ledger.db.session import create_engine, create_session_factory
from ledger.domain.conversation_facts import derive
from ledger.services.analytics import consume_sql, ingest_batch

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


def expected(conv):
    return derive(conv.sender, conv.events).as_row()


async def facts(sessions, sender):
    async with sessions() as s:
        row = await store.facts_of(s, sender)
    assert row is not None
    return row


def same(row, conv):
    want = expected(conv)
    return {k: row[k] for k in want} == want


async def test_batches_in_any_order_with_copies_give_the_facts_of_the_whole(sessions):
    a, b = full_conversation("conv-a"), full_conversation("conv-b", channel="wechat", language="en")
    events = a.events + b.events
    rng = random.Random(3)
    delivered = events + rng.sample(events, 15)  # redelivered copies
    rng.shuffle(delivered)
    for start in range(0, len(delivered), 7):
        await ingest_batch(sessions, delivered[start : start + 7], clock=lambda: NOW)
    assert same(await facts(sessions, "conv-a"), a)
    assert same(await facts(sessions, "conv-b"), b)
    async with sessions() as s:
        assert await store.event_count(s) == len(events)
    row = await facts(sessions, "conv-a")
    assert row["outcome"] == "arrangement" and row["plan_type"] == "deferral" and row["handled_by_agent"]


async def test_the_same_batch_twice_changes_nothing(sessions):
    a = full_conversation("conv-a")
    await ingest_batch(sessions, a.events, clock=lambda: NOW)
    first = await facts(sessions, "conv-a")
    await ingest_batch(sessions, list(reversed(a.events)), clock=lambda: NOW)
    assert await facts(sessions, "conv-a") == first
    async with sessions() as s:
        assert await store.event_count(s) == len(a.events)


async def test_what_is_not_an_event_is_skipped_and_nothing_else_changes(sessions):
    a = full_conversation("conv-a")
    bad = [None, {"event": "user"}, {"sender_id": "", "event": "user"}, {"sender_id": "x" * 300, "event": "user"}]
    report = await ingest_batch(sessions, [*bad[:1], *a.events], clock=lambda: NOW)
    assert report.skipped == 1
    await ingest_batch(sessions, bad[1:], clock=lambda: NOW)
    async with sessions() as s:
        assert await store.event_count(s) == len(a.events)


async def test_an_event_without_an_id_counts_once_by_its_content(sessions):
    event = {"sender_id": "conv-old", "event": "user", "timestamp": 1.0, "parse_data": {"intent": {"name": "greet"}}}
    await ingest_batch(sessions, [dict(event), dict(event)], clock=lambda: NOW)
    await ingest_batch(sessions, [dict(event)], clock=lambda: NOW)
    async with sessions() as s:
        assert await store.event_count(s, "conv-old") == 1
    assert (await facts(sessions, "conv-old"))["turns"] == 1


async def test_concurrent_writers_of_one_conversation_leave_complete_facts(pg_url):
    """Two consumers store halves of one conversation at once (PostgreSQL, several times)."""
    engine = create_engine(pg_url)
    sessions = create_session_factory(engine)
    try:
        for round_ in range(5):
            conv = full_conversation(f"conv-{round_}")
            events = list(conv.events)
            random.Random(round_).shuffle(events)
            half = len(events) // 2
            # overlapping halves: the middle events are delivered to both consumers
            await asyncio.gather(
                ingest_batch(sessions, events[: half + 3], clock=lambda: NOW),
                ingest_batch(sessions, events[half - 3 :], clock=lambda: NOW),
            )
            assert same(await facts(sessions, conv.sender), conv)
    finally:
        await engine.dispose()


async def test_sql_stream_is_read_from_its_position_and_rereading_changes_nothing(sessions, tmp_path):
    stream = store.create_stream_engine(f"sqlite+aiosqlite:///{tmp_path / 'events.sqlite3'}")
    try:
        assert await consume_sql(sessions, stream, "sql:test", once=True) == 0  # no table yet: nothing
        await store.create_stream_table(stream)
        a = full_conversation("conv-a")
        half = len(a.events) // 2
        await store.append_stream(stream, a.events[:half])
        assert await consume_sql(sessions, stream, "sql:test", batch=5, once=True) == half
        await store.append_stream(stream, [*a.events[half:], a.events[0]])  # and a copy of the first
        assert await consume_sql(sessions, stream, "sql:test", batch=5, once=True) == len(a.events) - half + 1
        assert same(await facts(sessions, "conv-a"), a)
        before = await facts(sessions, "conv-a")
        # read everything again from the start (a lost position): nothing changes
        assert await consume_sql(sessions, stream, "sql:other", batch=50, once=True) == len(a.events) + 1
        assert await facts(sessions, "conv-a") == before
        async with sessions() as s:
            assert await store.event_count(s) == len(a.events)
            assert await store.checkpoint(s, "sql:test") == len(a.events) + 1
    finally:
        await stream.dispose()
