"""The event broker receives the conversation as the tracker store stores it: redacted, each
event stamped with an id and its position, one transaction per save on SQL."""

import json
import sqlite3

from rasa.shared.core.domain import Domain
from rasa.shared.core.trackers import DialogueStateTracker

from addons.event_broker import MASK, HuanxinEventBroker, stamped
from addons.tracker_store import RedactingSQLTrackerStore
from harness import domain_path
from test_redaction import SECRETS, searchable, verification_turns


async def test_streamed_events_are_redacted_stamped_and_complete(tmp_path):
    events_db = tmp_path / "events.sqlite3"
    broker = await HuanxinEventBroker.from_env({"HUANXIN_EVENTS_DB": str(events_db)})
    domain = Domain.load(str(domain_path()))
    store = RedactingSQLTrackerStore(domain=domain, db=str(tmp_path / "tracker.db"), event_broker=broker)
    first, second = verification_turns()
    tracker = DialogueStateTracker.from_events("conv-b", first, slots=domain.slots)
    await store.save(tracker)
    tracker.update_with_events(second, domain)
    await store.save(tracker)

    rows = sqlite3.connect(events_db).execute("select sender_id, data from events order by id").fetchall()
    assert len(rows) == len(tracker.events)  # every event once, none twice
    stream = searchable(row[1] for row in rows)
    for secret in SECRETS:
        assert secret not in stream, secret
    bodies = [json.loads(row[1]) for row in rows]
    assert {row[0] for row in rows} == {"conv-b"}
    assert [b["huanxin_index"] for b in bodies] == list(range(len(rows)))
    assert len({b["huanxin_event_id"] for b in bodies}) == len(rows)
    users = [b for b in bodies if b["event"] == "user"]
    assert [u["parse_data"]["intent"]["name"] for u in users][:2] == ["ask_overdue_status", "inform"]
    assert users[1]["text"] == MASK  # the phone number typed as an identity answer


async def test_off_means_no_broker():
    assert await HuanxinEventBroker.from_env({"HUANXIN_EVENTS": "off"}) is None


def test_a_stray_event_is_masked_and_keeps_its_id():
    event = {"event": "slot", "name": "identity_dob", "value": "1990-03-15", "huanxin_event_id": "abc"}
    assert stamped(event) == {"event": "slot", "name": "identity_dob", "value": MASK, "huanxin_event_id": "abc"}
    text = stamped({"event": "user", "text": "身份证 110101199003151234", "parse_data": {"text": "110101199003151234"}})
    assert "110101199003151234" not in json.dumps(text, ensure_ascii=False)


def published(db):
    """The bodies on the SQL stream, without what differs from run to run (ids, clocks)."""
    rows = sqlite3.connect(db).execute("select sender_id, data from events order by id").fetchall()
    out = []
    for sender, data in rows:
        body = json.loads(data)
        body.pop("huanxin_event_id")
        body.pop("timestamp", None)
        out.append((sender, json.dumps(body, sort_keys=True, ensure_ascii=False)))
    return out


async def test_the_cached_store_streams_what_rasas_save_would_and_reads_nothing_for_it(tmp_path):
    """The cache knows how many events are stored and the form's state after them: a save
    streams exactly what the uncached store streams, without counting rows or redacting the
    whole session again."""
    import sqlalchemy as sa

    from addons.tracker_store import UncachedRedactingSQLTrackerStore
    from test_tracker_cache import turns

    domain = Domain.load(str(domain_path()))
    first, second = verification_turns()
    steps = [first, second, *turns(5)]
    dbs = {}
    for name, store_class in (("cached", RedactingSQLTrackerStore), ("plain", UncachedRedactingSQLTrackerStore)):
        dbs[name] = tmp_path / f"events-{name}.sqlite3"
        broker = await HuanxinEventBroker.from_env({"HUANXIN_EVENTS_DB": str(dbs[name])})
        store = store_class(domain=domain, db=str(tmp_path / f"tracker-{name}.db"), event_broker=broker)
        statements = []
        sa.event.listen(
            store.engine, "before_cursor_execute", lambda *args, seen=statements: seen.append(args[2].lower())
        )
        for step in steps:
            tracker = await store.retrieve("conv-s") or DialogueStateTracker("conv-s", domain.slots)
            tracker.update_with_events(step, domain)
            statements.clear()
            await store.save(tracker)
            if name == "cached" and step is not first:
                assert not [s for s in statements if s.startswith("select count(*)")], "the stored events were counted"
    assert published(dbs["cached"]) == published(dbs["plain"])
    assert len(published(dbs["cached"])) == sum(len(step) for step in steps)


async def test_a_batch_writes_the_rows_rasas_broker_writes_one_by_one(tmp_path):
    """_BatchSQLEventBroker.publish_many (one Core executemany, issue 11) against Rasa's
    SQLEventBroker.publish of the same bodies: the same rows, in the same order."""
    from rasa.core.brokers.sql import SQLEventBroker

    from addons.event_broker import _BatchSQLEventBroker

    bodies = [stamped({"sender_id": f"conv-{i % 2}", "event": "slot", "name": "n", "value": i}, i) for i in range(7)]
    bodies.append(stamped({"sender_id": None, "event": "bot", "text": "您好 13800000001"}, 7))
    batch = _BatchSQLEventBroker(db=str(tmp_path / "batch.sqlite3"))
    rasa = SQLEventBroker(db=str(tmp_path / "rasa.sqlite3"))
    batch.publish_many(bodies[:3])
    batch.publish_many([])
    batch.publish_many(bodies[3:])
    for body in bodies:
        rasa.publish(body)

    def rows(name):
        return sqlite3.connect(tmp_path / name).execute("select id, sender_id, data from events order by id").fetchall()

    assert rows("batch.sqlite3") == rows("rasa.sqlite3")
    assert len(rows("batch.sqlite3")) == 8
