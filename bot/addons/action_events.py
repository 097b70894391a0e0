"""The events sent to the action server: the last two messages' turns whole and, of the turns
before, only the messages the actions read: a number that does not grow with the session.

Rasa 3.6 sends each custom action every event of the session (``current_state(ALL)``): at turn
250 that is some 2,500 events, serialised by Rasa and parsed by the action server for every
call, 2-4 calls a turn; most of what made a late turn cost more than an early one (issue 11).
The actions (bot/actions) read, of the events:
- anything since the second-latest user message (``Turn.missed_last_turn``: the bot's answer to
  the previous message; ``Turn.refused_this_message``; rasa_sdk's ``get_latest_input_channel``
  and ``slots_to_validate``: the slot events at the end);
- of the user messages before: the latest of each intent, its text and confidence
  (``turn.latest_message_with_intent``: ``Turn.message_for``, ``confirm.act_message``);
- the intents of the last ``SUMMARY_INTENTS`` runs of one intent and the last
  ``SUMMARY_MESSAGES`` typed messages (not a button's "/intent") answered while
  ``requested_slot`` was not an identity question (``handoff.conversation_summary``), with the
  ``requested_slot`` events in order with them.
So before the second-latest user message these are sent, in their order
(``read_before_cut``): the latest message of each intent; the latest message of each of the
last ``SUMMARY_INTENTS`` runs; the last ``SUMMARY_MESSAGES`` typed messages answered under each
``requested_slot`` value (so the last ones under any value that is not an identity question are
among them, without this add-on knowing which are); and before each of those, the latest
``requested_slot`` event. The summary's intent runs end the same (a run with one message sent
is still one run), its last typed messages are the same (any other typed message sent is older),
and each message is read under the same ``requested_slot`` value. At most (intents + runs +
messages x requested_slot values) x 2 events, however long the session. The tracker's state
(slots, latest message, active loop, paused, latest event time, latest input channel) is
Rasa's own, worked out from all the events before they are cut.

tests/bot/harness.py gives every action of the bot tests (``make test-bot``) its events through
``trimmed(..., tripwire=True)``: the other events not sent are there as ``Tripwire`` events,
which raise when anything but their ``event`` and ``name`` is read, so a test fails if an action
reads what is not sent. The user messages and requested_slot events not sent are left out as
for the action server (the readers choose them by what they say, so a tripwire in their place
would always be read); the harness checks at every action call that the readers above answer
the same from the events sent as from all of them. A new reader of earlier messages belongs in
that check and in ``read_before_cut``. tests/bot/test_action_events.py checks the add-on against
Rasa's payload and the readers over long generated sessions.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

_original: Any = None

KEPT_SLOTS = frozenset({"requested_slot"})
# What actions/handoff.py's conversation_summary shows (test_action_events checks they match).
SUMMARY_INTENTS = 10  # the intents of the last runs of one intent
SUMMARY_MESSAGES = 6  # the last typed messages
OPEN_KEYS = frozenset({"event", "name"})  # what a reader may look at to skip an event


class Tripwire(dict[str, Any]):
    """An event the action server would not receive (tests only): reading more than its
    ``event`` and ``name`` raises."""

    def _check(self, key: Any) -> None:
        if key not in OPEN_KEYS:
            raise AssertionError(f"an action read {key!r} of a {self.get('event')!r} event that is not sent to it")

    def __getitem__(self, key: Any) -> Any:
        self._check(key)
        return super().__getitem__(key)

    def get(self, key: Any, default: Any = None) -> Any:
        self._check(key)
        return super().get(key, default)

    def __iter__(self) -> Any:
        raise AssertionError("an action walked the keys of an event that is not sent to it")

    def items(self) -> Any:
        raise AssertionError("an action walked an event that is not sent to it")

    def values(self) -> Any:
        raise AssertionError("an action walked an event that is not sent to it")


def _kind(event: Any) -> tuple[Any, Any]:
    """(event name, slot name) of an event dict, or of a Rasa Event (as its ``as_dict`` says)."""
    if isinstance(event, dict):
        return event.get("event"), event.get("name")
    return event.type_name, getattr(event, "key", None)


def _message(event: Any) -> tuple[Any, str]:
    """(intent name, text) of a user event, dict or Rasa ``UserUttered``, as the actions read them."""
    if isinstance(event, dict):
        return ((event.get("parse_data") or {}).get("intent") or {}).get("name"), event.get("text") or ""
    return (getattr(event, "intent", None) or {}).get("name"), getattr(event, "text", None) or ""


def _slot_value(event: Any) -> Any:
    return event.get("value") if isinstance(event, dict) else getattr(event, "value", None)


def _key(value: Any) -> Any:
    return value if value is None or isinstance(value, (str, int, float, bool)) else repr(value)


def cut_index(events: Sequence[Any]) -> int:
    """The index of the second-latest user event (0 when there are fewer than two)."""
    users = 0
    for index in range(len(events) - 1, -1, -1):
        if _kind(events[index])[0] == "user":
            users += 1
            if users == 2:
                return index
    return 0


def read_before_cut(events: Sequence[Any], cut: int) -> set[int]:
    """The indexes, before ``cut``, of the events the actions read of the earlier turns (module
    docstring): the latest user message of each intent, the latest message of each of the last
    ``SUMMARY_INTENTS`` runs of one intent, the last ``SUMMARY_MESSAGES`` typed messages (not a
    button's "/intent") answered under each ``requested_slot`` value, and for each of those the
    latest ``requested_slot`` event before it. One walk from the end."""
    seen_intents: set[Any] = set()
    runs, run_intent = 0, None
    typed: dict[Any, int] = {}  # typed messages counted under each requested_slot value
    pending: list[tuple[int, bool, bool]] = []  # (index, wanted, typed) of messages before a requested_slot
    kept: set[int] = set()

    def under(value: Any, slot_index: int | None) -> None:
        """The pending messages were answered while requested_slot was ``value``."""
        needed = False
        for index, wanted, is_typed in pending:
            count = typed.get(value, 0)
            if is_typed and count < SUMMARY_MESSAGES:
                typed[value] = count + 1
                wanted = True
            if wanted:
                kept.add(index)
                needed = True
        if needed and slot_index is not None:
            kept.add(slot_index)
        pending.clear()

    for index in range(len(events) - 1, -1, -1):
        event = events[index]
        kind, name = _kind(event)
        if kind == "slot" and name in KEPT_SLOTS:
            under(_key(_slot_value(event)), index)
        elif kind == "user":
            intent, text = _message(event)
            wanted = intent not in seen_intents
            seen_intents.add(intent)
            if intent and intent != run_intent:
                run_intent = intent
                runs += 1
                wanted = wanted or runs <= SUMMARY_INTENTS
            pending.append((index, wanted, not text.startswith("/")))
    under(None, None)
    return {index for index in kept if index < cut}


def _read_by_content(event: Any) -> bool:
    """User messages and requested_slot events: the actions choose which to read by what they say."""
    kind, name = _kind(event)
    return kind == "user" or (kind == "slot" and name in KEPT_SLOTS)


def trimmed(events: Sequence[Any], tripwire: bool = False) -> list[Any]:
    """The events an action is sent (module docstring), as dicts or Rasa events. With
    ``tripwire`` (event dicts, tests), the other events before the cut are kept as Tripwire
    events, except the user messages and requested_slot events left out: the actions walk
    those by what they say, so they are left out as for the action server, and the harness
    checks the readers' answers against the whole events instead."""
    events = list(events)
    cut = cut_index(events)
    read = read_before_cut(events, cut)
    head: list[Any] = []
    for index in range(cut):
        event = events[index]
        if index in read:
            head.append(event)
        elif tripwire and not _read_by_content(event):
            head.append(Tripwire(event))
    return head + events[cut:]


class _Sent:
    """The tracker as ``RemoteAction._action_call_format`` reads it (``sender_id``,
    ``current_state(EventVerbosity.ALL)``), with only the events sent serialised."""

    def __init__(self, tracker: Any) -> None:
        self._tracker = tracker
        self.sender_id = tracker.sender_id

    def current_state(self, event_verbosity: Any) -> dict[str, Any]:
        from rasa.shared.core.trackers import EventVerbosity

        if event_verbosity != EventVerbosity.ALL:
            return self._tracker.current_state(event_verbosity)
        state: dict[str, Any] = self._tracker.current_state(EventVerbosity.NONE)
        state["events"] = [event.as_dict() for event in trimmed(self._tracker.events)]
        return state


def action_call_format(self: Any, tracker: Any, domain: Any) -> dict[str, Any]:
    return _original(self, _Sent(tracker), domain)


def install() -> None:
    global _original
    from rasa.core.actions.action import RemoteAction

    if _original is None:
        _original = RemoteAction._action_call_format
        RemoteAction._action_call_format = action_call_format
