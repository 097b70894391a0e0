"""The gateway's own conversation events (a bot hand-off, an agent's takeover, reply, hand-back,
the outcome an agent closes with) on the analytics stream Rasa's event broker writes to
(bot/addons/event_broker.py; docs/insights.md), so that one consumer sees the whole
conversation.

Each event is an object like Rasa's: `sender_id` (the conversation's Rasa sender, the key of
the analytics), `event: "huanxin_gateway"`, `name`, `timestamp`, `huanxin_event_id`, and the
gateway conversation, channel and language. Texts are the transcript's, already masked.

Where they go follows the same environment as Rasa's broker: HUANXIN_EVENTS_AMQP_URL (the
RabbitMQ exchange HUANXIN_EVENTS_EXCHANGE, bound to HUANXIN_EVENTS_QUEUE), else the SQL stream
(HUANXIN_EVENTS_DB_URL, or the SQLite file HUANXIN_EVENTS_DB, default var/events.sqlite3);
HUANXIN_EVENTS=off: nowhere. Publishing never fails a conversation: an event that cannot be
sent is kept (up to PENDING_MAX) and sent with the next one, and a warning is logged.
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import Column, Integer, MetaData, String, Table, Text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

log = logging.getLogger("gateway.events")

EVENT = "huanxin_gateway"
PENDING_MAX = 10_000
SEND_TIMEOUT_S = 2.0
DEFAULT_EXCHANGE = "huanxin-events"
DEFAULT_QUEUE = "huanxin-analytics"
REPO_ROOT = Path(__file__).resolve().parents[3]

# Rasa's SQLEventBroker table (rasa/core/brokers/sql.py).
_metadata = MetaData()
_events = Table(
    "events", _metadata, Column("id", Integer, primary_key=True), Column("sender_id", String(255)), Column("data", Text)
)


@dataclass(frozen=True)
class StreamSettings:
    mode: str = "off"  # off | sql | amqp
    db_url: str | None = None  # SQLAlchemy async URL of the SQL stream
    amqp_url: str | None = None
    exchange: str = DEFAULT_EXCHANGE
    queue: str = DEFAULT_QUEUE

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> StreamSettings:
        if (env.get("HUANXIN_EVENTS") or "").lower() == "off":
            return cls()
        exchange = env.get("HUANXIN_EVENTS_EXCHANGE") or DEFAULT_EXCHANGE
        queue = env.get("HUANXIN_EVENTS_QUEUE") or DEFAULT_QUEUE
        amqp = (env.get("HUANXIN_EVENTS_AMQP_URL") or "").strip()
        if amqp:
            return cls("amqp", amqp_url=amqp, exchange=exchange, queue=queue)
        url = (env.get("HUANXIN_EVENTS_DB_URL") or "").strip()
        if url:
            scheme, _, rest = url.partition("://")
            if scheme in ("postgresql", "postgres", "postgresql+psycopg2"):
                url = f"postgresql+asyncpg://{rest}"
            elif scheme == "sqlite":
                url = f"sqlite+aiosqlite://{rest}"
        else:
            url = f"sqlite+aiosqlite:///{env.get('HUANXIN_EVENTS_DB') or REPO_ROOT / 'var' / 'events.sqlite3'}"
        return cls("sql", db_url=url)


def gateway_event(
    name: str, sender_id: str, conversation_id: str, channel: str, language: str, at: datetime, **fields: Any
) -> dict[str, Any]:
    return {
        "sender_id": sender_id,
        "event": EVENT,
        "name": name,
        "timestamp": at.timestamp(),
        "conversation_id": conversation_id,
        "channel": channel,
        "language": language,
        "huanxin_event_id": uuid.uuid4().hex,
        **fields,
    }


class EventSink(Protocol):
    async def publish(self, events: list[dict[str, Any]]) -> None: ...

    async def close(self) -> None: ...


class NoEvents:
    async def publish(self, events: list[dict[str, Any]]) -> None:
        return None

    async def close(self) -> None:
        return None


class _Buffered:
    """Sends in order; what cannot be sent waits for the next call."""

    def __init__(self) -> None:
        self.pending: deque[dict[str, Any]] = deque(maxlen=PENDING_MAX)
        self.lock = asyncio.Lock()

    async def _send(self, events: list[dict[str, Any]]) -> None:
        raise NotImplementedError

    async def publish(self, events: list[dict[str, Any]]) -> None:
        async with self.lock:
            self.pending.extend(events)
            batch = list(self.pending)
            try:
                await asyncio.wait_for(self._send(batch), timeout=SEND_TIMEOUT_S)
            except Exception as exc:  # noqa: BLE001 - the conversation goes on; the events wait
                log.warning("%d analytics event(s) not sent yet: %s", len(self.pending), type(exc).__name__)
                return
            for _ in batch:
                self.pending.popleft()


class SqlEvents(_Buffered):
    def __init__(self, url: str) -> None:
        super().__init__()
        self.url = url
        self.engine: AsyncEngine | None = None

    async def _engine(self) -> AsyncEngine:
        if self.engine is None:
            parsed = make_url(self.url)
            if parsed.get_backend_name() == "sqlite" and parsed.database:
                Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
                engine = create_async_engine(self.url, connect_args={"timeout": 30})
            else:
                engine = create_async_engine(self.url, pool_size=2, pool_pre_ping=True)
            async with engine.begin() as conn:
                await conn.run_sync(_metadata.create_all)
            self.engine = engine
        return self.engine

    async def _send(self, events: list[dict[str, Any]]) -> None:
        engine = await self._engine()
        async with engine.begin() as conn:
            await conn.execute(_events.insert(), [{"sender_id": e["sender_id"], "data": json.dumps(e)} for e in events])

    async def close(self) -> None:
        if self.engine is not None:
            await self.engine.dispose()


class AmqpEvents(_Buffered):
    """Publishes to the exchange Rasa's Pika broker uses, declared as it declares it."""

    def __init__(self, url: str, exchange: str, queue: str) -> None:
        super().__init__()
        self.url, self.exchange_name, self.queue = url, exchange, queue
        self.connection: Any = None
        self.exchange: Any = None

    async def _send(self, events: list[dict[str, Any]]) -> None:
        import aio_pika

        if self.exchange is None:
            self.connection = await aio_pika.connect_robust(self.url)
            channel = await self.connection.channel()
            self.exchange = await channel.declare_exchange(self.exchange_name, type=aio_pika.ExchangeType.FANOUT)
            queue = await channel.declare_queue(self.queue, durable=True)
            await queue.bind(self.exchange, "")
        for event in events:
            message = aio_pika.Message(
                json.dumps(event).encode(), delivery_mode=aio_pika.DeliveryMode.PERSISTENT, app_id="huanxin-gateway"
            )
            await self.exchange.publish(message, "")

    async def close(self) -> None:
        if self.connection is not None:
            await self.connection.close()


def event_sink(settings: StreamSettings) -> EventSink:
    if settings.mode == "amqp" and settings.amqp_url:
        return AmqpEvents(settings.amqp_url, settings.exchange, settings.queue)
    if settings.mode == "sql" and settings.db_url:
        return SqlEvents(settings.db_url)
    return NoEvents()
