"""The analytics consumer: reads the event stream, stores each event once and keeps every
conversation's facts up to date (ledger/db/analytics.py; docs/insights.md).

Two sources, the same store:
- SQL (the embedded default): Rasa's SQL event broker table in its own database (SQLite file
  var/events.sqlite3). The read position is stored with the events it covers, in one
  transaction: a consumer stopped at any point resumes after the last committed batch, and an
  event read twice is stored once. One consumer at a time reads a SQL stream.
- RabbitMQ (`--amqp`): the durable queue bound to the exchange Rasa's Pika broker and the
  gateway publish to. Any number of consumers may read the queue. Messages are acknowledged
  only after their batch is committed: a consumer killed mid-batch leaves its messages
  unacknowledged, RabbitMQ delivers them again (to another consumer), and they are stored once.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from ledger.db import analytics as store
from ledger.db.session import Engine, SessionFactory

log = logging.getLogger("ledger.analytics")

DEFAULT_EXCHANGE = "huanxin-events"
DEFAULT_QUEUE = "huanxin-analytics"


def utcnow() -> datetime:
    return datetime.now(UTC)


def decode(body: bytes | str | None) -> dict[str, Any] | None:
    """One stream message as an event, or None when it is not a JSON object of an event."""
    if body is None:
        return None
    try:
        event = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None
    return event if store.usable(event) else None


@dataclass
class BatchReport:
    received: int = 0
    stored_conversations: int = 0
    skipped: int = 0


async def ingest_batch(
    sessions: SessionFactory,
    events: list[dict[str, Any] | None],
    *,
    checkpoint: tuple[str, int] | None = None,
    clock: Callable[[], datetime] = utcnow,
    hold_before_commit: float = 0.0,
    timezone: str = store.BUSINESS_TIMEZONE,
) -> BatchReport:
    """Store a batch in one transaction (with the SQL stream's new position, when given); the
    insights rollups' days are in `timezone`."""
    usable = [e for e in events if e is not None]
    report = BatchReport(received=len(events), skipped=len(events) - len(usable))
    now = clock()
    async with sessions() as session, session.begin():
        touched = await store.ingest(session, usable, now, timezone)
        if checkpoint is not None:
            await store.set_checkpoint(session, checkpoint[0], checkpoint[1], now)
        if hold_before_commit:
            log.warning("holding %d events before commit for %.1fs (fault tests)", len(events), hold_before_commit)
            await asyncio.sleep(hold_before_commit)
    report.stored_conversations = len(touched)
    return report


async def consume_sql(
    sessions: SessionFactory,
    stream: Engine,
    source: str,
    *,
    batch: int = 500,
    poll: float = 1.0,
    once: bool = False,
    stop: asyncio.Event | None = None,
    timezone: str = store.BUSINESS_TIMEZONE,
) -> int:
    """Read the SQL stream from the stored position until `stop` is set (or, with `once`, until
    it is read to the end); returns how many stream rows were read."""
    total = 0
    while stop is None or not stop.is_set():
        try:
            async with sessions() as session:
                position = await store.checkpoint(session, source)
            rows = await store.read_stream(stream, position, batch)
            if rows:
                events = [decode(r.data) for r in rows]
                await ingest_batch(sessions, events, checkpoint=(source, rows[-1].position), timezone=timezone)
                total += len(rows)
                if len(rows) == batch:
                    continue
        except Exception as exc:
            if once:
                raise
            # a database restarting: nothing was committed, the same rows are read again
            log.warning("analytics batch failed, retrying in %.0fs: %s", max(poll, 1.0), type(exc).__name__)
        if once:
            break
        try:
            await asyncio.wait_for((stop or asyncio.Event()).wait(), timeout=poll)
        except TimeoutError:
            pass
    return total


async def declare(channel: Any, exchange: str, queue: str) -> Any:
    """The exchange and queue as Rasa's Pika broker declares them (fanout exchange, durable
    queue bound to it): whoever starts first, the others find the same."""
    import aio_pika

    ex = await channel.declare_exchange(exchange, type=aio_pika.ExchangeType.FANOUT)
    q = await channel.declare_queue(queue, durable=True)
    await q.bind(ex, "")
    return q


async def consume_amqp(
    sessions: SessionFactory,
    url: str,
    *,
    exchange: str = DEFAULT_EXCHANGE,
    queue: str = DEFAULT_QUEUE,
    batch: int = 200,
    linger: float = 0.2,
    stop: asyncio.Event | None = None,
    idle_exit: float | None = None,
    hold_before_commit: float = 0.0,
    timezone: str = store.BUSINESS_TIMEZONE,
) -> int:
    """Consume the queue in batches (up to `batch` messages, or what arrived within `linger`
    seconds of the first) until `stop` is set or, with `idle_exit`, nothing arrived for that
    long; each batch is committed, then acknowledged. Returns the messages handled."""
    import aio_pika

    total = 0
    connection = await aio_pika.connect_robust(url)
    try:
        channel = await connection.channel()
        await channel.set_qos(prefetch_count=batch)
        q = await declare(channel, exchange, queue)
        inbox: asyncio.Queue[Any] = asyncio.Queue()
        tag = await q.consume(inbox.put, no_ack=False)
        idle_since = asyncio.get_running_loop().time()
        try:
            while stop is None or not stop.is_set():
                try:
                    first = await asyncio.wait_for(inbox.get(), timeout=0.5)
                except TimeoutError:
                    if idle_exit is not None and asyncio.get_running_loop().time() - idle_since > idle_exit:
                        break
                    continue
                messages = [first]
                deadline = asyncio.get_running_loop().time() + linger
                while len(messages) < batch:
                    left = deadline - asyncio.get_running_loop().time()
                    if left <= 0:
                        break
                    try:
                        messages.append(await asyncio.wait_for(inbox.get(), timeout=left))
                    except TimeoutError:
                        break
                events = [decode(m.body) for m in messages]
                try:
                    report = await ingest_batch(
                        sessions, events, hold_before_commit=hold_before_commit, timezone=timezone
                    )
                except Exception as exc:  # noqa: BLE001 - any failure: requeue, never lose
                    # nothing committed: the batch goes back to the queue, for this or another consumer
                    log.warning("analytics batch failed, requeued: %s", type(exc).__name__)
                    await messages[-1].nack(multiple=True, requeue=True)
                    await asyncio.sleep(1.0)
                    continue
                if report.skipped:
                    log.warning("%d stream message(s) were not events and are dropped", report.skipped)
                await messages[-1].ack(multiple=True)  # this batch and nothing unacknowledged before it
                total += len(messages)
                idle_since = asyncio.get_running_loop().time()
        finally:
            await q.cancel(tag)
    finally:
        await connection.close()
    return total


async def rebuild_insights(sessions: SessionFactory, timezone: str = store.BUSINESS_TIMEZONE) -> int:
    """Recompute the insights rollups from the stored facts, in one transaction; returns the
    conversations read (`ledger rebuild-insights`)."""
    async with sessions() as session, session.begin():
        return await store.rebuild_rollups(session, timezone)
