"""Where Rasa streams conversation events for analytics (endpoints.yml `event_broker`).

Chosen by the environment, so that one endpoints.yml serves the demo and a deployment:
- HUANXIN_EVENTS_AMQP_URL=amqp://user:password@host:5672/vhost: RabbitMQ, through Rasa's
  PikaEventBroker. Events go to the fanout exchange HUANXIN_EVENTS_EXCHANGE (default
  `huanxin-events`), bound to the durable queue HUANXIN_EVENTS_QUEUE (default
  `huanxin-analytics`) that the ledger's consumer reads (`ledger consume-events --amqp`);
- otherwise Rasa's SQLEventBroker: the table `events` (id, sender_id, data) of the SQLite file
  HUANXIN_EVENTS_DB (default var/events.sqlite3), or of the database HUANXIN_EVENTS_DB_URL
  names (same forms as RASA_TRACKER_DB_URL). No extra server: `make run` uses this;
- HUANXIN_EVENTS=off: no broker.

What is published is what the tracker store stores: RedactingSQLTrackerStore streams the
redacted events (addons/tracker_store.py). Each event also gets, here:
- `huanxin_event_id`: a random id, the same in every redelivery or copy of the message, which
  the consumer uses to store each event once;
- `huanxin_index`: its position in the conversation session (orders events of one turn that
  carry the same timestamp);
- a second pass of the identity mask on any text and identity slot (defence in depth: an event
  that reached the broker by another path than the tracker store is masked too).
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from rasa.core.brokers.broker import EventBroker
from rasa.core.brokers.sql import SQLEventBroker

from huanxin_redaction import MASK, mask_identity_numbers

SECRET_SLOTS = ("identity_phone", "identity_dob", "identity_id_last4", "verification_token")
DEFAULT_DB = Path(__file__).resolve().parents[2] / "var" / "events.sqlite3"
DEFAULT_EXCHANGE = "huanxin-events"
DEFAULT_QUEUE = "huanxin-analytics"


def masked(event: Mapping[str, Any]) -> dict[str, Any]:
    """The event with identity numbers masked in its texts and identity slots hidden."""
    body = dict(event)
    if isinstance(body.get("text"), str):
        body["text"] = mask_identity_numbers(body["text"])
    parse_data = body.get("parse_data")
    if isinstance(parse_data, dict) and isinstance(parse_data.get("text"), str):
        body["parse_data"] = {**parse_data, "text": mask_identity_numbers(parse_data["text"])}
    if body.get("event") == "slot" and body.get("name") in SECRET_SLOTS and body.get("value") not in (None, MASK):
        body["value"] = MASK
    return body


def stamped(event: Mapping[str, Any], index: int | None = None) -> dict[str, Any]:
    body = masked(event)
    body.setdefault("huanxin_event_id", uuid.uuid4().hex)
    if index is not None:
        body.setdefault("huanxin_index", index)
    return body


class _BatchSQLEventBroker(SQLEventBroker):
    """Rasa's SQL broker, writing the events of one turn in one transaction (one commit, not
    one per event); a SQLite file keeps its connection and runs in WAL mode with
    synchronous=NORMAL, as the tracker store's (readers do not block Rasa's writes)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if vars(self)["engine"].dialect.name == "sqlite":
            import sqlalchemy as sa  # type: ignore[import-untyped]  # Rasa pins SQLAlchemy 1.4, no stubs

            from addons.tracker_store import tuned_sqlite_engine

            engine = tuned_sqlite_engine(vars(self)["engine"])  # set by SQLEventBroker (untyped)
            self.engine = engine
            self.sessionmaker = sa.orm.sessionmaker(bind=engine)
            with engine.connect() as conn:  # WAL is a property of the file: set it now
                conn.exec_driver_sql("PRAGMA journal_mode=WAL")

    def publish_many(self, events: list[dict[str, Any]]) -> None:
        """One executemany through SQLAlchemy Core: the rows the ORM wrote, without its unit of
        work (a tenth of Rasa's CPU a turn with the ORM, issue 11)."""
        if not events:
            return
        rows = [{"sender_id": event.get("sender_id"), "data": json.dumps(event)} for event in events]
        with self.session_scope() as session:
            session.execute(self.SQLBrokerEvent.__table__.insert(), rows)
            session.commit()


def sql_settings(env: Mapping[str, str]) -> dict[str, Any]:
    from addons.tracker_store import parse_tracker_db_url

    url = (env.get("HUANXIN_EVENTS_DB_URL") or "").strip()
    if url:
        settings = parse_tracker_db_url(url)
        settings.pop("query", None)
    else:
        settings = {"dialect": "sqlite", "db": env.get("HUANXIN_EVENTS_DB") or str(DEFAULT_DB)}
    if settings["dialect"] == "sqlite":
        Path(settings["db"]).parent.mkdir(parents=True, exist_ok=True)
    return settings


class HuanxinEventBroker(EventBroker):
    """`event_broker: {type: addons.event_broker.HuanxinEventBroker}` in endpoints.yml."""

    def __init__(self, inner: EventBroker) -> None:
        self.inner = inner

    @classmethod
    async def from_endpoint_config(cls, broker_config: Any, event_loop: Any = None) -> HuanxinEventBroker | None:
        return await cls.from_env(os.environ, event_loop)

    @classmethod
    async def from_env(cls, env: Mapping[str, str], event_loop: Any = None) -> HuanxinEventBroker | None:
        if (env.get("HUANXIN_EVENTS") or "").lower() == "off":
            return None
        amqp = (env.get("HUANXIN_EVENTS_AMQP_URL") or "").strip()
        if amqp:
            from urllib.parse import unquote, urlsplit

            from rasa.core.brokers.pika import PikaEventBroker

            parts = urlsplit(amqp)
            inner: EventBroker = PikaEventBroker(
                amqp,
                username=unquote(parts.username or "guest"),
                password=unquote(parts.password or "guest"),
                port=parts.port or 5672,
                queues=[env.get("HUANXIN_EVENTS_QUEUE") or DEFAULT_QUEUE],
                exchange_name=env.get("HUANXIN_EVENTS_EXCHANGE") or DEFAULT_EXCHANGE,
                event_loop=event_loop,
            )
            await inner.connect()
        else:
            inner = _BatchSQLEventBroker(**sql_settings(env))
        return cls(inner)

    def publish(self, event: dict[str, Any]) -> None:
        self.inner.publish(stamped(event))

    def publish_many(self, events: list[dict[str, Any]]) -> None:
        """The events of one save, stamped; one transaction on SQL."""
        bodies = [stamped(event) for event in events]
        if isinstance(self.inner, _BatchSQLEventBroker):
            self.inner.publish_many(bodies)
        else:
            for body in bodies:
                self.inner.publish(body)

    def is_ready(self) -> bool:
        return self.inner.is_ready()

    async def close(self) -> None:
        await self.inner.close()
