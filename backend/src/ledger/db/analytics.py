"""Storing the analytics stream and keeping each conversation's facts up to date.

`ingest` stores a batch of events, each once (`event_id` unique: a redelivered or duplicated
event inserts nothing), then rewrites the facts of every conversation the batch touched from
all of that conversation's stored events (ledger/domain/conversation_facts.py orders them).
The facts therefore depend only on which events are stored, not on delivery order. In the same
transaction the insights page's per-day rollups move from each conversation's old facts to its
new ones (ledger/domain/insights_rollup.py); `rebuild_rollups` sums them afresh from the facts.

Several consumers may ingest at once (PostgreSQL): the events are inserted in `event_id` order
and the facts rows locked in conversation order (no deadlock), and a conversation's facts are
computed under its row lock after this batch's inserts, so the last writer sees every event
committed before it. The caller owns the transaction: events, facts and (SQL stream) the read
position commit together.

The SQL stream itself (Rasa's SQL event broker's table `events`: id, sender_id, data) lives in
its own database; `read_stream` reads it after a position.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import (
    Column,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    and_,
    case,
    cast,
    delete,
    func,
    not_,
    or_,
    select,
    text,
    tuple_,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import OperationalError, ProgrammingError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from ledger.domain import insights_rollup as rollup
from ledger.domain.conversation_facts import derive
from ledger.domain.insights import COUNTED, DURATION_BOUNDS, Tally
from ledger.domain.review import COUNT_CAP, Annotation, ReviewFilters
from ledger.domain.review import review_marks as domain_review_marks

from .models import (
    AnalyticsEvent,
    ConversationAnnotation,
    ConversationFactsRow,
    InsightsFunnelDaily,
    InsightsNluDaily,
    InsightsOverviewDaily,
    StreamCheckpoint,
)

MAX_CONVERSATION_ID = 255
# The business time zone the rollups' days are in (the ledger's: Settings.timezone).
BUSINESS_TIMEZONE = "Asia/Shanghai"
ROLLUP_TABLES: dict[str, Any] = {
    rollup.OVERVIEW: InsightsOverviewDaily,
    rollup.FUNNEL: InsightsFunnelDaily,
    rollup.NLU: InsightsNluDaily,
}

# Rasa's SQLEventBroker table (rasa/core/brokers/sql.py), in the stream's own database.
stream_metadata = MetaData()
stream_events = Table(
    "events",
    stream_metadata,
    Column("id", Integer, primary_key=True),
    Column("sender_id", String(255)),
    Column("data", Text),
)


@dataclass(frozen=True)
class StreamRow:
    position: int
    sender_id: str | None
    data: str | None


def event_id(event: Mapping[str, Any]) -> str:
    """The event's stream id; for an event without one (published by an older Rasa set-up), a
    digest of its content, so that copies of it still count once."""
    given = event.get("huanxin_event_id")
    if isinstance(given, str) and 0 < len(given) <= 64:
        return given
    return "sha256:" + hashlib.sha256(json.dumps(event, sort_keys=True, default=str).encode()).hexdigest()[:57]


def usable(event: Any) -> bool:
    """An event the store can take: an object with a conversation (sender) and a kind."""
    if not isinstance(event, dict):
        return False
    sender, kind = event.get("sender_id"), event.get("event")
    return isinstance(sender, str) and 0 < len(sender) <= MAX_CONVERSATION_ID and isinstance(kind, str)


def _insert(session: AsyncSession) -> Any:
    return postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert


async def ingest(
    session: AsyncSession,
    events: Iterable[Mapping[str, Any]],
    now: datetime,
    timezone: str = BUSINESS_TIMEZONE,
) -> set[str]:
    """Store the events (each once) and rewrite the facts of the conversations they belong to,
    and the insights rollups with them (days in `timezone`); returns those conversations.
    Events that are not usable are skipped."""
    rows: dict[str, dict[str, Any]] = {}
    for event in events:
        if not usable(event):
            continue
        key = event_id(event)
        ts = event.get("timestamp")
        rows.setdefault(
            key,
            {
                "event_id": key,
                "conversation_id": event["sender_id"],
                "kind": str(event["event"])[:32],
                "ts": float(ts) if isinstance(ts, int | float) and not isinstance(ts, bool) else None,
                "data": dict(event),
                "received_at": now,
            },
        )
    if not rows:
        return set()
    insert = _insert(session)
    ordered = [rows[key] for key in sorted(rows)]
    # executemany: one cached statement whatever the batch size
    await session.execute(insert(AnalyticsEvent).on_conflict_do_nothing(index_elements=["event_id"]), ordered)
    touched = sorted({row["conversation_id"] for row in ordered})
    await _refresh(session, touched, now, ZoneInfo(timezone))
    return set(touched)


def _facts_columns(names: Iterable[str]) -> list[Any]:
    return [getattr(ConversationFactsRow, name) for name in names]


async def _refresh(session: AsyncSession, conversations: list[str], now: datetime, timezone: ZoneInfo) -> None:
    """Rewrite the facts of these conversations (sorted: rows are locked in that order) and
    move the rollups from their old facts to the new ones."""
    insert = _insert(session)
    await session.execute(
        insert(ConversationFactsRow).on_conflict_do_nothing(index_elements=["conversation_id"]),
        [{"conversation_id": c, "updated_at": now} for c in conversations],
    )
    locked = await session.execute(
        select(*_facts_columns(rollup.FACTS_COLUMNS))
        .where(ConversationFactsRow.conversation_id.in_(conversations))
        .order_by(ConversationFactsRow.conversation_id)
        .with_for_update()
    )
    before = [dict(row._mapping) for row in locked]
    events: dict[str, list[dict[str, Any]]] = {c: [] for c in conversations}
    result = await session.execute(
        select(AnalyticsEvent.conversation_id, AnalyticsEvent.data).where(
            AnalyticsEvent.conversation_id.in_(conversations)
        )
    )
    for conversation, data in result:
        events[conversation].append(data)
    after = [{**derive(c, events[c]).as_row(), "updated_at": now} for c in conversations]
    await session.execute(update(ConversationFactsRow), after)
    await _add_to_rollups(session, rollup.changes(before, after, timezone))


def _rollup_rows(tally: rollup.Tally) -> dict[str, list[dict[str, Any]]]:
    """The tally as rows of each rollup table, sorted by key (rows are locked in that order),
    text keys cut to their column's length (and the counts of keys that then meet added)."""
    by_table: dict[str, dict[tuple[Any, ...], list[int]]] = {name: {} for name in ROLLUP_TABLES}
    for (name, key), counts in tally.items():
        columns = ROLLUP_TABLES[name].__table__.c
        cut = tuple(
            value[: columns[field].type.length] if isinstance(value, str) else value
            for field, value in zip(rollup.KEYS[name], key, strict=True)
        )
        total = by_table[name].setdefault(cut, [0] * len(counts))
        for i, n in enumerate(counts):
            total[i] += n
    return {
        name: [
            dict(zip(rollup.KEYS[name] + rollup.COUNTS[name], (*key, *counts), strict=True))
            for key, counts in sorted(rows.items())
        ]
        for name, rows in by_table.items()
        if rows
    }


async def _add_to_rollups(session: AsyncSession, tally: rollup.Tally) -> None:
    """Add the tally's counts (negative ones subtract) to the rollup rows, creating them."""
    insert = _insert(session)
    for name, rows in _rollup_rows(tally).items():
        table = ROLLUP_TABLES[name].__table__
        stmt = insert(table)
        stmt = stmt.on_conflict_do_update(
            index_elements=list(rollup.KEYS[name]),
            set_={column: table.c[column] + stmt.excluded[column] for column in rollup.COUNTS[name]},
        )
        await session.execute(stmt, rows)


REBUILD_CHUNK = 5000


async def rebuild_rollups(session: AsyncSession, timezone: str = BUSINESS_TIMEZONE) -> int:
    """Recompute the rollups from every conversation's facts (history loaded before the
    rollups existed, or a bulk load); returns the conversations read. The caller owns the
    transaction. On PostgreSQL the rollup tables are locked first: a consumer changing facts
    meanwhile waits before it moves the rollups, and then moves them from what this read."""
    if session.get_bind().dialect.name == "postgresql":
        names = ", ".join(table.__tablename__ for table in ROLLUP_TABLES.values())
        await session.execute(text(f"LOCK TABLE {names} IN EXCLUSIVE MODE"))
    for table in ROLLUP_TABLES.values():
        await session.execute(delete(table))
    zone = ZoneInfo(timezone)
    tally: rollup.Tally = {}
    read, last = 0, None
    while True:
        stmt = select(*_facts_columns(rollup.FACTS_COLUMNS)).order_by(ConversationFactsRow.conversation_id)
        if last is not None:
            stmt = stmt.where(ConversationFactsRow.conversation_id > last)
        rows = [dict(row._mapping) for row in await session.execute(stmt.limit(REBUILD_CHUNK))]
        if not rows:
            break
        rollup.add(tally, rollup.total(rows, zone))
        read += len(rows)
        last = rows[-1]["conversation_id"]
    for name, table_rows in _rollup_rows(tally).items():
        table = ROLLUP_TABLES[name].__table__
        for start in range(0, len(table_rows), REBUILD_CHUNK):
            await session.execute(table.insert(), table_rows[start : start + REBUILD_CHUNK])
    return read


async def facts_of(session: AsyncSession, conversation: str) -> dict[str, Any] | None:
    row = await session.get(ConversationFactsRow, conversation, populate_existing=True)
    if row is None:
        return None
    return {c.name: getattr(row, c.key) for c in ConversationFactsRow.__table__.columns if c.name != "updated_at"}


async def event_count(session: AsyncSession, conversation: str | None = None) -> int:
    from sqlalchemy import func

    stmt = select(func.count()).select_from(AnalyticsEvent)
    if conversation is not None:
        stmt = stmt.where(AnalyticsEvent.conversation_id == conversation)
    return int((await session.execute(stmt)).scalar_one())


# ---- the SQL stream ---------------------------------------------------------------------


async def checkpoint(session: AsyncSession, source: str) -> int:
    row = await session.get(StreamCheckpoint, source, populate_existing=True)
    return row.position if row is not None else 0


async def set_checkpoint(session: AsyncSession, source: str, position: int, now: datetime) -> None:
    insert = _insert(session)
    stmt = insert(StreamCheckpoint).values(source=source, position=position, updated_at=now)
    await session.execute(
        stmt.on_conflict_do_update(
            index_elements=["source"], set_={"position": stmt.excluded.position, "updated_at": now}
        )
    )


async def read_stream(engine: AsyncEngine, after: int, limit: int) -> list[StreamRow]:
    """Rows of the stream table after a position, oldest first; none while the table does not
    exist yet (Rasa creates it on its first start)."""
    stmt = (
        select(stream_events.c.id, stream_events.c.sender_id, stream_events.c.data)
        .where(stream_events.c.id > after)
        .order_by(stream_events.c.id)
        .limit(limit)
    )
    try:
        async with engine.connect() as conn:
            result = await conn.execute(stmt)
            return [StreamRow(int(r.id), r.sender_id, r.data) for r in result]
    except (OperationalError, ProgrammingError) as exc:
        if "no such table" in str(exc) or "does not exist" in str(exc):
            return []
        raise


def create_stream_engine(url: str) -> AsyncEngine:
    """An engine for the stream's database: reads take no write lock (Rasa writes there)."""
    from sqlalchemy.ext.asyncio import create_async_engine

    from .session import is_sqlite

    if is_sqlite(url):
        from pathlib import Path

        from sqlalchemy.engine import make_url

        database = make_url(url).database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        return create_async_engine(url, connect_args={"timeout": 30}, hide_parameters=True)
    return create_async_engine(url, pool_size=2, pool_pre_ping=True, hide_parameters=True)


async def create_stream_table(engine: AsyncEngine) -> None:
    """The stream table, for a database Rasa has not written to yet (tests, the gateway)."""
    async with engine.begin() as conn:
        await conn.run_sync(stream_metadata.create_all)


async def append_stream(engine: AsyncEngine, events: list[dict[str, Any]]) -> None:
    """Write events to the SQL stream as Rasa's SQL broker does (tests and tools)."""
    async with engine.begin() as conn:
        await conn.execute(
            stream_events.insert(), [{"sender_id": e.get("sender_id"), "data": json.dumps(e)} for e in events]
        )


OVERVIEW_COLUMNS = (
    "conversation_id",
    "started_at",
    "ended_at",
    "languages",
    "channel",
    "turns",
    "fallbacks",
    "verified",
    "verification",
    "escalated",
    "escalation_reason",
    "handled_by_agent",
    "outcome",
    "said_goodbye",
)


FUNNEL_COLUMNS = (
    "conversation_id",
    "started_at",
    "languages",
    "channel",
    "furthest_step",
    "outcomes",
    "escalated",
    "last_bot_text_key",
)
FACTS_COLUMNS = tuple(c.name for c in ConversationFactsRow.__table__.columns if c.name not in ("updated_at",))
LEDGER_JOIN_COLUMNS = (
    "conversation_id",
    "gateway_conversation_id",
    "started_at",
    "ended_at",
    "languages",
    "channel",
    "plan_type",
)
NLU_COLUMNS = ("conversation_id", "started_at", "languages", "channel", "intents")


async def facts_started_between(
    session: AsyncSession,
    start: datetime,
    end: datetime,
    channel: str | None = None,
    columns_named: Iterable[str] = OVERVIEW_COLUMNS,
    limit: int | None = None,
) -> list[dict[str, Any]]:
    """These columns (default: the overview's) of the conversations that started in [start, end),
    at most `limit` of them when given."""
    columns = [getattr(ConversationFactsRow, name) for name in columns_named]
    stmt = select(*columns).where(ConversationFactsRow.started_at >= start, ConversationFactsRow.started_at < end)
    if channel:
        stmt = stmt.where(ConversationFactsRow.channel == channel)
    if limit is not None:
        stmt = stmt.order_by(ConversationFactsRow.started_at).limit(limit)
    return [dict(row._mapping) for row in await session.execute(stmt)]


def _period_conditions(start: datetime, end: datetime, language: str | None, channel: str | None) -> list[Any]:
    facts = ConversationFactsRow
    conditions: list[Any] = [facts.started_at >= start, facts.started_at < end]
    if language:
        conditions.append(facts.languages[0].as_string() == language)
    if channel:
        conditions.append(facts.channel == channel)
    return conditions


async def count_facts(
    session: AsyncSession, start: datetime, end: datetime, language: str | None, channel: str | None, cap: int
) -> int:
    """How many conversations started in [start, end) in this language and channel, counting
    no further than `cap` + 1 (enough to say "more than cap")."""
    capped = select(ConversationFactsRow.conversation_id).where(*_period_conditions(start, end, language, channel))
    stmt = select(func.count()).select_from(capped.limit(cap + 1).subquery())
    return int((await session.execute(stmt)).scalar_one())


async def facts_page(
    session: AsyncSession,
    start: datetime,
    end: datetime,
    language: str | None,
    channel: str | None,
    after: tuple[datetime, str] | None,
    limit: int,
    columns_named: Iterable[str] = FACTS_COLUMNS,
) -> list[dict[str, Any]]:
    """The next `limit` conversations of the selection, oldest first, after (started_at,
    conversation_id) `after`: pages of an export that never holds the whole selection."""
    facts = ConversationFactsRow
    stmt = select(*_facts_columns(columns_named)).where(*_period_conditions(start, end, language, channel))
    if after is not None:
        stmt = stmt.where(tuple_(facts.started_at, facts.conversation_id) > tuple_(*after))
    stmt = stmt.order_by(facts.started_at, facts.conversation_id).limit(limit)
    return [dict(row._mapping) for row in await session.execute(stmt)]


REVIEW_COLUMNS = (
    "conversation_id",
    "started_at",
    "languages",
    "channel",
    "turns",
    "furthest_step",
    "outcome",
    "escalated",
    "fallbacks",
    "low_confidence",
    "csat",
)


def _review_conditions(start: datetime, end: datetime, f: ReviewFilters) -> list[Any]:
    """The review filters as SQL conditions (the same on SQLite and PostgreSQL)."""
    facts, notes = ConversationFactsRow, ConversationAnnotation
    conditions: list[Any] = [facts.started_at >= start, facts.started_at < end]
    if f.language:
        conditions.append(facts.languages[0].as_string() == f.language)
    if f.channel:
        conditions.append(facts.channel == f.channel)
    if f.outcome:
        conditions.append(facts.outcome == f.outcome)
    if f.escalated is not None:
        conditions.append(facts.escalated.is_(f.escalated))
    if f.fallback is not None:
        conditions.append(facts.fallbacks > 0 if f.fallback else facts.fallbacks == 0)
    if f.intent:
        # the intents list as stored (json.dumps): {"intent": "<name>", ...}; names are checked
        # against the bot's intents before they get here
        name = f.intent.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        conditions.append(cast(facts.intents, Text).like(f'%"intent": "{name}"%', escape="\\"))
    if f.below is not None:
        conditions.append(facts.low_confidence < f.below)
    if f.step:
        conditions.append(facts.furthest_step == f.step)
    if f.tag:
        tagged = select(notes.id).where(notes.conversation_id == facts.conversation_id, notes.tag == f.tag)
        conditions.append(tagged.exists())
    if f.reviewed is not None:
        latest = (
            select(notes.reviewed)
            .where(notes.conversation_id == facts.conversation_id, notes.event_id.is_(None))
            .order_by(notes.created_at.desc(), notes.id.desc())
            .limit(1)
            .scalar_subquery()
        )
        conditions.append(func.coalesce(latest, False).is_(f.reviewed))
    return conditions


async def review_page(
    session: AsyncSession,
    start: datetime,
    end: datetime,
    filters: ReviewFilters,
    count_cap: int | None = None,
    counted: bool = True,
) -> tuple[int, list[dict[str, Any]]]:
    """How many conversations that started in [start, end) match the filters (counted no
    further than `count_cap` + 1, COUNT_CAP + 1 by default; not counted, 0, unless `counted`),
    and a page of them, newest first: `limit` lines after the line `after` (keyset), else
    after skipping `offset`."""
    facts = ConversationFactsRow
    conditions = _review_conditions(start, end, filters)
    total = 0
    if counted:
        cap = COUNT_CAP if count_cap is None else count_cap
        matching = select(facts.conversation_id).where(*conditions).limit(cap + 1)
        total = (await session.execute(select(func.count()).select_from(matching.subquery()))).scalar_one()
    columns = [getattr(ConversationFactsRow, name) for name in REVIEW_COLUMNS]
    stmt = select(*columns).where(*conditions)
    if filters.after is not None:
        stmt = stmt.where(tuple_(facts.started_at, facts.conversation_id) < tuple_(*filters.after))
    else:
        stmt = stmt.offset(filters.offset)
    stmt = stmt.order_by(facts.started_at.desc(), facts.conversation_id.desc()).limit(filters.limit)
    return int(total), [dict(row._mapping) for row in await session.execute(stmt)]


async def review_marks(session: AsyncSession, conversations: list[str]) -> dict[str, dict[str, Any]]:
    """The review state of these conversations (ledger/domain/review.py review_marks)."""
    if not conversations:
        return {}
    stmt = (
        select(*[getattr(ConversationAnnotation, name) for name in ANNOTATION_FIELDS])
        .where(ConversationAnnotation.conversation_id.in_(conversations))
        .order_by(ConversationAnnotation.created_at, ConversationAnnotation.id)
    )
    return domain_review_marks(Annotation(**dict(row._mapping)) for row in await session.execute(stmt))


async def events_of(session: AsyncSession, conversation: str) -> list[dict[str, Any]]:
    """The stored events of a conversation (any order: the domain orders them)."""
    result = await session.execute(select(AnalyticsEvent.data).where(AnalyticsEvent.conversation_id == conversation))
    return [data for (data,) in result]


async def stored_event(session: AsyncSession, event: str) -> tuple[str, dict[str, Any]] | None:
    """A stored event by its id: its conversation and its data."""
    row = (
        await session.execute(
            select(AnalyticsEvent.conversation_id, AnalyticsEvent.data).where(AnalyticsEvent.event_id == event)
        )
    ).first()
    return (row.conversation_id, row.data) if row else None


async def add_annotation(session: AsyncSession, **fields: Any) -> None:
    session.add(ConversationAnnotation(**fields))
    await session.flush()


ANNOTATION_FIELDS = ("conversation_id", "event_id", "intent", "tag", "note", "reviewed", "annotator", "created_at")


async def list_annotations(session: AsyncSession, conversation: str | None = None) -> list[dict[str, Any]]:
    """Annotations, oldest first: of one conversation, or all of them."""
    stmt = select(*[getattr(ConversationAnnotation, name) for name in ANNOTATION_FIELDS]).order_by(
        ConversationAnnotation.created_at, ConversationAnnotation.id
    )
    if conversation is not None:
        stmt = stmt.where(ConversationAnnotation.conversation_id == conversation)
    return [dict(row._mapping) for row in await session.execute(stmt)]


async def intent_corrections(session: AsyncSession) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """The latest intent annotation of every annotated message, with the message's event."""
    stmt = (
        select(
            ConversationAnnotation.event_id,
            ConversationAnnotation.intent,
            ConversationAnnotation.conversation_id,
            AnalyticsEvent.data,
        )
        .join(AnalyticsEvent, AnalyticsEvent.event_id == ConversationAnnotation.event_id)
        .where(ConversationAnnotation.intent.is_not(None))
        .order_by(ConversationAnnotation.created_at, ConversationAnnotation.id)
    )
    latest: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {}
    for row in await session.execute(stmt):
        latest[row.event_id] = ({"intent": row.intent, "conversation_id": row.conversation_id}, row.data)
    return list(latest.values())


async def funnel_cells_from_facts(
    session: AsyncSession, start: datetime, end: datetime, language: str | None, channel: str | None
) -> list[dict[str, Any]]:
    """The conversations that started in [start, end), grouped by what the funnel needs (first
    language, channel, furthest step, the bot's last text key, escalated, plan accepted, promise
    made), with how many each group holds (`conversations`): one row per group, not per
    conversation. Reads every facts row of the period: `funnel_cells` reads the rollup, and
    the tests check that both agree."""
    facts = ConversationFactsRow
    first_language = facts.languages[0].as_string()
    outcomes_text = cast(facts.outcomes, String)
    plan = facts.outcome == "arrangement"
    promise = outcomes_text.like('%"promise"%')
    stmt = (
        select(
            first_language.label("language"),
            facts.channel,
            facts.furthest_step,
            facts.last_bot_text_key,
            facts.escalated,
            plan.label("plan"),
            promise.label("promise"),
            func.count().label("conversations"),
        )
        .where(facts.started_at >= start, facts.started_at < end)
        .group_by(
            first_language, facts.channel, facts.furthest_step, facts.last_bot_text_key, facts.escalated, plan, promise
        )  # fmt: skip
    )
    if channel:
        stmt = stmt.where(facts.channel == channel)
    if language:
        stmt = stmt.where(first_language == language)
    return [
        {
            "languages": [row.language] if row.language else [],
            "channel": row.channel,
            "furthest_step": row.furthest_step,
            "last_bot_text_key": row.last_bot_text_key,
            "escalated": bool(row.escalated),
            "outcomes": (["arrangement"] if row.plan else []) + (["promise"] if row.promise else []),
            "conversations": int(row.conversations),
        }
        for row in await session.execute(stmt)
    ]


async def overview_cells_from_facts(
    session: AsyncSession,
    start: datetime,
    end: datetime,
    language: str | None,
    channel: str | None,
    timezone: str,
    utc_offset_minutes: int,
) -> list[dict[str, Any]]:
    """The conversations that started in [start, end), grouped by what the overview needs (the
    day in the business time zone, first language, channel, escalation and its reason, agent,
    verification, no outcome, goodbye, turns, start and end: the duration), with how many each
    group holds (`conversations`)
    and their fallbacks in all. PostgreSQL takes the day in `timezone`; SQLite (the demo) shifts
    by `utc_offset_minutes` (exact for a zone without daylight saving, as Asia/Shanghai).
    Reads every facts row of the period: `overview_cells` reads the rollup, and the tests check
    that both agree."""
    facts = ConversationFactsRow
    if session.get_bind().dialect.name == "postgresql":
        day: Any = func.date(func.timezone(timezone, facts.started_at))
    else:
        day = func.date(facts.started_at, f"{utc_offset_minutes:+d} minutes")
    first_language = facts.languages[0].as_string()
    no_outcome = facts.outcome == "none"
    keys = (
        day,
        first_language,
        facts.channel,
        facts.escalated,
        facts.escalation_reason,
        facts.handled_by_agent,
        facts.verification,
        facts.verified,
        no_outcome,
        facts.said_goodbye,
        facts.turns,
        facts.started_at,
        facts.ended_at,
    )
    stmt = (
        select(
            day.label("day"),
            first_language.label("language"),
            *keys[2:8],
            no_outcome.label("no_outcome"),
            facts.said_goodbye,
            facts.turns,
            facts.started_at,
            facts.ended_at,
            func.count().label("conversations"),
            func.sum(facts.fallbacks).label("fallbacks"),
            func.sum(facts.csat).label("csat_sum"),
            func.count(facts.csat).label("csat_count"),
        )
        .where(facts.started_at >= start, facts.started_at < end)
        .group_by(*keys)
    )
    if channel:
        stmt = stmt.where(facts.channel == channel)
    if language:
        stmt = stmt.where(first_language == language)
    return [
        {
            "day": row.day if isinstance(row.day, date) else date.fromisoformat(str(row.day)),
            "languages": [row.language] if row.language else [],
            "channel": row.channel,
            "escalated": bool(row.escalated),
            "escalation_reason": row.escalation_reason,
            "handled_by_agent": bool(row.handled_by_agent),
            "verification": row.verification,
            "verified": bool(row.verified),
            "outcome": "none" if row.no_outcome else "some",
            "said_goodbye": bool(row.said_goodbye),
            "turns": int(row.turns),
            "started_at": row.started_at,
            "ended_at": row.ended_at,
            "conversations": int(row.conversations),
            "fallbacks": int(row.fallbacks or 0),
            "csat_sum": int(row.csat_sum or 0),
            "csat_count": int(row.csat_count or 0),
        }
        for row in await session.execute(stmt)
    ]


# ---- the rollups (ledger/domain/insights_rollup.py), what the page reads ---------------------


def _rollup_place(table: Any, since: date, until: date, language: str | None, channel: str | None) -> list[Any]:
    conditions = [table.day >= since, table.day <= until]
    if language:
        conditions.append(table.language == language)
    if channel:
        conditions.append(table.channel == channel)
    return conditions


async def overview_cells(
    session: AsyncSession, since: date, until: date, language: str | None, channel: str | None
) -> list[tuple[date, dict[str, Any], Tally]]:
    """The overview's tallies of the conversations that started from `since` to `until` (days
    in the business time zone), one per day, first language and channel, summed in the database
    from the rollup (ledger/domain/insights.py Tally; `overview_cells_from_facts` gives the
    same figures from every facts row). They carry the CSAT ratings given (`csat_sum`,
    `csat_count`)."""
    t = InsightsOverviewDaily
    place_columns = (t.day, t.language, t.channel)
    where = _rollup_place(t, since, until, language, channel)
    n = t.conversations

    def when(condition: Any) -> Any:
        return func.sum(case((condition, n), else_=0))

    asked = t.verification != "not_asked"
    needed_person = or_(t.escalated, t.handled_by_agent)
    sums = select(
        *place_columns,
        func.sum(n).label("conversations"),
        when(needed_person).label("needed_person"),
        when(asked).label("asked"),
        when(and_(asked, t.verified)).label("verified"),
        when(t.escalated).label("escalated"),
        func.sum(t.turns * n).label("messages"),
        func.sum(t.fallbacks).label("fallbacks"),
        when(and_(t.no_outcome, not_(needed_person), not_(t.said_goodbye))).label("abandoned"),
        func.sum(t.csat_sum).label("csat_sum"),
        func.sum(t.csat_count).label("csat_count"),
        *[func.sum(getattr(t, column)).label(column) for column in rollup.DURATION_COLUMNS],
    )
    tallies: dict[tuple[Any, str, str], Tally] = {}
    for row in await session.execute(sums.where(*where).group_by(*place_columns).having(func.sum(n) > 0)):
        summed = tallies[(row.day, row.language, row.channel)] = Tally()
        for name in COUNTED:
            setattr(summed, name, int(getattr(row, name) or 0))
        for bound, column in zip(DURATION_BOUNDS, rollup.DURATION_COLUMNS, strict=True):
            summed.durations[bound] = int(getattr(row, column) or 0)
    reasons = select(*place_columns, t.escalation_reason, func.sum(n).label("n")).where(*where, t.escalated)
    for row in await session.execute(reasons.group_by(*place_columns, t.escalation_reason)):
        tally = tallies.get((row.day, row.language, row.channel))
        if tally is not None and row.n:
            tally.reasons[row.escalation_reason or "unknown"] += int(row.n)
    turns = select(*place_columns, t.turns, func.sum(n).label("n")).where(*where)
    for row in await session.execute(turns.group_by(*place_columns, t.turns)):
        tally = tallies.get((row.day, row.language, row.channel))
        if tally is not None and row.n:
            tally.turns[int(row.turns)] += int(row.n)
    return [
        (
            day if isinstance(day, date) else date.fromisoformat(str(day)),
            {"languages": [lang] if lang else [], "channel": chan or None},
            tally,
        )
        for (day, lang, chan), tally in tallies.items()
    ]


async def funnel_cells(
    session: AsyncSession, since: date, until: date, language: str | None, channel: str | None
) -> list[dict[str, Any]]:
    """The funnel's groups of the conversations that started from `since` to `until`, from the
    rollup: the same groups as `funnel_cells_from_facts`."""
    t = InsightsFunnelDaily
    keys = (t.language, t.channel, t.furthest_step, t.last_bot_text_key, t.escalated, t.plan, t.promise)
    conversations = func.sum(t.conversations)
    stmt = (
        select(*keys, conversations.label("conversations"))
        .where(*_rollup_place(t, since, until, language, channel))
        .group_by(*keys)
        .having(conversations > 0)
    )
    return [
        {
            "languages": [row.language] if row.language else [],
            "channel": row.channel or None,
            "furthest_step": row.furthest_step,
            "last_bot_text_key": row.last_bot_text_key or None,
            "escalated": bool(row.escalated),
            "outcomes": (["arrangement"] if row.plan else []) + (["promise"] if row.promise else []),
            "conversations": int(row.conversations),
        }
        for row in await session.execute(stmt)
    ]


async def nlu_cells(
    session: AsyncSession, since: date, until: date, language: str | None, channel: str | None, below_pct: int
) -> list[dict[str, Any]]:
    """Borrower messages of those conversations per first language, intent, fallback guess and
    whether their confidence is below `below_pct` hundredths, with the signs of
    misunderstanding (ledger/domain/nlu_health.py nlu_health_of_cells)."""
    t = InsightsNluDaily
    low = (t.confidence_pct > rollup.NO_CONFIDENCE) & (t.confidence_pct < below_pct)
    keys = (t.language, t.intent, t.guess, low)
    messages = func.sum(t.messages)
    stmt = (
        select(
            t.language,
            t.intent,
            t.guess,
            low.label("low"),
            messages.label("messages"),
            *[func.sum(getattr(t, sign)).label(sign) for sign in rollup.SIGNS],
        )  # fmt: skip
        .where(*_rollup_place(t, since, until, language, channel))
        .group_by(*keys)
        .having(messages > 0)
    )
    return [
        {
            "languages": [row.language] if row.language else [],
            "intent": row.intent,
            "guess": row.guess or None,
            "low": bool(row.low),
            "messages": int(row.messages),
            **{sign: int(getattr(row, sign)) for sign in rollup.SIGNS},
        }
        for row in await session.execute(stmt)
    ]


LOW_CONFIDENCE_COLUMNS = ("conversation_id", "languages", "intents", "low_confidence")


async def low_confidence_rows(
    session: AsyncSession,
    start: datetime,
    end: datetime,
    language: str | None,
    channel: str | None,
    below: float,
    enough: Callable[[list[Mapping[str, Any]], tuple[float, str] | None], bool],
    chunk: int = 500,
) -> list[Mapping[str, Any]]:
    """The conversations that started in [start, end) with a fallback or a message below
    `below`, by lowest confidence then conversation id (code point order, as Python compares),
    read in chunks until `enough(rows so far, (lowest confidence, id) of the next one))` says no
    later conversation can matter (a conversation's `low_confidence` bounds its messages'
    confidences), then the ones without any confidence."""
    facts = ConversationFactsRow
    binary = "C" if session.get_bind().dialect.name == "postgresql" else "BINARY"
    conversation = facts.conversation_id.collate(binary)
    conditions: list[Any] = [
        *_period_conditions(start, end, language, channel),
        (facts.low_confidence < below) | (facts.fallbacks > 0),
    ]
    columns = _facts_columns(LOW_CONFIDENCE_COLUMNS)
    found: list[Mapping[str, Any]] = []
    after: tuple[float, str] | None = None
    while True:
        stmt = select(*columns).where(*conditions, facts.low_confidence.is_not(None))
        if after is not None:
            stmt = stmt.where(
                facts.low_confidence >= after[0],
                or_(facts.low_confidence > after[0], and_(facts.low_confidence == after[0], conversation > after[1])),
            )
        stmt = stmt.order_by(facts.low_confidence, conversation).limit(chunk)
        rows = [dict(row._mapping) for row in await session.execute(stmt)]
        if not rows:
            break
        if found and enough(found, (rows[0]["low_confidence"], rows[0]["conversation_id"])):
            return found
        found.extend(rows)
        after = (rows[-1]["low_confidence"], rows[-1]["conversation_id"])
        if len(rows) < chunk:
            break
    if enough(found, None):
        return found
    stmt = select(*columns).where(*conditions, facts.low_confidence.is_(None)).order_by(conversation)
    return found + [dict(row._mapping) for row in await session.execute(stmt)]
