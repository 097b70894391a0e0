"""The tracker store's in-process cache changes nothing a conversation reads back or stores.

Every check compares the caching store (RedactingSQLTrackerStore) with the redaction alone
(UncachedRedactingSQLTrackerStore, Rasa's own read and write) on the same database file: the
same rows written, the same events, slots and redaction read back, and never a stale tracker
when another instance (another store object on the same file) wrote in between.
"""

import json
import os
import sqlite3
import uuid

import pytest
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    BotUttered,
    SessionStarted,
    SlotSet,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker

from addons.tracker_store import MASK, RedactingSQLTrackerStore, UncachedRedactingSQLTrackerStore
from harness import domain_path
from test_redaction import SECRETS, user, verification_turns


@pytest.fixture(scope="module")
def domain():
    return Domain.load(str(domain_path()))


def stored_rows(db):
    with sqlite3.connect(db) as conn:
        return conn.execute(
            "select sender_id, type_name, timestamp, intent_name, action_name, data from events order by id"
        ).fetchall()


def without_times(rows):
    """Rows without the timestamps (Rasa stamps the events of each run with the clock)."""
    out = []
    for sender, type_name, _ts, intent, action, data in rows:
        body = json.loads(data)
        body.pop("timestamp", None)
        out.append((sender, type_name, intent, action, body))
    return out


def dump(tracker):
    return (
        [e.as_dict() for e in tracker.events],
        {name: slot.value for name, slot in tracker.slots.items()},
        tracker.latest_message.as_dict() if tracker.latest_message else None,
        tracker.active_loop,
        tracker.latest_action,
    )


def drop_times(value):
    """The value without "timestamp" keys at any depth (each run stamps its own events)."""
    if isinstance(value, dict):
        return {k: drop_times(v) for k, v in value.items() if k != "timestamp"}
    if isinstance(value, list | tuple):
        return [drop_times(v) for v in value]
    return value


async def reference(domain, db, sender):
    """The tracker Rasa itself reads from this database (no cache)."""
    return await UncachedRedactingSQLTrackerStore(domain=domain, db=str(db)).retrieve(sender)


def turns(n):
    """n ordinary turns after verification."""
    out = []
    for i in range(n):
        out.append([
            user(f"罚息怎么算 {i}", "ask_fees"),
            ActionExecuted("action_explain_fees"),
            BotUttered(f"罚息说明 {i}"),
            SlotSet("pending_intent", None),
            ActionExecuted("action_listen"),
        ])  # fmt: skip
    return out


async def test_stored_conversation_reads_back_identical_with_and_without_the_cache(tmp_path, domain):
    cached_db, plain_db = tmp_path / "cached.db", tmp_path / "plain.db"
    cached = RedactingSQLTrackerStore(domain=domain, db=str(cached_db))
    plain = UncachedRedactingSQLTrackerStore(domain=domain, db=str(plain_db))
    assert cached.caching
    first, second = verification_turns()
    steps = [first, second, *turns(4)]
    for store in (cached, plain):
        tracker = None
        for step in steps:  # as Rasa: retrieve, add the turn's events, save
            tracker = await store.retrieve("conv-c") or DialogueStateTracker("conv-c", domain.slots)
            tracker.update_with_events(step, domain)
            await store.save(tracker)
    assert without_times(stored_rows(cached_db)) == without_times(stored_rows(plain_db))
    stored = "\n".join(row[-1] for row in stored_rows(cached_db))
    for secret in SECRETS:
        assert secret not in stored, secret

    from_cache = await cached.retrieve("conv-c")
    assert dump(from_cache) == dump(await reference(domain, cached_db, "conv-c"))
    assert drop_times(dump(from_cache)) == drop_times(dump(await plain.retrieve("conv-c")))
    assert from_cache.get_slot("identity_phone") == MASK
    assert from_cache.get_slot("verified") is True
    texts = [e.text for e in from_cache.events if isinstance(e, UserUttered)]
    assert texts[1:4] == [MASK, MASK, MASK]


async def test_redaction_carries_the_form_state_over_saves(tmp_path, domain):
    """An identity answer in a turn of its own (the form asked in the turn before) is still
    redacted whole, though the cache only redacts the new events."""
    db = tmp_path / "t.db"
    store = RedactingSQLTrackerStore(domain=domain, db=str(db))
    first, second = verification_turns()
    tracker = DialogueStateTracker.from_events("conv-f", first, slots=domain.slots)
    await store.save(tracker)
    tracker = await store.retrieve("conv-f")
    tracker.update_with_events(second[:2], domain)  # "1990年3月15日" answering identity_dob
    await store.save(tracker)
    rows = stored_rows(db)
    assert "1990" not in "".join(r[-1] for r in rows)
    restored = await reference(domain, db, "conv-f")
    assert [e.text for e in restored.events if isinstance(e, UserUttered)][-1] == MASK


PG = os.environ.get("TRACKER_TEST_PG", "127.0.0.1:5432")
PG_USER = os.environ.get("TRACKER_TEST_PG_USER", "postgres")
PG_DB_PREFIX = os.environ.get("TRACKER_TEST_PG_DB_PREFIX", "huanxin_tracker_cache")


@pytest.fixture(params=["sqlite", "postgresql"])
def shared_db(request, tmp_path, monkeypatch):
    """Where two instances share their events: a SQLite file, or a PostgreSQL database of its own
    (created and dropped here; the test is skipped when PostgreSQL does not answer)."""
    if request.param == "sqlite":
        db = tmp_path / "shared.db"
        yield {"db": str(db)}, lambda: stored_rows(db)
        return
    import psycopg2

    host, port = PG.split(":")
    name = f"{PG_DB_PREFIX}_{uuid.uuid4().hex[:8]}"
    try:
        admin = psycopg2.connect(host=host, port=port, user=PG_USER, dbname="postgres", connect_timeout=3)
    except psycopg2.OperationalError:
        pytest.skip(f"no PostgreSQL at {PG}")
    admin.autocommit = True
    admin.cursor().execute(f'CREATE DATABASE "{name}"')
    monkeypatch.setenv("RASA_TRACKER_DB_URL", f"postgresql://{PG_USER}@{PG}/{name}")

    def rows():
        with psycopg2.connect(host=host, port=port, user=PG_USER, dbname=name) as conn, conn.cursor() as cur:
            cur.execute(
                "select sender_id, type_name, timestamp, intent_name, action_name, data from events order by id"
            )
            return cur.fetchall()

    try:
        yield {}, rows
    finally:
        admin.cursor().execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


async def test_two_instances_sharing_the_store_never_serve_a_stale_tracker(domain, shared_db):
    where, rows_of = shared_db
    a = RedactingSQLTrackerStore(domain=domain, **where)
    b = RedactingSQLTrackerStore(domain=domain, **where)

    async def reference(domain, _db, sender):
        return await UncachedRedactingSQLTrackerStore(domain=domain, **where).retrieve(sender)

    db = None
    first, second = verification_turns()
    steps = [first, second, *turns(6)]
    for i, step in enumerate(steps):
        store = (a, b, b, a, a, b, a, b)[i]  # turns alternate between the instances, as behind the gateway
        got, expected = await store.retrieve("conv-s"), await reference(domain, db, "conv-s")
        assert (got is None) == (expected is None)
        assert got is None or dump(got) == dump(expected)
        tracker = got or DialogueStateTracker("conv-s", domain.slots)
        tracker.update_with_events(step, domain)
        await store.save(tracker)
        for other in (a, b):
            assert dump(await other.retrieve("conv-s")) == dump(await reference(domain, db, "conv-s"))
    assert len(rows_of()) == sum(len(s) for s in steps)
    for engine_owner in (a, b):
        engine_owner.engine.dispose()


async def test_a_turn_asks_for_the_first_and_last_id_only_and_sees_rows_removed_at_either_end(domain, shared_db):
    """The freshness check is two index lookups (min and max id), not a count of the
    conversation's rows; rows removed at the start (an old session cleaned up) or at the end
    are still seen, and the conversation read again."""
    import sqlalchemy as sa

    where, _rows = shared_db
    store = RedactingSQLTrackerStore(domain=domain, **where)
    first, second = verification_turns()
    tracker = DialogueStateTracker("conv-b", domain.slots)
    for step in (first, second, *turns(4)):
        tracker.update_with_events(step, domain)
        await store.save(tracker)
        tracker = await store.retrieve("conv-b")
    asked = []
    sa.event.listen(store.engine, "before_cursor_execute", lambda *args: asked.append(args[2].lower()))
    assert dump(await store.retrieve("conv-b")) == dump(await reference_of(domain, where, "conv-b"))
    assert asked and not any("count(" in q for q in asked), asked
    if store.engine.dialect.name == "postgresql":
        with store.engine.connect() as conn:
            names = conn.execute(sa.text("select indexname from pg_indexes where tablename = 'events'")).scalars()
            assert "huanxin_events_sender_id_id" in set(names)
    for end in ("min", "max"):
        with store.engine.begin() as conn:
            conn.execute(
                sa.text(f"delete from events where id = (select {end}(id) from events where sender_id = 'conv-b')")
            )
        assert dump(await store.retrieve("conv-b")) == dump(await reference_of(domain, where, "conv-b"))
    store.engine.dispose()


async def reference_of(domain, where, sender):
    return await UncachedRedactingSQLTrackerStore(domain=domain, **where).retrieve(sender)


async def test_a_new_session_and_removed_rows_are_read_again(tmp_path, domain):
    db = tmp_path / "s.db"
    a = RedactingSQLTrackerStore(domain=domain, db=str(db))
    b = RedactingSQLTrackerStore(domain=domain, db=str(db))
    first, _ = verification_turns()
    tracker = DialogueStateTracker.from_events("conv-n", first, slots=domain.slots)
    await a.save(tracker)
    assert (await a.retrieve("conv-n")) is not None
    # another instance starts a new session: the old session's events are no longer read
    tracker = await b.retrieve("conv-n")
    tracker.update_with_events(
        [
            ActionExecuted("action_session_start"),
            SessionStarted(),
            ActionExecuted("action_listen"),
            user("你好", "greet"),
        ],
        domain,
    )
    await b.save(tracker)
    fresh = await a.retrieve("conv-n")
    assert dump(fresh) == dump(await reference(domain, db, "conv-n"))
    assert len([e for e in fresh.events if isinstance(e, UserUttered)]) == 1  # the new session's only
    # rows removed behind the cache's back (a clean-up job): read again, not served from memory
    with sqlite3.connect(db) as conn:
        conn.execute("delete from events where sender_id = 'conv-n'")
    assert await a.retrieve("conv-n") is None


async def test_the_switch_turns_the_cache_off(tmp_path, domain, monkeypatch):
    monkeypatch.setenv("HUANXIN_ADDONS_OFF", "tracker_cache")
    store = RedactingSQLTrackerStore(domain=domain, db=str(tmp_path / "o.db"))
    assert not store.caching
    first, _ = verification_turns()
    await store.save(DialogueStateTracker.from_events("conv-o", first, slots=domain.slots))
    assert (await store.retrieve("conv-o")).get_slot("identity_phone") == MASK
    assert store._cache == {}


def test_sqlite_runs_in_wal_mode(tmp_path, domain):
    store = RedactingSQLTrackerStore(domain=domain, db=str(tmp_path / "w.db"))
    with store.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 1  # NORMAL
    assert type(store.engine.pool).__name__ == "SingletonThreadPool"  # the connection is kept
