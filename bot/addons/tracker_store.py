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
"""

from __future__ import annotations

import copy
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.events import ActiveLoop, Event, SlotSet, UserUttered

from huanxin_redaction import MASK, mask_identity_numbers

IDENTITY_SLOTS = ("identity_phone", "identity_dob", "identity_id_last4")
SECRET_SLOTS = IDENTITY_SLOTS + ("verification_token",)
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


def redact_events(events: Iterable[Event]) -> list[Event]:
    """The events as they may be stored (see module docstring)."""
    result: list[Event] = []
    requested: str | None = None
    for event in events:
        if isinstance(event, SlotSet) and event.key == "requested_slot":
            requested = event.value
        elif isinstance(event, ActiveLoop) and event.name is None:
            requested = None
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


class RedactingSQLTrackerStore(SQLTrackerStore):
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
        bodies = []
        for index, event in enumerate(list(events)[offset:], start=offset):
            body = {"sender_id": tracker.sender_id, **event.as_dict(), "huanxin_index": index}
            bodies.append(body)
        if not bodies:
            return
        publish_many = getattr(self.event_broker, "publish_many", None)
        if publish_many is not None:
            publish_many(bodies)
        else:
            for body in bodies:
                self.event_broker.publish(body)
