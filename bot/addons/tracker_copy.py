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
_plain_classes: dict[type, bool] = {}


def _is_plain(cls: type) -> bool:
    """``copy.copy`` of an instance of ``cls`` is a new instance with the same ``__dict__``
    (no ``__copy__``, ``__reduce_ex__``, ``__reduce__``, ``__getstate__``, ``__setstate__`` or
    non-empty ``__slots__`` of its own anywhere in its classes): Rasa's slot classes."""
    plain = _plain_classes.get(cls)
    if plain is None:
        own = ("__copy__", "__reduce_ex__", "__reduce__", "__getstate__", "__setstate__")
        plain = all(name not in vars(k) and not vars(k).get("__slots__") for k in cls.__mro__[:-1] for name in own)
        _plain_classes[cls] = plain
    return plain


def copy_slot(slot: Any) -> Any:
    """``copy.copy(slot)``, without the copy module's generic path (a tracker copy copies every
    slot, and copies are made several times a turn: a twentieth of Rasa's CPU, issue 11)."""
    cls: Any = type(slot)
    if not _is_plain(cls):
        return copy.copy(slot)
    twin = cls.__new__(cls)
    twin.__dict__.update(slot.__dict__)
    return twin


def copy_state(tracker: Any) -> Any:
    """The copy (see the module docstring) of a ``DialogueStateTracker``."""
    twin = copy.copy(tracker)
    twin.events = deque(tracker.events, tracker.events.maxlen)
    twin.slots = {name: copy_slot(slot) for name, slot in tracker.slots.items()}
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
