"""The events sent to the action server: the last two messages' turns whole, only what the
actions read of the turns before.

Rasa 3.6 sends each custom action every event of the session (``current_state(ALL)``): at turn
250 that is some 2,500 events, serialised by Rasa and parsed by the action server for every
call, 2-4 calls a turn; most of what made a late turn cost more than an early one (issue 11).
The actions (bot/actions) read, of the events:
- every user message's text, intent and its confidence, channel (``Turn.message_for``,
  ``confirm.act_message``, ``handoff.conversation_summary``, rasa_sdk's
  ``get_latest_input_channel``);
- the ``requested_slot`` slot events in order with them (``conversation_summary`` skips the
  identity answers);
- anything since the second-latest user message (``Turn.missed_last_turn``: the bot's answer to
  the previous message; ``Turn.refused_this_message``; rasa_sdk's ``slots_to_validate``: the
  slot events at the end).
So before the second-latest user message only user events and ``requested_slot`` slot events
are sent, in their order; from it on, everything. The tracker's state (slots, latest message,
active loop, paused, latest event time, latest input channel) is Rasa's own, worked out from
all the events before they are cut.

tests/bot/harness.py gives every action of the bot tests (``make test-bot``) its events through
``trimmed(..., tripwire=True)``: the events not sent are there as ``Tripwire`` events, which
raise when anything but their ``event`` and ``name`` is read, so a test fails if an action
reads what is not sent. tests/bot/test_action_events.py checks the add-on against Rasa's
payload.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

_original: Any = None

KEPT_SLOTS = frozenset({"requested_slot"})
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


def cut_index(events: Sequence[Any]) -> int:
    """The index of the second-latest user event (0 when there are fewer than two)."""
    users = 0
    for index in range(len(events) - 1, -1, -1):
        if _kind(events[index])[0] == "user":
            users += 1
            if users == 2:
                return index
    return 0


def _read_before_cut(event: Any) -> bool:
    kind, name = _kind(event)
    return kind == "user" or (kind == "slot" and name in KEPT_SLOTS)


def trimmed(events: Sequence[Any], tripwire: bool = False) -> list[Any]:
    """The events an action is sent (module docstring), as dicts or Rasa events; with
    ``tripwire`` (event dicts, tests), the others are kept as Tripwire events."""
    events = list(events)
    cut = cut_index(events)
    head: list[Any] = []
    for event in events[:cut]:
        if _read_before_cut(event):
            head.append(event)
        elif tripwire:
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
