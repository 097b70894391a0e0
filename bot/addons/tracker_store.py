"""A SQL tracker store that never stores what a borrower typed to prove who they are.

Before events reach the database they are rewritten:
- a user message sent while the verification form asked for an identity slot (phone or
  loan number, date of birth, ID last 4) keeps its intent but its text becomes "[redacted]";
- in every other user message, phone numbers, national ID numbers and dates that can only be
  birth dates (years 1900-2015) are masked;
- identity slots and verification_token are stored as "[redacted]" whatever they held.
The conversation stays usable (intents, actions, bot replies and other slots are kept), and
the live tracker is untouched: only what is written is redacted. Configured in endpoints.yml;
the SQLite file is RASA_TRACKER_DB (default bot/.rasa/tracker.db).
"""

from __future__ import annotations

import copy
import os
import re
from pathlib import Path
from typing import Any, Iterable

from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.events import ActiveLoop, Event, SlotSet, UserUttered

MASK = "[redacted]"
IDENTITY_SLOTS = ("identity_phone", "identity_dob", "identity_id_last4")
SECRET_SLOTS = IDENTITY_SLOTS + ("verification_token",)
DEFAULT_DB = Path(__file__).resolve().parents[1] / ".rasa" / "tracker.db"
_IDENTITY_PATTERN = re.compile(
    r"(?<!\d)(?:\+?86[\s-]?)?1[3-9]\d(?:[\s-]?\d){8}(?!\d)"  # mainland mobile numbers
    r"|(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])"  # 18-character national ID numbers
    r"|(?<![0-9A-Za-z])\d{15}(?![0-9A-Za-z])"  # 15-digit national ID numbers
    r"|(?<!\d)(?:19\d\d|200\d|201[0-5])\s*[-/.年]\s*\d{1,2}\s*[-/.月]\s*\d{1,2}\s*[日号]?(?!\d)"  # birth dates
)


def mask_identity_numbers(text: str | None) -> str | None:
    if not text:
        return text
    return _IDENTITY_PATTERN.sub(MASK, text)


def _redact_user(event: UserUttered, whole: bool) -> UserUttered:
    text = MASK if whole else mask_identity_numbers(event.text)
    if text == event.text:
        return event
    parse_data: dict[str, Any] = copy.deepcopy(dict(event.parse_data or {}))
    parse_data["text"] = text
    entities = [] if whole else list(event.entities or [])
    parse_data["entities"] = entities
    return UserUttered(
        text=text, intent=event.intent, entities=entities, parse_data=parse_data,
        timestamp=event.timestamp, input_channel=event.input_channel, message_id=event.message_id,
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


class RedactingSQLTrackerStore(SQLTrackerStore):
    def __init__(self, domain: Any = None, dialect: str = "sqlite", host: str | None = None, port: int | None = None,
                 db: str | None = None, username: str | None = None, password: str | None = None,
                 event_broker: Any = None, login_db: str | None = None, query: dict | None = None,
                 **kwargs: Any) -> None:
        db = db or os.environ.get("RASA_TRACKER_DB") or str(DEFAULT_DB)
        if dialect == "sqlite":
            Path(db).parent.mkdir(parents=True, exist_ok=True)
        super().__init__(domain=domain, dialect=dialect, host=host, port=port, db=db, username=username,
                         password=password, event_broker=event_broker, login_db=login_db, query=query, **kwargs)

    async def save(self, tracker: Any) -> None:
        await super().save(_RedactedView(tracker))
