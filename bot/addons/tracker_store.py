"""A SQL tracker store that never stores what a borrower typed to prove who they are.

Before events reach the database they are rewritten:
- a user message sent while the verification form asked for an identity slot (phone or
  loan number, date of birth, ID last 4) keeps its intent but its text becomes "[redacted]";
- in every other user message, phone numbers, national ID numbers and dates that can only be
  birth dates are masked (huanxin_redaction: the one rule every store and view shares);
- identity slots and verification_token are stored as "[redacted]" whatever they held.
The conversation stays usable (intents, actions, bot replies and other slots are kept), and
the live tracker is untouched: only what is written is redacted. Configured in endpoints.yml.

The same redacted events are what the event broker receives, when endpoints.yml names one
(`stream_events` below; addons/event_broker.py): nothing leaves Rasa unredacted.

Where the events go, first match wins:
- RASA_TRACKER_DB_URL=postgresql://user[:password]@host[:port]/database[?option=value] (also
  postgres://, postgresql+psycopg2://; password and names percent-decoded) puts them in
  PostgreSQL, which several Rasa instances share; sqlite:///path.db names a SQLite file. It
  overrides what endpoints.yml says, so one endpoints.yml serves both set-ups;
- the endpoints.yml keys (dialect, url/host, port, db, username, password, query);
- a SQLite file, RASA_TRACKER_DB (default bot/.rasa/tracker.db).
The redaction is the same whatever the database.

The store also keeps, in process, each conversation's events as they read back from the
database (redacted, deserialised by Rasa's own functions), so a turn neither reads nor
deserialises the whole session again (RedactingSQLTrackerStore below; the redaction alone is
UncachedRedactingSQLTrackerStore). A SQLite
file runs in WAL mode with synchronous=NORMAL (a commit waits for the log, not for the file).
"""

from __future__ import annotations

import copy
import itertools
import json
import logging
import os
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

import sqlalchemy as sa  # type: ignore[import-untyped]  # Rasa pins SQLAlchemy 1.4, no stubs here
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.events import ActiveLoop, Event, SessionStarted, SlotSet, UserUttered, deserialise_events
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import INTENT_NAME_KEY

from addons import switches
from addons.applied_events import keep_up
from addons.tracker_copy import copy_state
from huanxin_redaction import MASK, mask_identity_numbers

IDENTITY_SLOTS = ("identity_phone", "identity_dob", "identity_id_last4")
SECRET_SLOTS = IDENTITY_SLOTS + ("verification_token",)
logger = logging.getLogger(__name__)
DEFAULT_DB = Path(__file__).resolve().parents[1] / ".rasa" / "tracker.db"


def _redact_user(event: UserUttered, whole: bool) -> UserUttered:
    text = MASK if whole else mask_identity_numbers(event.text)
    if text == event.text:
        return event
    parse_data: dict[str, Any] = copy.deepcopy(dict(event.parse_data or {}))
    parse_data["text"] = text
    entities = [] if whole else list(event.entities or [])
    parse_data["entities"] = entities
    return UserUttered(
        text=text,
        intent=event.intent,
        entities=entities,
        parse_data=parse_data,
        timestamp=event.timestamp,
        input_channel=event.input_channel,
        message_id=event.message_id,
        metadata=event.metadata,
    )


def _requested_after(event: Event, requested: str | None) -> str | None:
    """The slot a form asks for, after this event."""
    if isinstance(event, SlotSet) and event.key == "requested_slot":
        return event.value
    if isinstance(event, ActiveLoop) and event.name is None:
        return None
    return requested


def redaction_state(events: Iterable[Event], requested: str | None = None) -> str | None:
    """The slot a form asks for after these events (what redact_events carries along), from
    ``requested`` before them."""
    for event in events:
        requested = _requested_after(event, requested)
    return requested


def redact_events(events: Iterable[Event], requested: str | None = None) -> list[Event]:
    """The events as they may be stored (see module docstring). ``requested``: the slot a form
    asked for before the first of them (redaction_state of the events before)."""
    result: list[Event] = []
    for event in events:
        requested = _requested_after(event, requested)
        if isinstance(event, UserUttered):
            event = _redact_user(event, whole=requested in IDENTITY_SLOTS)
        elif isinstance(event, SlotSet) and event.key in SECRET_SLOTS and event.value not in (None, MASK):
            event = SlotSet(event.key, MASK, timestamp=event.timestamp, metadata=event.metadata)
        result.append(event)
    return result


class _RedactedView:
    """The tracker as the store sees it: same sender and length, redacted events."""

    def __init__(self, tracker: Any):
        self._tracker = tracker
        self.sender_id = tracker.sender_id
        self.events = redact_events(tracker.events)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._tracker, name)


URL_VARIABLE = "RASA_TRACKER_DB_URL"
_POSTGRES_SCHEMES = {"postgresql", "postgres", "postgresql+psycopg2"}


class TrackerDatabaseError(ValueError):
    """RASA_TRACKER_DB_URL holds something Rasa cannot connect to."""


def parse_tracker_db_url(url: str) -> dict[str, Any]:
    """The SQLTrackerStore arguments (dialect, host, port, db, username, password, query) that
    RASA_TRACKER_DB_URL names; a TrackerDatabaseError naming the variable when it is unusable."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    if scheme == "sqlite":
        path = unquote(parts.path)
        path = path[1:] if path.startswith("/") else path  # sqlite:///rel.db, sqlite:////abs.db
        if not path:
            raise TrackerDatabaseError(f"{URL_VARIABLE}: sqlite URL without a file path: sqlite:///path/to/tracker.db")
        return {
            "dialect": "sqlite",
            "host": None,
            "port": None,
            "db": path,
            "username": None,
            "password": None,
            "query": None,
        }
    if scheme not in _POSTGRES_SCHEMES:
        raise TrackerDatabaseError(
            f"{URL_VARIABLE}: unsupported scheme {parts.scheme or '(none)'!r}; use postgresql://user@host:5432/db "
            "or sqlite:///path/to/tracker.db"
        )
    db = unquote(parts.path.lstrip("/"))
    if not parts.hostname or not db or "/" in db:
        raise TrackerDatabaseError(f"{URL_VARIABLE}: needs a host and a database name: postgresql://user@host:5432/db")
    try:
        port = parts.port
    except ValueError:
        raise TrackerDatabaseError(f"{URL_VARIABLE}: the port is not a number") from None
    return {
        "dialect": "postgresql+psycopg2" if scheme == "postgresql+psycopg2" else "postgresql",
        "host": parts.hostname,
        "port": port,
        "db": db,
        "username": unquote(parts.username) if parts.username else None,
        "password": unquote(parts.password) if parts.password is not None else None,
        "query": dict(parse_qsl(parts.query)) or None,
    }


def tracker_db_settings(configured: Mapping[str, Any], env: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The database the events go to: RASA_TRACKER_DB_URL, else endpoints.yml (`configured`),
    else the SQLite file RASA_TRACKER_DB (default bot/.rasa/tracker.db)."""
    env = os.environ if env is None else env
    url = (env.get(URL_VARIABLE) or "").strip()
    if url:
        return parse_tracker_db_url(url)
    settings = {key: configured.get(key) for key in ("dialect", "host", "port", "db", "username", "password", "query")}
    settings["dialect"] = settings["dialect"] or "sqlite"
    settings["db"] = settings["db"] or env.get("RASA_TRACKER_DB") or str(DEFAULT_DB)
    return settings


class UncachedRedactingSQLTrackerStore(SQLTrackerStore):
    """The redaction alone: Rasa reads and writes each tracker as it always does."""

    def __init__(
        self,
        domain: Any = None,
        dialect: str = "sqlite",
        host: str | None = None,
        port: int | None = None,
        db: str | None = None,
        username: str | None = None,
        password: str | None = None,
        event_broker: Any = None,
        login_db: str | None = None,
        query: dict | None = None,
        **kwargs: Any,
    ) -> None:
        settings = tracker_db_settings(
            {
                "dialect": dialect,
                "host": host,
                "port": port,
                "db": db,
                "username": username,
                "password": password,
                "query": query,
            }
        )
        if settings["dialect"] == "sqlite":
            Path(settings["db"]).parent.mkdir(parents=True, exist_ok=True)
            login_db = None
        try:
            super().__init__(domain=domain, event_broker=event_broker, login_db=login_db, **settings, **kwargs)
        except ImportError as exc:
            # Rasa would fall back to an in-memory store on ImportError: several instances would
            # then silently stop sharing conversations. Fail start-up instead.
            raise RuntimeError(
                f"the {settings['dialect']} tracker store cannot load its driver ({exc}); "
                "install psycopg2-binary in the bot environment"
            ) from exc

        if settings["dialect"] == "sqlite" and switches.enabled("sqlite_wal"):
            self.engine = tuned_sqlite_engine(vars(self)["engine"])  # set by SQLTrackerStore (untyped)
            self.sessionmaker = sa.orm.session.sessionmaker(bind=self.engine)

    async def save(self, tracker: Any) -> None:
        await super().save(_RedactedView(tracker))

    async def stream_events(self, tracker: Any) -> None:
        """Publishes the events not yet stored to the event broker (addons/event_broker.py), as
        they are stored: redacted. Each carries its position in the session (`huanxin_index`);
        a broker that can (the SQL one) writes the events of one save in one transaction."""
        if self.event_broker is None:
            return
        events = tracker.events if isinstance(tracker, _RedactedView) else redact_events(tracker.events)
        with self.session_scope() as session:
            offset = self._event_query(session, tracker.sender_id, fetch_events_from_all_sessions=False).count()
        new_events = list(events)[offset:]
        if new_events:
            self._publish(tracker.sender_id, new_events, offset)

    def _publish(self, sender_id: str, events: list[Event], first_index: int) -> None:
        bodies = [
            {"sender_id": sender_id, **event.as_dict(), "huanxin_index": index}
            for index, event in enumerate(events, start=first_index)
        ]
        publish_many = getattr(self.event_broker, "publish_many", None)
        if publish_many is not None:
            publish_many(bodies)
        else:
            for body in bodies:
                self.event_broker.publish(body)


def tuned_sqlite_engine(engine: Any) -> Any:
    """The SQLite engine again, with its connection kept and WAL on.

    SQLAlchemy 1.4 gives a SQLite file a NullPool: every retrieve and save of Rasa opened and
    closed a connection (a tenth of a turn's CPU). The connection is now kept, one a thread
    (Rasa uses the event loop's). WAL journal and synchronous=NORMAL: a commit appends to the log
    without waiting for the database file to be synced (the last commits can be lost on a power
    cut, never half-written; a crash of Rasa loses nothing), and readers do not block the writer."""
    tuned = sa.create_engine(engine.url, poolclass=sa.pool.SingletonThreadPool, pool_size=8)

    @sa.event.listens_for(tuned, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    engine.dispose()
    return tuned


# ---- the in-process cache ------------------------------------------------------------------

BOUNDS_INDEX = "huanxin_events_sender_id_id"
CACHED_CONVERSATIONS = 2000  # least recently used conversations beyond this are forgotten


class _Cached:
    """One conversation as the database holds it: ``events`` are those Rasa's query of the
    latest session returns (timestamp at or after the latest SessionStarted's, in id order),
    deserialised, ``in_session`` how many rows they came from (the number Rasa's save counts);
    ``first_id`` and ``last_id`` are min(id) and max(id) of all the sender's rows when they were
    read or written, ``session_start`` the latest SessionStarted's timestamp, ``requested`` the
    redaction's form state after ``events`` (redaction_state)."""

    __slots__ = ("events", "in_session", "first_id", "last_id", "session_start", "requested", "tracker")

    def __init__(
        self,
        events: list[Event],
        in_session: int,
        first_id: int | None,
        last_id: int | None,
        session_start: float | None,
        requested: str | None,
    ) -> None:
        self.events = events
        self.in_session = in_session
        self.first_id = first_id
        self.last_id = last_id
        self.session_start = session_start
        self.requested = requested
        self.tracker: DialogueStateTracker | None = None  # ``events`` applied (see _tracker_of)


def _in_session(timestamp: float | None, session_start: float | None) -> bool:
    """Rasa's filter: ``timestamp >= session_start OR session_start IS NULL`` (SQL: a NULL
    timestamp is not >= anything)."""
    return session_start is None or (timestamp is not None and timestamp >= session_start)


def _carry_tracker(entry: _Cached, grown: _Cached) -> None:
    """``grown``'s tracker from ``entry``'s, by applying only the events added (a tracker from
    the same events replayed: what ``DialogueStateTracker.from_events`` gives)."""
    if entry.tracker is None:  # ``grown.events`` start with ``entry.events`` (both callers extend them)
        return
    tracker = copy_state(entry.tracker)
    for event in itertools.islice(grown.events, len(entry.events), None):
        tracker.update(event)
    keep_up(tracker)
    grown.tracker = tracker


def _deserialise(data: str) -> list[Event]:
    """One stored row as Rasa's retrieve makes it an event (json.loads, deserialise_events)."""
    return deserialise_events([json.loads(data)])


class RedactingSQLTrackerStore(UncachedRedactingSQLTrackerStore):
    """The redacting store with each conversation's stored events kept in process.

    A turn's retrieve asks the database one cheap question, ``min(id), max(id)`` of the
    conversation's rows (two index lookups, whatever the length of the session; the
    ``count(id)`` asked before read all the sender's index entries, 0.8 ms at 2,600 rows):
    unchanged, the tracker is a copy of the one the kept events make (addons/tracker_copy.py:
    no rows read, nothing deserialised, nothing replayed); grown (another Rasa instance served
    the conversation: several instances share the store, and the lock store serialises a
    conversation's turns), only the new rows are read and applied; anything else (the first
    or last rows removed, a new session started elsewhere) reads the conversation again as
    Rasa does. Rows removed from the middle while the first and last stay would not be seen:
    nothing in Rasa or this project removes rows so. A save inserts only the events after those
    stored (Rasa's rule: the tracker's events past the number stored for the latest session)
    and redacts only those, carrying the form's state over from the events before; the kept
    events are then what those rows read back as. The tracker returned is the one Rasa's own
    retrieve would build from the database: tests/bot/test_tracker_cache.py compares them.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._cache: OrderedDict[str, _Cached] = OrderedDict()
        self.caching = switches.enabled("tracker_cache")
        if self.caching and self.engine.dialect.name != "sqlite":
            self._ensure_bounds_index()

    def _ensure_bounds_index(self) -> None:
        """The index on ``(sender_id, id)`` that makes ``_bounds`` two index lookups. SQLite's
        index on ``sender_id`` already ends with the row id; Rasa's PostgreSQL one does not."""
        table = self._table().name
        try:
            with self.engine.begin() as conn:
                conn.execute(sa.text(f"CREATE INDEX IF NOT EXISTS {BOUNDS_INDEX} ON {table} (sender_id, id)"))
        except sa.exc.SQLAlchemyError as exc:  # another instance creating it at the same moment
            logger.warning("tracker store: index %s not created here (%s)", BOUNDS_INDEX, exc)

    # ---- reading

    def _table(self) -> Any:
        return self.SQLEvent.__table__

    def _bounds(self, session: Any, sender_id: str) -> tuple[int | None, int | None]:
        """min(id) and max(id) of the sender's rows, as two scalar subqueries: each is then one
        lookup in the index (SQLite and PostgreSQL optimise a lone min or max so)."""
        t = self._table()
        first = sa.select(sa.func.min(t.c.id)).where(t.c.sender_id == sender_id).scalar_subquery()
        last = sa.select(sa.func.max(t.c.id)).where(t.c.sender_id == sender_id).scalar_subquery()
        row = session.execute(sa.select(first, last)).one()
        return row[0], row[1]

    def _read_all(self, session: Any, sender_id: str, first_id: int | None, last_id: int | None) -> _Cached:
        """The latest session as Rasa's retrieve reads it."""
        records = self._event_query(session, sender_id, fetch_events_from_all_sessions=False).all()
        events: list[Event] = []
        session_start: float | None = None
        for record in records:
            if record.type_name == SessionStarted.type_name and record.timestamp is not None:
                session_start = record.timestamp if session_start is None else max(session_start, record.timestamp)
            events.extend(_deserialise(record.data))
            last_id = record.id if last_id is None else max(last_id, record.id)
        return _Cached(events, len(records), first_id, last_id, session_start, redaction_state(events))

    def _fresh(self, session: Any, sender_id: str) -> _Cached | None:
        """The conversation as the database holds it now (None: no rows), read as little as possible."""
        first_id, last_id = self._bounds(session, sender_id)
        if last_id is None:
            self._cache.pop(sender_id, None)
            return None
        entry = self._cache.get(sender_id)
        if entry is not None and (entry.first_id, entry.last_id) != (first_id, last_id):
            entry = self._grown(session, sender_id, entry, first_id, last_id)
        if entry is None:
            entry = self._read_all(session, sender_id, first_id, last_id)
        self._remember(sender_id, entry)
        return entry

    def _grown(
        self, session: Any, sender_id: str, entry: _Cached, first_id: int | None, last_id: int | None
    ) -> _Cached | None:
        """The kept events with the rows added since (None when that is not all that changed)."""
        if entry.last_id is None or last_id is None or last_id <= entry.last_id or first_id != entry.first_id:
            return None
        t = self._table()
        records = session.execute(
            sa.select(t.c.id, t.c.type_name, t.c.timestamp, t.c.data)
            .where(t.c.sender_id == sender_id, t.c.id > entry.last_id)
            .order_by(t.c.id)
        ).all()
        if not records or records[-1].id != last_id or any(r.type_name == SessionStarted.type_name for r in records):
            return None  # rows went away too, or a new session began: read it all
        events, in_session = list(entry.events), entry.in_session
        for record in records:
            if _in_session(record.timestamp, entry.session_start):
                events.extend(_deserialise(record.data))
                in_session += 1
        requested = redaction_state(itertools.islice(events, len(entry.events), None), entry.requested)
        grown = _Cached(events, in_session, first_id, last_id, entry.session_start, requested)
        _carry_tracker(entry, grown)
        return grown

    def _remember(self, sender_id: str, entry: _Cached) -> None:
        self._cache[sender_id] = entry
        self._cache.move_to_end(sender_id)
        while len(self._cache) > CACHED_CONVERSATIONS:
            self._cache.popitem(last=False)

    async def retrieve(self, sender_id: str) -> DialogueStateTracker | None:
        if not self.caching:
            return await super().retrieve(sender_id)
        with self.session_scope() as session:
            entry = self._fresh(session, sender_id)
        if entry is None or not self.domain or not entry.events:
            return None
        if entry.tracker is None:
            entry.tracker = DialogueStateTracker.from_events(sender_id, list(entry.events), self.domain.slots)
            keep_up(entry.tracker)  # its applied events kept up to date from now on
        return copy_state(entry.tracker)

    # ---- writing

    async def save(self, tracker: Any) -> None:
        """Rasa's save (stream the new events, then store them), with what the cache knows: how
        many events are stored (no count query) and the form's state after them (the events
        before are not redacted again)."""
        if not self.caching:
            return await super().save(tracker)
        sender_id = tracker.sender_id
        with self.session_scope() as session:
            entry = self._fresh(session, sender_id) or _Cached([], 0, 0, None, None, None)
            stored = entry.in_session  # Rasa's rule: the tracker's events past this many are new
            if stored >= len(tracker.events):
                return
            new_events = redact_events(itertools.islice(tracker.events, stored, None), entry.requested)
            if self.event_broker is not None:  # what stream_events sends for this save
                self._publish(sender_id, new_events, stored)
            rows = []
            for event in new_events:
                data = event.as_dict()
                rows.append(
                    {
                        "sender_id": sender_id,
                        "type_name": event.type_name,
                        "timestamp": data.get("timestamp"),
                        "intent_name": data.get("parse_data", {}).get("intent", {}).get(INTENT_NAME_KEY),
                        "action_name": data.get("name"),
                        "data": json.dumps(data),
                    }
                )
            # Core, not the ORM: one executemany, then the sender's last id read back in the
            # same transaction (the lock store serialises a conversation's turns). The ORM's
            # unit of work, one INSERT a row, was a tenth of a turn's CPU (issue 11).
            t = self._table()
            session.execute(t.insert(), rows)
            first_id, last_id = self._bounds(session, sender_id)
            session.commit()
            if any(row["type_name"] == SessionStarted.type_name for row in rows):
                self._cache.pop(sender_id, None)  # the next read finds where the new session starts
                return
            events, in_session = list(entry.events), entry.in_session
            for row in rows:
                if _in_session(row["timestamp"], entry.session_start):
                    events.extend(_deserialise(row["data"]))
                    in_session += 1
            saved = _Cached(
                events,
                in_session,
                first_id,
                last_id,
                entry.session_start,
                redaction_state(new_events, entry.requested),
            )
            _carry_tracker(entry, saved)
            self._remember(sender_id, saved)
