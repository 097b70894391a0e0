"""The consumer on the real RabbitMQ (127.0.0.1:5672): duplicated and redelivered messages are
stored once; a consumer killed (SIGKILL) in the middle of a batch loses nothing; several
consumers of one queue leave complete facts."""

from __future__ import annotations

import asyncio
import json
import os
import random
import signal
import sys

import aio_pika

from huanxin_testkit.rollups import rollup_contents
from huanxin_testkit.stream_events import full_conversation
from ledger.db import analytics as store
from ledger.db.session import create_engine, create_session_factory
from ledger.domain.conversation_facts import derive
from ledger.services.analytics import consume_amqp, declare, rebuild_insights


async def publish(url: str, exchange: str, queue: str, events: list[dict]) -> None:
    connection = await aio_pika.connect(url)
    try:
        channel = await connection.channel()
        await declare(channel, exchange, queue)  # the queue exists before anything is published
        ex = await channel.get_exchange(exchange)
        for event in events:
            body = json.dumps(event).encode()
            await ex.publish(aio_pika.Message(body, delivery_mode=aio_pika.DeliveryMode.PERSISTENT), "")
    finally:
        await connection.close()


async def take_without_ack(url: str, queue: str, n: int) -> int:
    """Receive n messages and drop the connection without acknowledging them (a consumer that
    crashed): RabbitMQ delivers them again, marked redelivered."""
    connection = await aio_pika.connect(url)
    got = 0
    try:
        channel = await connection.channel()
        await channel.set_qos(prefetch_count=n)
        q = await channel.get_queue(queue)
        async with q.iterator() as it:
            async for _message in it:
                got += 1
                if got == n:
                    break
    finally:
        await connection.close()
    return got


async def stored(sessions, conv) -> bool:
    async with sessions() as s:
        row = await store.facts_of(s, conv.sender)
    want = derive(conv.sender, conv.events).as_row()
    return row is not None and {k: row[k] for k in want} == want


async def count(sessions) -> int:
    async with sessions() as s:
        return await store.event_count(s)


async def test_duplicated_and_redelivered_messages_are_stored_once(sessions, amqp):
    url, exchange, queue = amqp
    a, b = full_conversation("amqp-a"), full_conversation("amqp-b", channel="wechat")
    events = a.events + b.events
    rng = random.Random(5)
    published = events + rng.sample(events, 10)  # copies, as a retrying publisher sends them
    rng.shuffle(published)
    await publish(url, exchange, queue, published)
    assert await take_without_ack(url, queue, 20) == 20  # these 20 come back redelivered
    handled = await consume_amqp(sessions, url, exchange=exchange, queue=queue, batch=16, idle_exit=1.0)
    assert handled == len(published)
    assert await count(sessions) == len(events)
    assert await stored(sessions, a) and await stored(sessions, b)
    # the whole stream once more (a replay): nothing changes
    await publish(url, exchange, queue, events)
    await consume_amqp(sessions, url, exchange=exchange, queue=queue, batch=50, idle_exit=1.0)
    assert await count(sessions) == len(events)
    assert await stored(sessions, a) and await stored(sessions, b)


async def test_a_consumer_killed_mid_batch_loses_nothing(db_url, sessions, amqp):
    url, exchange, queue = amqp
    convs = [full_conversation(f"kill-{i}") for i in range(3)]
    events = [e for c in convs for e in c.events]
    await publish(url, exchange, queue, events)
    env = {**os.environ, "DATABASE_URL": db_url, "PYTHONUNBUFFERED": "1"}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "ledger.cli", "consume-events", "--amqp", url, "--exchange", exchange,
        "--queue", queue, "--batch", "40", "--hold-before-commit", "60",
        env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    try:
        lines = []
        while True:  # until it holds a batch in its open transaction
            line = (await asyncio.wait_for(proc.stdout.readline(), timeout=30)).decode()
            assert line, "the consumer exited: " + "".join(lines)
            lines.append(line)
            if "holding" in line:
                break
        proc.send_signal(signal.SIGKILL)
        await asyncio.wait_for(proc.wait(), timeout=10)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    assert await count(sessions) == 0  # its batch was never committed
    handled = await consume_amqp(sessions, url, exchange=exchange, queue=queue, batch=25, idle_exit=1.0)
    assert handled == len(events)
    assert await count(sessions) == len(events)
    for conv in convs:
        assert await stored(sessions, conv)


async def test_several_consumers_of_one_queue(pg_url, amqp):
    url, exchange, queue = amqp
    convs = [full_conversation(f"multi-{i}") for i in range(6)]
    events = [e for c in convs for e in c.events]
    random.Random(9).shuffle(events)
    await publish(url, exchange, queue, events)
    engines = [create_engine(pg_url, pool_size=2) for _ in range(3)]
    try:
        handled = await asyncio.gather(
            *(
                consume_amqp(create_session_factory(e), url, exchange=exchange, queue=queue, batch=7, idle_exit=1.0)
                for e in engines
            )
        )
        assert sum(handled) == len(events)
        assert sum(1 for h in handled if h) >= 2  # the queue was really shared
        sessions = create_session_factory(engines[0])
        assert await count(sessions) == len(events)
        for conv in convs:
            assert await stored(sessions, conv)
        # three consumers moved the same rollup rows at once: the sums are a rebuild's
        kept = await rollup_contents(sessions)
        assert kept["insights_overview_daily"]
        await rebuild_insights(sessions)
        assert await rollup_contents(sessions) == kept
    finally:
        for e in engines:
            await e.dispose()


async def test_a_batch_the_database_refuses_goes_back_to_the_queue(sessions, amqp):
    url, exchange, queue = amqp
    conv = full_conversation("flaky")
    await publish(url, exchange, queue, conv.events)
    calls = {"n": 0}

    def flaky():
        calls["n"] += 1
        if calls["n"] == 1:
            raise ConnectionResetError("database restarting")
        return sessions()

    handled = await consume_amqp(flaky, url, exchange=exchange, queue=queue, batch=10, idle_exit=1.0)
    assert handled == len(conv.events)  # the refused batch came back and was stored later
    assert await count(sessions) == len(conv.events)
    assert await stored(sessions, conv)
