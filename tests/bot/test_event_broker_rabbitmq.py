"""Rasa's Pika broker on the real RabbitMQ (127.0.0.1:5672): with HUANXIN_EVENTS_AMQP_URL set,
the tracker store's redacted events reach the analytics queue, stamped, as persistent
messages. Skipped, saying so, when no broker answers (HUANXIN_REQUIRE_AMQP=1: a failure)."""

import asyncio
import json
import os
import uuid

import aio_pika
import pytest
from rasa.shared.core.domain import Domain
from rasa.shared.core.trackers import DialogueStateTracker

from addons.event_broker import MASK, HuanxinEventBroker
from addons.tracker_store import RedactingSQLTrackerStore
from harness import domain_path
from test_redaction import SECRETS, searchable, verification_turns

AMQP_URL = os.environ.get("HUANXIN_TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/")
PREFIX = os.environ.get("HUANXIN_TEST_AMQP_PREFIX", "huanxin-test")


async def test_the_pika_broker_delivers_the_redacted_stamped_events(tmp_path):
    try:
        connection = await aio_pika.connect(AMQP_URL, timeout=3)
    except Exception as exc:  # any failure to connect means no broker here
        if os.environ.get("HUANXIN_REQUIRE_AMQP") == "1":
            raise
        pytest.skip(f"RabbitMQ not reachable at {AMQP_URL}: {exc}")
    suffix = uuid.uuid4().hex[:8]
    exchange, queue = f"{PREFIX}-events-{suffix}", f"{PREFIX}-analytics-{suffix}"
    env = {"HUANXIN_EVENTS_AMQP_URL": AMQP_URL, "HUANXIN_EVENTS_EXCHANGE": exchange, "HUANXIN_EVENTS_QUEUE": queue}
    broker = await HuanxinEventBroker.from_env(env)
    channel = await connection.channel()
    try:
        domain = Domain.load(str(domain_path()))
        store = RedactingSQLTrackerStore(domain=domain, db=str(tmp_path / "tracker.db"), event_broker=broker)
        first, second = verification_turns()
        tracker = DialogueStateTracker.from_events("conv-amqp", first, slots=domain.slots)
        await store.save(tracker)
        tracker.update_with_events(second, domain)
        await store.save(tracker)

        q = await channel.get_queue(queue)
        bodies = []
        for _ in range(100):  # the broker publishes in background tasks
            message = await q.get(no_ack=True, fail=False)
            if message is None:
                if len(bodies) == len(tracker.events):
                    break
                await asyncio.sleep(0.05)
                continue
            assert message.delivery_mode == aio_pika.DeliveryMode.PERSISTENT
            bodies.append(message.body.decode())
        assert len(bodies) == len(tracker.events)
        stream = searchable(bodies)
        for secret in SECRETS:
            assert secret not in stream, secret
        events = [json.loads(b) for b in bodies]
        assert {e["sender_id"] for e in events} == {"conv-amqp"}
        assert sorted(e["huanxin_index"] for e in events) == list(range(len(events)))
        assert len({e["huanxin_event_id"] for e in events}) == len(events)
        assert MASK in stream
    finally:
        await broker.close()
        await channel.queue_delete(queue)
        await channel.exchange_delete(exchange)
        await connection.close()
