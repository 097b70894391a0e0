"""Dialogue states of a conversation computed once, not again at every prediction.

Rasa 3.6's RulePolicy asks for the states of the whole conversation at every prediction, twice
(once reading the latest message as text, once as an intent), and a turn makes several
predictions. ``Domain.states_for_tracker_history`` answers by replaying every event of the
session into a fresh tracker: in a session of 250 turns that was half of Rasa's CPU, and what
made turn 250 cost several times turn 25 (issue 11).

The state at each ``ActionExecuted`` depends only on the events before it (and that event's
``hide_rule_turn``), so it never changes once computed. Here each conversation keeps, in
process, the applied events it was computed from, the states, and a resumable snapshot of the
replaying tracker at each recent ``ActionExecuted``. A new call finds how far its applied
events are the very same objects as those kept (identity, not equality: the tracker store's
cache hands out the same event objects turn after turn), resumes from the last snapshot in
that common part, and replays only what follows. A reverted turn, a restart, a new Rasa
instance or a tracker built from other objects simply shares a shorter prefix (down to none:
a full replay, as Rasa does). The caller gets its own copy of every state (Rasa's featurizer
edits them in place).

Only live conversations' trackers (``DialogueStateTracker`` itself, with a sender id) use it;
training trackers go to Rasa's own code. tests/bot/test_past_states.py checks the answers
against Rasa's for every prefix of the test stories and of long random sessions.
"""

from __future__ import annotations

import contextlib
import itertools
import operator
from collections import OrderedDict, deque
from collections.abc import Iterator
from typing import Any

from addons.tracker_copy import copy_state

KEPT_CONVERSATIONS = 512
KEPT_SNAPSHOTS = 64  # a turn makes a few ActionExecuted: this spans several turns

_original: Any = None
_share_slots = True  # snapshot_slot_sharing (addons/switches.py): see _kept_copy
_latest: int | None = None  # only_latest: how many of the latest states the caller reads


class _Snapshot:
    """The replay stopped just before applied event ``index`` (an ActionExecuted)."""

    __slots__ = ("index", "n_states", "tracker", "last_ml_action", "turn_was_hidden")

    def __init__(self, index: int, n_states: int, tracker: Any, last_ml_action: Any, turn_was_hidden: bool) -> None:
        self.index = index
        self.n_states = n_states
        self.tracker = tracker
        self.last_ml_action = last_ml_action
        self.turn_was_hidden = turn_was_hidden


class _Kept:
    __slots__ = ("domain", "applied", "states", "snapshots")

    def __init__(self, domain: Any, applied: list[Any], states: list[Any], snapshots: deque[_Snapshot]) -> None:
        self.domain = domain
        self.applied = applied
        self.states = states
        self.snapshots = snapshots


_kept: OrderedDict[tuple[Any, ...], _Kept] = OrderedDict()


def _state_for_caller(state: dict[str, Any]) -> dict[str, Any]:
    """Rasa's featurizer deletes keys of a state's parts in place; the values are immutable."""
    return {part: dict(values) for part, values in state.items()}


def _step(
    domain: Any,
    tracker: Any,
    hide_rule_turn: bool,
    states: list[Any],
    last_ml_action: Any,
    turn_was_hidden: bool,
    omit_unset_slots: bool,
    ignore_rule_only_turns: bool,
    rule_only_data: Any,
) -> tuple[Any, bool]:
    """One pass of the loop of Rasa 3.6's ``Domain.states_for_tracker_history``, unchanged."""
    import rasa.shared.core.constants

    if ignore_rule_only_turns:
        if not turn_was_hidden:
            last_ml_action = domain._get_prev_action_sub_state(tracker)
        if not tracker.followup_action and not tracker.latest_action_name == tracker.active_loop_name:
            turn_was_hidden = hide_rule_turn
        if turn_was_hidden:
            return last_ml_action, turn_was_hidden
    state = domain.get_active_state(tracker, omit_unset_slots=omit_unset_slots)
    if ignore_rule_only_turns:
        domain._remove_rule_only_features(state, rule_only_data)
        if states:
            domain._substitute_rule_only_user_input(state, states[-1])
        if last_ml_action:
            state[rasa.shared.core.constants.PREVIOUS_ACTION] = last_ml_action
    states.append(domain._clean_state(state))
    return last_ml_action, turn_was_hidden


def _same_slot(slot: Any, earlier: Any) -> Any:
    """``earlier`` (a slot of the snapshot before) when ``slot`` holds the very same attribute
    objects, else ``slot``. Identity, not equality: ``True == 1`` would change a value's type."""
    if earlier is None or type(earlier) is not type(slot):
        return slot
    mine, theirs = vars(slot), vars(earlier)
    if mine.keys() != theirs.keys() or any(value is not theirs[name] for name, value in mine.items()):
        return slot
    return earlier


def _kept_copy(replay: Any, previous: Any) -> Any:
    """The replaying tracker's copy a snapshot keeps, its slots shared with ``previous`` (the
    snapshot before's tracker) where nothing changed them. A snapshot's tracker is only ever
    copied again (``copy_state`` copies its slots), never changed, so they can be shared. A
    copy holds some 35 slot objects, each with its ``__dict__``; an event changes one or two:
    without the sharing, their slots were seven tenths of the objects a full garbage
    collection walked in Rasa after 20 concurrent conversations (issue 11)."""
    twin = copy_state(replay)
    if previous is not None and _share_slots:
        earlier = previous.slots
        twin.slots = {name: _same_slot(slot, earlier.get(name)) for name, slot in twin.slots.items()}
    return twin


def _key(tracker: Any, omit_unset_slots: bool, ignore_rule_only_turns: bool, rule_only_data: Any) -> tuple[Any, ...]:
    rule_only = tuple(sorted((name, tuple(values)) for name, values in (rule_only_data or {}).items()))
    return (
        tracker.sender_id,
        bool(omit_unset_slots),
        bool(ignore_rule_only_turns),
        rule_only,
        tracker.is_rule_tracker,
        tracker._max_event_history,
        tuple(tracker.slots),
    )


def _shared_prefix(kept: list[Any], applied: list[Any]) -> int:
    same = list(map(operator.is_, kept, applied))  # the loop in C: a long session has thousands
    return same.index(False) if False in same else len(same)


@contextlib.contextmanager
def only_latest(count: int) -> Iterator[None]:
    """Within this block, answers hold only the latest ``count`` states (the caller reads no
    more; addons/rule_window.py): the earlier ones are not copied for it."""
    global _latest
    before, _latest = _latest, max(1, count)
    try:
        yield
    finally:
        _latest = before


def states_for_tracker_history(
    self: Any,
    tracker: Any,
    omit_unset_slots: bool = False,
    ignore_rule_only_turns: bool = False,
    rule_only_data: Any = None,
) -> list[Any]:
    from rasa.shared.core.events import ActionExecuted
    from rasa.shared.core.trackers import DialogueStateTracker

    if type(tracker) is not DialogueStateTracker or not tracker.sender_id:
        return _original(self, tracker, omit_unset_slots, ignore_rule_only_turns, rule_only_data)
    applied = tracker.applied_events()
    key = _key(tracker, omit_unset_slots, ignore_rule_only_turns, rule_only_data)
    kept = _kept.get(key)
    start: _Snapshot | None = None
    if kept is not None and kept.domain is self:
        shared = _shared_prefix(kept.applied, applied)
        start = next((s for s in reversed(kept.snapshots) if s.index <= shared), None)
    if kept is None or start is None:
        replay = tracker.init_copy()
        index, states, last_ml_action, turn_was_hidden = 0, [], None, False
        snapshots: deque[_Snapshot] = deque(maxlen=KEPT_SNAPSHOTS)
    else:
        replay = copy_state(start.tracker)
        index, last_ml_action, turn_was_hidden = start.index, start.last_ml_action, start.turn_was_hidden
        states = kept.states[: start.n_states]
        snapshots = deque(itertools.takewhile(lambda s: s.index < start.index, kept.snapshots), KEPT_SNAPSHOTS)
    for event in itertools.islice(applied, index, None):
        if isinstance(event, ActionExecuted):
            kept_copy = _kept_copy(replay, snapshots[-1].tracker if snapshots else None)
            snapshots.append(_Snapshot(index, len(states), kept_copy, last_ml_action, turn_was_hidden))
            last_ml_action, turn_was_hidden = _step(
                self, replay, event.hide_rule_turn, states, last_ml_action, turn_was_hidden,
                omit_unset_slots, ignore_rule_only_turns, rule_only_data,
            )  # fmt: skip
        replay.update(event)
        index += 1
    first = 0 if _latest is None else max(0, len(states) - max(1, _latest - 1))  # one before the last, at least
    answer = [_state_for_caller(state) for state in itertools.islice(states, first, None)]
    _step(
        self, replay, False, answer, last_ml_action, turn_was_hidden,
        omit_unset_slots, ignore_rule_only_turns, rule_only_data,
    )  # fmt: skip  # the state now: it changes with the next event, so it is not kept
    _kept[key] = _Kept(self, applied, states, snapshots)
    _kept.move_to_end(key)
    while len(_kept) > KEPT_CONVERSATIONS:
        _kept.popitem(last=False)
    return answer


def forget() -> None:
    _kept.clear()


def install() -> None:
    global _original, _share_slots
    from rasa.shared.core.domain import Domain

    from addons import switches

    _share_slots = switches.enabled("snapshot_slot_sharing")
    if _original is None:
        _original = Domain.states_for_tracker_history
        Domain.states_for_tracker_history = states_for_tracker_history
