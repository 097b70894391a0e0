"""A tracker copied without replaying its session.

Rasa copies a tracker by replaying every event of the session into a new one
(``DialogueStateTracker.copy()``, before each action it runs, in ``MessageProcessor._run_action``),
and the tracker store's retrieve builds each turn's tracker the same way (``from_events``). The
state those events give is the state the tracker holds, so the copy takes that state: the
slots, the active loop and the latest action copied (events change them in place), the rest
shared as the replay shares it (the event objects), the events in a new deque of the same
length limit, the ids a new tracker has (``model_id``, ``assistant_id``, ``sender_source``:
None) and the applied events worked out so far (addons/applied_events.py).
tests/bot/test_applied_events.py compares both copies, and what the same later events do to
each; tests/bot/test_tracker_cache.py compares what the store's retrieve gives with Rasa's.
"""

from __future__ import annotations

import copy
from collections import deque
from typing import Any

from addons.applied_events import carry_over

_original: Any = None


def copy_state(tracker: Any) -> Any:
    """The copy (see the module docstring) of a ``DialogueStateTracker``."""
    twin = copy.copy(tracker)
    twin.events = deque(tracker.events, tracker.events.maxlen)
    twin.slots = {name: copy.copy(slot) for name, slot in tracker.slots.items()}
    twin.active_loop = copy.copy(tracker.active_loop)
    twin.latest_action = dict(tracker.latest_action) if tracker.latest_action is not None else None
    twin.model_id = twin.assistant_id = twin.sender_source = None  # as the replay's new tracker
    carry_over(tracker, twin)
    return twin


def copy_tracker(self: Any) -> Any:
    from rasa.shared.core.trackers import DialogueStateTracker

    if type(self) is not DialogueStateTracker:
        return _original(self)
    return copy_state(self)


def install() -> None:
    global _original
    from rasa.shared.core.trackers import DialogueStateTracker

    if _original is None:
        _original = DialogueStateTracker.copy
        DialogueStateTracker.copy = copy_tracker
