"""A tracker's applied events worked out once a turn, then only for the events added since.

``DialogueStateTracker.applied_events()`` (the events left once reverted turns, restarts and
repeated form executions are taken out) walks the whole session at each call, and a turn calls
it about ten times: for each prediction's states, for the session's expiry, for the
verbosity of what is sent to actions. At turn 250 of a session that was a tenth of Rasa's CPU.

The events of a tracker object only grow (Rasa appends them), so the answer for the events
seen so far is kept on the tracker, with the deque it came from, how many events that was and
the last of them; a call on the same deque that still holds that event at that place goes on
from there. Two things make Rasa's answer for earlier events depend on later ones, and then
the whole walk is done again: a new form name in an ``ActiveLoop`` event (``loop_names`` is
collected over all events), and a deque with a maximum length (old events fall out). Every
caller gets its own list. tests/bot/test_applied_events.py compares the answers with Rasa's
at every step of the bot's stories and of long sessions with reverts and restarts.
"""

from __future__ import annotations

import itertools
from typing import Any

_original: Any = None
MEMO = "_huanxin_applied"


class _Memo:
    __slots__ = ("events", "seen", "last", "applied", "loop_names")

    def __init__(self, events: Any, seen: int, last: Any, applied: list[Any], loop_names: set[str]) -> None:
        self.events = events
        self.seen = seen
        self.last = last
        self.applied = applied
        self.loop_names = loop_names


def _apply(tracker: Any, events: Any, applied: list[Any], loop_names: set[str]) -> list[Any]:
    """The loop of Rasa 3.6's ``applied_events``, unchanged, over ``events``."""
    from rasa.shared.core.events import (
        ActionExecuted,
        ActionReverted,
        Restarted,
        SessionStarted,
        UserUtteranceReverted,
        UserUttered,
    )

    for event in events:
        if isinstance(event, (Restarted, SessionStarted)):
            applied = []
        elif isinstance(event, ActionReverted):
            tracker._undo_till_previous(ActionExecuted, applied)
        elif isinstance(event, UserUtteranceReverted):
            tracker._undo_till_previous(UserUttered, applied)
            tracker._undo_till_previous(ActionExecuted, applied)
        elif (
            isinstance(event, ActionExecuted)
            and event.action_name in loop_names
            and not tracker._first_loop_execution_or_unhappy_path(event.action_name, applied)
        ):
            tracker._undo_till_previous_loop_execution(event.action_name, applied)
        else:
            applied.append(event)
    return applied


def _loop_names(events: Any) -> set[str]:
    from rasa.shared.core.events import ActiveLoop

    return {event.name for event in events if isinstance(event, ActiveLoop) and event.name}


def applied_events(self: Any) -> list[Any]:
    from rasa.shared.core.trackers import DialogueStateTracker

    events = self.events
    if type(self) is not DialogueStateTracker or events.maxlen is not None:
        return _original(self)
    count = len(events)
    memo: _Memo | None = self.__dict__.get(MEMO)
    if memo is not None and memo.events is events and 0 < memo.seen <= count and events[memo.seen - 1] is memo.last:
        new = list(itertools.islice(events, memo.seen, None))
        if _loop_names(new) <= memo.loop_names:
            applied = _apply(self, new, list(memo.applied), memo.loop_names)
            self.__dict__[MEMO] = _Memo(events, count, events[-1], applied, memo.loop_names)
            return list(applied)
    loop_names = _loop_names(events)
    applied = _apply(self, events, [], loop_names)
    if count:
        self.__dict__[MEMO] = _Memo(events, count, events[-1], applied, loop_names)
    return list(applied)


def carry_over(source: Any, twin: Any) -> None:
    """Give ``twin`` (a copy of ``source`` with the same events in a new deque) what ``source``
    has worked out for all its events, so the copy's first call walks nothing."""
    memo: _Memo | None = source.__dict__.get(MEMO)
    events = twin.events
    twin.__dict__.pop(MEMO, None)
    if memo is None or memo.events is not source.events or memo.seen != len(events) or events.maxlen is not None:
        return
    if memo.seen and events[-1] is memo.last:
        twin.__dict__[MEMO] = _Memo(events, memo.seen, memo.last, list(memo.applied), memo.loop_names)


def keep_up(tracker: Any) -> None:
    """Work out ``tracker``'s applied events now, when they are kept (installed): its copies
    then start from them. Without the add-on it would be a walk for nothing."""
    if _original is not None:
        tracker.applied_events()


def install() -> None:
    global _original
    from rasa.shared.core.trackers import DialogueStateTracker

    if _original is None:
        _original = DialogueStateTracker.applied_events
        DialogueStateTracker.applied_events = applied_events
