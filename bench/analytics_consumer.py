"""How many stream events per second the analytics consumer stores (docs/insights.md).

Writes N synthetic conversations' events (tests' generator: every kind of event, about 40 per
conversation, interleaved as concurrent conversations are) to the SQL stream or the RabbitMQ
queue, then runs one consumer (one process, one event loop: one core) until it has stored them
all (events, facts and the insights rollups), and prints events/s of wall-clock time and per
second of the consumer's own CPU time (the figure that holds on a loaded machine), with the
machine's size and load.

    backend/.venv/bin/python bench/analytics_consumer.py --conversations 500 --db sqlite
    backend/.venv/bin/python bench/analytics_consumer.py --conversations 500 --db pg --source amqp

PostgreSQL: the database BENCH_ANALYTICS_DB (default huanxin_bench_analytics), re-created.
RabbitMQ: BENCH_AMQP_URL (default amqp://guest:guest@127.0.0.1:5672/), an exchange and queue
named huanxin-bench-* (BENCH_AMQP_PREFIX), deleted afterwards.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "backend" / "tests" / "support"))

from benchlib import machine
from huanxin_testkit.gw_fakes import fresh_pg_database
from huanxin_testkit.stream_events import full_conversation
from ledger.cli import migrate
from ledger.db import analytics as store
from ledger.db.session import create_engine, create_session_factory
from ledger.services.analytics import consume_amqp, consume_sql, declare


def interleaved(n: int) -> list[dict]:
    """Events of n conversations, ten at a time in progress, in stream order."""
    convs = [full_conversation(f"bench-{i}-{uuid.uuid4().hex[:6]}").events for i in range(n)]
    out: list[dict] = []
    for start in range(0, n, 10):
        group = convs[start : start + 10]
        for step in range(max(len(c) for c in group)):
            out.extend(c[step] for c in group if step < len(c))
    return out


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--conversations", type=int, default=500)
    parser.add_argument("--db", choices=("sqlite", "pg"), default="sqlite")
    parser.add_argument("--source", choices=("sql", "amqp"), default="sql")
    parser.add_argument("--batch", type=int, default=200)
    args = parser.parse_args()
    events = interleaved(args.conversations)
    tmp = Path(tempfile.mkdtemp(prefix="analytics-bench-"))
    if args.db == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp / 'ledger.sqlite3'}"
        await asyncio.to_thread(migrate, url)
    else:
        url = await fresh_pg_database(os.environ.get("BENCH_ANALYTICS_DB", "huanxin_bench_analytics"))
    engine = create_engine(url)
    sessions = create_session_factory(engine)
    if args.source == "sql":
        stream = store.create_stream_engine(f"sqlite+aiosqlite:///{tmp / 'events.sqlite3'}")
        await store.create_stream_table(stream)
        for start in range(0, len(events), 1000):
            await store.append_stream(stream, events[start : start + 1000])
        began, cpu = time.perf_counter(), time.process_time()
        handled = await consume_sql(sessions, stream, "sql:bench", batch=args.batch, once=True)
        elapsed, cpu = time.perf_counter() - began, time.process_time() - cpu
        await stream.dispose()
    else:
        import aio_pika

        amqp = os.environ.get("BENCH_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/")
        prefix = os.environ.get("BENCH_AMQP_PREFIX", "huanxin-bench")
        exchange, queue = f"{prefix}-events-{uuid.uuid4().hex[:6]}", f"{prefix}-analytics-{uuid.uuid4().hex[:6]}"
        connection = await aio_pika.connect(amqp)
        channel = await connection.channel()
        await declare(channel, exchange, queue)
        ex = await channel.get_exchange(exchange)
        for event in events:
            await ex.publish(aio_pika.Message(json.dumps(event).encode()), "")
        began, cpu = time.perf_counter(), time.process_time()
        handled = await consume_amqp(sessions, amqp, exchange=exchange, queue=queue, batch=args.batch, idle_exit=1.0)
        elapsed = time.perf_counter() - began - 1.0  # minus the idle second that ends the run
        cpu = time.process_time() - cpu
        await channel.queue_delete(queue)
        await channel.exchange_delete(exchange)
        await connection.close()
    async with sessions() as s:
        stored = await store.event_count(s)
    await engine.dispose()
    print(machine())
    print(
        f"{args.source} stream -> {args.db}: {handled} events of {args.conversations} conversations "
        f"(stored {stored}) in {elapsed:.2f} s = {handled / elapsed:.0f} events/s, batch {args.batch}; "
        f"the consumer's process used {cpu:.2f} s CPU = {handled / cpu:.0f} events per CPU second "
        f"(the database server's CPU not counted)"
    )
    print("load average (1, 5, 15 min) after the run: " + " ".join(f"{x:.2f}" for x in os.getloadavg()))


if __name__ == "__main__":
    asyncio.run(main())
