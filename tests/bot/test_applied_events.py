"""The kept applied events (bot/addons/applied_events.py) are exactly Rasa's, at every step."""

import copy

import pytest
from rasa.shared.core.events import ActionExecuted, ActiveLoop, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from addons import applied_events, tracker_copy
from test_past_states import dialogues, domain, long_session  # noqa: F401  (fixtures)


@pytest.fixture(scope="module", autouse=True)
def installed():
    applied_events.install()


def same(kept, rasa):
    return [id(e) for e in kept] == [id(e) for e in rasa]


def play(domain, events, sender, check_every=1):  # noqa: F811
    tracker = DialogueStateTracker.from_events(sender, [], domain.slots)
    for n, event in enumerate(events):
        tracker.update(copy.deepcopy(event))
        if n % check_every == 0 or n == len(events) - 1:
            rasa = applied_events._original(tracker)
            assert same(tracker.applied_events(), rasa), f"{sender}: differs after event {n} ({event})"
            assert same(tracker.applied_events(), rasa), f"{sender}: a second call differs"


def test_every_story_and_rule_gives_rasas_applied_events_at_every_step(domain, dialogues):  # noqa: F811
    for i, events in enumerate(dialogues):
        play(domain, events, f"story-{i}")


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_long_sessions_with_reverts_restarts_and_forms_give_rasas_applied_events(domain, dialogues, seed):  # noqa: F811
    play(domain, long_session(dialogues, seed), f"long-{seed}", check_every=3)


def test_a_form_named_later_makes_earlier_executions_count_again(domain):  # noqa: F811
    """Rasa collects the form names over all events: a name first seen in a new ActiveLoop
    changes how earlier executions of that action are read, so the walk starts again."""
    tracker = DialogueStateTracker.from_events("late-form", [], domain.slots)
    steps = [
        ActionExecuted("action_listen"),
        UserUttered("hi", {"name": "greet", "confidence": 1.0}),
        ActionExecuted("verification_form"),
        ActionExecuted("verification_form"),
        ActionExecuted("action_listen"),
    ]
    for event in steps:
        tracker.update(event)
        tracker.applied_events()
    tracker.update(ActiveLoop("verification_form"))
    assert same(tracker.applied_events(), applied_events._original(tracker))


def test_callers_get_their_own_list(domain, dialogues):  # noqa: F811
    tracker = DialogueStateTracker.from_events("own", dialogues[0], domain.slots)
    first = tracker.applied_events()
    first.clear()
    assert same(tracker.applied_events(), applied_events._original(tracker))


def test_a_tracker_with_a_maximum_history_uses_rasas_walk(domain, dialogues, monkeypatch):  # noqa: F811
    tracker = DialogueStateTracker.from_events("short", dialogues[0], domain.slots, max_event_history=5)
    calls = []
    original = applied_events._original
    monkeypatch.setattr(applied_events, "_original", lambda t: calls.append(t) or original(t))
    tracker.applied_events()
    assert calls == [tracker]


def held(tracker, event):
    if any(e is event for e in tracker.events):
        return id(event)
    return {k: v for k, v in event.as_dict().items() if k != "timestamp"}  # each placeholder is stamped when made


def snapshot(tracker):
    """What a tracker holds, events by identity."""
    from rasa.shared.core.trackers import EventVerbosity

    return {
        "events": [id(e) for e in tracker.events],
        "maxlen": tracker.events.maxlen,
        "slots": {name: (slot.value, slot.has_been_set) for name, slot in tracker.slots.items()},
        # an event of the session by identity; the empty placeholder of a new tracker by value
        "latest_message": held(tracker, tracker.latest_message),
        "latest_bot_utterance": held(tracker, tracker.latest_bot_utterance),
        "latest_action": tracker.latest_action,
        "active_loop": tracker.active_loop,
        "followup_action": tracker.followup_action,
        "paused": tracker.is_paused(),
        "ids": (tracker.sender_id, tracker.model_id, tracker.assistant_id, tracker.sender_source),
        "state": tracker.current_state(EventVerbosity.ALL),
    }


@pytest.mark.parametrize("seed", [5, 6])
def test_a_copy_holds_what_the_replayed_copy_holds_and_changes_the_same(domain, dialogues, seed):  # noqa: F811
    tracker_copy.install()
    events = long_session(dialogues, seed, turns=40)
    tracker = DialogueStateTracker.from_events("copied", [], domain.slots)
    tracker.model_id, tracker.assistant_id = "model-1", "huanxin"
    for n, event in enumerate(events):
        tracker.update(copy.deepcopy(event))
        if n % 7:
            continue
        before = snapshot(tracker)
        tracker.applied_events()  # worked out on the original: the copy carries it over
        ours, rasas = tracker.copy(), tracker_copy._original(tracker)
        assert snapshot(ours) == snapshot(rasas), f"differs after event {n}"
        assert same(ours.applied_events(), applied_events._original(ours))
        later = [copy.deepcopy(e) for e in events[n + 1 : n + 6]]
        for e in later:
            ours.update(e)
            rasas.update(e)
        assert snapshot(ours) == snapshot(rasas), f"the same events change the copies differently after {n}"
        assert same(ours.applied_events(), applied_events._original(rasas))
        assert snapshot(tracker) == before  # the original is untouched


def test_a_slot_copy_is_what_copy_copy_gives_for_every_slot_of_the_domain(domain):  # noqa: F811
    """tracker_copy.copy_slot (issue 11): the fast path for Rasa's slot classes, the copy module
    for a class that defines how it is copied."""
    tracker = DialogueStateTracker("s", domain.slots)
    assert len(tracker.slots) > 10
    for slot in tracker.slots.values():
        slot.value = [1] if type(slot).__name__ == "ListSlot" else slot.value
        twin, expected = tracker_copy.copy_slot(slot), copy.copy(slot)
        assert twin is not slot and type(twin) is type(slot)
        assert vars(twin) == vars(expected) and vars(twin) is not vars(slot)
        assert twin.value is slot.value  # shallow, as copy.copy
        assert tracker_copy._is_plain(type(slot))

    class Custom:
        def __init__(self) -> None:
            self.copied = False

        def __copy__(self) -> "Custom":
            twin = Custom()
            twin.copied = True
            return twin

    class WithSlots:
        __slots__ = ("value",)

    assert tracker_copy.copy_slot(Custom()).copied
    assert not tracker_copy._is_plain(Custom) and not tracker_copy._is_plain(WithSlots)
